/*
 * gbench_test.c - `--format gbench` (harness/gbench.c): the output parsed
 * back with jansson and checked against the keys Google Benchmark 1.7
 * writes and compare.py, github-action-benchmark and bencher read; names
 * stable across runs; the documented real_time mapping.
 *
 * Usage: gbench_test DATA_DIR   (tests/data, the compare fixtures)
 */
#define _GNU_SOURCE
#include "harness/gbench.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char *data_dir;

static json_t *to_gbench(const struct ipcb_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *root;

	assert_non_null(f);
	assert_int_equal(ipcb_write_gbench(f, r), 0);
	assert_int_equal(fclose(f), 0);
	root = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		fail_msg("not JSON (%s):\n%s", je.text, buf);
	free(buf);
	return root;
}

static json_t *fixture(const char *name)
{
	struct ipcb_results r;
	char path[512], err[256];
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	if (ipcb_read_results(path, &r, err, sizeof(err)))
		fail_msg("%s", err);
	root = to_gbench(&r);
	ipcb_results_free(&r);
	return root;
}

#define KEY(o, k, is)                                                         \
	do {                                                                  \
		if (!is(json_object_get((o), (k))))                           \
			fail_msg("key %s missing or of the wrong type", (k)); \
	} while (0)

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		fail_msg("%s is not a number", k);
	return json_number_value(v);
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		fail_msg("%s is not a string", k);
	return json_string_value(v);
}

static bool null_or_integer(json_t *v)
{
	return json_is_null(v) || json_is_integer(v);
}

static bool null_or_boolean(json_t *v)
{
	return json_is_null(v) || json_is_boolean(v);
}

