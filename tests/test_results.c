/*
 * test_results.c - unit tests of the CSV and JSON result writers and of
 * ipcb_read_results() (harness/results.h, results/SCHEMA.md).
 *
 * The writers' output for one fixed result set is compared byte for byte
 * with the golden files tests/golden/results.csv and results.json. After
 * an intended format change, regenerate them and review the diff:
 *
 *     IPCB_UPDATE_GOLDEN=1 ./tests/test_results     (in a build directory)
 *
 * which rewrites the golden files instead of comparing against them. The
 * fixture covers an ok row with repetitions, a row without latency (NaN,
 * written as empty/null), a not_applicable and a failed row, and strings
 * that need CSV quoting. Both files are then read back and must give the
 * same values, and malformed files must be refused with -EINVAL and a
 * one-line reason.
 */
#define _GNU_SOURCE
#include "harness/results.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef IPCB_GOLDEN_DIR
#error "IPCB_GOLDEN_DIR must name the directory of the golden files"
#endif

/* The CSV columns issue 2 fixes, in this order, before any others. */
static const char *const required_columns[] = {
	"transport",   "pattern",     "procs",	    "size",	   "messages",
	"lost",	       "duplicated",  "corrupt",    "duration_s",  "lat_kind",
	"lat_min_ns",  "lat_mean_ns", "lat_p50_ns", "lat_p90_ns",  "lat_p99_ns",
	"lat_p999_ns", "lat_max_ns",  "msgs_per_s", "bytes_per_s",
};
#define NREQUIRED (sizeof(required_columns) / sizeof(required_columns[0]))

static const struct ipcb_latency no_latency = { NAN, NAN, NAN, NAN,
						NAN, NAN, NAN };

static struct ipcb_result blank(const char *transport, enum ipcb_pattern pat,
				unsigned procs, uint64_t size)
{
	struct ipcb_result x;

	memset(&x, 0, sizeof(x));
	snprintf(x.key.transport, sizeof(x.key.transport), "%s", transport);
	x.key.pattern = pat;
	x.key.procs = procs;
	x.key.size = size;
	x.key.topology = IPCB_PAIRS;
	x.key.producers = x.key.consumers = procs / 2;
	strcpy(x.key.work, "none");
	x.key.workers = IPCB_PROCESS;
	x.duration_s = NAN;
	x.lat = no_latency;
	x.msgs_per_s = x.bytes_per_s = NAN;
	x.speedup = NAN;
	x.tput_min = x.tput_max = x.tput_cv = x.p50_cv = NAN;
	return x;
}

static void add(struct ipcb_results *r, struct ipcb_result *x)
{
	assert_int_equal(ipcb_results_add(r, x), 0);
}

/* The fixed result set. Every number has at most 6 significant digits,
 * so the CSV writer (%.6g) keeps it exactly. */
