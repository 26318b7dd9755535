/*
 * plot.h - comparison figures from a result set, drawn by gnuplot.
 *
 * From a struct ipcb_results, ipcb_plot_results() decides which of the
 * standard figures the data supports, writes for each one a data file
 * (NAME.csv) and a gnuplot script (NAME.gp) into the output directory, and
 * renders NAME.png or NAME.svg by running gnuplot as a separate process.
 * The figures, in this order:
 *
 *   fig1-latency-vs-size        round-trip p50 vs message size per
 *                               transport, p50-p99 band, p99.9 whisker
 *   fig2-throughput-vs-procs    messages/s and bytes/s vs process count
 *   fig3-speedup-vs-procs       speedup vs process count, one panel per
 *                               work kind, the CPU count marked
 *   fig4-latency-distribution   percentile ladder (min..max) per transport
 *                               for one configuration
 *   fig5-workers-comparison     sequential / threads / processes for each
 *                               cpu: and io: work kind (grouped bars)
 *   fig6-transport-comparison   one configuration, all transports (bars)
 *
 * Where the results hold several values of a dimension a figure does not
 * show (work, workers, topology, size, ...), the figure takes one value:
 * the default (work none, process workers, pairs, 2 processes, pipe) when
 * it is present, otherwise the value giving the most points, and says
 * which in its subtitle. Output is deterministic for the same input: the
 * date shown is the run's own start time, never the time of plotting.
 *
 * Each script can be re-run by hand in the output directory:
 *   gnuplot NAME.gp
 *   gnuplot -e "datafile='other.csv'" NAME.gp
 *   gnuplot -e "format='svg'" NAME.gp
 */
#ifndef IPCB_PLOT_H
#define IPCB_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "harness/results.h"

enum ipcb_plot_format { IPCB_PLOT_PNG, IPCB_PLOT_SVG };

struct ipcb_plot_opts {
	enum ipcb_plot_format format;
	const char *gnuplot; /* program to run; NULL: "gnuplot" from PATH */
};

/* What ipcb_plot_results() did. Both lists are owned by the report. */
struct ipcb_plot_report {
	char **files; /* paths written, per figure: image, script, data */
	size_t nfiles;
	char **notes; /* one line each: figures skipped and why,
				 * gnuplot warnings */
	size_t nnotes;
};

/* "png" or "svg" into *fmt: 0, or -EINVAL for anything else. */
int ipcb_plot_parse_format(const char *s, enum ipcb_plot_format *fmt);
const char *ipcb_plot_format_name(enum ipcb_plot_format fmt);

/*
 * Draws every figure r supports into dir (created if missing, with its
 * parents). Files are written into a hidden staging directory inside dir
 * and renamed into place only when complete, so dir never holds a partial
 * file. rep is initialised here and must be freed with
 * ipcb_plot_report_free() whatever the result.
 *
 * Returns 0 when every supported figure was drawn (rep->notes lists the
 * skipped ones). Otherwise a negative errno with a one-line reason in err:
 *   -EINVAL  the data supports no figure, or holds names a script cannot
 *            carry; nothing was written
 *   -ENOENT  gnuplot is not installed (err names the Debian package): the
 *            data files and scripts were still written (rep->files lists
 *            them), no images
 *   -EIO     gnuplot failed on a script: err holds the last line of its
 *            error output; the data files, scripts and the images drawn
 *            are written, and an image an earlier run left for a failed
 *            figure is removed
 *   other    gnuplot could not be started (data and scripts written), or
 *            creating or writing the files failed
 */
int ipcb_plot_results(const struct ipcb_results *r, const char *dir,
		      const struct ipcb_plot_opts *o,
		      struct ipcb_plot_report *rep, char *err, size_t errlen);

void ipcb_plot_report_free(struct ipcb_plot_report *rep);

/* Prints the report the way `ipcbench plot` does: each file on its own line
 * on out, each note as "ipcbench plot: note: ..." on notes. */
void ipcb_plot_report_print(const struct ipcb_plot_report *rep, FILE *out,
			    FILE *notes);

#endif
