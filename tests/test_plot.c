/*
 * test_plot.c - `ipcbench plot` run as a process, and ipcb_plot_results(),
 * on the results files committed in tests/data/:
 *   plot-full.json     supports all six figures (limits recorded, a quote
 *                      and an @ in the CPU model)
 *   plot-full.csv      the same results as CSV (no run context)
 *   plot-partial.json  p50/p99 only, no bytes/s, no speedup, no work:
 *                      figures 1 and 6 drawn, 2 to 5 skipped
 *   plot-corrupt.json, plot-unrelated.json, plot-unrelated.csv,
 *   plot-unplottable.json (nothing measured), plot-badname.json (a
 *                      transport name a script cannot carry): exit 2,
 *                      nothing written
 *
 * Every figure is rendered to PNG and SVG and checked: the files exist and
 * are not empty, the PNG is complete (signature, IHDR, IEND), the SVG parses
 * as XML (xmllint --noout when installed, else a structural check), and the
 * script names every series its data file holds. Rendering twice gives the
 * same bytes.
 *
 * Usage: test_plot IPCBENCH DATA_DIR SCRATCH_DIR
 * The checks that need no gnuplot run first; then, without gnuplot, the
 * test exits 77 (skipped).
 */
#define _GNU_SOURCE
#include "harness/plot.h"
#include "harness/results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *ipcbench, *data_dir, *scratch;

static const char *const figures[] = {
	"fig1-latency-vs-size",	   "fig2-throughput-vs-procs",
	"fig3-speedup-vs-procs",   "fig4-latency-distribution",
	"fig5-workers-comparison", "fig6-transport-comparison",
};
#define NFIG 6

/* The series each figure draws from plot-full (.json or .csv). */
static const char *const full_series[NFIG][4] = {
	{ "pipe", "shm", "shm-spin" },
	{ "pipe", "shm", "shm-spin" },
	{ "pipe", "shm", "cpu:50", "io:50" },
	{ "pipe", "shm", "shm-spin" },
	{ "sequential", "threads", "processes" },
	{ "pipe", "shm", "shm-spin" },
};

/* ---- helpers ---- */

static char *path_of(const char *dir, const char *name, const char *ext)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s%s", dir, name, ext) > 0);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_rf(const char *dir)
{
	if (exists(dir))
		assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS),
				 0);
}

/* Entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, full[4096];
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	assert_non_null(copy);
	for (char *d = strtok_r(copy, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof(full), "%s/%s", d, prog);
		found = access(full, X_OK) == 0;
	}
	free(copy);
	return found;
}

/*
 * Runs argv (argv[0] searched in PATH) with stdout and stderr captured into
 * *out and *err (owned by the caller; may be NULL to discard). With
 * no_path, the child's PATH names no directory that exists. Returns the
 * exit status, or -1 when the child did not exit.
 */