static void fixture(struct ipcb_results *r)
{
	struct ipcb_context *c = &r->ctx;
	struct ipcb_result x;

	ipcb_results_init(r);
	c->command_line = strdup("ipcbench --transport pipe,null,signal,mq,uds "
				 "--repeat 3 --format json");
	assert_non_null(c->command_line);
	strcpy(c->version, "0.1.0");
	strcpy(c->git_revision, "0123456789ab");
	strcpy(c->start_time, "2026-11-22T22:00:00Z");
	strcpy(c->end_time, "2026-11-22T22:00:30Z");
	strcpy(c->hostname, "testhost");
	strcpy(c->kernel, "Linux 6.1.0-13-amd64 x86_64");
	strcpy(c->cpu_model, "Test CPU @ 2.00GHz");
	c->cpu_count = 2;
	c->mq_msg_max = 10;
	c->mq_msgsize_max = 8192;
	strcpy(c->placement, "pinned round-robin 0,1");
	c->cpu_work_iters_per_us = 123.5;
	c->partial = false;
	c->has_limits = true;
	c->limit_pingpong_ns = 180.5;
	c->limit_memcpy_64k_bps = 9.5e10;

	/* ok, round-trip latency, three repetitions, a detail with a comma. */
	x = blank("pipe", IPCB_LATENCY, 2, 64);
	x.status = IPCB_OK;
	x.repeat = 3;
	x.messages = 120000;
	x.duration_s = 0.2;
	x.has_latency = true;
	x.latency_rtt = true;
	x.lat = (struct ipcb_latency){ 4100, 5234.5, 5120, 6016,
				       9984, 20480,  51234 };
	x.msgs_per_s = 190000;
	x.bytes_per_s = 1.216e7;
	x.tput_min = 185000;
	x.tput_max = 195000;
	x.tput_cv = 0.0125;
	x.p50_cv = 0.02;
	strcpy(x.detail, "stream, 4-byte length framing");
	strcpy(x.cpus, "ping0:0 pong0:1");
	x.reps = calloc(3, sizeof(*x.reps));
	assert_non_null(x.reps);
	for (unsigned i = 0; i < 3; i++) {
		x.reps[i].msgs_per_s = 185000 + 5000.0 * i;
		x.reps[i].bytes_per_s = x.reps[i].msgs_per_s * 64;
		x.reps[i].lat = x.lat;
		x.reps[i].lat.p50 = 5056 + 64.0 * i;
	}
	add(r, &x);

	/* ok, no latency measured (the null transport has no timestamp). */
	x = blank("null", IPCB_THROUGHPUT, 2, 4096);
	x.status = IPCB_OK;
	x.repeat = 1;
	x.messages = 2000000;
	x.duration_s = 0.2;
	x.msgs_per_s = 1e7;
	x.bytes_per_s = 4.096e10;
	strcpy(x.detail, "no payload");
	strcpy(x.cpus, "prod0:0 cons0:1");
	x.reps = calloc(1, sizeof(*x.reps));
	assert_non_null(x.reps);
	x.reps[0].msgs_per_s = 1e7;
	x.reps[0].bytes_per_s = 4.096e10;
	x.reps[0].lat = no_latency;
	add(r, &x);

	/* not applicable, nothing measured: a reason with quotes, a comma. */
	x = blank("signal", IPCB_THROUGHPUT, 5, 65536);
	x.key.topology = IPCB_SHARED;
	x.key.producers = 3;
	x.key.consumers = 2;
	x.status = IPCB_NOT_APPLICABLE;
	strcpy(x.reason, "\"signal\" cannot share one channel, one receiver "
			 "per queue");
	add(r, &x);

	/* ok, one-way latency, cpu work on threads, chunked, a speedup. */
	x = blank("mq", IPCB_THROUGHPUT, 4, 16384);
	strcpy(x.key.work, "cpu:50");
	x.key.workers = IPCB_THREAD;
	x.status = IPCB_OK;
	x.repeat = 2;
	x.messages = 15000;
	x.duration_s = 0.2;
	x.has_latency = true;
	x.latency_rtt = false;
	x.lat = (struct ipcb_latency){ 51000, 60512.2, 58368, 66560,
				       98304, 131072,  140001 };
	x.msgs_per_s = 37500;
	x.bytes_per_s = 6.144e8;
	x.speedup = 1.85;
	strcpy(x.speedup_vs, "1 consumer");
	x.tput_min = 37000;
	x.tput_max = 38000;
	x.tput_cv = 0.0188562;
	x.p50_cv = 0.0123;
	x.chunk = 8192;
	strcpy(x.detail, "maxmsg=10 msgsize=8192");
	strcpy(x.cpus, "prod0:0 cons0:1 prod1:0 cons1:1");
	x.reps = calloc(2, sizeof(*x.reps));
	assert_non_null(x.reps);
	for (unsigned i = 0; i < 2; i++) {
		x.reps[i].msgs_per_s = 37000 + 1000.0 * i;
		x.reps[i].bytes_per_s = x.reps[i].msgs_per_s * 16384;
		x.reps[i].lat = x.lat;
	}
	add(r, &x);

	/* failed: a worker died; nothing is reported as measured. */
	x = blank("uds", IPCB_LATENCY, 2, 64);
	x.status = IPCB_FAILED;
	x.repeat = 1;
	strcpy(x.reason, "worker pong0 (pid 4242) killed by signal 9");
	strcpy(x.cpus, "ping0:0 pong0:1");
	add(r, &x);
}

