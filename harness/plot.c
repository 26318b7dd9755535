/*
 * plot.c - the standard comparison figures: choose what the results
 * support, write each figure's data (CSV) and gnuplot script, and render
 * them with gnuplot run as a separate process (see plot.h).
 *
 * The scripts carry one explicit plot clause per series, naming the
 * transport, so a reader can edit or delete a series by hand; every string
 * taken from the results is a validated name or goes through gp_str(). The
 * data files hold the schema's units (ns, messages/s, bytes/s); scripts
 * convert for display. Files are staged in a hidden directory inside the
 * output directory and renamed into place when complete.
 */
#define _GNU_SOURCE
#include "harness/plot.h"
#include "harness/units.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the results seen as a table with dimensions ---- */

enum dim {
	D_TRANSPORT,
	D_PATTERN,
	D_PROCS,
	D_SIZE,
	D_TOPOLOGY,
	D_WORK,
	D_WORKERS,
	D_COUNT
};

struct plot_ctx {
	const struct ipcb_results *r;
	const char **transports; /* in order of first appearance */
	size_t ntransports;
	enum ipcb_plot_format fmt;
	char footer[640]; /* machine and date, for every figure */
};

/* A selection of results (pointers into the result set). */
struct sel {
	const struct ipcb_result **v;
	size_t n;
};

/* Colors and point types follow a transport through every figure. */
static const char *const palette[] = {
	"#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9",
	"#000000", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd",
	"#a50026", "#1a9850", "#fdae61", "#313695",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))
static const int point_types[] = { 7, 5, 9, 11, 13, 15, 6, 4, 8, 10, 12, 14 };
#define NPOINTS (sizeof(point_types) / sizeof(point_types[0]))

static size_t transport_index(const struct plot_ctx *c, const char *t)
{
	for (size_t i = 0; i < c->ntransports; i++)
		if (strcmp(c->transports[i], t) == 0)
			return i;
	return c->ntransports;
}

static const char *color_of(const struct plot_ctx *c, const char *t)
{
	return palette[transport_index(c, t) % NPALETTE];
}

static int point_of(const struct plot_ctx *c, const char *t)
{
	return point_types[transport_index(c, t) % NPOINTS];
}

static bool pos(double v)
{
	return isfinite(v) && v > 0;
}

/* none, then cpu:N by N, then io:N by N, then anything else. */
static int work_rank(const char *w)
{
	if (strcmp(w, "none") == 0)
		return 0;
	if (strncmp(w, "cpu:", 4) == 0)
		return 1;
	if (strncmp(w, "io:", 3) == 0)
		return 2;
	return 3;
}

static int num_cmp(double a, double b)
{
	return (a > b) - (a < b);
}

static int work_cmp(const char *a, const char *b)
{
	int ra = work_rank(a), rb = work_rank(b);

	if (ra != rb)
		return ra - rb;
	if (ra == 1 || ra == 2) {
		int d = num_cmp(atof(strchr(a, ':') + 1),
				atof(strchr(b, ':') + 1));
		if (d)
			return d;
	}
	return strcmp(a, b);
}

static int dim_cmp(const struct plot_ctx *c, const struct ipcb_result *a,
		   const struct ipcb_result *b, enum dim d)
{
	const struct ipcb_config_key *x = &a->key, *y = &b->key;

	switch (d) {
	case D_TRANSPORT:
		return num_cmp((double)transport_index(c, x->transport),
			       (double)transport_index(c, y->transport));
	case D_PATTERN:
		return (int)x->pattern - (int)y->pattern;
	case D_PROCS:
		return num_cmp(x->procs, y->procs);
	case D_SIZE:
		return (x->size > y->size) - (x->size < y->size);
	case D_TOPOLOGY:
		return (int)x->topology - (int)y->topology;
	case D_WORK:
		return work_cmp(x->work, y->work);
	case D_WORKERS:
		return (int)x->workers - (int)y->workers;
	case D_COUNT:
		break;
	}
	return 0;
}

/* A dimension's value as the text a preference names. */
static void dim_str(const struct ipcb_result *x, enum dim d, char *buf,
		    size_t n)
{
	const struct ipcb_config_key *k = &x->key;

	switch (d) {
	case D_TRANSPORT:
		snprintf(buf, n, "%s", k->transport);
		break;
	case D_PATTERN:
		snprintf(buf, n, "%s", ipcb_pattern_name(k->pattern));
		break;
	case D_PROCS:
		snprintf(buf, n, "%u", k->procs);
		break;
	case D_SIZE:
		snprintf(buf, n, "%llu", (unsigned long long)k->size);
		break;
	case D_TOPOLOGY:
		snprintf(buf, n, "%s", ipcb_topology_name(k->topology));
		break;
	case D_WORK:
		snprintf(buf, n, "%s", k->work);
		break;
	case D_WORKERS:
		snprintf(buf, n, "%s", ipcb_workers_name(k->workers));
		break;
	case D_COUNT:
		buf[0] = '\0';
		break;
	}
}

/* A dimension's value as a subtitle names it. */
static void dim_desc(const struct ipcb_result *x, enum dim d, char *buf,
		     size_t n)
{
	const struct ipcb_config_key *k = &x->key;
	char size[32];

	switch (d) {
	case D_PATTERN:
		snprintf(buf, n, "%s pattern", ipcb_pattern_name(k->pattern));
		break;
	case D_PROCS:
		snprintf(buf, n, "%u procs", k->procs);
		break;
	case D_SIZE:
		ipcb_fmt_size(size, sizeof(size), k->size, true);
		snprintf(buf, n, "%s messages", size);
		break;
	case D_TOPOLOGY:
		snprintf(buf, n, "topology %s",
			 ipcb_topology_name(k->topology));
		break;
	case D_WORK:
		snprintf(buf, n, "work %s", k->work);
		break;
	case D_WORKERS:
		snprintf(buf, n, "%s workers", ipcb_workers_name(k->workers));
		break;
	default:
		dim_str(x, d, buf, n);
		break;
	}
}

static bool same_on(const struct plot_ctx *c, const struct ipcb_result *a,
		    const struct ipcb_result *b, const enum dim *keys,
		    size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		if (dim_cmp(c, a, b, keys[i]))
			return false;
	return true;
}

/* Distinct combinations of the key dimensions: the points a figure would
 * show. */
static size_t count_points(const struct plot_ctx *c, const struct sel *s,
			   const enum dim *keys, size_t nkeys)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		size_t j = 0;
		while (j < i && !same_on(c, s->v[i], s->v[j], keys, nkeys))
			j++;
		n += j == i;
	}
	return n;
}

/* Rows of every result passing pred. 0 or -ENOMEM. */
static int sel_filter(const struct plot_ctx *c, struct sel *s,
		      bool (*pred)(const struct ipcb_result *))
{
	s->n = 0;
	s->v = calloc(c->r->n ? c->r->n : 1, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	for (size_t i = 0; i < c->r->n; i++)
		if (c->r->v[i].status == IPCB_OK && pred(&c->r->v[i]))
			s->v[s->n++] = &c->r->v[i];
	return 0;
}

/* Keeps the rows whose value of d is that of like. */
static void sel_keep(const struct plot_ctx *c, struct sel *s, enum dim d,
		     const struct ipcb_result *like)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (dim_cmp(c, s->v[i], like, d) == 0)
			s->v[n++] = s->v[i];
	s->n = n;
}

enum pick { PICK_SMALL, PICK_LARGE };

/* How a figure narrows a dimension it does not show to one value: pref
 * when some row has it, else the value giving the most points, ties going
 * to the smallest (PICK_SMALL) or largest value. */
struct fix {
	enum dim d;
	enum pick tie;
	const char *pref;
};

static void append(char *buf, size_t n, const char *s)
{
	size_t len = strlen(buf);

	if (len + 2 < n)
		snprintf(buf + len, n - len, "%s%s", len ? ", " : "", s);
}