static int run(char *const argv[], bool no_path, char **out, char **err)
{
	char *opath = path_of(scratch, "run", ".out");
	char *epath = path_of(scratch, "run", ".err");
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (no_path)
			setenv("PATH", "/nonexistent-ipcbench-test", 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (out)
		*out = slurp(opath, NULL);
	if (err)
		*err = slurp(epath, NULL);
	free(opath);
	free(epath);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int plot(const char *input, const char *out_dir, const char *format,
		bool no_path, char **out, char **err)
{
	char *in = path_of(data_dir, input, "");
	char *argv[] = {
		(char *)ipcbench, "plot",	  in,  "-o", (char *)out_dir,
		"--format",	  (char *)format, NULL
	};
	int rc = run(argv, no_path, out, err);

	free(in);
	return rc;
}

/* ---- what a rendered figure must look like ---- */

static void check_png(const char *path)
{
	static const unsigned char sig[8] = { 0x89, 'P',  'N',	'G',
					      '\r', '\n', 0x1a, '\n' };
	static const unsigned char iend[8] = { 'I',  'E',  'N',	 'D',
					       0xae, 0x42, 0x60, 0x82 };
	size_t len;
	unsigned char *b = (unsigned char *)slurp(path, &len);
	uint32_t w, h;

	assert_non_null(b);
	assert_true(len > 1000);
	assert_memory_equal(b, sig, 8);
	assert_memory_equal(b + 12, "IHDR", 4);
	w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | b[18] << 8 | b[19];
	h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | b[22] << 8 | b[23];
	assert_true(w >= 800 && w <= 2000);
	assert_true(h >= 500 && h <= 1200);
	assert_memory_equal(b + len - 8, iend, 8);
	free(b);
}

static void check_svg(const char *path)
{
	size_t len;
	char *b = slurp(path, &len);

	assert_non_null(b);
	assert_true(len > 1000);
	assert_non_null(strstr(b, "<svg"));
	assert_non_null(strstr(b, "</svg>"));
	free(b);
	if (in_path("xmllint")) {
		char *argv[] = { "xmllint", "--noout", (char *)path, NULL };
		char *err = NULL;
		int rc = run(argv, false, NULL, &err);
		if (rc)
			fail_msg("xmllint %s: %s", path, err);
		free(err);
	}
}

/* The values of one named column of a CSV data file (no quoting: the
 * figures' data files hold names and numbers only). */
static size_t column(const char *csv, const char *name, char vals[][40],
		     size_t max)
{
	char *copy = strdup(csv), *save = NULL, *line;
	int col = -1;
	size_t n = 0;

	assert_non_null(copy);
	line = strtok_r(copy, "\n", &save);
	assert_non_null(line);
	for (int c = 0; line; c++) {
		char *comma = strchr(line, ',');
		if (comma)
			*comma = '\0';
		if (strcmp(line, name) == 0)
			col = c;
		line = comma ? comma + 1 : NULL;
	}
	while (col >= 0 && (line = strtok_r(NULL, "\n", &save)) && n < max) {
		char *cell = line;
		for (int c = 0; c < col && cell; c++) {
			cell = strchr(cell, ',');
			cell = cell ? cell + 1 : NULL;
		}
		assert_non_null(cell);
		snprintf(vals[n], 40, "%.*s", (int)strcspn(cell, ","), cell);
		n++;
	}
	free(copy);
	return n;
}

/* Every transport and work kind in the figure's data file is named, quoted,
 * in its script; so is each name in expect. */
static void check_series(const char *dir, const char *fig,
			 const char *const *expect)
{
	char *cpath = path_of(dir, fig, ".csv"),
	     *gpath = path_of(dir, fig, ".gp");
	char *csv = slurp(cpath, NULL), *gp = slurp(gpath, NULL);
	static const char *const cols[] = { "transport", "work" };
	char vals[256][40], quoted[48];

	assert_non_null(csv);
	assert_non_null(gp);
	for (int c = 0; c < 2; c++) {
		size_t n = column(csv, cols[c], vals, 256);
		for (size_t i = 0; i < n; i++) {
			snprintf(quoted, sizeof(quoted), "'%.39s'", vals[i]);
			if (!strstr(gp, quoted))
				fail_msg("%s names no series %s", gpath,
					 quoted);
		}
	}
	for (int i = 0; i < 4 && expect && expect[i]; i++) {
		snprintf(quoted, sizeof(quoted), "'%s'", expect[i]);
		if (!strstr(gp, quoted))
			fail_msg("%s does not draw %s", gpath, quoted);
		if (!strstr(csv, expect[i]) && strcmp(fig, figures[4]))
			fail_msg("%s holds no %s", cpath, expect[i]);
	}
	assert_non_null(strstr(gp, "if (!exists(\"datafile\")) datafile = '"));
	free(cpath);
	free(gpath);
	free(csv);
	free(gp);
}

/* A full render of plot-full.* in fmt into dir: all files listed on
 * stdout, each valid, no staging directory left. */
static void check_full(const char *input, const char *dir, const char *fmt)
{
	char *out = NULL, *err = NULL, ext[8];
	int lines = 0;

	rm_rf(dir);
	assert_int_equal(plot(input, dir, fmt, false, &out, &err), 0);
	if (err[0] && !strstr(err, "note: "))
		fail_msg("stderr: %s", err);
	assert_null(strstr(err, "gnuplot:")); /* no gnuplot warnings */
	snprintf(ext, sizeof(ext), ".%s", fmt);
	for (int i = 0; i < NFIG; i++) {
		char *img = path_of(dir, figures[i], ext);
		char *gp = path_of(dir, figures[i], ".gp");
		char *csv = path_of(dir, figures[i], ".csv");
		assert_true(exists(img) && exists(gp) && exists(csv));
		assert_non_null(strstr(out, img));
		if (fmt[0] == 'p')
			check_png(img);
		else
			check_svg(img);
		check_series(dir, figures[i], full_series[i]);
		free(img);
		free(gp);
		free(csv);
	}
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3 * NFIG);
	assert_int_equal(count_entries(dir), 3 * NFIG);
	free(out);
	free(err);
}

/* ---- with gnuplot ---- */

static void test_png_from_json(void **state)
{
	char *dir = path_of(scratch, "png-json", "");

	(void)state;
	check_full("plot-full.json", dir, "png");
	free(dir);
}

static void test_svg_from_json(void **state)
{
	char *dir = path_of(scratch, "svg-json", "");

	(void)state;
	check_full("plot-full.json", dir, "svg");
	free(dir);
}

static void test_png_and_svg_from_csv(void **state)
{
	char *dir = path_of(scratch, "csv", "");
	char *gp = path_of(dir, figures[2], ".gp");
	char *text, *err = NULL;

	(void)state;
	check_full("plot-full.csv", dir, "svg");
	check_full("plot-full.csv", dir, "png");
	/* CSV carries no run context: the footer says so, and the CPU count
	 * is not marked, with a note saying that. */
	text = slurp(gp, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "machine and date not recorded"));
	assert_null(strstr(text, "CPUs'"));
	free(text);
	rm_rf(dir);
	assert_int_equal(plot("plot-full.csv", dir, "png", false, NULL, &err),
			 0);
	assert_non_null(strstr(err, "CPU count is not recorded"));
	free(err);
	free(gp);
	free(dir);
}