/* Writes r with writer into memory; the caller frees *buf. */
static size_t write_mem(int (*writer)(FILE *, const struct ipcb_results *),
			const struct ipcb_results *r, char **buf)
{
	size_t len = 0;
	FILE *f = open_memstream(buf, &len);

	assert_non_null(f);
	assert_int_equal(writer(f, r), 0);
	assert_int_equal(fclose(f), 0);
	return len;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		fail_msg("%s: %s (regenerate with IPCB_UPDATE_GOLDEN=1)", path,
			 strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Compares out with the golden file name, byte for byte, naming the first
 * differing line; with IPCB_UPDATE_GOLDEN=1 rewrites the golden file. */
static void check_golden(const char *name, const char *out, size_t len)
{
	char path[4096];
	const char *update = getenv("IPCB_UPDATE_GOLDEN");
	size_t glen, line = 1;
	char *golden;

	snprintf(path, sizeof(path), "%s/%s", IPCB_GOLDEN_DIR, name);
	if (update && strcmp(update, "1") == 0) {
		spit(path, out, len);
		print_message("updated %s\n", path);
		return;
	}
	golden = slurp(path, &glen);
	for (size_t i = 0; i < len && i < glen; i++) {
		if (out[i] != golden[i])
			fail_msg("%s differs from the writer's output at line "
				 "%zu (byte %zu)",
				 path, line, i);
		if (out[i] == '\n')
			line++;
	}
	if (len != glen)
		fail_msg("%s has %zu bytes, the writer wrote %zu", path, glen,
			 len);
	free(golden);
}

static void test_csv_golden(void **state)
{
	struct ipcb_results r;
	char *out = NULL;
	size_t len;

	(void)state;
	fixture(&r);
	len = write_mem(ipcb_write_csv, &r, &out);
	check_golden("results.csv", out, len);
	free(out);
	ipcb_results_free(&r);
}

static void test_json_golden(void **state)
{
	struct ipcb_results r;
	char *out = NULL;
	size_t len;

	(void)state;
	fixture(&r);
	len = write_mem(ipcb_write_json, &r, &out);
	check_golden("results.json", out, len);
	free(out);
	ipcb_results_free(&r);
}

/* The header starts with exactly the columns issue 2 requires. */
static void test_csv_header(void **state)
{
	struct ipcb_results r;
	char *out = NULL, *p, *save = NULL, *tok;
	size_t i = 0;

	(void)state;
	ipcb_results_init(&r);
	write_mem(ipcb_write_csv, &r, &out);
	p = strchr(out, '\n');
	assert_non_null(p);
	*p = '\0';
	for (tok = strtok_r(out, ",", &save); tok && i < NREQUIRED;
	     tok = strtok_r(NULL, ",", &save), i++)
		assert_string_equal(tok, required_columns[i]);
	assert_int_equal(i, NREQUIRED);
	free(out);
	ipcb_results_free(&r);
}

/* NaN equals NaN here: an unmeasured value must stay unmeasured. */
static void assert_same_num(double a, double b, const char *what, size_t i)
{
	if (isnan(a) && isnan(b))
		return;
	if (a != b)
		fail_msg("result %zu: %s: %.17g read back as %.17g", i, what, a,
			 b);
}

static void assert_same_latency(const struct ipcb_latency *a,
				const struct ipcb_latency *b, size_t i)
{
	assert_same_num(a->min, b->min, "lat min", i);
	assert_same_num(a->mean, b->mean, "lat mean", i);
	assert_same_num(a->p50, b->p50, "lat p50", i);
	assert_same_num(a->p90, b->p90, "lat p90", i);
	assert_same_num(a->p99, b->p99, "lat p99", i);
	assert_same_num(a->p999, b->p999, "lat p999", i);
	assert_same_num(a->max, b->max, "lat max", i);
}

/* Compares what a file read back holds with what was written. CSV keeps
 * neither the context nor the per-repetition numbers. */
static void assert_same_results(const struct ipcb_results *a,
				const struct ipcb_results *b, bool json)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct ipcb_result *x = &a->v[i], *y = &b->v[i];

		assert_true(ipcb_key_equal(&x->key, &y->key));
		assert_int_equal(x->status, y->status);
		assert_string_equal(x->reason, y->reason);
		assert_int_equal(x->repeat, y->repeat);
		assert_int_equal(x->messages, y->messages);
		assert_int_equal(x->lost, y->lost);
		assert_int_equal(x->duplicated, y->duplicated);
		assert_int_equal(x->corrupt, y->corrupt);
		assert_same_num(x->duration_s, y->duration_s, "duration_s", i);
		assert_int_equal(x->has_latency, y->has_latency);
		assert_int_equal(x->latency_rtt, y->latency_rtt);
		assert_same_latency(&x->lat, &y->lat, i);
		assert_same_num(x->msgs_per_s, y->msgs_per_s, "msgs_per_s", i);
		assert_same_num(x->bytes_per_s, y->bytes_per_s, "bytes_per_s",
				i);
		assert_same_num(x->speedup, y->speedup, "speedup", i);
		assert_string_equal(x->speedup_vs, y->speedup_vs);
		assert_same_num(x->tput_min, y->tput_min, "msgs_per_s_min", i);
		assert_same_num(x->tput_max, y->tput_max, "msgs_per_s_max", i);
		assert_same_num(x->tput_cv, y->tput_cv, "msgs_per_s_cv", i);
		assert_same_num(x->p50_cv, y->p50_cv, "lat_p50_cv", i);
		assert_int_equal(x->chunk, y->chunk);
		assert_string_equal(x->detail, y->detail);
		assert_string_equal(x->cpus, y->cpus);
		if (!json) {
			assert_null(y->reps);
			continue;
		}
		if (!x->reps || x->status != IPCB_OK) {
			assert_null(y->reps);
			continue;
		}
		assert_non_null(y->reps);
		for (unsigned j = 0; j < x->repeat; j++) {
			assert_same_num(x->reps[j].msgs_per_s,
					y->reps[j].msgs_per_s, "rep msgs_per_s",
					i);
			assert_same_num(x->reps[j].bytes_per_s,
					y->reps[j].bytes_per_s,
					"rep bytes_per_s", i);
			assert_same_latency(&x->reps[j].lat, &y->reps[j].lat,
					    i);
		}
	}
}

