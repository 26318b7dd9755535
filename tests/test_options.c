/*
 * test_options.c - table-driven tests of ipcbench's option parsing
 * (bench/options.h).
 *
 * Good command lines: every field of struct ipcb_options is rendered as
 * text and compared with the defaults overridden by the case's
 * expectations, so each case also checks that it changed nothing else.
 * Bad command lines: IPCB_PARSE_ERROR with one line (no newline) that
 * names the offending option or value.
 *
 * In arguments and expectations, {cpu} stands for the first CPU this
 * process may run on and {badcpu} for one it may not (99 where that is
 * not allowed), so the cases hold under any CPU affinity.
 */
#define _GNU_SOURCE
#include "bench/options.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_ARGS 16
#define VAL_LEN 512

enum field {
	F_TRANSPORT,
	F_EXPLICIT,
	F_PROCS,
	F_SIZE,
	F_PATTERN,
	F_TOPOLOGY,
	F_PRODUCERS,
	F_CONSUMERS,
	F_WORK,
	F_WORKERS,
	F_DURATION,
	F_WARMUP,
	F_TIMEOUT,
	F_REPEAT,
	F_FORMAT,
	F_OUTPUT,
	F_CPUS,
	F_PIN,
	F_VERIFY,
	F_LIMITS,
	F_SWEEP,
	F_QUIET,
	F_PLOT,
	NFIELDS
};

static const char *const field_names[NFIELDS] = {
	"transport", "explicit",  "procs",  "size",    "pattern",  "topology",
	"producers", "consumers", "work",   "workers", "duration", "warmup",
	"timeout",   "repeat",	  "format", "output",  "cpus",	   "pin",
	"verify",    "limits",	  "sweep",  "quiet",   "plot",
};

/* What ipcbench does without options; "all" and "allowed" mean the whole
 * registry and every CPU this process may use. */
static const char *const defaults[NFIELDS] = {
	"all", "0", "2",     "64,4096", "both",	   "pairs",
	"0",   "0", "none",  "process", "0.2",	   "0.05",
	"0",   "1", "table", "(none)",	"allowed", "1",
	"0",   "0", "0",     "0",	"(none)",
};

struct good {
	const char *args[MAX_ARGS];
	const char *want; /* "field=value ..." overriding the defaults */
};

static const struct good good[] = {
	{ { NULL }, "" },
	{ { "--transport", "pipe,shm", NULL },
	  "transport=pipe,shm explicit=1" },
	{ { "--transport", "mq", NULL }, "transport=mq explicit=1" },
	{ { "--transport", "all", NULL }, "" },
	{ { "--procs", "2,4,8", NULL }, "procs=2,4,8" },
	{ { "--procs=4", NULL }, "procs=4" },
	{ { "--procs", "4", "--procs", "6", NULL }, "procs=6" },
	{ { "--procs", "1024", NULL }, "procs=1024" },
	{ { "--size", "64,4K,1M,16,1G", NULL },
	  "size=64,4096,1048576,16,1073741824" },
	{ { "--size", "2k,3m", NULL }, "size=2048,3145728" },
	{ { "--size", "1024M", NULL }, "size=1073741824" },
	{ { "--pattern", "latency", NULL }, "pattern=latency" },
	{ { "--pattern", "throughput", NULL }, "pattern=throughput" },
	{ { "--pattern", "both", NULL }, "" },
	{ { "--topology", "pairs", NULL }, "" },
	{ { "--topology", "shared", "--producers", "3", "--consumers", "2",
	    NULL },
	  "topology=shared producers=3 consumers=2 procs=5" },
	{ { "--topology", "shared", "--producers", "1", "--consumers", "7",
	    "--procs", "8", NULL },
	  "topology=shared producers=1 consumers=7 procs=8" },
	{ { "--consumers", "1", "--producers", "7", "--topology", "shared",
	    NULL },
	  "topology=shared producers=7 consumers=1 procs=8" },
	{ { "--topology", "shared", "--procs", "3,5", NULL },
	  "topology=shared procs=3,5" },
	{ { "--topology", "shared", "--pattern", "throughput", NULL },
	  "topology=shared pattern=throughput" },
	{ { "--work", "none,cpu:50,io:1000000", NULL },
	  "work=none,cpu:50,io:1000000" },
	{ { "--work", "cpu:1", NULL }, "work=cpu:1" },
	{ { "--workers", "process,thread,sequential", NULL },
	  "workers=process,thread,sequential" },
	{ { "--workers", "thread", NULL }, "workers=thread" },
	{ { "--duration", "1.5", "--warmup", "0", "--timeout", "30", NULL },
	  "duration=1.5 warmup=0 timeout=30" },
	{ { "--duration", ".25", "--warmup", "0.001", NULL },
	  "duration=0.25 warmup=0.001" },
	{ { "--duration", "0.001", NULL }, "duration=0.001" },
	{ { "--duration", "3600", NULL }, "duration=3600" },
	{ { "--repeat", "5", "--format", "csv", "--output", "-", NULL },
	  "repeat=5 format=csv output=-" },
	{ { "--repeat", "1000", NULL }, "repeat=1000" },
	{ { "--format", "json", "--output", "/tmp/ipcb-test-options.json",
	    NULL },
	  "format=json output=/tmp/ipcb-test-options.json" },
	{ { "--format", "gbench", NULL }, "format=gbench" },
	{ { "--format", "table", NULL }, "" },
	{ { "--cpus", "{cpu},{cpu}", NULL }, "cpus={cpu},{cpu}" },
	{ { "--cpus", "{cpu}", NULL }, "cpus={cpu}" },
	{ { "--no-pin", NULL }, "pin=0 cpus=" },
	{ { "--verify", "--limits", "--quiet", "--plot", "/tmp/plots", NULL },
	  "verify=1 limits=1 quiet=1 plot=/tmp/plots" },
	{ { "--sweep", NULL }, "sweep=1" },
	{ { "--sweep", "--work", "cpu:50", "--transport", "pipe", NULL },
	  "sweep=1 work=cpu:50 transport=pipe explicit=1" },
};