/* The footer shows the run's own machine and date; the limit is drawn. */
static void test_context_shown(void **state)
{
	char *dir = path_of(scratch, "context", "");
	char *gp1 = path_of(dir, figures[0], ".gp");
	char *gp6 = path_of(dir, figures[5], ".gp");
	char *gp3 = path_of(dir, figures[2], ".gp");
	char *t1, *t3, *t6;

	(void)state;
	rm_rf(dir);
	assert_int_equal(plot("plot-full.json", dir, "png", false, NULL, NULL),
			 0);
	t1 = slurp(gp1, NULL);
	t3 = slurp(gp3, NULL);
	t6 = slurp(gp6, NULL);
	assert_non_null(t1);
	assert_non_null(t3);
	assert_non_null(t6);
	/* A quote in the CPU model is doubled inside a gnuplot string. */
	assert_non_null(strstr(t1, "'Vendor''s Test CPU @ 2.00GHz, 2 CPUs, "
				   "Linux 6.1.0-test x86_64; run started "
				   "2026-01-02T03:04:05Z"));
	assert_non_null(strstr(t1, "cache-line ping-pong 180 ns"));
	assert_non_null(strstr(t6, "x limit"));
	assert_non_null(strstr(t3, "'2 CPUs'"));
	free(t1);
	free(t6);
	free(t3);
	free(gp1);
	free(gp6);
	free(gp3);
	free(dir);
}

static void test_deterministic(void **state)
{
	char *a = path_of(scratch, "det-a", ""),
	     *b = path_of(scratch, "det-b", "");

	(void)state;
	rm_rf(a);
	rm_rf(b);
	assert_int_equal(plot("plot-full.json", a, "png", false, NULL, NULL),
			 0);
	assert_int_equal(plot("plot-full.json", b, "png", false, NULL, NULL),
			 0);
	for (int i = 0; i < NFIG; i++) {
		static const char *const exts[] = { ".png", ".gp", ".csv" };
		for (int e = 0; e < 3; e++) {
			char *pa = path_of(a, figures[i], exts[e]);
			char *pb = path_of(b, figures[i], exts[e]);
			size_t la, lb;
			char *x = slurp(pa, &la), *y = slurp(pb, &lb);
			assert_non_null(x);
			assert_non_null(y);
			assert_int_equal(la, lb);
			assert_memory_equal(x, y, la);
			free(x);
			free(y);
			free(pa);
			free(pb);
		}
	}
	free(a);
	free(b);
}