/* Checks one entry against Google Benchmark's shape. */
static void check_entry(json_t *b)
{
	static const char *const counters[] = {
		"p50_ns",      "p90_ns",	   "p99_ns",
		"p999_ns",     "max_ns",	   "msgs_per_s",
		"bytes_per_s", "items_per_second", "bytes_per_second",
	};
	const char *type = str(b, "run_type");

	KEY(b, "name", json_is_string);
	KEY(b, "family_index", json_is_integer);
	KEY(b, "per_family_instance_index", json_is_integer);
	KEY(b, "run_name", json_is_string);
	KEY(b, "repetitions", json_is_integer);
	KEY(b, "threads", json_is_integer);
	KEY(b, "iterations", json_is_integer);
	KEY(b, "real_time", json_is_number);
	KEY(b, "cpu_time", json_is_number);
	assert_string_equal(str(b, "time_unit"), "ns");
	assert_true(num(b, "cpu_time") == num(b, "real_time"));
	if (strcmp(type, "iteration") == 0) {
		KEY(b, "repetition_index", json_is_integer);
		assert_string_equal(str(b, "name"), str(b, "run_name"));
		assert_true(num(b, "real_time") > 0);
		KEY(b, "lost", json_is_number);
	} else {
		char want[300];
		assert_string_equal(type, "aggregate");
		assert_null(json_object_get(b, "repetition_index"));
		snprintf(want, sizeof(want), "%s_%s", str(b, "run_name"),
			 str(b, "aggregate_name"));
		assert_string_equal(str(b, "name"), want);
		KEY(b, "aggregate_unit", json_is_string);
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		KEY(b, counters[i], json_is_number);
}

static void test_shape(void **state)
{
	json_t *root = fixture("base.json");
	json_t *ctx = json_object_get(root, "context");
	json_t *bm = json_object_get(root, "benchmarks"), *b;
	size_t i, iterations = 0, aggregates = 0;

	(void)state;
	KEY(ctx, "date", json_is_string);
	assert_string_equal(str(ctx, "date"), "2026-11-20T10:00:00+00:00");
	assert_string_equal(str(ctx, "host_name"), "ci-runner");
	assert_string_equal(str(ctx, "executable"), "ipcbench");
	assert_int_equal(num(ctx, "num_cpus"), 2);
	KEY(ctx, "mhz_per_cpu", null_or_integer);
	KEY(ctx, "cpu_scaling_enabled", null_or_boolean);
	KEY(ctx, "caches", json_is_array); /* bencher requires the array */
	KEY(ctx, "load_avg", json_is_array);
	KEY(ctx, "library_build_type", json_is_string);
	assert_string_equal(str(ctx, "git_revision"), "1111111aaaaa");
	assert_string_equal(str(ctx, "ipcbench_version"), "0.1.0");
	KEY(ctx, "placement", json_is_string);

	assert_true(json_is_array(bm));
	json_array_foreach (bm, i, b) {
		check_entry(b);
		assert_int_equal(num(b, "repetitions"), 9);
		if (strcmp(str(b, "run_type"), "iteration") == 0)
			iterations++;
		else
			aggregates++;
	}
	assert_int_equal(iterations, 2 * 9);
	assert_int_equal(aggregates, 2 * 4); /* mean, median, stddev, cv */
	json_decref(root);
}

static json_t *find(json_t *bm, const char *name, int rep)
{
	size_t i;
	json_t *b;

	json_array_foreach (bm, i, b)
		if (strcmp(str(b, "name"), name) == 0 &&
		    (rep < 0 || num(b, "repetition_index") == rep))
			return b;
	fail_msg("no benchmark %s repetition %d", name, rep);
	return NULL;
}

/* real_time: mean round trip (latency), 1e9 / msgs_per_s (throughput);
 * values from base.json's repetitions. */
static void test_mapping(void **state)
{
	json_t *root = fixture("base.json");
	json_t *bm = json_object_get(root, "benchmarks"), *b;

	(void)state;
	b = find(bm, "pipe/latency/procs:2/size:64", 0);
	assert_true(num(b, "real_time") == 5332);
	assert_true(num(b, "p50_ns") == 4980);
	assert_true(num(b, "p99_ns") == 9557);
	assert_true(num(b, "msgs_per_s") == 188860);
	assert_true(num(b, "items_per_second") == 188860);
	assert_int_equal(num(b, "iterations"), 188860); /* 1 s window */
	assert_int_equal(num(b, "family_index"), 0);
	b = find(bm, "pipe/latency/procs:2/size:64_median", -1);
	assert_true(num(b, "real_time") == 5300);
	assert_true(num(b, "p50_ns") == 5000);
	assert_int_equal(num(b, "iterations"), 9);
	assert_string_equal(str(b, "aggregate_unit"), "time");
	b = find(bm, "pipe/latency/procs:2/size:64_cv", -1);
	assert_string_equal(str(b, "aggregate_unit"), "percentage");
	b = find(bm, "pipe/throughput/procs:2/size:4096", 4);
	assert_true(fabs(num(b, "real_time") - 1e9 / 400000) < 1e-9);
	assert_true(num(b, "bytes_per_second") == 400000.0 * 4096);
	assert_int_equal(num(b, "family_index"), 1);
	assert_int_equal(num(b, "per_family_instance_index"), 0);
	json_decref(root);
}

/* Trackers and compare.py match by name: two runs of the same
 * configurations (base and slow) give the same names in the same order. */
static void test_names_stable(void **state)
{
	json_t *a = fixture("base.json"), *b = fixture("slow.json");
	json_t *ba = json_object_get(a, "benchmarks");
	json_t *bb = json_object_get(b, "benchmarks");

	(void)state;
	assert_int_equal(json_array_size(ba), json_array_size(bb));
	for (size_t i = 0; i < json_array_size(ba); i++)
		assert_string_equal(str(json_array_get(ba, i), "name"),
				    str(json_array_get(bb, i), "name"));
	assert_string_equal(str(json_array_get(ba, 0), "name"),
			    "pipe/latency/procs:2/size:64");
	json_decref(a);
	json_decref(b);
}

static void add(struct ipcb_results *r, const char *transport,
		enum ipcb_status status, enum ipcb_workers workers)
{
	struct ipcb_result x;

	memset(&x, 0, sizeof(x));
	snprintf(x.key.transport, sizeof(x.key.transport), "%s", transport);
	x.key.pattern = IPCB_THROUGHPUT;
	x.key.procs = 3;
	x.key.size = 1024;
	x.key.topology = IPCB_SHARED;
	x.key.producers = 2;
	x.key.consumers = 1;
	snprintf(x.key.work, sizeof(x.key.work), "cpu:50");
	x.key.workers = workers;
	x.status = status;
	snprintf(x.reason, sizeof(x.reason), "%s",
		 status == IPCB_OK ? "" : "no multi-producer support");
	x.repeat = 1;
	x.messages = 1000;
	x.duration_s = 1;
	x.msgs_per_s = 1000;
	x.bytes_per_s = 1024000;
	x.has_latency = false; /* e.g. a transport without timestamps */
	assert_int_equal(ipcb_results_add(r, &x), 0);
}

/* One repetition: one iteration entry, no aggregates; a latency that was
 * not measured is no counter; a failure is an error entry; a configuration
 * that does not apply is left out. */
static void test_single_and_failed(void **state)
{
	struct ipcb_results r;
	json_t *root, *bm, *b;

	(void)state;
	ipcb_results_init(&r);
	snprintf(r.ctx.hostname, sizeof(r.ctx.hostname), "elsewhere");
	r.ctx.command_line = strdup("/usr/bin/ipcbench --repeat 1");
	add(&r, "null", IPCB_OK, IPCB_THREAD);
	add(&r, "pipe", IPCB_FAILED, IPCB_PROCESS);
	add(&r, "mq", IPCB_NOT_APPLICABLE, IPCB_PROCESS);
	root = to_gbench(&r);
	ipcb_results_free(&r);

	assert_string_equal(str(json_object_get(root, "context"), "executable"),
			    "/usr/bin/ipcbench");
	/* Not this machine: no machine facts are made up. */
	assert_true(json_is_null(json_object_get(
		json_object_get(root, "context"), "mhz_per_cpu")));
	bm = json_object_get(root, "benchmarks");
	assert_int_equal(json_array_size(bm), 2);
	b = json_array_get(bm, 0);
	assert_string_equal(
		str(b, "name"),
		"null/throughput/procs:3/size:1024/topology:shared/"
		"producers:2/consumers:1/work:cpu:50/workers:thread");
	assert_string_equal(str(b, "run_type"), "iteration");
	assert_int_equal(num(b, "repetitions"), 1);
	assert_int_equal(num(b, "repetition_index"), 0);
	assert_int_equal(num(b, "iterations"), 1000);
	assert_true(num(b, "real_time") == 1e6);
	assert_null(json_object_get(b, "p50_ns"));
	b = json_array_get(bm, 1);
	assert_true(json_is_true(json_object_get(b, "error_occurred")));
	assert_string_equal(str(b, "error_message"),
			    "no multi-producer support");
	assert_int_equal(num(b, "family_index"), 1);
	json_decref(root);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_names_stable),
		cmocka_unit_test(test_single_and_failed),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
		return 2;
	}
	data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