static void assert_same_context(const struct ipcb_context *a,
				const struct ipcb_context *b)
{
	assert_string_equal(a->command_line, b->command_line);
	assert_string_equal(a->version, b->version);
	assert_string_equal(a->git_revision, b->git_revision);
	assert_string_equal(a->start_time, b->start_time);
	assert_string_equal(a->end_time, b->end_time);
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->kernel, b->kernel);
	assert_string_equal(a->cpu_model, b->cpu_model);
	assert_int_equal(a->cpu_count, b->cpu_count);
	assert_int_equal(a->mq_msg_max, b->mq_msg_max);
	assert_int_equal(a->mq_msgsize_max, b->mq_msgsize_max);
	assert_string_equal(a->placement, b->placement);
	assert_same_num(a->cpu_work_iters_per_us, b->cpu_work_iters_per_us,
			"cpu_work_iters_per_us", 0);
	assert_int_equal(a->partial, b->partial);
	assert_int_equal(a->has_limits, b->has_limits);
	assert_same_num(a->limit_pingpong_ns, b->limit_pingpong_ns,
			"limit_pingpong_ns", 0);
	assert_same_num(a->limit_memcpy_64k_bps, b->limit_memcpy_64k_bps,
			"limit_memcpy_64k_bps", 0);
}

