/*
 * gbench_shim.h - plain C functions over Google Benchmark, which has no C
 * API. bench/gbench_shim.cc is the only C++ in ipcbench; the benchmarks
 * themselves are written in C against this header (see bench/micro.c).
 *
 * A benchmark is a C function called with the run's state and the argument
 * given at registration. Google Benchmark calls it several times (first to
 * size the iteration count, then for each repetition); each call loops
 * while ipcb_gb_keep_running() is true. Nothing here throws into C: an
 * allocation failure inside Google Benchmark is returned as -ENOMEM.
 */
#ifndef IPCB_GBENCH_SHIM_H
#define IPCB_GBENCH_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A benchmark::State, seen from C. */
struct ipcb_gb_state;

typedef void (*ipcb_gb_fn)(struct ipcb_gb_state *st, void *arg);

/* Registration flags. */
enum ipcb_gb_flag {
	/* Time comes from ipcb_gb_set_iteration_time(), called once per
	 * iteration, instead of Google Benchmark's own timer (which sees
	 * only the calling thread): for operations that span two
	 * processes. Google Benchmark then appends "/manual_time" to the
	 * reported name. */
	IPCB_GB_MANUAL_TIME = 1u << 0,
};

/* Parses and removes Google Benchmark's flags (--benchmark_filter,
 * --benchmark_repetitions, --benchmark_min_time, --benchmark_out, ...)
 * from argc/argv, leaving argv[0] and the flags it does not know. --help
 * calls help (NULL: Google Benchmark's own) and exits. 0 or -ENOMEM. */
int ipcb_gb_init(int *argc, char **argv, void (*help)(void));
/* Google Benchmark's own flag list, for a help function. */
void ipcb_gb_print_default_help(void);
/* Prints every argument after argv[0] as unrecognized; true if any. */
bool ipcb_gb_report_unrecognized(int argc, char **argv);

/* Registers fn(state, arg) under name (copied), reporting in nanoseconds.
 * arg must outlive ipcb_gb_run(). 0 or -ENOMEM. */
int ipcb_gb_register(const char *name, ipcb_gb_fn fn, void *arg,
		     unsigned flags);
/* Adds "key": "value" to the report's context. 0 or -ENOMEM. */
int ipcb_gb_add_context(const char *key, const char *value);
/* Runs the benchmarks selected by --benchmark_filter and stores how many
 * in *count. 0 or -ENOMEM. */
int ipcb_gb_run(size_t *count);
void ipcb_gb_shutdown(void);

/* Inside a benchmark function. */

/* True while another iteration should run; false once enough have, or
 * after ipcb_gb_skip_with_error(). Must be called until it returns false
 * unless the run was skipped. */
bool ipcb_gb_keep_running(struct ipcb_gb_state *st);
/* Duration of the current iteration (IPCB_GB_MANUAL_TIME only). */
void ipcb_gb_set_iteration_time(struct ipcb_gb_state *st, double seconds);
/* Iterations the current call has run (after its loop). */
int64_t ipcb_gb_iterations(const struct ipcb_gb_state *st);
/* Totals for the call, after its loop; reported per second. */
void ipcb_gb_set_bytes_processed(struct ipcb_gb_state *st, int64_t bytes);
void ipcb_gb_set_items_processed(struct ipcb_gb_state *st, int64_t items);
/* Sets counter name to value, reported as is. 0 or -ENOMEM. */
int ipcb_gb_counter(struct ipcb_gb_state *st, const char *name, double value);
/* Marks the run as failed with msg (copied); the loop ends at the end of
 * the current iteration. Only the first message of a run is kept. */
void ipcb_gb_skip_with_error(struct ipcb_gb_state *st, const char *msg);
bool ipcb_gb_error_occurred(const struct ipcb_gb_state *st);

#ifdef __cplusplus
}
#endif

#endif
