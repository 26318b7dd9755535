/*
 * compare_test.c - `ipcbench compare`: the judging of harness/compare.c on
 * results built here, and the command itself run as a process on the
 * committed fixtures in tests/data/ (9 repetitions each):
 *   base.json   pipe latency 64 B and pipe throughput 4 KiB
 *   slow.json   latency config 2x slower in every repetition, on another
 *               kernel (context warning)
 *   fast.json   latency config 2x faster
 *   noise.json  throughput median 6% lower, but inside the spread of the
 *               repetitions (U test p = 0.19)
 *   other.json  only a shm configuration: nothing in common with base
 *   not-ipcbench.json  some other tool's JSON
 *
 * Usage: compare_test IPCBENCH DATA_DIR
 */
#define _GNU_SOURCE
#include "harness/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *ipcbench;
static const char *data_dir;

/* ---- judging, on results built here ---- */

static void add(struct ipcb_results *r, const char *transport, uint64_t size,
		enum ipcb_status status, unsigned reps, double p50, double step)
{
	struct ipcb_result x;

	memset(&x, 0, sizeof(x));
	snprintf(x.key.transport, sizeof(x.key.transport), "%s", transport);
	x.key.pattern = IPCB_LATENCY;
	x.key.procs = 2;
	x.key.size = size;
	x.key.producers = x.key.consumers = 1;
	strcpy(x.key.work, "none");
	x.status = status;
	if (status != IPCB_OK)
		snprintf(x.reason, sizeof(x.reason), "kernel said no");
	x.repeat = reps;
	x.has_latency = true;
	x.latency_rtt = true;
	x.lat.p50 = x.lat.p99 = p50;
	x.lat.min = x.lat.mean = x.lat.p90 = x.lat.p999 = x.lat.max = p50;
	x.msgs_per_s = 1e9 / p50;
	x.bytes_per_s = x.msgs_per_s * (double)size;
	x.reps = calloc(reps, sizeof(*x.reps));
	assert_non_null(x.reps);
	for (unsigned i = 0; i < reps; i++) {
		double v = p50 + step * ((double)i - (reps - 1) / 2.0);
		x.reps[i].lat = x.lat;
		x.reps[i].lat.p50 = x.reps[i].lat.p99 = v;
		x.reps[i].msgs_per_s = 1e9 / v;
		x.reps[i].bytes_per_s = x.reps[i].msgs_per_s * (double)size;
	}
	assert_int_equal(ipcb_results_add(r, &x), 0);
}

static const struct ipcb_cmp_row *row_of(const struct ipcb_comparison *c,
					 size_t base_i, int metric)
{
	for (size_t i = 0; i < c->nrows; i++)
		if (c->rows[i].base_i == base_i &&
		    (metric < 0 ? c->rows[i].whole_config
				: !c->rows[i].whole_config &&
					  (int)c->rows[i].metric == metric))
			return &c->rows[i];
	fail_msg("no row for result %zu metric %d", base_i, metric);
	return NULL;
}