/* A temporary file holding len bytes of buf; the caller unlinks it. */
static void temp_file(char *path, size_t n, const char *buf, size_t len)
{
	int fd;

	snprintf(path, n, "/tmp/ipcb-test-results-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void round_trip(int (*writer)(FILE *, const struct ipcb_results *),
		       bool json)
{
	struct ipcb_results r, back;
	char path[64], err[256] = "";
	char *out = NULL;
	size_t len;
	int rc;

	fixture(&r);
	len = write_mem(writer, &r, &out);
	temp_file(path, sizeof(path), out, len);
	rc = ipcb_read_results(path, &back, err, sizeof(err));
	unlink(path);
	if (rc)
		fail_msg("reading back: %d: %s", rc, err);
	assert_same_results(&r, &back, json);
	if (json)
		assert_same_context(&r.ctx, &back.ctx);
	ipcb_results_free(&back);
	ipcb_results_free(&r);
	free(out);
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	round_trip(ipcb_write_csv, false);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	round_trip(ipcb_write_json, true);
}

/* A partial run without limits or cpu work reads back as such. */
static void test_json_partial_round_trip(void **state)
{
	struct ipcb_results r, back;
	char path[64], err[256] = "";
	char *out = NULL;
	size_t len;

	(void)state;
	fixture(&r);
	r.ctx.partial = true;
	r.ctx.has_limits = false;
	r.ctx.limit_pingpong_ns = r.ctx.limit_memcpy_64k_bps = NAN;
	r.ctx.cpu_work_iters_per_us = NAN;
	len = write_mem(ipcb_write_json, &r, &out);
	temp_file(path, sizeof(path), out, len);
	assert_int_equal(ipcb_read_results(path, &back, err, sizeof(err)), 0);
	unlink(path);
	assert_same_context(&r.ctx, &back.ctx);
	ipcb_results_free(&back);
	ipcb_results_free(&r);
	free(out);
}

struct bad_file {
	const char *what, *content;
	const char *needle; /* in the message besides the path */
};

static const char csv_without_bytes_per_s[] =
	"transport,pattern,procs,size,messages,lost,duplicated,corrupt,"
	"duration_s,lat_kind,lat_min_ns,lat_mean_ns,lat_p50_ns,lat_p90_ns,"
	"lat_p99_ns,lat_p999_ns,lat_max_ns,msgs_per_s\n"
	"pipe,latency,2,64,1,0,0,0,1,rtt,1,1,1,1,1,1,1,1\n";

static const struct bad_file bad_files[] = {
	{ "empty file", "", "empty" },
	{ "blank lines", "\n\n", "" },
	{ "plain text", "hello, world\n", "transport" },
	{ "broken JSON", "{ \"schema_version\": 1, ", "JSON" },
	{ "JSON without schema_version",
	  "{\"tool\": \"ipcbench\", \"results\": [{\"transport\": \"pipe\", "
	  "\"pattern\": \"latency\", \"procs\": 2, \"size\": 64}]}",
	  "schema_version" },
	{ "wrong schema_version",
	  "{\"schema_version\": 2, \"results\": [{\"transport\": \"pipe\", "
	  "\"pattern\": \"latency\", \"procs\": 2, \"size\": 64}]}",
	  "schema_version 2" },
	{ "schema_version as a string",
	  "{\"schema_version\": \"1\", \"results\": []}", "schema_version" },
	{ "JSON array", "[1, 2, 3]", "" },
	{ "JSON without results", "{\"schema_version\": 1}", "results" },
	{ "JSON with no result", "{\"schema_version\": 1, \"results\": []}",
	  "no results" },
	{ "JSON result without transport",
	  "{\"schema_version\": 1, \"results\": [{\"pattern\": \"latency\", "
	  "\"procs\": 2, \"size\": 64}]}",
	  "transport" },
	{ "JSON result with an unknown pattern",
	  "{\"schema_version\": 1, \"results\": [{\"transport\": \"pipe\", "
	  "\"pattern\": \"sideways\", \"procs\": 2, \"size\": 64}]}",
	  "pattern" },
	{ "CSV without required column", csv_without_bytes_per_s,
	  "bytes_per_s" },
	{ "CSV header only",
	  "transport,pattern,procs,size,messages,lost,duplicated,corrupt,"
	  "duration_s,lat_kind,lat_min_ns,lat_mean_ns,lat_p50_ns,lat_p90_ns,"
	  "lat_p99_ns,lat_p999_ns,lat_max_ns,msgs_per_s,bytes_per_s\n",
	  "no results" },
};

/* Every malformed file: -EINVAL, a one-line reason, nothing returned. */
static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad_file *b = &bad_files[i];
		struct ipcb_results r;
		char path[64], err[512] = "";
		int rc;

		temp_file(path, sizeof(path), b->content, strlen(b->content));
		rc = ipcb_read_results(path, &r, err, sizeof(err));
		unlink(path);
		if (rc != -EINVAL)
			fail_msg("%s: returned %d, not -EINVAL (%s)", b->what,
				 rc, err);
		if (!err[0] || strchr(err, '\n') || !strstr(err, b->needle))
			fail_msg("%s: message '%s' is not one line naming '%s'",
				 b->what, err, b->needle);
		assert_int_equal(r.n, 0);
		assert_null(r.v);
	}
}

/* File-level problems name the file. */
static void test_malformed_names_file(void **state)
{
	static const char *const contents[] = {
		"",
		"{",
		"{\"schema_version\": 3, \"results\": []}",
		"transport,pattern\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
		struct ipcb_results r;
		char path[64], err[512] = "";

		temp_file(path, sizeof(path), contents[i], strlen(contents[i]));
		assert_int_equal(ipcb_read_results(path, &r, err, sizeof(err)),
				 -EINVAL);
		unlink(path);
		if (!strstr(err, path))
			fail_msg("'%s': message '%s' does not name the file",
				 contents[i], err);
	}
}

static void test_missing_file(void **state)
{
	struct ipcb_results r;
	char err[512] = "";

	(void)state;
	assert_int_equal(ipcb_read_results("/nonexistent-dir/results.json", &r,
					   err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/results.json"));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_golden),
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_csv_header),
		cmocka_unit_test(test_csv_round_trip),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_partial_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_malformed_names_file),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