struct bad {
	const char *args[MAX_ARGS];
	const char *names[2]; /* what the message must name */
};

static const struct bad bad[] = {
	{ { "--bogus", NULL }, { "--bogus" } },
	{ { "--bogus=3", NULL }, { "--bogus" } },
	{ { "-x", NULL }, { "-x" } },
	{ { "--procs", NULL }, { "--procs" } },
	{ { "--transport", "pipe", "--size", NULL }, { "--size" } },
	{ { "--procs", "1", NULL }, { "--procs", "'1'" } },
	{ { "--procs", "0", NULL }, { "--procs", "'0'" } },
	{ { "--procs", "1025", NULL }, { "--procs", "'1025'" } },
	{ { "--procs", "2,,4", NULL }, { "--procs", "2,,4" } },
	{ { "--procs", "2,4,", NULL }, { "--procs", "2,4," } },
	{ { "--procs", ",2", NULL }, { "--procs", ",2" } },
	{ { "--procs", "", NULL }, { "--procs" } },
	{ { "--procs", "1e99", NULL }, { "--procs", "1e99" } },
	{ { "--procs", "-2", NULL }, { "--procs", "-2" } },
	{ { "--procs", "4x", NULL }, { "--procs", "4x" } },
	{ { "--procs", "99999999999999999999", NULL },
	  { "--procs", "99999999999999999999" } },
	{ { "--procs", "3", NULL }, { "--procs", "3" } },
	{ { "--procs", "2,3", NULL }, { "--procs", "3" } },
	{ { "--size", "0", NULL }, { "--size", "'0'" } },
	{ { "--size", "8", NULL }, { "--size", "'8'" } },
	{ { "--size", "15", NULL }, { "--size", "'15'" } },
	{ { "--size", "4X", NULL }, { "--size", "4X" } },
	{ { "--size", "1KK", NULL }, { "--size", "1KK" } },
	{ { "--size", "K", NULL }, { "--size", "'K'" } },
	{ { "--size", "-64", NULL }, { "--size", "-64" } },
	{ { "--size", "2G", NULL }, { "--size", "2G" } },
	{ { "--size", "1025M", NULL }, { "--size", "1025M" } },
	{ { "--size", "64,,4K", NULL }, { "--size", "64,,4K" } },
	{ { "--duration", "-1", NULL }, { "--duration", "-1" } },
	{ { "--duration", "nan", NULL }, { "--duration", "nan" } },
	{ { "--duration", "inf", NULL }, { "--duration", "inf" } },
	{ { "--duration", "1e99", NULL }, { "--duration", "1e99" } },
	{ { "--duration", "0", NULL }, { "--duration", "'0'" } },
	{ { "--duration", "3601", NULL }, { "--duration", "3601" } },
	{ { "--duration", "1s", NULL }, { "--duration", "1s" } },
	{ { "--warmup", "-0.5", NULL }, { "--warmup", "-0.5" } },
	{ { "--timeout", "0.5", NULL }, { "--timeout", "0.5" } },
	{ { "--transport", "nosuch", NULL }, { "--transport", "nosuch" } },
	{ { "--transport", "pipe,,shm", NULL },
	  { "--transport", "pipe,,shm" } },
	{ { "--transport", "pipe,nosuch", NULL }, { "--transport", "nosuch" } },
	{ { "--transport", "", NULL }, { "--transport" } },
	{ { "--work", "cpu:", NULL }, { "--work", "cpu:" } },
	{ { "--work", "cpu:0", NULL }, { "--work", "cpu:0" } },
	{ { "--work", "cpu:-5", NULL }, { "--work", "cpu:-5" } },
	{ { "--work", "io:99999999", NULL }, { "--work", "io:99999999" } },
	{ { "--work", "io:1000001", NULL }, { "--work", "io:1000001" } },
	{ { "--work", "gpu:5", NULL }, { "--work", "gpu:5" } },
	{ { "--work", "cpu:5x", NULL }, { "--work", "cpu:5x" } },
	{ { "--work", "none,", NULL }, { "--work", "none," } },
	{ { "--workers", "fork", NULL }, { "--workers", "fork" } },
	{ { "--workers", "process,thread,sequential,process", NULL },
	  { "--workers" } },
	{ { "--consumers", "0", NULL }, { "--consumers", "'0'" } },
	{ { "--producers", "-1", NULL }, { "--producers", "-1" } },
	{ { "--producers", "2", NULL }, { "--producers" } },
	{ { "--topology", "pairs", "--consumers", "2", NULL },
	  { "--consumers" } },
	{ { "--topology", "ring", NULL }, { "--topology", "ring" } },
	{ { "--topology", "shared", "--producers", "3", NULL },
	  { "--producers", "--consumers" } },
	{ { "--topology", "shared", "--producers", "3", "--consumers", "2",
	    "--procs", "4", NULL },
	  { "--procs", "--producers 3" } },
	{ { "--topology", "shared", "--producers", "1000", "--consumers",
	    "1000", NULL },
	  { "--producers", "--consumers" } },
	{ { "--topology", "shared", "--pattern", "latency", NULL },
	  { "--pattern latency", "--topology shared" } },
	{ { "--sweep", "--procs", "4", NULL }, { "--sweep", "--procs" } },
	{ { "--cpus", "{badcpu}", NULL }, { "--cpus", "'{badcpu}'" } },
	{ { "--cpus", "99999", NULL }, { "--cpus", "99999" } },
	{ { "--cpus", "-1", NULL }, { "--cpus", "-1" } },
	{ { "--cpus", "{cpu},,{cpu}", NULL }, { "--cpus", "{cpu},,{cpu}" } },
	{ { "--cpus", "{cpu}", "--no-pin", NULL }, { "--cpus", "--no-pin" } },
	{ { "--no-pin", "--cpus", "{cpu}", NULL }, { "--cpus", "--no-pin" } },
	{ { "--format", "xml", NULL }, { "--format", "xml" } },
	{ { "--repeat", "0", NULL }, { "--repeat", "'0'" } },
	{ { "--repeat", "1001", NULL }, { "--repeat", "1001" } },
	{ { "--output", "/nonexistent-dir/x.json", NULL },
	  { "--output", "/nonexistent-dir/x.json" } },
	{ { "--pattern", "sideways", NULL }, { "--pattern", "sideways" } },
	{ { "extra", NULL }, { "extra" } },
	{ { "--procs", "2", "extra", NULL }, { "extra" } },
	{ { "--", "--procs", "2", NULL }, { "--procs" } },
};

