/*
 * cmd_plot.c - `ipcbench plot RESULTS [-o DIR] [--format png|svg]`: draws
 * the standard comparison figures from a results file (JSON or CSV) with
 * gnuplot. The figures are chosen and drawn by harness/plot.c.
 *
 * Exit codes: 0 all supported figures drawn; 1 gnuplot missing or failed,
 * or the files could not be written; 2 usage error, or a results file that
 * cannot be read or plots nothing (nothing is written then).
 */
#define _GNU_SOURCE
#include "bench/commands.h"
#include "harness/plot.h"
#include "harness/results.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: ipcbench plot RESULTS [-o DIR] [--format png|svg]\n"
	      "  RESULTS        a results file written by ipcbench (JSON or CSV)\n"
	      "  -o, --output DIR  where to write the figures (default plots/)\n"
	      "  -f, --format F    png (default) or svg\n"
	      "Writes NAME.png|svg, NAME.gp and NAME.csv for each figure the\n"
	      "results support and prints their paths; gnuplot must be installed\n"
	      "(Debian, Ubuntu: apt-get install gnuplot-nox).\n",
	      f);
}

int ipcb_cmd_plot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipcb_plot_opts opts = { .format = IPCB_PLOT_PNG };
	struct ipcb_plot_report rep;
	struct ipcb_results res;
	const char *dir = "plots", *path;
	char err[1024];
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'f':
			if (ipcb_plot_parse_format(optarg, &opts.format)) {
				fprintf(stderr,
					"ipcbench plot: --format %s: "
					"not a format; use png or svg\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr,
				"ipcbench plot: %s: unknown option "
				"or missing value; see ipcbench plot --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "ipcbench plot: %s; see ipcbench plot --help\n",
			argc == optind ? "give one results file"
				       : "give only one results file");
		return 2;
	}
	path = argv[optind];

	rc = ipcb_read_results(path, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr,
			"ipcbench plot: cannot read results: %s; give "
			"a results file written by ipcbench (--json or --csv)\n",
			err);
		return 2;
	}
	rc = ipcb_plot_results(&res, dir, &opts, &rep, err, sizeof(err));
	ipcb_plot_report_print(&rep, stdout, stderr);
	if (rc == -EINVAL)
		fprintf(stderr, "ipcbench plot: %s: %s; nothing written\n",
			path, err);
	else if (rc)
		fprintf(stderr, "ipcbench plot: %s\n", err);
	ipcb_plot_report_free(&rep);
	ipcb_results_free(&res);
	if (rc == -EINVAL)
		return 2;
	return rc ? 1 : 0;
}