/* The row whose value of dimension d gives the most points (distinct key
 * combinations), ties going as tie says. tmp has room for s->n rows. */
static const struct ipcb_result *
most_points(const struct plot_ctx *c, const struct sel *s, struct sel *tmp,
	    enum dim d, enum pick tie, const enum dim *keys, size_t nkeys)
{
	const struct ipcb_result *best = NULL;
	size_t best_pts = 0;

	for (size_t i = 0; i < s->n; i++) {
		size_t pts, j = 0;
		int cmp;

		while (j < i && dim_cmp(c, s->v[i], s->v[j], d))
			j++;
		if (j < i)
			continue; /* this value was counted already */
		memcpy(tmp->v, s->v, s->n * sizeof(*s->v));
		tmp->n = s->n;
		sel_keep(c, tmp, d, s->v[i]);
		pts = count_points(c, tmp, keys, nkeys);
		cmp = best ? dim_cmp(c, s->v[i], best, d) : 0;
		if (!best || pts > best_pts ||
		    (pts == best_pts &&
		     (tie == PICK_SMALL ? cmp < 0 : cmp > 0))) {
			best = s->v[i];
			best_pts = pts;
		}
	}
	return best;
}

/* Narrows s along each fix in turn, describing each chosen value in desc.
 * 0 or -ENOMEM. */
static int sel_fix(const struct plot_ctx *c, struct sel *s,
		   const struct fix *fix, size_t nfix, const enum dim *keys,
		   size_t nkeys, char *desc, size_t desclen)
{
	struct sel tmp = { calloc(s->n ? s->n : 1, sizeof(*tmp.v)), 0 };
	char val[64];

	if (!tmp.v)
		return -ENOMEM;
	for (size_t f = 0; f < nfix && s->n; f++) {
		const struct ipcb_result *best = NULL;

		for (size_t i = 0; fix[f].pref && !best && i < s->n; i++) {
			dim_str(s->v[i], fix[f].d, val, sizeof(val));
			if (strcmp(val, fix[f].pref) == 0)
				best = s->v[i];
		}
		if (!best)
			best = most_points(c, s, &tmp, fix[f].d, fix[f].tie,
					   keys, nkeys);
		sel_keep(c, s, fix[f].d, best);
		dim_desc(best, fix[f].d, val, sizeof(val));
		append(desc, desclen, val);
	}
	free(tmp.v);
	return 0;
}

struct sort_arg {
	const struct plot_ctx *c;
	const enum dim *keys;
	size_t nkeys;
};

static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_arg *a = arg;
	const struct ipcb_result *x = *(const struct ipcb_result *const *)pa;
	const struct ipcb_result *y = *(const struct ipcb_result *const *)pb;
	int d;

	for (size_t i = 0; i < a->nkeys; i++)
		if ((d = dim_cmp(a->c, x, y, a->keys[i])))
			return d;
	for (int i = 0; i < D_COUNT; i++)
		if ((d = dim_cmp(a->c, x, y, (enum dim)i)))
			return d;
	if ((d = num_cmp(x->key.producers, y->key.producers)))
		return d;
	if ((d = num_cmp(x->key.consumers, y->key.consumers)))
		return d;
	return (x > y) - (x < y);
}

/* Sorts s by the key dimensions and keeps one row per key: the first in
 * the order of every dimension, then producers and consumers (then input
 * order, for exact duplicates). */
static void sel_sort_unique(const struct plot_ctx *c, struct sel *s,
			    const enum dim *keys, size_t nkeys)
{
	struct sort_arg a = { c, keys, nkeys };
	size_t n = 0;

	if (!s->n)
		return;
	qsort_r(s->v, s->n, sizeof(*s->v), row_cmp, &a);
	for (size_t i = 0; i < s->n; i++)
		if (!n || !same_on(c, s->v[i], s->v[n - 1], keys, nkeys))
			s->v[n++] = s->v[i];
	s->n = n;
}

/* The most rows any one series (rows equal on the series dimensions) has
 * in a sorted, unique selection. */
static size_t max_per_series(const struct plot_ctx *c, const struct sel *s,
			     const enum dim *series, size_t nseries)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (i && same_on(c, s->v[i], s->v[i - 1], series, nseries))
			run++;
		else
			run = 1;
		if (run > best)
			best = run;
	}
	return best;
}

/* ---- writing data and scripts ---- */

/* A gnuplot single-quoted string: no escapes but '' for a quote. */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void csv_num(FILE *f, double v, char end)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
	fputc(end, f);
}

/* Starts a plot clause: "plot" before the first, a continuation before
 * the others. */
static void clause(FILE *gp, int *n)
{
	fputs(*n ? ", \\\n     " : "plot ", gp);
	(*n)++;
}

struct fig;

struct fig_def {
	const char *name;
	const char *title;
	const char *needs; /* the note when the data lacks it */
	unsigned width, height;
	bool marks_cpus; /* draws the CPU count when recorded */
	/* 0 when the figure can be drawn, 1 when the data lacks what it
	 * needs, -ENOMEM. */
	int (*select)(const struct plot_ctx *c, struct fig *f);
	void (*emit)(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		     FILE *gp);
};

struct fig {
	const struct fig_def *def;
	struct sel s, s2; /* the rows; s2: fig5's sequential rows */
	char config[320]; /* subtitle: the configuration shown */
	bool staged, rendered;
};

static void gp_begin(const struct plot_ctx *c, const struct fig *f, FILE *gp)
{
	const char *n = f->def->name;
	const char *fmt = ipcb_plot_format_name(c->fmt);
	unsigned w = f->def->width, h = f->def->height;

	fprintf(gp, "# %s.gp - ipcbench figure: %s.\n", n, f->def->title);
	fprintf(gp,
		"# Written by `ipcbench plot`; re-render in this directory:\n"
		"#   gnuplot %s.gp\n"
		"#   gnuplot -e \"datafile='other.csv'\" %s.gp\n"
		"#   gnuplot -e \"format='svg'\" %s.gp     (or 'png')\n"
		"# Needs gnuplot 5.4 or later.\n",
		n, n, n);
	fprintf(gp, "if (!exists(\"datafile\")) datafile = '%s.csv'\n", n);
	fprintf(gp, "if (!exists(\"format\")) format = '%s'\n", fmt);
	fprintf(gp, "if (!exists(\"outfile\")) outfile = '%s.' . format\n", n);
	fprintf(gp,
		"if (format eq 'svg') {\n"
		"\tset terminal svg size %u,%u dynamic noenhanced font 'sans,12' background '#ffffff'\n"
		"} else {\n"
		"\tif (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		"\t\tset terminal pngcairo size %u,%u noenhanced font 'sans,11' background '#ffffff'\n"
		"\t} else {\n"
		"\t\tset terminal png size %u,%u noenhanced background '#ffffff'\n"
		"\t}\n"
		"}\n",
		w, h, w, h, w, h);
	fputs("set output outfile\n"
	      "set encoding utf8\n"
	      "set datafile separator comma\n"
	      "set datafile columnheaders\n"
	      "set grid lc rgb '#dddddd'\n"
	      "set key box lc rgb '#bbbbbb' opaque samplen 2\n"
	      "set bmargin 6\n",
	      gp);
	fputs("set label 100 ", gp);
	gp_str(gp, c->footer);
	fputs(" at screen 0.5, screen 0.02 center font ',9' tc rgb '#555555'\n",
	      gp);
}

/* The title with the configuration as its second line; for a multiplot
 * it goes to `set multiplot ... title`, else to `set title`. */
static void gp_title(FILE *gp, const struct fig *f)
{
	gp_str(gp, f->def->title);
	fputs(" . \"\\n\" . ", gp);
	gp_str(gp, f->config);
}