static void test_judging(void **state)
{
	struct ipcb_results a, b;
	struct ipcb_comparison c;
	const struct ipcb_cmp_row *row;

	(void)state;
	ipcb_results_init(&a);
	ipcb_results_init(&b);
	/* 0: 3 repetitions, +10%: unreliable, judged by threshold. */
	add(&a, "pipe", 64, IPCB_OK, 3, 1000, 1);
	add(&b, "pipe", 64, IPCB_OK, 3, 1100, 1);
	/* 1: 3 repetitions, +3%: inside the threshold. */
	add(&a, "pipe", 128, IPCB_OK, 3, 1000, 1);
	add(&b, "pipe", 128, IPCB_OK, 3, 1030, 1);
	/* 2: ran in base, failed in new: a regression. */
	add(&a, "pipe", 256, IPCB_OK, 5, 1000, 1);
	add(&b, "pipe", 256, IPCB_FAILED, 0, 1000, 0);
	/* 3: not applicable on both sides: not compared. */
	add(&a, "pipe", 512, IPCB_NOT_APPLICABLE, 0, 1000, 0);
	add(&b, "pipe", 512, IPCB_NOT_APPLICABLE, 0, 1000, 0);
	/* 4: 5 repetitions, significant but only 2%: unchanged. */
	add(&a, "pipe", 1024, IPCB_OK, 5, 1000, 1);
	add(&b, "pipe", 1024, IPCB_OK, 5, 1020, 1);
	/* Only on one side each. */
	add(&a, "mq", 64, IPCB_OK, 1, 1000, 0);
	add(&b, "shm", 64, IPCB_OK, 1, 1000, 0);
	snprintf(a.ctx.hostname, sizeof(a.ctx.hostname), "h1");
	snprintf(b.ctx.hostname, sizeof(b.ctx.hostname), "h2");
	a.ctx.cpu_count = 2;
	b.ctx.cpu_count = 4;
	snprintf(a.ctx.kernel, sizeof(a.ctx.kernel), "Linux 6.1");
	/* b's kernel is unknown: not reported as different */

	assert_int_equal(ipcb_compare(&a, &b, NULL, &c), 0);
	assert_int_equal(c.matched, 5);
	assert_int_equal(c.n_only_base, 1);
	assert_int_equal(c.only_base[0], 5);
	assert_int_equal(c.n_only_new, 1);
	assert_int_equal(c.only_new[0], 5);
	assert_int_equal(c.ndiffs, 2);
	assert_string_equal(c.diffs[0].field, "hostname");
	assert_string_equal(c.diffs[1].field, "cpu_count");
	assert_string_equal(c.diffs[1].new_val, "4");

	row = row_of(&c, 0, IPCB_METRIC_P50);
	assert_false(row->reliable);
	assert_int_equal(row->verdict, IPCB_REGRESSION);
	assert_true(fabs(row->change - 0.10) < 1e-12);
	row = row_of(&c, 0, IPCB_METRIC_MSGS_PER_S);
	assert_int_equal(row->verdict,
			 IPCB_REGRESSION); /* -9%: higher is better */
	row = row_of(&c, 1, IPCB_METRIC_P50);
	assert_int_equal(row->verdict, IPCB_UNCHANGED);
	row = row_of(&c, 2, -1);
	assert_int_equal(row->verdict, IPCB_REGRESSION);
	assert_string_equal(row->note, "failed in new: kernel said no");
	row = row_of(&c, 3, -1);
	assert_int_equal(row->verdict, IPCB_NOT_COMPARED);
	row = row_of(&c, 4, IPCB_METRIC_P50);
	assert_true(row->reliable);
	assert_true(row->significant);
	assert_int_equal(row->utest.method, IPCB_UTEST_EXACT);
	assert_int_equal(row->verdict, IPCB_UNCHANGED);
	/* 0: p50, p99 and msgs/s; 2: the failure. */
	assert_int_equal(c.regressions, 4);
	ipcb_comparison_free(&c);

	/* A higher threshold turns the unreliable +10% into unchanged;
	 * other metrics are only compared when asked for. */
	{
		struct ipcb_compare_opts o;
		ipcb_compare_opts_default(&o);
		o.threshold = 0.2;
		o.metrics = IPCB_METRIC_BIT(IPCB_METRIC_MAX);
		assert_int_equal(ipcb_compare(&a, &b, &o, &c), 0);
		assert_int_equal(c.regressions, 1); /* the failure */
		row = row_of(&c, 0, IPCB_METRIC_MAX);
		assert_int_equal(row->verdict, IPCB_UNCHANGED);
		ipcb_comparison_free(&c);
	}
	ipcb_results_free(&a);
	ipcb_results_free(&b);
}