static void test_missing_fields(void **state)
{
	char *dir = path_of(scratch, "partial", "");
	char *out = NULL, *err = NULL;

	(void)state;
	rm_rf(dir);
	assert_int_equal(
		plot("plot-partial.json", dir, "png", false, &out, &err), 0);
	for (int i = 0; i < NFIG; i++) {
		char *img = path_of(dir, figures[i], ".png");
		char *note;
		bool drawn = i == 0 || i == 5;
		assert_int_equal(exists(img), drawn);
		assert_true(asprintf(&note, "note: %s skipped: needs ",
				     figures[i]) > 0);
		assert_int_equal(strstr(err, note) != NULL, !drawn);
		if (drawn) {
			check_png(img);
			check_series(dir, figures[i], NULL);
		}
		free(note);
		free(img);
	}
	assert_int_equal(count_entries(dir), 6);
	free(out);
	free(err);
	free(dir);
}

/* Through the API: nothing to note for complete data (no gnuplot warning
 * either), every file listed. */
static void test_api(void **state)
{
	struct ipcb_plot_opts o = { .format = IPCB_PLOT_SVG };
	struct ipcb_plot_report rep;
	struct ipcb_results r;
	char err[1024], *in = path_of(data_dir, "plot-full.json", "");
	char *top = path_of(scratch, "api", "");
	char *dir = path_of(top, "nested/", "");

	(void)state;
	rm_rf(top);
	assert_int_equal(ipcb_read_results(in, &r, err, sizeof(err)), 0);
	assert_int_equal(ipcb_plot_results(&r, dir, &o, &rep, err, sizeof(err)),
			 0);
	assert_int_equal(rep.nnotes, 0);
	assert_int_equal(rep.nfiles, 3 * NFIG);
	for (size_t i = 0; i < rep.nfiles; i++)
		assert_true(exists(rep.files[i]));
	assert_non_null(
		strstr(rep.files[0], "api/nested/fig1-latency-vs-size.svg"));
	assert_null(strstr(rep.files[0], "//"));
	ipcb_plot_report_free(&rep);
	ipcb_results_free(&r);
	free(in);
	free(dir);
	free(top);
}

/* ---- without gnuplot ---- */

static void test_usage(void **state)
{
	char *in = path_of(data_dir, "plot-full.json", "");
	char *none[] = { (char *)ipcbench, "plot", NULL };
	char *two[] = { (char *)ipcbench, "plot", in, in, NULL };
	char *fmt[] = { (char *)ipcbench, "plot", in, "--format", "gif", NULL };
	char *opt[] = { (char *)ipcbench, "plot", in, "--frobnicate", NULL };
	char *help[] = { (char *)ipcbench, "plot", "--help", NULL };
	char *const *bad[] = { none, two, fmt, opt };
	char *err = NULL, *out = NULL;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(run(bad[i], false, NULL, &err), 2);
		assert_non_null(strstr(err, "ipcbench plot: "));
		assert_non_null(strchr(err, '\n'));
		assert_int_equal(strchr(err, '\n')[1], '\0'); /* one line */
		free(err);
	}
	assert_int_equal(run(help, false, &out, NULL), 0);
	assert_non_null(strstr(out, "usage: ipcbench plot RESULTS"));
	free(out);
	free(in);
}

static void test_bad_input(void **state)
{
	static const char *const inputs[] = {
		"plot-corrupt.json",  "plot-unrelated.json",
		"plot-unrelated.csv", "plot-unplottable.json",
		"plot-badname.json",  "no-such-file.json",
	};
	char *fresh = path_of(scratch, "bad-fresh", "");
	char *kept = path_of(scratch, "bad-kept", "");
	char *marker = path_of(kept, "mine.txt", "");

	(void)state;
	rm_rf(fresh);
	rm_rf(kept);
	assert_int_equal(mkdir(kept, 0755), 0);
	fclose(fopen(marker, "w"));
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char *out = NULL, *err = NULL;
		const char *last;
		assert_int_equal(
			plot(inputs[i], fresh, "png", false, &out, &err), 2);
		assert_false(exists(fresh));
		assert_string_equal(out, "");
		/* The last line says what failed, on which file. */
		for (last = err + strlen(err) - 1;
		     last > err && last[-1] != '\n'; last--)
			;
		assert_true(strncmp(last, "ipcbench plot: ", 15) == 0);
		assert_non_null(strstr(last, inputs[i]));
		free(out);
		free(err);
		assert_int_equal(
			plot(inputs[i], kept, "svg", false, NULL, NULL), 2);
		assert_int_equal(count_entries(kept), 1);
	}
	free(marker);
	free(fresh);
	free(kept);
}