/* Explicit x tics at each message size, on a log2 axis. */
static void gp_size_tics(FILE *gp, const struct sel *s)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	bool first = true;
	char buf[32];

	fputs("set logscale x 2\nset xtics (", gp);
	for (size_t i = 0; i < s->n; i++) {
		uint64_t v = s->v[i]->key.size;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= s->v[j]->key.size == v;
		if (seen)
			continue;
		ipcb_fmt_size(buf, sizeof(buf), v, true);
		fprintf(gp, "%s'%s' %llu", first ? "" : ", ", buf,
			(unsigned long long)v);
		first = false;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	fprintf(gp, ")\nset xrange [%g:%g]\n", (double)lo / 1.6,
		(double)hi * 1.6);
}

/* Explicit tics at each process count (plus extra, when non-zero) on a
 * log2 axis. */
static void gp_procs_tics(FILE *gp, const struct sel *s, unsigned extra)
{
	unsigned lo = extra ? extra : UINT_MAX, hi = extra;
	bool first = true;

	fputs("set logscale x 2\nset xtics (", gp);
	for (size_t i = 0; i < s->n; i++) {
		unsigned v = s->v[i]->key.procs;
		bool seen = v == extra;
		for (size_t j = 0; j < i; j++)
			seen |= s->v[j]->key.procs == v;
		if (seen)
			continue;
		fprintf(gp, "%s%u", first ? "" : ", ", v);
		first = false;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (extra)
		fprintf(gp, "%s%u", first ? "" : ", ", extra);
	fprintf(gp, ")\nset xrange [%g:%g]\n", lo / 1.3, hi * 1.3);
}

/* Whether any row of transport t in s has a positive value. */
static bool any_of(const struct sel *s, const char *t,
		   double (*get)(const struct ipcb_result *))
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i]->key.transport, t) == 0 && pos(get(s->v[i])))
			return true;
	return false;
}

static double get_p99(const struct ipcb_result *x)
{
	return x->lat.p99;
}

static double get_p999(const struct ipcb_result *x)
{
	return x->lat.p999;
}

static bool all_rtt(const struct sel *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i]->latency_rtt)
			return false;
	return true;
}

/* The cache-line ping-pong limit as a reference line, in microseconds,
 * when the run measured it. */
static void gp_limit_line(const struct plot_ctx *c, FILE *gp, int *n)
{
	char title[96];

	if (!c->r->ctx.has_limits || !pos(c->r->ctx.limit_pingpong_ns))
		return;
	snprintf(title, sizeof(title), "cache-line ping-pong %.0f ns",
		 c->r->ctx.limit_pingpong_ns);
	clause(gp, n);
	fprintf(gp, "(%.10g) with lines dt 2 lw 1.5 lc rgb '#333333' title ",
		c->r->ctx.limit_pingpong_ns / 1e3);
	gp_str(gp, title);
}

/* A divisor for a linear axis of rates up to max, so that its tics read
 * 1.5 (millions) rather than 1.5M or 1500000. */
static double rate_unit(double max, const char **words)
{
	if (max >= 1e6) {
		*words = " (millions)";
		return 1e6;
	}
	if (max >= 1e4) {
		*words = " (thousands)";
		return 1e3;
	}
	*words = "";
	return 1;
}

/* Visits the first row of each transport in a selection sorted by
 * transport. */
#define FOR_EACH_TRANSPORT(s, i)                               \
	for (size_t i = 0; i < (s)->n; i++)                    \
		if (i == 0 || strcmp((s)->v[i]->key.transport, \
				     (s)->v[i - 1]->key.transport) != 0)

/* ---- figure 1: latency vs message size ---- */

static bool fig1_pred(const struct ipcb_result *x)
{
	return x->key.pattern == IPCB_LATENCY && x->has_latency &&
	       pos(x->lat.p50);
}

static const enum dim fig1_keys[] = { D_TRANSPORT, D_SIZE };

static int fig1_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_WORK, PICK_SMALL, "none" },
		{ D_WORKERS, PICK_SMALL, "process" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_PROCS, PICK_SMALL, "2" },
	};
	int rc = sel_filter(c, &f->s, fig1_pred);

	if (!rc)
		rc = sel_fix(c, &f->s, fix, 4, fig1_keys, 2, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig1_keys, 2);
	return max_per_series(c, &f->s, fig1_keys, 1) >= 2 ? 0 : 1;
}

static void fig1_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	const struct sel *s = &f->s;
	bool whisker = false, top = false;
	size_t m = 0, j = 0;
	int n = 0;

	fputs("transport,size_bytes,p50_ns,p99_ns,p999_ns\n", csv);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		fprintf(csv, "%s,%llu,", x->key.transport,
			(unsigned long long)x->key.size);
		csv_num(csv, x->lat.p50, ',');
		csv_num(csv, x->lat.p99, ',');
		csv_num(csv, x->lat.p999, '\n');
	}
	FOR_EACH_TRANSPORT(s, i)
	m++;

	gp_begin(c, f, gp);
	fputs("set title ", gp);
	gp_title(gp, f);
	fputs("\nset xlabel 'message size (bytes, 16-byte header included)'\n",
	      gp);
	fprintf(gp, "set ylabel '%s latency (µs)'\n",
		all_rtt(s) ? "round-trip" : "one-way");
	gp_size_tics(gp, s);
	fputs("set logscale y 10\nset format y '%g'\n"
	      "set key outside right top\n"
	      "set bars small\n"
	      "is(t) = strcol(1) eq t\n"
	      "# Each transport's points are moved sideways a little (a factor\n"
	      "# of 2**dodge) so that their whiskers do not hide each other.\n",
	      gp);
	FOR_EACH_TRANSPORT(s, i)
	{
		const char *t = s->v[i]->key.transport;
		const char *col = color_of(c, t);
		char x[64];

		snprintf(x, sizeof(x), "$2*2**(%.3f)",
			 ((double)j++ - (double)(m - 1) / 2) * 0.1);
		if (any_of(s, t, get_p99)) {
			whisker = true;
			clause(gp, &n);
			fputs("datafile using (is(", gp);
			gp_str(gp, t);
			fprintf(gp,
				") ? %s : NaN):($3/1e3):($3/1e3):($4/1e3) with yerrorbars pt 7 ps 0.4 lw 1.2 lc rgb '%s' notitle",
				x, col);
		}
		if (any_of(s, t, get_p999)) {
			top = true;
			clause(gp, &n);
			fputs("datafile using (is(", gp);
			gp_str(gp, t);
			fprintf(gp,
				") ? %s : NaN):($5/1e3) with points pt 2 ps 0.7 lc rgb '%s' notitle",
				x, col);
		}
		clause(gp, &n);
		fputs("datafile using (is(", gp);
		gp_str(gp, t);
		fprintf(gp,
			") ? %s : NaN):($3/1e3) with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
			x, point_of(c, t), col);
		gp_str(gp, t);
	}
	if (whisker) {
		clause(gp, &n);
		fputs("keyentry with yerrorbars pt 7 ps 0.4 lc rgb '#444444' title 'whisker: p50 to p99'",
		      gp);
	}
	if (top) {
		clause(gp, &n);
		fputs("keyentry with points pt 2 lc rgb '#444444' title 'p99.9'",
		      gp);
	}
	if (all_rtt(s))
		gp_limit_line(c, gp, &n);
	fputs("\n", gp);
}

/* ---- figure 2: throughput vs process count ---- */

static bool fig2_pred(const struct ipcb_result *x)
{
	return x->key.pattern == IPCB_THROUGHPUT && pos(x->msgs_per_s) &&
	       pos(x->bytes_per_s);
}

static const enum dim fig2_keys[] = { D_TRANSPORT, D_PROCS };

static int fig2_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_WORK, PICK_SMALL, "none" },
		{ D_WORKERS, PICK_SMALL, "process" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_SIZE, PICK_SMALL, NULL },
	};
	int rc = sel_filter(c, &f->s, fig2_pred);

	if (!rc)
		rc = sel_fix(c, &f->s, fix, 4, fig2_keys, 2, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig2_keys, 2);
	return max_per_series(c, &f->s, fig2_keys, 1) >= 2 ? 0 : 1;
}

