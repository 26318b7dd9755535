/*
 * fuzz_results.c - libFuzzer target for results files as `ipcbench plot`
 * and `ipcbench compare` read them (ipcb_read_results, harness/results.h),
 * and for what they do with a file that loads: the table, CSV and JSON
 * writers and the comparison (harness/compare.h) of the file with itself,
 * written in every format.
 *
 * The input is the file: it goes into a memfd read through
 * /proc/self/fd/N, so nothing touches the disk. Besides what the
 * sanitizers catch, it aborts when a contract is broken:
 *  - a failed read must leave a non-empty one-line reason;
 *  - JSON the writer produced from a loaded file must load again, with
 *    the same number of results;
 *  - a file compared with itself matches every configuration and finds
 *    no regression and no improvement.
 *
 * Plot is not covered: ipcb_plot_results() always writes its files and
 * runs gnuplot, and plot.h has no entry point for the figure selection
 * alone.
 */
#define _GNU_SOURCE
#include "harness/compare.h"
#include "harness/results.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ERR_LEN 512

static FILE *devnull;

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "%s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

/* Loads data[0..size) as a results file: the ipcb_read_results() code. */
static int load(const void *data, size_t size, struct ipcb_results *r,
		char *err)
{
	char path[64];
	int fd = memfd_create("ipcb-fuzz", MFD_CLOEXEC);
	int rc;

	if (fd < 0)
		fail("memfd_create failed", NULL);
	if (size && write(fd, data, size) != (ssize_t)size)
		fail("write to the memfd failed", NULL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	rc = ipcb_read_results(path, r, err, ERR_LEN);
	close(fd);
	if (rc && (!err[0] || strchr(err, '\n')))
		fail("bad error message", err);
	return rc;
}

/* The JSON writer's output must read back as the same number of
 * results. */
static void json_round_trip(const struct ipcb_results *r)
{
	struct ipcb_results back;
	char *buf = NULL, err[ERR_LEN];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		fail("open_memstream failed", NULL);
	rc = ipcb_write_json(f, r);
	if (fclose(f))
		fail("fclose of the memstream failed", NULL);
	if (rc == 0) {
		if (load(buf, len, &back, err))
			fail("written JSON does not load", err);
		if (back.n != r->n)
			fail("written JSON loads with another result count",
			     NULL);
		ipcb_results_free(&back);
	}
	free(buf);
}

static void compare_self(const struct ipcb_results *r,
			 const struct ipcb_compare_opts *o)
{
	static const enum ipcb_cmp_format fmts[] = { IPCB_CMP_TABLE,
						     IPCB_CMP_MARKDOWN,
						     IPCB_CMP_JSON };
	struct ipcb_cmp_labels labels = { "base.json", "new.json" };
	struct ipcb_comparison c;
	char verdict[1024];

	if (ipcb_compare(r, r, o, &c) == 0) {
		if (c.matched != r->n || c.n_only_base || c.n_only_new ||
		    c.regressions || c.improvements)
			fail("a file compared with itself differs", NULL);
		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			ipcb_write_comparison(devnull, &c, r, r, &labels,
					      fmts[i]);
		ipcb_comparison_verdict(&c, r, verdict, sizeof(verdict));
	}
	ipcb_comparison_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipcb_compare_opts every;
	struct ipcb_results r;
	char err[ERR_LEN];

	if (!devnull && !(devnull = fopen("/dev/null", "we")))
		fail("cannot open /dev/null", NULL);
	if (load(data, size, &r, err))
		return 0;
	ipcb_write_table(devnull, &r);
	ipcb_write_csv(devnull, &r);
	ipcb_write_json(devnull, &r);
	json_round_trip(&r);
	compare_self(&r, NULL);
	/* Every metric, and the U test from two repetitions on. */
	ipcb_compare_opts_default(&every);
	every.metrics = (1u << IPCB_METRIC_COUNT) - 1;
	every.min_reps = 2;
	compare_self(&r, &every);
	ipcb_results_free(&r);
	return 0;
}