static int allowed[CPU_SETSIZE];
static size_t nallowed;
static int bad_cpu;

/* The CPUs this process may use, and one it may not (99 unless it is
 * allowed). */
static int read_affinity(void **state)
{
	cpu_set_t set;

	(void)state;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	nallowed = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			allowed[nallowed++] = c;
	bad_cpu = -1;
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (!CPU_ISSET(c, &set) && (bad_cpu < 0 || c == 99))
			bad_cpu = c;
	return nallowed && bad_cpu >= 0 ? 0 : -1;
}

/* s with {cpu} and {badcpu} replaced by their numbers. */
static void expand(const char *s, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	while (*s && len + 1 < n) {
		if (strncmp(s, "{cpu}", 5) == 0) {
			len += (size_t)snprintf(out + len, n - len, "%d",
						allowed[0]);
			s += 5;
		} else if (strncmp(s, "{badcpu}", 8) == 0) {
			len += (size_t)snprintf(out + len, n - len, "%d",
						bad_cpu);
			s += 8;
		} else {
			out[len++] = *s++;
			out[len] = '\0';
		}
	}
	assert_true(len + 1 < n);
}

struct argv_buf {
	int argc;
	char *argv[MAX_ARGS + 2];
	char text[MAX_ARGS + 1][VAL_LEN];
};