static void fig2_panel(const struct plot_ctx *c, const struct sel *s, FILE *gp,
		       int col)
{
	int n = 0;

	FOR_EACH_TRANSPORT(s, i)
	{
		const char *t = s->v[i]->key.transport;
		clause(gp, &n);
		fputs("datafile using (is(", gp);
		gp_str(gp, t);
		fprintf(gp,
			") ? $2 : NaN):%d with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
			col, point_of(c, t), color_of(c, t));
		gp_str(gp, t);
	}
	fputs("\n", gp);
}

static void fig2_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	const struct sel *s = &f->s;

	fputs("transport,procs,msgs_per_s,bytes_per_s\n", csv);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		fprintf(csv, "%s,%u,", x->key.transport, x->key.procs);
		csv_num(csv, x->msgs_per_s, ',');
		csv_num(csv, x->bytes_per_s, '\n');
	}

	gp_begin(c, f, gp);
	fputs("set multiplot layout 1,2 title ", gp);
	gp_title(gp, f);
	fputs(" margins 0.07,0.85,0.17,0.86 spacing 0.08\n"
	      "set xlabel 'processes (producers + consumers)'\n"
	      "set logscale y 10\nset format y '%.0s%c'\n"
	      "set key at screen 0.985, screen 0.86 right top\n"
	      "is(t) = strcol(1) eq t\n",
	      gp);
	gp_procs_tics(gp, s, 0);
	fputs("set title 'messages'\nset ylabel 'messages per second'\n", gp);
	fig2_panel(c, s, gp, 3);
	fputs("unset label 100\nunset key\n"
	      "set title 'bytes'\nset ylabel 'bytes per second'\n",
	      gp);
	fig2_panel(c, s, gp, 4);
	fputs("unset multiplot\n", gp);
}

/* ---- figure 3: speedup vs process count per work kind ---- */

static bool fig3_pred(const struct ipcb_result *x)
{
	return x->key.pattern == IPCB_THROUGHPUT &&
	       work_rank(x->key.work) != 0 && pos(x->speedup);
}

static const enum dim fig3_keys[] = { D_WORK, D_TRANSPORT, D_PROCS };

static int fig3_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_WORKERS, PICK_SMALL, "process" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_SIZE, PICK_SMALL, NULL },
	};
	int rc = sel_filter(c, &f->s, fig3_pred);

	if (!rc)
		rc = sel_fix(c, &f->s, fix, 3, fig3_keys, 3, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig3_keys, 3);
	return max_per_series(c, &f->s, fig3_keys, 2) >= 2 ? 0 : 1;
}

/* The y label of a panel: what its speedups are relative to. */
static const char *fig3_ylabel(const struct sel *s, size_t from, size_t to)
{
	const char *vs = s->v[from]->speedup_vs;

	for (size_t i = from; i < to; i++)
		if (strcmp(s->v[i]->speedup_vs, vs))
			return "speedup over its baseline (see the data)";
	if (strcmp(vs, "sequential") == 0)
		return "speedup over sequential (no IPC)";
	if (strcmp(vs, "1 consumer") == 0)
		return "speedup over one consumer";
	return "speedup";
}

static void fig3_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	const struct sel *s = &f->s;
	unsigned cpus = c->r->ctx.cpu_count;
	size_t panels = 0, cols, rows;

	fputs("work,transport,procs,speedup,speedup_vs,msgs_per_s\n", csv);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		fprintf(csv, "%s,%s,%u,", x->key.work, x->key.transport,
			x->key.procs);
		csv_num(csv, x->speedup, ',');
		fprintf(csv, "%s,",
			strpbrk(x->speedup_vs, ",\"\n") ? "" : x->speedup_vs);
		csv_num(csv, x->msgs_per_s, '\n');
		panels += i == 0 || strcmp(x->key.work, s->v[i - 1]->key.work);
	}
	cols = panels < 3 ? panels : 3;
	rows = (panels + cols - 1) / cols;

	gp_begin(c, f, gp);
	fprintf(gp, "set multiplot layout %zu,%zu title ", rows, cols);
	gp_title(gp, f);
	fprintf(gp, " margins 0.06,0.82,%.2f,%.2f spacing 0.07,0.12\n",
		rows > 1 ? 0.1 : 0.17, rows > 1 ? 0.9 : 0.86);
	fputs("set xlabel 'processes (producers + consumers)'\n"
	      "set yrange [0:*]\n"
	      "set key at screen 0.985, screen 0.86 right top\n"
	      "is(w, t) = strcol(1) eq w && strcol(2) eq t\n",
	      gp);
	gp_procs_tics(gp, s, cpus);
	if (cpus) {
		fprintf(gp,
			"set arrow 1 from %u, graph 0 to %u, graph 1 nohead dt 2 lw 1.5 lc rgb '#333333'\n",
			cpus, cpus);
		fprintf(gp,
			"set label 1 '%u CPUs' at %u, graph 0.04 left offset 0.5,0 font ',9' tc rgb '#333333'\n",
			cpus, cpus);
	}
	for (size_t i = 0, end; i < s->n; i = end) {
		const char *w = s->v[i]->key.work;
		int n = 0;

		for (end = i; end < s->n && !strcmp(s->v[end]->key.work, w);
		     end++)
			;
		fputs("set title ", gp);
		gp_str(gp, w);
		fputs("\nset ylabel ", gp);
		gp_str(gp, fig3_ylabel(s, i, end));
		fputs("\n", gp);
		for (size_t j = i; j < end; j++) {
			const char *t = s->v[j]->key.transport;
			if (j > i && !strcmp(t, s->v[j - 1]->key.transport))
				continue;
			clause(gp, &n);
			fputs("datafile using (is(", gp);
			gp_str(gp, w);
			fputs(", ", gp);
			gp_str(gp, t);
			fprintf(gp,
				") ? $3 : NaN):4 with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
				point_of(c, t), color_of(c, t));
			gp_str(gp, t);
		}
		if (s->v[i]->key.topology == IPCB_PAIRS) {
			clause(gp, &n);
			fputs("x/2 with lines dt 3 lc rgb '#777777' title 'linear: speedup = consumers'",
			      gp);
		}
		clause(gp, &n);
		fputs("1 with lines lc rgb '#aaaaaa' notitle\n"
		      "unset label 100\nunset key\n",
		      gp);
	}
	fputs("unset multiplot\n", gp);
}

/* ---- figure 4: latency distribution for one configuration ---- */

static bool fig4_pred(const struct ipcb_result *x)
{
	const struct ipcb_latency *l = &x->lat;

	return x->has_latency && pos(l->min) && pos(l->p50) && pos(l->p90) &&
	       pos(l->p99) && pos(l->p999) && pos(l->max);
}

static const enum dim fig4_keys[] = { D_TRANSPORT };

static int fig4_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_PATTERN, PICK_SMALL, "latency" },
		{ D_WORK, PICK_SMALL, "none" },
		{ D_WORKERS, PICK_SMALL, "process" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_PROCS, PICK_SMALL, "2" },
		{ D_SIZE, PICK_SMALL, NULL },
	};
	int rc = sel_filter(c, &f->s, fig4_pred);

	if (!rc)
		rc = sel_fix(c, &f->s, fix, 6, fig4_keys, 1, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig4_keys, 1);
	return f->s.n >= 1 ? 0 : 1;
}