/* No gnuplot: the data and scripts are still written, no image, exit 1 and
 * an error naming the Debian package. */
static void test_no_gnuplot(void **state)
{
	char *dir = path_of(scratch, "no-gnuplot", "");
	char *out = NULL, *err = NULL;
	int lines = 0;

	(void)state;
	rm_rf(dir);
	assert_int_equal(plot("plot-full.json", dir, "png", true, &out, &err),
			 1);
	assert_non_null(strstr(err, "gnuplot-nox"));
	for (int i = 0; i < NFIG; i++) {
		char *img = path_of(dir, figures[i], ".png");
		char *gp = path_of(dir, figures[i], ".gp");
		char *csv = path_of(dir, figures[i], ".csv");
		assert_false(exists(img));
		assert_true(exists(gp) && exists(csv));
		assert_non_null(strstr(out, gp));
		check_series(dir, figures[i], full_series[i]);
		free(img);
		free(gp);
		free(csv);
	}
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2 * NFIG);
	assert_int_equal(count_entries(dir), 2 * NFIG);
	free(out);
	free(err);
	free(dir);
}

/* gnuplot failing (here: `false`) is reported; data and scripts stay, an
 * image left by an earlier run of the same figure is removed. */
static void test_gnuplot_fails(void **state)
{
	struct ipcb_plot_opts o = { .format = IPCB_PLOT_PNG,
				    .gnuplot = "false" };
	struct ipcb_plot_report rep;
	struct ipcb_results r;
	char err[1024], *in = path_of(data_dir, "plot-full.json", "");
	char *dir = path_of(scratch, "gnuplot-fails", "");
	char *stale = path_of(dir, figures[0], ".png");

	(void)state;
	rm_rf(dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	fclose(fopen(stale, "w"));
	assert_int_equal(ipcb_read_results(in, &r, err, sizeof(err)), 0);
	assert_int_equal(ipcb_plot_results(&r, dir, &o, &rep, err, sizeof(err)),
			 -EIO);
	assert_non_null(strstr(err, "gnuplot failed on "));
	assert_non_null(strstr(err, "fig1-latency-vs-size.gp (exit 1)"));
	assert_int_equal(rep.nfiles, 2 * NFIG);
	assert_false(exists(stale));
	assert_int_equal(count_entries(dir), 2 * NFIG);
	ipcb_plot_report_free(&rep);
	ipcb_results_free(&r);
	free(stale);
	free(in);
	free(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest offline[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_no_gnuplot),
		cmocka_unit_test(test_gnuplot_fails),
	};
	const struct CMUnitTest rendering[] = {
		cmocka_unit_test(test_png_from_json),
		cmocka_unit_test(test_svg_from_json),
		cmocka_unit_test(test_png_and_svg_from_csv),
		cmocka_unit_test(test_context_shown),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_api),
	};
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IPCBENCH DATA_DIR SCRATCH_DIR\n",
			argv[0]);
		return 2;
	}
	ipcbench = argv[1];
	data_dir = argv[2];
	scratch = argv[3];
	if (mkdir(scratch, 0755) && errno != EEXIST) {
		perror(scratch);
		return 1;
	}
	rc = cmocka_run_group_tests_name("plot without gnuplot", offline, NULL,
					 NULL);
	if (rc)
		return 1;
	if (!in_path("gnuplot")) {
		printf("SKIP: gnuplot is not installed (Debian, Ubuntu: "
		       "apt-get install gnuplot-nox): rendering not tested\n");
		return 77;
	}
	if (!in_path("xmllint"))
		printf("note: xmllint not installed (apt-get install "
		       "libxml2-utils): SVG checked for structure only\n");
	return cmocka_run_group_tests_name("plot with gnuplot", rendering, NULL,
					   NULL)
		       ? 1
		       : 0;
}