/* Builds a writable argv ("ipcbench" first) from a case's arguments. */
static void make_argv(struct argv_buf *a, const char *const *args)
{
	strcpy(a->text[0], "ipcbench");
	a->argv[0] = a->text[0];
	a->argc = 1;
	for (size_t i = 0; i < MAX_ARGS && args[i]; i++, a->argc++) {
		expand(args[i], a->text[a->argc], VAL_LEN);
		a->argv[a->argc] = a->text[a->argc];
	}
	a->argv[a->argc] = NULL;
}

/* The command line a case stands for, for failure messages. */
static void show_args(const char *const *args, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MAX_ARGS && args[i] && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, " %s", args[i]);
}

static void append(char *buf, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, VAL_LEN - len, fmt, ap);
	va_end(ap);
}

static void join_uints(char *buf, const unsigned *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		append(buf, "%s%u", i ? "," : "", v[i]);
}

/* Renders every field of o as text, in field order. */
static void describe(const struct ipcb_options *o, char val[NFIELDS][VAL_LEN])
{
	static const char *const formats[] = { "table", "csv", "json",
					       "gbench" };
	bool all = o->ntransports == ipcb_transport_count;
	char work[32];

	for (size_t f = 0; f < NFIELDS; f++)
		val[f][0] = '\0';
	for (size_t i = 0; all && i < o->ntransports; i++)
		all = o->transports[i] == ipcb_transports[i];
	if (all)
		append(val[F_TRANSPORT], "all");
	else
		for (size_t i = 0; i < o->ntransports; i++)
			append(val[F_TRANSPORT], "%s%s", i ? "," : "",
			       o->transports[i]->name);
	append(val[F_EXPLICIT], "%d", o->explicit_transports);
	join_uints(val[F_PROCS], o->procs, o->nprocs);
	for (size_t i = 0; i < o->nsizes; i++)
		append(val[F_SIZE], "%s%llu", i ? "," : "",
		       (unsigned long long)o->sizes[i]);
	append(val[F_PATTERN], "%s",
	       o->latency && o->throughput ? "both"
	       : o->latency		   ? "latency"
	       : o->throughput		   ? "throughput"
					   : "neither");
	append(val[F_TOPOLOGY], "%s", ipcb_topology_name(o->topology));
	append(val[F_PRODUCERS], "%u", o->producers);
	append(val[F_CONSUMERS], "%u", o->consumers);
	for (size_t i = 0; i < o->nwork; i++) {
		ipcb_work_name(&o->work[i], work, sizeof(work));
		append(val[F_WORK], "%s%s", i ? "," : "", work);
	}
	for (size_t i = 0; i < o->nworkers; i++)
		append(val[F_WORKERS], "%s%s", i ? "," : "",
		       ipcb_workers_name(o->workers[i]));
	append(val[F_DURATION], "%g", o->duration_s);
	append(val[F_WARMUP], "%g", o->warmup_s);
	append(val[F_TIMEOUT], "%g", o->timeout_s);
	append(val[F_REPEAT], "%u", o->repeat);
	append(val[F_FORMAT], "%s", formats[o->format]);
	append(val[F_OUTPUT], "%s", o->output ? o->output : "(none)");
	if (o->ncpus == nallowed &&
	    memcmp(o->cpus, allowed, nallowed * sizeof(int)) == 0)
		append(val[F_CPUS], "allowed");
	else
		for (size_t i = 0; i < o->ncpus; i++)
			append(val[F_CPUS], "%s%d", i ? "," : "", o->cpus[i]);
	append(val[F_PIN], "%d", o->pin);
	append(val[F_VERIFY], "%d", o->verify);
	append(val[F_LIMITS], "%d", o->limits);
	append(val[F_SWEEP], "%d", o->sweep);
	append(val[F_QUIET], "%d", o->quiet);
	append(val[F_PLOT], "%s", o->plot_dir ? o->plot_dir : "(none)");
}