static void fig4_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	static const char *const names[] = { "min", "p50",   "p90",
					     "p99", "p99.9", "max" };
	const struct sel *s = &f->s;
	int n = 0;

	fputs("transport,percentile,rank,latency_ns\n", csv);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_latency *l = &s->v[i]->lat;
		const double v[] = { l->min, l->p50,  l->p90,
				     l->p99, l->p999, l->max };
		for (int p = 0; p < 6; p++) {
			fprintf(csv, "%s,%s,%d,", s->v[i]->key.transport,
				names[p], p);
			csv_num(csv, v[p], '\n');
		}
	}

	gp_begin(c, f, gp);
	fputs("set title ", gp);
	gp_title(gp, f);
	fprintf(gp, "\nset xlabel 'percentile of %s'\n",
		all_rtt(s) ? "round trips" : "messages");
	fprintf(gp, "set ylabel '%s latency (µs)'\n",
		all_rtt(s) ? "round-trip" : "one-way");
	fputs("set xtics ('min' 0, 'p50' 1, 'p90' 2, 'p99' 3, 'p99.9' 4, 'max' 5)\n"
	      "set xrange [-0.3:5.3]\n"
	      "set logscale y 10\nset format y '%g'\n"
	      "set key outside right top\n"
	      "is(t) = strcol(1) eq t\n",
	      gp);
	FOR_EACH_TRANSPORT(s, i)
	{
		const char *t = s->v[i]->key.transport;
		clause(gp, &n);
		fputs("datafile using (is(", gp);
		gp_str(gp, t);
		fprintf(gp,
			") ? $3 : NaN):($4/1e3) with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
			point_of(c, t), color_of(c, t));
		gp_str(gp, t);
	}
	if (all_rtt(s))
		gp_limit_line(c, gp, &n);
	fputs("\n", gp);
}

/* ---- figure 5: processes vs threads vs sequential ---- */

static bool fig5_par_pred(const struct ipcb_result *x)
{
	return work_rank(x->key.work) != 0 &&
	       x->key.workers != IPCB_SEQUENTIAL && pos(x->msgs_per_s);
}

static bool fig5_seq_pred(const struct ipcb_result *x)
{
	return work_rank(x->key.work) != 0 &&
	       x->key.workers == IPCB_SEQUENTIAL && pos(x->msgs_per_s);
}

static const enum dim fig5_keys[] = { D_WORK, D_WORKERS };

/* The row of s with work w (and workers k, unless k < 0), or NULL. */
static const struct ipcb_result *find_work(const struct sel *s, const char *w,
					   int k)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->key.work, w) &&
		    (k < 0 || (int)s->v[i]->key.workers == k))
			return s->v[i];
	return NULL;
}

static int fig5_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_PATTERN, PICK_SMALL, "throughput" },
		{ D_TRANSPORT, PICK_SMALL, "pipe" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_SIZE, PICK_SMALL, NULL },
		{ D_PROCS, PICK_LARGE, NULL },
	};
	char pat[16] = "", size[24] = "", seqdesc[160] = "";
	struct fix seqfix[] = {
		{ D_PATTERN, PICK_SMALL, pat },
		{ D_SIZE, PICK_SMALL, size },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_TRANSPORT, PICK_SMALL, NULL },
		{ D_PROCS, PICK_SMALL, NULL },
	};
	int rc = sel_filter(c, &f->s, fig5_par_pred);

	if (!rc)
		rc = sel_filter(c, &f->s2, fig5_seq_pred);
	if (!rc)
		rc = sel_fix(c, &f->s, fix, 5, fig5_keys, 2, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	if (f->s.n) {
		dim_str(f->s.v[0], D_PATTERN, pat, sizeof(pat));
		dim_str(f->s.v[0], D_SIZE, size, sizeof(size));
	}
	rc = sel_fix(c, &f->s2, seqfix, 5, fig5_keys, 1, seqdesc,
		     sizeof(seqdesc));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig5_keys, 2);
	sel_sort_unique(c, &f->s2, fig5_keys, 1);
	if (f->s2.n)
		append(f->config, sizeof(f->config),
		       "sequential: one process, no IPC");
	for (size_t i = 0; i < f->s.n; i++) {
		const char *w = f->s.v[i]->key.work;
		int kinds = !!find_work(&f->s, w, IPCB_PROCESS) +
			    !!find_work(&f->s, w, IPCB_THREAD) +
			    !!find_work(&f->s2, w, -1);
		if (kinds >= 2)
			return 0;
	}
	return 1;
}

static void fig5_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	static const struct {
		const char *title, *color;
		double off;
	} bars[] = {
		{ "sequential", "#7f7f7f", -0.27 },
		{ "threads", "#e69f00", 0 },
		{ "processes", "#0072b2", 0.27 },
	};
	const char *works[64], *words;
	size_t nworks = 0;
	bool has[3] = { false, false, false };
	double max = 0, unit;
	int n = 0;

	/* The work kinds in order, from both selections. */
	for (int pass = 0; pass < 2; pass++) {
		const struct sel *s = pass ? &f->s2 : &f->s;
		for (size_t i = 0; i < s->n && nworks < 64; i++) {
			size_t j = 0;
			while (j < nworks &&
			       strcmp(works[j], s->v[i]->key.work))
				j++;
			if (j == nworks)
				works[nworks++] = s->v[i]->key.work;
		}
	}
	for (size_t i = 1; i < nworks; i++)
		for (size_t j = i;
		     j > 0 && work_cmp(works[j - 1], works[j]) > 0; j--) {
			const char *t = works[j];
			works[j] = works[j - 1];
			works[j - 1] = t;
		}

	fputs("work,sequential_msgs_per_s,thread_msgs_per_s,process_msgs_per_s\n",
	      csv);
	for (size_t i = 0; i < nworks; i++) {
		const struct ipcb_result *x[3] = {
			find_work(&f->s2, works[i], -1),
			find_work(&f->s, works[i], IPCB_THREAD),
			find_work(&f->s, works[i], IPCB_PROCESS),
		};
		fprintf(csv, "%s,", works[i]);
		for (int b = 0; b < 3; b++) {
			csv_num(csv, x[b] ? x[b]->msgs_per_s : NAN,
				b < 2 ? ',' : '\n');
			has[b] |= x[b] != NULL;
			if (x[b] && x[b]->msgs_per_s > max)
				max = x[b]->msgs_per_s;
		}
	}
	unit = rate_unit(max, &words);

	gp_begin(c, f, gp);
	fputs("set title ", gp);
	gp_title(gp, f);
	fprintf(gp,
		"\nset xlabel 'per-message work of the consumers (speedup over sequential above the bars)'\n"
		"set ylabel 'messages per second%s'\n",
		words);
	fputs("set yrange [0:*]\nset format y '%g'\n"
	      "set offsets 0, 0, graph 0.1, 0\n"
	      "set style fill solid 0.85 border lc rgb '#333333'\n"
	      "set key top left\n"
	      "set xtics (",
	      gp);
	for (size_t i = 0; i < nworks; i++) {
		fputs(i ? ", " : "", gp);
		gp_str(gp, works[i]);
		fprintf(gp, " %zu", i);
	}
	fprintf(gp, ")\nset xrange [-0.6:%g]\n", nworks - 0.4);
	for (int b = 0; b < 3; b++) {
		if (!has[b])
			continue;
		clause(gp, &n);
		fprintf(gp,
			"datafile using ($0%+g):($%d/%g):(0.26) with boxes lc rgb '%s' title '%s'",
			bars[b].off, b + 2, unit, bars[b].color, bars[b].title);
	}
	for (int b = 1; has[0] && b < 3; b++) {
		if (!has[b])
			continue;
		clause(gp, &n);
		fprintf(gp,
			"datafile using ($0%+g):($%d/%g):(sprintf('%%.1fx', $%d/$2)) with labels offset 0,0.7 font ',9' notitle",
			bars[b].off, b + 2, unit, b + 2);
	}
	fputs("\n", gp);
}

/* ---- figure 6: one configuration, all transports ---- */

static bool fig6_pred(const struct ipcb_result *x)
{
	if (x->key.pattern == IPCB_LATENCY)
		return x->has_latency && pos(x->lat.p50);
	return pos(x->msgs_per_s);
}

static const enum dim fig6_keys[] = { D_PATTERN, D_TRANSPORT };

/* Transports with a row of pattern p in s. */
static size_t fig6_count(const struct sel *s, enum ipcb_pattern p)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i]->key.pattern == p;
	return n;
}