static void test_metric_list(void **state)
{
	unsigned mask = 0;
	char err[64];

	(void)state;
	assert_int_equal(ipcb_metric_list_parse("p999,bytes_per_s", &mask, err,
						sizeof(err)),
			 0);
	assert_int_equal(mask,
			 IPCB_METRIC_BIT(IPCB_METRIC_P999) |
				 IPCB_METRIC_BIT(IPCB_METRIC_BYTES_PER_S));
	assert_int_equal(ipcb_metric_list_parse("p50,p42", &mask, err,
						sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown metric 'p42'");
	assert_int_equal(ipcb_metric_list_parse("", &mask, err, sizeof(err)),
			 -EINVAL);
	assert_true(ipcb_metric_lower_is_better(IPCB_METRIC_P99));
	assert_false(ipcb_metric_lower_is_better(IPCB_METRIC_MSGS_PER_S));
}

/* ---- the command, as a process ---- */

struct run {
	int status; /* exit code */
	char *out, *err;
};

static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t r;

	assert_non_null(buf);
	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Runs `ipcbench compare ARGS...`; file arguments not starting with '-'
 * or '/' are taken from the data directory. */
static void run_compare(struct run *r, ...)
{
	char *argv[16], paths[16][512];
	char out_name[] = "/tmp/ipcb-compare-out-XXXXXX";
	char err_name[] = "/tmp/ipcb-compare-err-XXXXXX";
	int out = mkstemp(out_name), err = mkstemp(err_name), st;
	size_t n = 0;
	const char *a;
	va_list ap;
	pid_t pid;

	assert_true(out >= 0 && err >= 0);
	unlink(out_name);
	unlink(err_name);
	argv[n++] = (char *)ipcbench;
	argv[n++] = (char *)"compare";
	va_start(ap, r);
	while ((a = va_arg(ap, const char *)) && n < 15) {
		if (a[0] != '-' && a[0] != '/' && strstr(a, ".json")) {
			snprintf(paths[n], sizeof(paths[n]), "%s/%s", data_dir,
				 a);
			argv[n] = paths[n];
			n++;
		} else {
			argv[n++] = (char *)a;
		}
	}
	va_end(ap);
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		execv(ipcbench, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	r->status = WEXITSTATUS(st);
	r->out = slurp(out);
	r->err = slurp(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The last non-empty line of s. */
static const char *last_line(char *s)
{
	size_t len = strlen(s);
	char *p;

	while (len && s[len - 1] == '\n')
		s[--len] = '\0';
	p = strrchr(s, '\n');
	return p ? p + 1 : s;
}

#define assert_contains(hay, needle)                                      \
	do {                                                              \
		if (!strstr((hay), (needle)))                             \
			fail_msg("%s does not contain \"%s\":\n%s", #hay, \
				 (needle), (hay));                        \
	} while (0)

static void test_self(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", "base.json", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_contains(r.out, "pipe/latency/procs:2/size:64");
	assert_true(strncmp(last_line(r.out), "OK: no regression", 17) == 0);
	run_free(&r);
}

static void test_slowdown(void **state)
{
	struct run r;
	const char *verdict;

	(void)state;
	run_compare(&r, "base.json", "slow.json", NULL);
	assert_int_equal(r.status, 3);
	verdict = last_line(r.out);
	assert_true(strncmp(verdict, "REGRESSION", 10) == 0);
	assert_contains(verdict, "pipe/latency/procs:2/size:64 p50 +100.0%");
	assert_contains(r.out, "REGRESSION");
	/* slow.json ran on another kernel: named on stderr. */
	assert_contains(r.err, "warning");
	assert_contains(r.err, "kernel 'Linux 6.1.0-13-amd64 x86_64' vs "
			       "'Linux 6.5.0-1-amd64 x86_64'");
	run_free(&r);
}

static void test_speedup(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", "fast.json", NULL);
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "improvement");
	assert_contains(last_line(r.out), "3 improvements");
	run_free(&r);
}

static void test_noise(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", "noise.json", "--metric", "msgs_per_s",
		    NULL);
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "-6.0%");
	assert_contains(r.out, "unchanged (not significant)");
	assert_contains(r.out, "0.190");
	run_free(&r);
}

static void test_markdown(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", "slow.json", "--format", "markdown", NULL);
	assert_int_equal(r.status, 3);
	assert_contains(r.out, "### ipcbench compare: regression found");
	assert_contains(r.out, "| configuration | metric | base | new |");
	assert_contains(r.out, "|---|---|");
	assert_contains(r.out, "| `pipe/latency/procs:2/size:64` | p50 | "
			       "5000ns | 10.0us | +100.0% |");
	assert_contains(r.out, "> **Warning:**");
	assert_true(strncmp(last_line(r.out), "**REGRESSION", 12) == 0);
	run_free(&r);
}

static void test_json(void **state)
{
	struct run r;
	json_error_t je;
	json_t *root, *rows;
	size_t i;
	json_t *row;
	bool found = false;

	(void)state;
	run_compare(&r, "base.json", "slow.json", "--format", "json", NULL);
	assert_int_equal(r.status, 3);
	root = json_loads(r.out, 0, &je);
	if (!root)
		fail_msg("stdout is not JSON: %s\n%s", je.text, r.out);
	assert_string_equal(json_string_value(json_object_get(root, "verdict")),
			    "regression");
	assert_int_equal(
		json_integer_value(json_object_get(root, "regressions")), 3);
	rows = json_object_get(root, "comparisons");
	json_array_foreach (rows, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "metric")),
			   "p50") ||
		    strcmp(json_string_value(
				   json_object_get(row, "configuration")),
			   "pipe/latency/procs:2/size:64"))
			continue;
		found = true;
		assert_string_equal(
			json_string_value(json_object_get(row, "test")),
			"exact");
		assert_true(
			fabs(json_real_value(json_object_get(row, "p_value")) -
			     2.0 / 48620) < 1e-12);
		assert_true(
			fabs(json_real_value(json_object_get(row, "change")) -
			     1.0) < 1e-12);
	}
	assert_true(found);
	/* The verdict line still comes last, on stderr. */
	assert_true(strncmp(last_line(r.err), "REGRESSION", 10) == 0);
	json_decref(root);
	run_free(&r);
}

static void test_bad_input(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", "missing.json", NULL);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_contains(r.err, "missing.json");
	assert_contains(r.err, "No such file or directory");
	run_free(&r);

	run_compare(&r, "not-ipcbench.json", "base.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "not-ipcbench.json");
	assert_contains(r.err, "not an ipcbench results file");
	run_free(&r);

	run_compare(&r, "base.json", "other.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "no configuration in common");
	run_free(&r);
}

static void test_usage(void **state)
{
	struct run r;

	(void)state;
	run_compare(&r, "base.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "BASE and NEW");
	run_free(&r);
	run_compare(&r, "--threshold", "lots", "base.json", "base.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "--threshold 'lots'");
	run_free(&r);
	run_compare(&r, "--metric", "p50,p42", "base.json", "base.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "unknown metric 'p42'");
	run_free(&r);
	run_compare(&r, "--format", "xml", "base.json", "base.json", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run_compare(&r, "--frobnicate", "base.json", "base.json", NULL);
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "--frobnicate");
	run_free(&r);
	run_compare(&r, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "usage: ipcbench compare");
	run_free(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judging),
		cmocka_unit_test(test_metric_list),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_slowdown),
		cmocka_unit_test(test_speedup),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_usage),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s IPCBENCH DATA_DIR\n", argv[0]);
		return 2;
	}
	ipcbench = argv[1];
	data_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
