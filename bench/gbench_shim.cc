/*
 * gbench_shim.cc - the C functions of gbench_shim.h over Google Benchmark's
 * C++ API. The only C++ in ipcbench: keep it a thin, exception-free layer
 * with no logic of its own.
 */
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cerrno>
#include <new>
#include <string>

static benchmark::State *state(struct ipcb_gb_state *st)
{
	return reinterpret_cast<benchmark::State *>(st);
}

static const benchmark::State *state(const struct ipcb_gb_state *st)
{
	return reinterpret_cast<const benchmark::State *>(st);
}

int ipcb_gb_init(int *argc, char **argv, void (*help)(void))
{
	if (!help)
		help = benchmark::PrintDefaultHelp;
	try {
		benchmark::Initialize(argc, argv, help);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

void ipcb_gb_print_default_help(void)
{
	benchmark::PrintDefaultHelp();
}

bool ipcb_gb_report_unrecognized(int argc, char **argv)
{
	return benchmark::ReportUnrecognizedArguments(argc, argv);
}

int ipcb_gb_register(const char *name, ipcb_gb_fn fn, void *arg, unsigned flags)
{
	auto run = [fn, arg](benchmark::State &st) {
		fn(reinterpret_cast<struct ipcb_gb_state *>(&st), arg);
	};

	try {
		benchmark::internal::Benchmark *b =
			benchmark::RegisterBenchmark(name, run);
		b->Unit(benchmark::kNanosecond);
		if (flags & IPCB_GB_MANUAL_TIME)
			b->UseManualTime();
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

int ipcb_gb_add_context(const char *key, const char *value)
{
	try {
		benchmark::AddCustomContext(key, value);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

int ipcb_gb_run(size_t *count)
{
	try {
		*count = benchmark::RunSpecifiedBenchmarks();
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

void ipcb_gb_shutdown(void)
{
	benchmark::Shutdown();
}

bool ipcb_gb_keep_running(struct ipcb_gb_state *st)
{
	return state(st)->KeepRunning();
}

void ipcb_gb_set_iteration_time(struct ipcb_gb_state *st, double seconds)
{
	state(st)->SetIterationTime(seconds);
}

int64_t ipcb_gb_iterations(const struct ipcb_gb_state *st)
{
	return state(st)->iterations();
}

void ipcb_gb_set_bytes_processed(struct ipcb_gb_state *st, int64_t bytes)
{
	state(st)->SetBytesProcessed(bytes);
}

void ipcb_gb_set_items_processed(struct ipcb_gb_state *st, int64_t items)
{
	state(st)->SetItemsProcessed(items);
}

int ipcb_gb_counter(struct ipcb_gb_state *st, const char *name, double value)
{
	try {
		state(st)->counters[name] = benchmark::Counter(value);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	return 0;
}

void ipcb_gb_skip_with_error(struct ipcb_gb_state *st, const char *msg)
{
	/* Google Benchmark requires it to be called at most once. */
	if (state(st)->error_occurred())
		return;
	try {
		state(st)->SkipWithError(msg);
	} catch (const std::bad_alloc &) {
		/* No memory to copy the message: nothing more to report. */
	}
}

bool ipcb_gb_error_occurred(const struct ipcb_gb_state *st)
{
	return state(st)->error_occurred();
}