static int fig6_select(const struct plot_ctx *c, struct fig *f)
{
	static const struct fix fix[] = {
		{ D_WORK, PICK_SMALL, "none" },
		{ D_WORKERS, PICK_SMALL, "process" },
		{ D_TOPOLOGY, PICK_SMALL, "pairs" },
		{ D_PROCS, PICK_SMALL, "2" },
		{ D_SIZE, PICK_SMALL, NULL },
	};
	int rc = sel_filter(c, &f->s, fig6_pred);

	if (!rc)
		rc = sel_fix(c, &f->s, fix, 5, fig6_keys, 2, f->config,
			     sizeof(f->config));
	if (rc)
		return rc;
	sel_sort_unique(c, &f->s, fig6_keys, 2);
	return fig6_count(&f->s, IPCB_LATENCY) >= 2 ||
			       fig6_count(&f->s, IPCB_THROUGHPUT) >= 2
		       ? 0
		       : 1;
}

/* Past this many bars the tics and the value labels are turned. */
#define FIG6_MANY 8

static void fig6_panel(const struct plot_ctx *c, const struct sel *s,
		       enum ipcb_pattern p, FILE *gp)
{
	const bool lat = p == IPCB_LATENCY;
	const char *pname = ipcb_pattern_name(p), *words = "";
	const size_t count = fig6_count(s, p);
	const bool many = count > FIG6_MANY;
	double lo = INFINITY, hi = 0, unit = 1;
	double lim = c->r->ctx.limit_pingpong_ns;
	bool limit = lat && c->r->ctx.has_limits && pos(lim);
	bool whisker = false, logy;
	size_t k = 0;
	int n = 0;

	fputs("set xtics (", gp);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		double v = lat ? x->lat.p50 : x->msgs_per_s;
		double top = lat && pos(x->lat.p99) ? x->lat.p99 : v;
		if (x->key.pattern != p)
			continue;
		fputs(k ? ", " : "", gp);
		gp_str(gp, x->key.transport);
		fprintf(gp, " %zu", ++k);
		lo = v < lo ? v : lo;
		hi = top > hi ? top : hi;
	}
	fprintf(gp, ")\nset xrange [0.4:%g]\n", count + 0.6);
	fputs(count > 6 ? "set xtics rotate by 40 right\n"
			: "set xtics norotate center\n",
	      gp);
	fprintf(gp, "set offsets 0, 0, graph %s, 0\n", many ? "0.2" : "0.12");
	/* Values (and whiskers) spanning more than a factor of 30 would
	 * leave the small bars invisible on a linear axis. */
	logy = hi / lo > 30;
	if (logy)
		fputs("set logscale y 10\nset yrange [*:*]\n", gp);
	else
		fputs("unset logscale y\nset yrange [0:*]\n", gp);
	if (lat) {
		fputs("set title 'latency pattern'\n"
		      "set ylabel 'round-trip latency (µs)'\nset format y '%g'\n",
		      gp);
	} else {
		if (!logy)
			unit = rate_unit(hi, &words);
		fprintf(gp,
			"set title 'throughput pattern'\n"
			"set ylabel 'messages per second%s'\nset format y '%s'\n",
			words, logy ? "%.0s%c" : "%g");
	}
	k = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		const char *t = x->key.transport;
		const char *at = lat && pos(x->lat.p99) ? "$4/1e3" : "$3/1e3";
		char y[32];
		if (x->key.pattern != p)
			continue;
		k++;
		if (lat)
			snprintf(y, sizeof(y), "$3/1e3");
		else
			snprintf(y, sizeof(y), "$5/%g", unit);
		clause(gp, &n);
		fprintf(gp, "datafile using (is('%s', ", pname);
		gp_str(gp, t);
		fprintf(gp,
			") ? %zu : NaN):(%s):(0.7) with boxes lc rgb '%s' notitle",
			k, y, color_of(c, t));
		if (lat && pos(x->lat.p99)) {
			whisker = true;
			clause(gp, &n);
			fprintf(gp, "datafile using (is('%s', ", pname);
			gp_str(gp, t);
			fprintf(gp,
				") ? %zu : NaN):($3/1e3):($3/1e3):($4/1e3) with yerrorbars pt 7 ps 0.4 lc rgb '#222222' notitle",
				k);
		}
		clause(gp, &n);
		fprintf(gp, "datafile using (is('%s', ", pname);
		gp_str(gp, t);
		fprintf(gp, ") ? %zu : NaN):(%s):", k, lat ? at : y);
		if (lat && limit)
			fprintf(gp,
				"(sprintf(\"%%.3g µs%s%%.3gx limit\", $3/1e3, $3/%.10g))",
				many ? ", " : "\\n", lim);
		else if (lat)
			fputs("(sprintf('%.3g µs', $3/1e3))", gp);
		else
			fputs("(eng($5) . '/s')", gp);
		fprintf(gp, " with labels %s font ',9' notitle",
			many	? "rotate by 90 left offset 0,0.5"
			: limit ? "offset 0,1.2"
				: "offset 0,0.7");
	}
	clause(gp, &n);
	fprintf(gp,
		"keyentry with boxes fs solid 0.85 lc rgb '#999999' title '%s'",
		lat ? "bar: median (p50)" : "bar: median of repetitions");
	if (whisker) {
		clause(gp, &n);
		fputs("keyentry with yerrorbars pt 7 ps 0.4 lc rgb '#222222' title 'whisker: p99'",
		      gp);
	}
	if (limit)
		gp_limit_line(c, gp, &n);
	fputs("\n", gp);
}

static void fig6_emit(const struct plot_ctx *c, const struct fig *f, FILE *csv,
		      FILE *gp)
{
	const struct sel *s = &f->s;
	bool lat = fig6_count(s, IPCB_LATENCY) >= 2;
	bool tput = fig6_count(s, IPCB_THROUGHPUT) >= 2;

	fputs("pattern,transport,p50_ns,p99_ns,msgs_per_s,bytes_per_s\n", csv);
	for (size_t i = 0; i < s->n; i++) {
		const struct ipcb_result *x = s->v[i];
		bool l = x->key.pattern == IPCB_LATENCY;
		fprintf(csv, "%s,%s,", ipcb_pattern_name(x->key.pattern),
			x->key.transport);
		csv_num(csv, l ? x->lat.p50 : NAN, ',');
		csv_num(csv, l ? x->lat.p99 : NAN, ',');
		csv_num(csv, x->msgs_per_s, ',');
		csv_num(csv, x->bytes_per_s, '\n');
	}

	gp_begin(c, f, gp);
	fprintf(gp, "set multiplot layout 1,%d title ", lat + tput);
	gp_title(gp, f);
	/* Turned tics need more room below. */
	fprintf(gp, " margins 0.07,0.83,%s,0.86 spacing 0.08\n",
		fig6_count(s, IPCB_LATENCY) > 6 ||
				fig6_count(s, IPCB_THROUGHPUT) > 6
			? "0.27"
			: "0.2");
	fputs("set style fill solid 0.85 border lc rgb '#333333'\n"
	      "set key at screen 0.985, screen 0.86 right top\n"
	      "set xlabel 'transport'\n"
	      "is(p, t) = strcol(1) eq p && strcol(2) eq t\n"
	      "eng(v) = v >= 1e9 ? sprintf('%.3gG', v/1e9) : v >= 1e6 ? sprintf('%.3gM', v/1e6) : v >= 1e3 ? sprintf('%.3gk', v/1e3) : sprintf('%.3g', v)\n",
	      gp);
	/* One key, right of both panels, from the first. */
	if (lat) {
		fig6_panel(c, s, IPCB_LATENCY, gp);
		fputs("unset label 100\nunset key\n", gp);
	}
	if (tput)
		fig6_panel(c, s, IPCB_THROUGHPUT, gp);
	fputs("unset multiplot\n", gp);
}

/* ---- the figures, in order ---- */