/* The defaults with the "field=value ..." overrides of want applied. */
static void expected(const char *want, char val[NFIELDS][VAL_LEN])
{
	char buf[VAL_LEN], *save = NULL, *tok;

	for (size_t f = 0; f < NFIELDS; f++)
		snprintf(val[f], VAL_LEN, "%s", defaults[f]);
	expand(want, buf, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		size_t f;

		assert_non_null(eq);
		*eq = '\0';
		for (f = 0; f < NFIELDS; f++)
			if (strcmp(field_names[f], tok) == 0)
				break;
		if (f == NFIELDS)
			fail_msg("test table: no field '%s'", tok);
		snprintf(val[f], VAL_LEN, "%s", eq + 1);
	}
}

static void test_good(void **state)
{
	static char got[NFIELDS][VAL_LEN], want[NFIELDS][VAL_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ipcb_options o;
		struct argv_buf a;
		char err[512] = "", cmd[512];
		enum ipcb_parse rc;

		make_argv(&a, good[i].args);
		show_args(good[i].args, cmd, sizeof(cmd));
		rc = ipcb_parse_options(a.argc, a.argv, &o, err, sizeof(err));
		if (rc != IPCB_PARSE_RUN)
			fail_msg("ipcbench%s: returned %d: %s", cmd, rc, err);
		describe(&o, got);
		expected(good[i].want, want);
		for (size_t f = 0; f < NFIELDS; f++)
			if (strcmp(got[f], want[f]) != 0)
				fail_msg("ipcbench%s: %s is '%s', expected "
					 "'%s'",
					 cmd, field_names[f], got[f], want[f]);
	}
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipcb_options o;
		struct argv_buf a;
		char err[512], cmd[512], name[VAL_LEN];
		enum ipcb_parse rc;

		make_argv(&a, bad[i].args);
		show_args(bad[i].args, cmd, sizeof(cmd));
		memset(err, 0, sizeof(err));
		rc = ipcb_parse_options(a.argc, a.argv, &o, err, sizeof(err));
		if (rc != IPCB_PARSE_ERROR)
			fail_msg("ipcbench%s: returned %d, not an error", cmd,
				 rc);
		if (!err[0] || strchr(err, '\n'))
			fail_msg("ipcbench%s: message '%s' is not one line",
				 cmd, err);
		for (size_t n = 0; n < 2 && bad[i].names[n]; n++) {
			expand(bad[i].names[n], name, sizeof(name));
			if (!strstr(err, name))
				fail_msg("ipcbench%s: message '%s' does not "
					 "name %s",
					 cmd, err, name);
		}
	}
}

/* A message longer than the buffer is cut, still terminated. */
static void test_small_error_buffer(void **state)
{
	struct ipcb_options o;
	struct argv_buf a;
	static const char *const args[] = { "--transport", "nosuch", NULL };
	char err[8];

	(void)state;
	make_argv(&a, args);
	memset(err, 'x', sizeof(err));
	assert_int_equal(ipcb_parse_options(a.argc, a.argv, &o, err,
					    sizeof(err)),
			 IPCB_PARSE_ERROR);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

static void test_help_version(void **state)
{
	static const struct {
		const char *args[4];
		enum ipcb_parse rc;
	} cases[] = {
		{ { "--help", NULL }, IPCB_PARSE_HELP },
		{ { "-h", NULL }, IPCB_PARSE_HELP },
		{ { "--procs", "4", "--help", NULL }, IPCB_PARSE_HELP },
		{ { "--version", NULL }, IPCB_PARSE_VERSION },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipcb_options o;
		struct argv_buf a;
		char err[512];

		make_argv(&a, cases[i].args);
		assert_int_equal(ipcb_parse_options(a.argc, a.argv, &o, err,
						    sizeof(err)),
				 cases[i].rc);
	}
}

/* ipcb_parse_size on its own: suffixes are powers of 1024 and the result
 * never exceeds 1G. */
static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "64", 0, 64 },
		{ "4K", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "1M", 0, 1u << 20 },
		{ "1G", 0, 1u << 30 },
		{ "1073741824", 0, 1u << 30 },
		{ "1073741825", -ERANGE, 0 },
		{ "1048577K", -ERANGE, 0 },
		{ "2G", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "4X", -EINVAL, 0 },
		{ "1KK", -EINVAL, 0 },
		{ "1K ", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int rc = ipcb_parse_size(cases[i].s, &v);

		if (rc != cases[i].rc)
			fail_msg("'%s': returned %d, expected %d", cases[i].s,
				 rc, cases[i].rc);
		if (!rc && v != cases[i].v)
			fail_msg("'%s': %llu, expected %llu", cases[i].s,
				 (unsigned long long)v,
				 (unsigned long long)cases[i].v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_parse_size),
	};

	return cmocka_run_group_tests(tests, read_affinity, NULL);
}
