/*
 * micro_json.c - a short run of ipcbench-micro, its JSON output parsed.
 *
 * Runs MICRO with a tiny --benchmark_min_time, a filter selecting the
 * given transports and --benchmark_out=OUT in JSON, as a CI job would, then
 * checks that it exited 0 and left no process or named object behind, that
 * the context carries ipcbench's version, revision and placement, and that
 * every transport has all its round trip and stream benchmarks under their
 * stable names, each without error, with real_time > 0 and the percentile
 * and throughput counters. It checks shapes and orderings, never speed.
 *
 * Usage: micro_json MICRO OUT TRANSPORT...
 */
#define _GNU_SOURCE
#include "ipc/ipc.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const size_t sizes[] = { 64, 1024, 4096, 16384, 65536 };
static const char *const ops[] = { "roundtrip", "stream" };

static const char *micro, *out;
static char **transports;
static int ntransports;
static pid_t micro_pid;
static int micro_status;
static json_t *root;

/* Runs ipcbench-micro once for every test, as this process's child; the
 * process is a subreaper, so a peer it fails to reap is ours to find. */
static int run_micro(void **state)
{
	char filter[256] = "--benchmark_filter=^(", outarg[512];
	json_error_t jerr;
	size_t len;

	(void)state;
	for (int i = 0; i < ntransports; i++) {
		len = strlen(filter);
		snprintf(filter + len, sizeof(filter) - len, "%s%s",
			 i ? "|" : "", transports[i]);
	}
	len = strlen(filter);
	snprintf(filter + len, sizeof(filter) - len, ")/");
	snprintf(outarg, sizeof(outarg), "--benchmark_out=%s", out);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) ||
	    (unlink(out) && errno != ENOENT)) {
		perror("micro_json: subreaper or old output");
		return -1;
	}
	micro_pid = fork();
	if (micro_pid < 0) {
		perror("micro_json: fork");
		return -1;
	}
	if (micro_pid == 0) {
		execl(micro, micro, "--benchmark_min_time=0.01", filter, outarg,
		      "--benchmark_out_format=json", (char *)NULL);
		perror(micro);
		_exit(127);
	}
	if (waitpid(micro_pid, &micro_status, 0) != micro_pid) {
		perror("micro_json: waitpid");
		return -1;
	}
	root = json_load_file(out, 0, &jerr);
	if (!root)
		fprintf(stderr, "%s: %s (line %d)\n", out, jerr.text,
			jerr.line);
	return 0;
}

static int free_json(void **state)
{
	(void)state;
	json_decref(root);
	return 0;
}

/* Entries of dir whose name contains the run's tag. */
static int count_named(const char *dir, const char *tag)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, tag))
			n++;
	closedir(d);
	return n;
}

static void test_exit_and_cleanup(void **state)
{
	char tag[64];
	int st;

	(void)state;
	assert_true(WIFEXITED(micro_status));
	assert_int_equal(WEXITSTATUS(micro_status), 0);
	/* Every peer was reaped by ipcbench-micro itself. */
	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	snprintf(tag, sizeof(tag), "ipcb-%d-micro", (int)micro_pid);
	assert_int_equal(count_named("/dev/shm", tag), 0);
	assert_int_equal(count_named("/dev/mqueue", tag), 0);
	assert_int_equal(count_named("/tmp", tag), 0);
	assert_non_null(root);
}

static const char *context_string(const char *key)
{
	const char *s = json_string_value(
		json_object_get(json_object_get(root, "context"), key));

	if (!s || !*s)
		fail_msg("context has no \"%s\"", key);
	return s;
}

static void test_context(void **state)
{
	(void)state;
	assert_non_null(root);
	assert_string_equal(context_string("ipcbench_version"), IPCB_VERSION);
	assert_string_equal(context_string("ipcbench_git_rev"), IPCB_GIT_REV);
	assert_non_null(strstr(context_string("ipcbench_placement"), "bench="));
	assert_string_equal(context_string("ipcbench_clock"),
			    "CLOCK_MONOTONIC");
}

static json_t *find_benchmark(const char *name)
{
	json_t *b;
	size_t i;

	json_array_foreach (json_object_get(root, "benchmarks"), i, b)
		if (json_is_string(json_object_get(b, "name")) &&
		    strcmp(json_string_value(json_object_get(b, "name")),
			   name) == 0)
			return b;
	return NULL;
}

/* A positive number (Google Benchmark writes counters as reals). */
static double positive(json_t *b, const char *name, const char *key)
{
	json_t *v = json_object_get(b, key);

	if (!json_is_number(v) || json_number_value(v) <= 0)
		fail_msg("%s: \"%s\" missing or not positive", name, key);
	return json_number_value(v);
}

static void check_benchmark(const char *name, bool stream)
{
	json_t *b = find_benchmark(name);
	double p50, p99, p999;

	if (!b)
		fail_msg("no benchmark named %s", name);
	if (json_is_true(json_object_get(b, "error_occurred")))
		fail_msg(
			"%s: error: %s", name,
			json_string_value(json_object_get(b, "error_message")));
	assert_string_equal(json_string_value(json_object_get(b, "run_name")),
			    name);
	assert_string_equal(json_string_value(json_object_get(b, "run_type")),
			    "iteration");
	assert_string_equal(json_string_value(json_object_get(b, "time_unit")),
			    "ns");
	positive(b, name, "iterations");
	positive(b, name, "real_time");
	positive(b, name, "items_per_second");
	if (stream)
		positive(b, name, "bytes_per_second");
	p50 = positive(b, name, "p50_ns");
	p99 = positive(b, name, "p99_ns");
	p999 = positive(b, name, "p999_ns");
	if (!(p50 <= p99 && p99 <= p999))
		fail_msg("%s: percentiles out of order: %g %g %g", name, p50,
			 p99, p999);
}

static void test_benchmarks(void **state)
{
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	char name[128];

	(void)state;
	assert_non_null(root);
	/* The filter selected exactly these transports' benchmarks. */
	assert_int_equal(json_array_size(json_object_get(root, "benchmarks")),
			 (size_t)ntransports * 2 * nsizes);
	for (int i = 0; i < ntransports; i++)
		for (size_t op = 0; op < 2; op++)
			for (size_t k = 0; k < nsizes; k++) {
				snprintf(name, sizeof(name),
					 "%s/%s/size:%zu/manual_time",
					 transports[i], ops[op], sizes[k]);
				check_benchmark(name, op == 1);
			}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_and_cleanup),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_benchmarks),
	};

	if (argc < 4) {
		fprintf(stderr, "usage: micro_json MICRO OUT TRANSPORT...\n");
		return 2;
	}
	micro = argv[1];
	out = argv[2];
	transports = argv + 3;
	ntransports = argc - 3;
	for (int i = 0; i < ntransports; i++)
		if (!ipcb_transport_find(transports[i])) {
			fprintf(stderr,
				"micro_json: no transport named %s in "
				"the registry\n",
				transports[i]);
			return 1;
		}
	return cmocka_run_group_tests(tests, run_micro, free_json);
}