static const struct fig_def fig_defs[] = {
	{
		.name = "fig1-latency-vs-size",
		.title =
			"Latency vs message size: median (p50) with p99 whiskers",
		.needs = "latency-pattern results with a p50 at two or more "
			 "message sizes for one transport",
		.width = 1000,
		.height = 620,
		.select = fig1_select,
		.emit = fig1_emit,
	},
	{
		.name = "fig2-throughput-vs-procs",
		.title = "Throughput vs process count",
		.needs = "throughput results (msgs_per_s and bytes_per_s) at "
			 "two or more process counts for one transport",
		.width = 1300,
		.height = 600,
		.select = fig2_select,
		.emit = fig2_emit,
	},
	{
		.name = "fig3-speedup-vs-procs",
		.title = "Speedup vs process count, CPU-bound vs IO-bound work",
		.needs = "throughput results with a speedup for cpu: or io: "
			 "work at two or more process counts for one transport",
		.width = 1400,
		.height = 600,
		.marks_cpus = true,
		.select = fig3_select,
		.emit = fig3_emit,
	},
	{
		.name = "fig4-latency-distribution",
		.title = "Latency distribution",
		.needs = "a result with the full latency summary (min, p50, "
			 "p90, p99, p99.9, max)",
		.width = 1000,
		.height = 620,
		.select = fig4_select,
		.emit = fig4_emit,
	},
	{
		.name = "fig5-workers-comparison",
		.title = "Processes vs threads vs sequential",
		.needs = "cpu: or io: work measured with at least two of "
			 "process, thread and sequential workers",
		.width = 1000,
		.height = 620,
		.select = fig5_select,
		.emit = fig5_emit,
	},
	{
		.name = "fig6-transport-comparison",
		.title = "Transports compared",
		.needs = "two or more transports measured in the same "
			 "configuration",
		.width = 1400,
		.height = 620,
		.select = fig6_select,
		.emit = fig6_emit,
	},
};
#define NFIGS (sizeof(fig_defs) / sizeof(fig_defs[0]))

/* ---- the plot context ---- */

/* Names end up in scripts and data files: keep to what needs no quoting. */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._+:-", *s)))
			return false;
	return true;
}

static int ctx_init(struct plot_ctx *c, const struct ipcb_results *r,
		    enum ipcb_plot_format fmt, char *err, size_t errlen)
{
	const struct ipcb_context *x = &r->ctx;
	char cpus[32];

	memset(c, 0, sizeof(*c));
	c->r = r;
	c->fmt = fmt;
	c->transports = calloc(r->n ? r->n : 1, sizeof(*c->transports));
	if (!c->transports) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct ipcb_config_key *k = &r->v[i].key;
		if (!name_ok(k->transport) || !name_ok(k->work)) {
			bool t = !name_ok(k->transport);
			snprintf(err, errlen,
				 "result %zu: %s '%s' is not a name ipcbench "
				 "writes (letters, digits and ._+:- only)",
				 i, t ? "transport" : "work",
				 t ? k->transport : k->work);
			return -EINVAL;
		}
		if (transport_index(c, k->transport) == c->ntransports)
			c->transports[c->ntransports++] = k->transport;
	}
	if (!x->cpu_model[0] && !x->kernel[0] && !x->start_time[0]) {
		snprintf(c->footer, sizeof(c->footer),
			 "machine and date not recorded (CSV results carry no "
			 "run context)");
		return 0;
	}
	if (x->cpu_count)
		snprintf(cpus, sizeof(cpus), "%u CPUs", x->cpu_count);
	else
		snprintf(cpus, sizeof(cpus), "CPU count not recorded");
	snprintf(c->footer, sizeof(c->footer),
		 "%s, %s, %s; run started %s; ipcbench %s%s%s%s",
		 x->cpu_model[0] ? x->cpu_model : "CPU model not recorded",
		 cpus, x->kernel[0] ? x->kernel : "kernel not recorded",
		 x->start_time[0] ? x->start_time : "(date not recorded)",
		 x->version[0] ? x->version : "(version not recorded)",
		 x->git_revision[0] ? " (" : "", x->git_revision,
		 x->git_revision[0] ? ")" : "");
	if (x->partial)
		append(c->footer, sizeof(c->footer),
		       "PARTIAL: the run was interrupted");
	return 0;
}

/* ---- files: staging, rendering, installing ---- */

static int add_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int path_join(char *buf, size_t n, const char *dir, const char *name,
		     const char *ext)
{
	int len = snprintf(buf, n, "%s/%s%s", dir, name, ext);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* mkdir -p. *created says whether the last component was made here. */
static int mkdir_p(const char *dir, bool *created)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	*created = false;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0777) == 0)
		*created = true;
	else if (errno != EEXIST)
		return -errno;
	return 0;
}

static int write_figure(const struct plot_ctx *c, const struct fig *f,
			const char *stage, char *err, size_t errlen)
{
	char cpath[PATH_MAX], gpath[PATH_MAX];
	FILE *csv = NULL, *gp = NULL;
	int rc;

	rc = path_join(cpath, sizeof(cpath), stage, f->def->name, ".csv");
	if (!rc)
		rc = path_join(gpath, sizeof(gpath), stage, f->def->name,
			       ".gp");
	if (rc) {
		snprintf(err, errlen, "%s: path too long", stage);
		return rc;
	}
	csv = fopen(cpath, "we");
	gp = csv ? fopen(gpath, "we") : NULL;
	if (!gp) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", csv ? gpath : cpath,
			 strerror(errno));
		goto err;
	}
	f->def->emit(c, f, csv, gp);
	if (ferror(csv) || ferror(gp)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: write error", stage);
		goto err;
	}
	rc = fclose(csv);
	csv = NULL;
	if (fclose(gp) || rc) {
		gp = NULL;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", stage, strerror(errno));
		goto err;
	}
	return 0;
err:
	if (csv)
		fclose(csv);
	if (gp)
		fclose(gp);
	return rc;
}

