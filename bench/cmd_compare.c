/*
 * cmd_compare.c - `ipcbench compare BASE NEW`: the command line of the
 * regression check (the judging is harness/compare.c).
 *
 * Exit codes: 0 no regression, 3 regression found, 2 usage error (bad
 * options, an unreadable or non-ipcbench input, no configuration in
 * common), 1 any other failure. Results go to stdout, warnings and errors
 * to stderr. The one-line verdict comes last: the last line of the table
 * or markdown; with --format json, whose stdout must stay one JSON
 * document, it is the "summary" field and is also printed on stderr.
 */
#define _GNU_SOURCE
#include "bench/commands.h"
#include "harness/compare.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_REGRESSION 3
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: ipcbench compare BASE NEW [--threshold PCT] [--metric LIST]\n"
	"                        [--format table|markdown|json]\n"
	"\n"
	"Compares two results files (JSON or CSV from ipcbench) configuration\n"
	"by configuration. Values are medians over repetitions; with at least\n"
	"5 repetitions on both sides (--repeat 5 or more; 9+ is better) a\n"
	"Mann-Whitney U test decides whether a change is significant\n"
	"(alpha 0.05), with fewer the threshold alone decides (unreliable).\n"
	"\n"
	"  --threshold PCT  a change worse than PCT percent is a regression\n"
	"                   (default 5)\n"
	"  --metric LIST    comma-separated, among p50,p90,p99,p999,max,mean,\n"
	"                   msgs_per_s,bytes_per_s (default p50,p99,msgs_per_s)\n"
	"  --format F       table (default), markdown (for a pull request) or\n"
	"                   json\n"
	"\n"
	"Exit status: 0 no regression, 3 regression found, 2 usage error,\n"
	"1 other failure.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("ipcbench compare: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("; see ipcbench compare --help\n", stderr);
	return EXIT_USAGE;
}

static int parse_threshold(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end != s && *end == '%')
		end++;
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1000)
		return -EINVAL;
	*out = v / 100;
	return 0;
}

static int parse_format(const char *s, enum ipcb_cmp_format *out)
{
	if (strcmp(s, "table") == 0)
		*out = IPCB_CMP_TABLE;
	else if (strcmp(s, "markdown") == 0)
		*out = IPCB_CMP_MARKDOWN;
	else if (strcmp(s, "json") == 0)
		*out = IPCB_CMP_JSON;
	else
		return -EINVAL;
	return 0;
}

/* Loads one side; on failure says which file, why and what to do. */
static int load(const char *path, struct ipcb_results *r)
{
	char err[512];
	int rc = ipcb_read_results(path, r, err, sizeof(err));

	if (!rc)
		return 0;
	if (rc == -ENOMEM) {
		fprintf(stderr, "ipcbench compare: %s: out of memory\n", path);
		return 1;
	}
	fprintf(stderr,
		"ipcbench compare: cannot use %s: %s; pass a results "
		"file written by ipcbench --output (JSON or CSV)\n",
		path, err);
	return EXIT_USAGE;
}

static void warn_context(const struct ipcb_comparison *c,
			 const struct ipcb_results *base,
			 const struct ipcb_results *nr, const char *bpath,
			 const char *npath)
{
	if (c->ndiffs) {
		fputs("ipcbench compare: warning: the runs were made in "
		      "different contexts, numbers may not be comparable:",
		      stderr);
		for (size_t i = 0; i < c->ndiffs; i++)
			fprintf(stderr, "%s %s '%s' vs '%s'", i ? ";" : "",
				c->diffs[i].field, c->diffs[i].base,
				c->diffs[i].new_val);
		fputc('\n', stderr);
	}
	if (base->ctx.partial)
		fprintf(stderr,
			"ipcbench compare: warning: %s is from an "
			"interrupted run (partial)\n",
			bpath);
	if (nr->ctx.partial)
		fprintf(stderr,
			"ipcbench compare: warning: %s is from an "
			"interrupted run (partial)\n",
			npath);
}

int ipcb_cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "metric", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipcb_compare_opts opts;
	enum ipcb_cmp_format fmt = IPCB_CMP_TABLE;
	struct ipcb_results base, nr;
	struct ipcb_comparison c;
	struct ipcb_cmp_labels labels;
	char err[128], verdict[1024];
	int opt, rc;

	ipcb_compare_opts_default(&opts);
	opterr = 0;
	optind = 0; /* GNU: rescan from argv[1], whatever ran before */
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_threshold(optarg, &opts.threshold))
				return usage_error("--threshold '%s' is not a "
						   "percentage from 0 to 1000",
						   optarg);
			break;
		case 'm':
			if (ipcb_metric_list_parse(optarg, &opts.metrics, err,
						   sizeof(err)))
				return usage_error("--metric: %s (choose among "
						   "p50,p90,p99,p999,max,mean,"
						   "msgs_per_s,bytes_per_s)",
						   err);
			break;
		case 'f':
			if (parse_format(optarg, &fmt))
				return usage_error("--format '%s': use table, "
						   "markdown or json",
						   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error(
			"%s", argc - optind < 2
				      ? "needs two results files, BASE and NEW"
				      : "takes exactly two results files, "
					"BASE and NEW");

	rc = load(argv[optind], &base);
	if (rc)
		return rc;
	rc = load(argv[optind + 1], &nr);
	if (rc)
		goto out_base;
	rc = ipcb_compare(&base, &nr, &opts, &c);
	if (rc) {
		fprintf(stderr, "ipcbench compare: out of memory\n");
		rc = 1;
		goto out;
	}
	if (c.matched == 0) {
		fprintf(stderr,
			"ipcbench compare: %s and %s have no "
			"configuration in common (%zu vs %zu results); compare "
			"runs of the same transports, patterns, sizes and "
			"process counts\n",
			argv[optind], argv[optind + 1], base.n, nr.n);
		rc = EXIT_USAGE;
		goto out;
	}
	warn_context(&c, &base, &nr, argv[optind], argv[optind + 1]);
	labels.base = argv[optind];
	labels.new_label = argv[optind + 1];
	rc = ipcb_write_comparison(stdout, &c, &base, &nr, &labels, fmt);
	if (!rc)
		rc = fflush(stdout) ? -errno : 0;
	if (rc) {
		fprintf(stderr,
			"ipcbench compare: writing the comparison "
			"failed: %s\n",
			strerror(-rc));
		rc = 1;
		goto out;
	}
	if (fmt == IPCB_CMP_JSON) {
		ipcb_comparison_verdict(&c, &base, verdict, sizeof(verdict));
		fprintf(stderr, "%s\n", verdict);
	}
	rc = c.regressions ? EXIT_REGRESSION : 0;
out:
	ipcb_comparison_free(&c);
	ipcb_results_free(&nr);
out_base:
	ipcb_results_free(&base);
	return rc;
}