/* The last non-empty line of a text, for a one-line error. */
static void last_line(const char *s, char *buf, size_t n)
{
	const char *end = s + strlen(s), *start;

	while (end > s &&
	       (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(buf, n, "%.*s", (int)(end - start), start);
}

/*
 * Runs `prog -d script` in dir with stdin and stdout on /dev/null and
 * stderr captured into out (its last outlen - 1 bytes). *status gets the
 * wait status. 0, or -errno when gnuplot could not be started (-ENOENT:
 * not installed).
 */
static int run_gnuplot(const char *prog, const char *dir, const char *script,
		       char *out, size_t outlen, int *status)
{
	char *argv[] = { (char *)prog, "-d", (char *)script, NULL };
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int pfd[2], rc;
	pid_t pid;
	ssize_t got;

	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
						      O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						      O_WRONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!rc)
		rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		return -rc;
	}
	for (;;) {
		if (len + 1 >= outlen) {
			size_t keep = outlen / 2;
			memmove(out, out + len - keep, keep);
			len = keep;
		}
		got = read(pfd[0], out + len, outlen - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	out[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int note(struct ipcb_plot_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int note(struct ipcb_plot_report *rep, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return add_str(&rep->notes, &rep->nnotes, buf);
}

/* Renders every staged figure. 0; -ENOENT (no gnuplot) or another -errno
 * from starting it; -EIO (a script failed; err names the first); -ENOMEM.
 * Warnings from a script that succeeded become notes. */
static int render_all(struct fig *figs, const char *stage, const char *dir,
		      const char *prog, struct ipcb_plot_report *rep, char *err,
		      size_t errlen)
{
	char out[4096], line[512], script[PATH_MAX];
	int rc = 0, status = 0, r;

	for (size_t i = 0; i < NFIGS; i++) {
		if (!figs[i].staged)
			continue;
		snprintf(script, sizeof(script), "%s.gp", figs[i].def->name);
		r = run_gnuplot(prog, stage, script, out, sizeof(out), &status);
		if (r == -ENOENT) {
			snprintf(err, errlen,
				 "%s not found: wrote the data and scripts to "
				 "%s but no figures; install gnuplot (Debian, "
				 "Ubuntu: apt-get install gnuplot-nox), then "
				 "run 'gnuplot NAME.gp' there or plot again",
				 prog, dir);
			return r;
		}
		if (r) {
			snprintf(err, errlen, "cannot run %s: %s", prog,
				 strerror(-r));
			return r;
		}
		last_line(out, line, sizeof(line));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (!rc)
				snprintf(err, errlen,
					 "gnuplot failed on %s/%s.gp (%s %d): "
					 "%s; run 'gnuplot %s.gp' in %s to see "
					 "it in full",
					 dir, figs[i].def->name,
					 WIFEXITED(status) ? "exit" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status)
							   : WTERMSIG(status),
					 line[0] ? line : "no message",
					 figs[i].def->name, dir);
			rc = -EIO;
			continue;
		}
		figs[i].rendered = true;
		if (line[0] &&
		    note(rep, "%s: gnuplot: %s", figs[i].def->name, line))
			return -ENOMEM;
	}
	return rc;
}

/* Moves the staged files of each figure into dir (image, script, data)
 * and lists them in rep. A figure that failed to render loses any image
 * of that name left by an earlier run, so no stale image sits beside the
 * new script. */
static int install_all(struct fig *figs, const char *stage, const char *dir,
		       enum ipcb_plot_format fmt, struct ipcb_plot_report *rep,
		       char *err, size_t errlen)
{
	char ext[8], from[PATH_MAX], to[PATH_MAX];
	const char *exts[3] = { ext, ".gp", ".csv" };

	snprintf(ext, sizeof(ext), ".%s", ipcb_plot_format_name(fmt));
	for (size_t i = 0; i < NFIGS; i++) {
		if (!figs[i].staged)
			continue;
		for (int e = 0; e < 3; e++) {
			const char *name = figs[i].def->name;
			if (path_join(from, sizeof(from), stage, name,
				      exts[e]) ||
			    path_join(to, sizeof(to), dir, name, exts[e])) {
				snprintf(err, errlen, "%s: path too long", dir);
				return -ENAMETOOLONG;
			}
			if (e == 0 && !figs[i].rendered) {
				if (unlink(to) && errno != ENOENT) {
					int rc = -errno;
					snprintf(err, errlen, "%.300s: %s", to,
						 strerror(-rc));
					return rc;
				}
				continue;
			}
			if (rename(from, to)) {
				int rc = -errno;
				snprintf(err, errlen, "%.300s: %s", to,
					 strerror(errno));
				return rc;
			}
			if (add_str(&rep->files, &rep->nfiles, to)) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Removes whatever is left in the staging directory, then it. */
static void unstage(const char *stage, enum ipcb_plot_format fmt)
{
	char ext[8], path[PATH_MAX];
	const char *exts[3] = { ext, ".gp", ".csv" };

	snprintf(ext, sizeof(ext), ".%s", ipcb_plot_format_name(fmt));
	for (size_t i = 0; i < NFIGS; i++)
		for (int e = 0; e < 3; e++)
			if (!path_join(path, sizeof(path), stage,
				       fig_defs[i].name, exts[e]))
				unlink(path);
	rmdir(stage);
}

/* ---- public ---- */

int ipcb_plot_parse_format(const char *s, enum ipcb_plot_format *fmt)
{
	if (strcmp(s, "png") == 0)
		*fmt = IPCB_PLOT_PNG;
	else if (strcmp(s, "svg") == 0)
		*fmt = IPCB_PLOT_SVG;
	else
		return -EINVAL;
	return 0;
}

const char *ipcb_plot_format_name(enum ipcb_plot_format fmt)
{
	return fmt == IPCB_PLOT_SVG ? "svg" : "png";
}

int ipcb_plot_results(const struct ipcb_results *r, const char *dir,
		      const struct ipcb_plot_opts *o,
		      struct ipcb_plot_report *rep, char *err, size_t errlen)
{
	const char *prog = o && o->gnuplot ? o->gnuplot : "gnuplot";
	enum ipcb_plot_format fmt = o ? o->format : IPCB_PLOT_PNG;
	struct fig figs[NFIGS];
	struct plot_ctx c;
	char stage[PATH_MAX], d[PATH_MAX];
	size_t drawable = 0, len;
	bool created = false;
	int rc, rrc = 0;

	memset(rep, 0, sizeof(*rep));
	memset(figs, 0, sizeof(figs));
	stage[0] = '\0';
	err[0] = '\0';
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0 || len >= sizeof(d) - 32) {
		snprintf(err, errlen, "'%s': not a usable output directory",
			 dir);
		return -EINVAL;
	}
	snprintf(d, sizeof(d), "%.*s", (int)len, dir);

	rc = ctx_init(&c, r, fmt, err, errlen);
	if (rc)
		goto out;
	for (size_t i = 0; i < NFIGS; i++) {
		figs[i].def = &fig_defs[i];
		rc = fig_defs[i].select(&c, &figs[i]);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (rc == 0) {
			figs[i].staged = true;
			drawable++;
			if (fig_defs[i].marks_cpus && !r->ctx.cpu_count &&
			    note(rep,
				 "%s: the CPU count is not recorded in the "
				 "results, so it is not marked",
				 fig_defs[i].name)) {
				rc = -ENOMEM;
				goto out;
			}
		} else if (note(rep, "%s skipped: needs %s", fig_defs[i].name,
				fig_defs[i].needs)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (!drawable) {
		size_t ok = 0;
		for (size_t i = 0; i < r->n; i++)
			ok += r->v[i].status == IPCB_OK;
		snprintf(
			err, errlen,
			"the results support none of the figures (%zu results, "
			"%zu measured)",
			r->n, ok);
		rc = -EINVAL;
		goto out;
	}

	rc = mkdir_p(d, &created);
	if (rc) {
		snprintf(err, errlen, "%s: %s", d, strerror(-rc));
		goto out;
	}
	/* d is short enough for this (checked above). */
	snprintf(stage, sizeof(stage), "%s/.ipcbench-plot-XXXXXX", d);
	if (!mkdtemp(stage)) {
		rc = -errno;
		snprintf(err, errlen,
			 "%s: cannot create a staging directory: %s", d,
			 strerror(errno));
		stage[0] = '\0';
		goto out;
	}
	for (size_t i = 0; i < NFIGS; i++) {
		if (!figs[i].staged)
			continue;
		rc = write_figure(&c, &figs[i], stage, err, errlen);
		if (rc)
			goto out;
	}
	/* Whatever gnuplot did, the data and scripts are installed (and the
	 * images it drew); its error, if any, is the one reported. */
	rrc = render_all(figs, stage, d, prog, rep, err, errlen);
	if (rrc == -ENOMEM) {
		rc = rrc;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = install_all(figs, stage, d, fmt, rep, err, errlen);
	if (!rc)
		rc = rrc;
out:
	if (stage[0])
		unstage(stage, fmt);
	if (rc && created && rep->nfiles == 0)
		rmdir(d);
	for (size_t i = 0; i < NFIGS; i++) {
		free(figs[i].s.v);
		free(figs[i].s2.v);
	}
	free(c.transports);
	return rc;
}

void ipcb_plot_report_free(struct ipcb_plot_report *rep)
{
	for (size_t i = 0; i < rep->nfiles; i++)
		free(rep->files[i]);
	for (size_t i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->files);
	free(rep->notes);
	memset(rep, 0, sizeof(*rep));
}

void ipcb_plot_report_print(const struct ipcb_plot_report *rep, FILE *out,
			    FILE *notes)
{
	for (size_t i = 0; i < rep->nnotes; i++)
		fprintf(notes, "ipcbench plot: note: %s\n", rep->notes[i]);
	for (size_t i = 0; i < rep->nfiles; i++)
		fprintf(out, "%s\n", rep->files[i]);
}
