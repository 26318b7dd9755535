/*
 * compare.c - matching two result sets by configuration, judging each
 * metric (see compare.h for the rules), and writing the comparison as a
 * table, pull-request markdown or JSON.
 *
 * The JSON layout (one object):
 *   tool "ipcbench", kind "compare",
 *   base, new: { label, version, git_revision, start_time, hostname,
 *                partial }
 *   threshold_pct, alpha, min_repetitions, metrics: [names]
 *   context_differences: [ { field, base, new } ]
 *   comparisons: [ { configuration (ipcb_key_name), metric (null for a
 *     whole-configuration row), lower_is_better, base, new (medians or
 *     null), change (relative, null), base_repetitions, new_repetitions,
 *     reliable, p_value (null unless reliable), test ("exact", "normal",
 *     null), significant, verdict ("regression", "improvement",
 *     "unchanged", "not_compared"), note (string or null) } ]
 *   only_in_base, only_in_new: [configuration names]
 *   matched, regressions, improvements, unchanged, not_compared,
 *   verdict ("regression" or "ok"), summary (the verdict line)
 */
#define _GNU_SOURCE
#include "harness/compare.h"
#include "harness/units.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[IPCB_METRIC_COUNT] = {
	"p50", "p90", "p99", "p999", "max", "mean", "msgs_per_s", "bytes_per_s",
};

const char *ipcb_metric_name(enum ipcb_metric m)
{
	return metric_names[m];
}

int ipcb_metric_parse(const char *s)
{
	for (int m = 0; m < IPCB_METRIC_COUNT; m++)
		if (strcmp(s, metric_names[m]) == 0)
			return m;
	return -1;
}

bool ipcb_metric_lower_is_better(enum ipcb_metric m)
{
	return m != IPCB_METRIC_MSGS_PER_S && m != IPCB_METRIC_BYTES_PER_S;
}

int ipcb_metric_list_parse(const char *list, unsigned *mask, char *err,
			   size_t errlen)
{
	unsigned out = 0;
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		char name[32];
		int m;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		m = len < sizeof(name) ? ipcb_metric_parse(name) : -1;
		if (m < 0) {
			snprintf(err, errlen, "unknown metric '%.*s'",
				 (int)(len > 40 ? 40 : len), p);
			return -EINVAL;
		}
		out |= IPCB_METRIC_BIT(m);
		p += len;
		if (*p == ',')
			p++;
	}
	if (!out) {
		snprintf(err, errlen, "empty metric list");
		return -EINVAL;
	}
	*mask = out;
	return 0;
}

static const char *const verdict_names[] = {
	"unchanged",
	"improvement",
	"regression",
	"not_compared",
};

const char *ipcb_verdict_name(enum ipcb_verdict v)
{
	return verdict_names[v];
}

void ipcb_compare_opts_default(struct ipcb_compare_opts *o)
{
	o->threshold = 0.05;
	o->alpha = 0.05;
	o->min_reps = 5;
	o->metrics = IPCB_METRICS_DEFAULT;
}

void ipcb_comparison_free(struct ipcb_comparison *c)
{
	free(c->rows);
	free(c->only_base);
	free(c->only_new);
	memset(c, 0, sizeof(*c));
}

/* ---- judging ---- */

static double lat_metric(const struct ipcb_latency *l, enum ipcb_metric m)
{
	switch (m) {
	case IPCB_METRIC_P50:
		return l->p50;
	case IPCB_METRIC_P90:
		return l->p90;
	case IPCB_METRIC_P99:
		return l->p99;
	case IPCB_METRIC_P999:
		return l->p999;
	case IPCB_METRIC_MAX:
		return l->max;
	case IPCB_METRIC_MEAN:
		return l->mean;
	default:
		return NAN;
	}
}

static double top_value(const struct ipcb_result *x, enum ipcb_metric m)
{
	if (m == IPCB_METRIC_MSGS_PER_S)
		return x->msgs_per_s;
	if (m == IPCB_METRIC_BYTES_PER_S)
		return x->bytes_per_s;
	return x->has_latency ? lat_metric(&x->lat, m) : NAN;
}

static double rep_value(const struct ipcb_result *x, const struct ipcb_rep *r,
			enum ipcb_metric m)
{
	if (m == IPCB_METRIC_MSGS_PER_S)
		return r->msgs_per_s;
	if (m == IPCB_METRIC_BYTES_PER_S)
		return r->bytes_per_s;
	return x->has_latency ? lat_metric(&r->lat, m) : NAN;
}

/* Fills v (room for x->repeat values) with the measured repetitions of
 * metric m and returns their count; with none, falls back to the
 * top-level value (count 1) or returns 0 when that is not measured
 * either. */
static size_t values_of(const struct ipcb_result *x, enum ipcb_metric m,
			double *v)
{
	size_t n = 0;

	for (unsigned i = 0; x->reps && i < x->repeat; i++) {
		double d = rep_value(x, &x->reps[i], m);
		if (!isnan(d))
			v[n++] = d;
	}
	if (n == 0 && !isnan(top_value(x, m)))
		v[n++] = top_value(x, m);
	return n;
}

static void judge(struct ipcb_cmp_row *row, const struct ipcb_compare_opts *o,
		  double *bv, size_t nb, double *nv, size_t nn)
{
	bool lower = ipcb_metric_lower_is_better(row->metric);
	bool worse, better;

	row->base_reps = (unsigned)nb;
	row->new_reps = (unsigned)nn;
	row->reliable = nb >= o->min_reps && nn >= o->min_reps;
	if (row->reliable &&
	    ipcb_mann_whitney(bv, nb, nv, nn, &row->utest) == 0)
		row->significant = row->utest.p < o->alpha;
	else
		row->reliable = false;
	/* Medians last: ipcb_median sorts, the U test does not care. */
	row->base_val = ipcb_median(bv, nb);
	row->new_val = ipcb_median(nv, nn);
	if (row->base_val == row->new_val)
		row->change = 0;
	else if (row->base_val != 0)
		row->change =
			(row->new_val - row->base_val) / fabs(row->base_val);
	else
		row->change = NAN;
	if (isnan(row->change)) {
		row->verdict = IPCB_NOT_COMPARED;
		snprintf(row->note, sizeof(row->note),
			 "base is 0: no relative change");
		return;
	}
	row->beyond = fabs(row->change) > o->threshold;
	worse = row->beyond && (lower ? row->change > 0 : row->change < 0);
	better = row->beyond && !worse;
	if (row->reliable && !row->significant)
		row->verdict = IPCB_UNCHANGED;
	else if (worse)
		row->verdict = IPCB_REGRESSION;
	else if (better)
		row->verdict = IPCB_IMPROVEMENT;
	else
		row->verdict = IPCB_UNCHANGED;
}

static struct ipcb_cmp_row *new_row(struct ipcb_comparison *c, size_t *cap)
{
	struct ipcb_cmp_row *row;

	if (c->nrows == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct ipcb_cmp_row *v = realloc(c->rows, ncap * sizeof(*v));
		if (!v)
			return NULL;
		c->rows = v;
		*cap = ncap;
	}
	row = &c->rows[c->nrows++];
	memset(row, 0, sizeof(*row));
	row->base_val = row->new_val = row->change = NAN;
	return row;
}

/* A pair where a side did not measure: one whole-configuration row. */
static int status_row(struct ipcb_comparison *c, size_t *cap,
		      const struct ipcb_result *b, const struct ipcb_result *n,
		      size_t bi, size_t ni)
{
	struct ipcb_cmp_row *row = new_row(c, cap);
	const struct ipcb_result *bad = b->status != IPCB_OK ? b : n;

	if (!row)
		return -ENOMEM;
	row->base_i = bi;
	row->new_i = ni;
	row->whole_config = true;
	row->verdict = b->status == IPCB_OK && n->status == IPCB_FAILED
			       ? IPCB_REGRESSION
			       : IPCB_NOT_COMPARED;
	snprintf(row->note, sizeof(row->note), "%s in %s%s%s",
		 bad->status == IPCB_FAILED ? "failed" : "not applicable",
		 bad == b ? "base" : "new", bad->reason[0] ? ": " : "",
		 bad->reason);
	return 0;
}

static int compare_pair(struct ipcb_comparison *c, size_t *cap,
			const struct ipcb_results *base,
			const struct ipcb_results *nr, size_t bi, size_t ni)
{
	const struct ipcb_result *b = &base->v[bi], *n = &nr->v[ni];
	double *bv, *nv;
	int rc = 0;

	if (b->status != IPCB_OK || n->status != IPCB_OK)
		return status_row(c, cap, b, n, bi, ni);
	bv = malloc((b->repeat + 1) * sizeof(*bv));
	nv = malloc((n->repeat + 1) * sizeof(*nv));
	if (!bv || !nv) {
		rc = -ENOMEM;
		goto out;
	}
	for (int m = 0; m < IPCB_METRIC_COUNT; m++) {
		size_t nb, nn;
		struct ipcb_cmp_row *row;

		if (!(c->opts.metrics & IPCB_METRIC_BIT(m)))
			continue;
		nb = values_of(b, (enum ipcb_metric)m, bv);
		nn = values_of(n, (enum ipcb_metric)m, nv);
		if (nb == 0 && nn == 0)
			continue; /* not a metric of this configuration */
		row = new_row(c, cap);
		if (!row) {
			rc = -ENOMEM;
			goto out;
		}
		row->base_i = bi;
		row->new_i = ni;
		row->metric = (enum ipcb_metric)m;
		if (nb == 0 || nn == 0) {
			row->base_val = ipcb_median(bv, nb);
			row->new_val = ipcb_median(nv, nn);
			row->base_reps = (unsigned)nb;
			row->new_reps = (unsigned)nn;
			row->verdict = IPCB_NOT_COMPARED;
			snprintf(row->note, sizeof(row->note),
				 "not measured in %s", nb ? "new" : "base");
			continue;
		}
		judge(row, &c->opts, bv, nb, nv, nn);
	}
out:
	free(bv);
	free(nv);
	return rc;
}

static void context_diffs(struct ipcb_comparison *c,
			  const struct ipcb_context *a,
			  const struct ipcb_context *b)
{
	const struct {
		const char *field, *x, *y;
	} s[] = {
		{ "hostname", a->hostname, b->hostname },
		{ "kernel", a->kernel, b->kernel },
		{ "cpu_model", a->cpu_model, b->cpu_model },
		{ "placement", a->placement, b->placement },
	};

	/* A field one side does not record (a CSV file has no context) is
	 * unknown, not different. */
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct ipcb_cmp_diff *d = &c->diffs[c->ndiffs];
		if (!s[i].x[0] || !s[i].y[0] || strcmp(s[i].x, s[i].y) == 0)
			continue;
		d->field = s[i].field;
		snprintf(d->base, sizeof(d->base), "%s", s[i].x);
		snprintf(d->new_val, sizeof(d->new_val), "%s", s[i].y);
		c->ndiffs++;
	}
	if (a->cpu_count && b->cpu_count && a->cpu_count != b->cpu_count) {
		struct ipcb_cmp_diff *d = &c->diffs[c->ndiffs++];
		d->field = "cpu_count";
		snprintf(d->base, sizeof(d->base), "%u", a->cpu_count);
		snprintf(d->new_val, sizeof(d->new_val), "%u", b->cpu_count);
	}
}

int ipcb_compare(const struct ipcb_results *base,
		 const struct ipcb_results *new_res,
		 const struct ipcb_compare_opts *o, struct ipcb_comparison *c)
{
	bool *used = calloc(new_res->n + 1, sizeof(*used));
	size_t cap = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (o)
		c->opts = *o;
	else
		ipcb_compare_opts_default(&c->opts);
	c->only_base = malloc((base->n + 1) * sizeof(*c->only_base));
	c->only_new = malloc((new_res->n + 1) * sizeof(*c->only_new));
	if (!used || !c->only_base || !c->only_new) {
		rc = -ENOMEM;
		goto out;
	}
	context_diffs(c, &base->ctx, &new_res->ctx);
	for (size_t i = 0; i < base->n; i++) {
		size_t j;

		for (j = 0; j < new_res->n; j++)
			if (!used[j] &&
			    ipcb_key_equal(&base->v[i].key, &new_res->v[j].key))
				break;
		if (j == new_res->n) {
			c->only_base[c->n_only_base++] = i;
			continue;
		}
		used[j] = true;
		c->matched++;
		rc = compare_pair(c, &cap, base, new_res, i, j);
		if (rc)
			goto out;
	}
	for (size_t j = 0; j < new_res->n; j++)
		if (!used[j])
			c->only_new[c->n_only_new++] = j;
	for (size_t i = 0; i < c->nrows; i++) {
		switch (c->rows[i].verdict) {
		case IPCB_REGRESSION:
			c->regressions++;
			break;
		case IPCB_IMPROVEMENT:
			c->improvements++;
			break;
		case IPCB_UNCHANGED:
			c->unchanged++;
			break;
		case IPCB_NOT_COMPARED:
			c->not_compared++;
			break;
		}
	}
out:
	free(used);
	return rc;
}

/* ---- writing ---- */

static void fmt_value(char *buf, size_t n, enum ipcb_metric m, double v)
{
	if (ipcb_metric_lower_is_better(m))
		ipcb_fmt_ns(buf, n, v);
	else
		ipcb_fmt_rate(buf, n, v,
			      m == IPCB_METRIC_BYTES_PER_S ? "B/s" : "/s");
}

static void fmt_change(char *buf, size_t n, double change)
{
	if (isnan(change))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%+.1f%%", 100 * change);
}

static void fmt_p(char *buf, size_t n, const struct ipcb_cmp_row *row)
{
	if (!row->reliable)
		snprintf(buf, n, "-");
	else if (row->utest.p < 0.001)
		snprintf(buf, n, "%.1e", row->utest.p);
	else
		snprintf(buf, n, "%.3f", row->utest.p);
}

/* "REGRESSION", "improvement", "unchanged (not significant)", ... */
static void fmt_verdict(char *buf, size_t n, const struct ipcb_cmp_row *row)
{
	const char *v = row->verdict == IPCB_REGRESSION	   ? "REGRESSION"
			: row->verdict == IPCB_IMPROVEMENT ? "improvement"
			: row->verdict == IPCB_UNCHANGED   ? "unchanged"
							   : "not compared";
	const char *why = "";

	if (row->whole_config || row->verdict == IPCB_NOT_COMPARED)
		why = row->note;
	else if (!row->reliable)
		why = "unreliable: too few repetitions, threshold only";
	else if (row->verdict == IPCB_UNCHANGED && row->beyond)
		why = "not significant";
	snprintf(buf, n, "%s%s%s%s", v, why[0] ? " (" : "", why,
		 why[0] ? ")" : "");
}

static void fmt_reps(char *buf, size_t n, const struct ipcb_cmp_row *row)
{
	if (row->whole_config)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%u/%u", row->base_reps, row->new_reps);
}

static const char *row_metric(const struct ipcb_cmp_row *row)
{
	return row->whole_config ? "all" : ipcb_metric_name(row->metric);
}

static void key_name(const struct ipcb_results *r, size_t i, char *buf,
		     size_t n)
{
	ipcb_key_name(&r->v[i].key, buf, n);
}

/* One row as text, the same for the table and markdown. */
struct row_cells {
	char name[256], base[32], new_val[32], change[32], p[32], reps[32];
	char verdict[256];
};

static void row_cells(const struct ipcb_results *base,
		      const struct ipcb_cmp_row *row, struct row_cells *t)
{
	key_name(base, row->base_i, t->name, sizeof(t->name));
	fmt_value(t->base, sizeof(t->base), row->metric, row->base_val);
	fmt_value(t->new_val, sizeof(t->new_val), row->metric, row->new_val);
	fmt_change(t->change, sizeof(t->change), row->change);
	fmt_p(t->p, sizeof(t->p), row);
	fmt_reps(t->reps, sizeof(t->reps), row);
	fmt_verdict(t->verdict, sizeof(t->verdict), row);
}

/* Names up to three regressions: "a p50 +100.0%, b (failed in new) and 2
 * more". */
static void regression_list(const struct ipcb_comparison *c,
			    const struct ipcb_results *base, char *buf,
			    size_t n)
{
	size_t shown = 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nrows && len < n; i++) {
		const struct ipcb_cmp_row *row = &c->rows[i];
		char name[256], change[32];
		int w;

		if (row->verdict != IPCB_REGRESSION)
			continue;
		if (shown == 3) {
			snprintf(buf + len, n - len, " and %zu more",
				 c->regressions - shown);
			return;
		}
		key_name(base, row->base_i, name, sizeof(name));
		fmt_change(change, sizeof(change), row->change);
		if (row->whole_config)
			w = snprintf(buf + len, n - len, "%s%s (%s)",
				     shown ? ", " : "", name, row->note);
		else
			w = snprintf(buf + len, n - len, "%s%s %s %s",
				     shown ? ", " : "", name, row_metric(row),
				     change);
		if (w < 0)
			return;
		len += (size_t)w;
		shown++;
	}
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void ipcb_comparison_verdict(const struct ipcb_comparison *c,
			     const struct ipcb_results *base, char *buf,
			     size_t n)
{
	size_t unreliable = 0;
	char regs[768], extra[160] = "";

	for (size_t i = 0; i < c->nrows; i++)
		if (!c->rows[i].reliable && !c->rows[i].whole_config &&
		    c->rows[i].verdict != IPCB_NOT_COMPARED)
			unreliable++;
	if (unreliable || c->n_only_base || c->n_only_new)
		snprintf(extra, sizeof(extra),
			 "; %zu unreliable, %zu only in "
			 "base, %zu only in new",
			 unreliable, c->n_only_base, c->n_only_new);
	if (c->regressions) {
		regression_list(c, base, regs, sizeof(regs));
		snprintf(buf, n,
			 "REGRESSION: %zu of %zu comparison%s over "
			 "%zu configuration%s worse than %g%%: %s (%zu "
			 "improvement%s, %zu unchanged%s)",
			 c->regressions, c->nrows, plural(c->nrows), c->matched,
			 plural(c->matched), 100 * c->opts.threshold, regs,
			 c->improvements, plural(c->improvements), c->unchanged,
			 extra);
	} else {
		snprintf(buf, n,
			 "OK: no regression beyond %g%% in %zu "
			 "configuration%s (%zu improvement%s, %zu unchanged, "
			 "%zu not compared%s)",
			 100 * c->opts.threshold, c->matched,
			 plural(c->matched), c->improvements,
			 plural(c->improvements), c->unchanged, c->not_compared,
			 extra);
	}
}

static const char *label_of(const char *l, const char *dflt)
{
	return l ? l : dflt;
}

static void side_desc(char *buf, size_t n, const char *label,
		      const struct ipcb_context *ctx)
{
	snprintf(buf, n, "%s (%s%s%s%s%s)", label,
		 ctx->git_revision[0] ? "git " : "", ctx->git_revision,
		 ctx->git_revision[0] && ctx->start_time[0] ? ", " : "",
		 ctx->start_time, ctx->partial ? ", PARTIAL" : "");
}

static int write_table(FILE *f, const struct ipcb_comparison *c,
		       const struct ipcb_results *base,
		       const struct ipcb_results *nr,
		       const struct ipcb_cmp_labels *l)
{
	int width = (int)strlen("configuration");
	char bd[512], nd[512];

	for (size_t i = 0; i < c->nrows; i++) {
		char name[256];
		key_name(base, c->rows[i].base_i, name, sizeof(name));
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}
	side_desc(bd, sizeof(bd), label_of(l->base, "base"), &base->ctx);
	side_desc(nd, sizeof(nd), label_of(l->new_label, "new"), &nr->ctx);
	fprintf(f,
		"base: %s\nnew:  %s\nthreshold %g%%, U test at alpha %g "
		"with >= %u repetitions per side\n\n",
		bd, nd, 100 * c->opts.threshold, c->opts.alpha,
		c->opts.min_reps);
	fprintf(f, "%-*s  %-11s %11s %11s %8s %8s %5s  %s\n", width,
		"configuration", "metric", "base", "new", "change", "p-value",
		"reps", "verdict");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct ipcb_cmp_row *row = &c->rows[i];
		struct row_cells t;

		row_cells(base, row, &t);
		fprintf(f, "%-*s  %-11s %11s %11s %8s %8s %5s  %s\n", width,
			t.name, row_metric(row), t.base, t.new_val, t.change,
			t.p, t.reps, t.verdict);
	}
	for (size_t i = 0; i < c->n_only_base; i++) {
		char name[256];
		key_name(base, c->only_base[i], name, sizeof(name));
		fprintf(f, "only in base: %s\n", name);
	}
	for (size_t i = 0; i < c->n_only_new; i++) {
		char name[256];
		key_name(nr, c->only_new[i], name, sizeof(name));
		fprintf(f, "only in new:  %s\n", name);
	}
	return 0;
}

/* Writes s with the characters that would end a markdown table cell or
 * code span escaped. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '`' || *s == '*' || *s == '_')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* Writes s as a markdown code span (backslash escapes do not work inside
 * one: a backquote becomes a quote). */
static void md_code(FILE *f, const char *s)
{
	fputc('`', f);
	for (; *s; s++)
		fputc(*s == '`' ? '\'' : *s, f);
	fputc('`', f);
}

static void md_names(FILE *f, const char *title, const struct ipcb_results *r,
		     const size_t *idx, size_t n)
{
	if (!n)
		return;
	fprintf(f, "\n%s (not compared): ", title);
	for (size_t i = 0; i < n; i++) {
		char name[256];
		key_name(r, idx[i], name, sizeof(name));
		fprintf(f, "%s`%s`", i ? ", " : "", name);
	}
	fputc('\n', f);
}

static int write_markdown(FILE *f, const struct ipcb_comparison *c,
			  const struct ipcb_results *base,
			  const struct ipcb_results *nr,
			  const struct ipcb_cmp_labels *l)
{
	char bd[512], nd[512];

	side_desc(bd, sizeof(bd), label_of(l->base, "base"), &base->ctx);
	side_desc(nd, sizeof(nd), label_of(l->new_label, "new"), &nr->ctx);
	fprintf(f, "### ipcbench compare: %s\n\n",
		c->regressions ? "regression found" : "no regression");
	fputs("Base: ", f);
	md_text(f, bd);
	fputs("  \nNew: ", f);
	md_text(f, nd);
	fprintf(f,
		"  \nThreshold %g%%; Mann-Whitney U test over "
		"repetitions at alpha %g (at least %u per side, else "
		"threshold only).\n",
		100 * c->opts.threshold, c->opts.alpha, c->opts.min_reps);
	if (c->ndiffs) {
		fputs("\n> **Warning:** the runs were made in different "
		      "contexts, numbers may not be comparable:",
		      f);
		for (size_t i = 0; i < c->ndiffs; i++) {
			fprintf(f, "%s %s ", i ? ";" : "", c->diffs[i].field);
			md_code(f, c->diffs[i].base);
			fputs(" vs ", f);
			md_code(f, c->diffs[i].new_val);
		}
		fputs(".\n", f);
	}
	fputs("\n| configuration | metric | base | new | change | p-value | "
	      "reps | verdict |\n|---|---|--:|--:|--:|--:|--:|---|\n",
	      f);
	for (size_t i = 0; i < c->nrows; i++) {
		const struct ipcb_cmp_row *row = &c->rows[i];
		struct row_cells t;

		row_cells(base, row, &t);
		fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s | %s", t.name,
			row_metric(row), t.base, t.new_val, t.change, t.p,
			t.reps, row->verdict == IPCB_REGRESSION ? "**" : "");
		md_text(f, t.verdict);
		fprintf(f, "%s |\n",
			row->verdict == IPCB_REGRESSION ? "**" : "");
	}
	md_names(f, "Only in base", base, c->only_base, c->n_only_base);
	md_names(f, "Only in new", nr, c->only_new, c->n_only_new);
	return 0;
}

static json_t *jnum(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *side_json(const char *label, const struct ipcb_context *ctx)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "label", label, "version",
			 ctx->version, "git_revision", ctx->git_revision,
			 "start_time", ctx->start_time, "hostname",
			 ctx->hostname, "partial", ctx->partial);
}

static json_t *row_json(const struct ipcb_cmp_row *row,
			const struct ipcb_results *base)
{
	char name[256];

	key_name(base, row->base_i, name, sizeof(name));
	return json_pack(
		"{s:s,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:b,s:o,s:o,s:b,s:s,s:o}",
		"configuration", name, "metric",
		row->whole_config ? json_null()
				  : json_string(ipcb_metric_name(row->metric)),
		"lower_is_better",
		row->whole_config ? json_null()
				  : json_boolean(ipcb_metric_lower_is_better(
					    row->metric)),
		"base", jnum(row->base_val), "new", jnum(row->new_val),
		"change", jnum(row->change), "base_repetitions",
		(int)row->base_reps, "new_repetitions", (int)row->new_reps,
		"reliable", row->reliable, "p_value",
		row->reliable ? json_real(row->utest.p) : json_null(), "test",
		!row->reliable				? json_null()
		: row->utest.method == IPCB_UTEST_EXACT ? json_string("exact")
							: json_string("normal"),
		"significant", row->significant, "verdict",
		ipcb_verdict_name(row->verdict), "note",
		row->note[0] ? json_string(row->note) : json_null());
}

static json_t *names_json(const struct ipcb_results *r, const size_t *idx,
			  size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		char name[256];
		key_name(r, idx[i], name, sizeof(name));
		if (json_array_append_new(a, json_string(name))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int write_json(FILE *f, const struct ipcb_comparison *c,
		      const struct ipcb_results *base,
		      const struct ipcb_results *nr,
		      const struct ipcb_cmp_labels *l)
{
	json_t *rows = json_array(), *diffs = json_array();
	json_t *metrics = json_array(), *root;
	char verdict[1024];
	int rc;

	for (size_t i = 0; rows && i < c->nrows; i++)
		if (json_array_append_new(rows, row_json(&c->rows[i], base)))
			goto nomem;
	for (size_t i = 0; diffs && i < c->ndiffs; i++)
		if (json_array_append_new(diffs,
					  json_pack("{s:s,s:s,s:s}", "field",
						    c->diffs[i].field, "base",
						    c->diffs[i].base, "new",
						    c->diffs[i].new_val)))
			goto nomem;
	for (int m = 0; metrics && m < IPCB_METRIC_COUNT; m++)
		if ((c->opts.metrics & IPCB_METRIC_BIT(m)) &&
		    json_array_append_new(metrics,
					  json_string(metric_names[m])))
			goto nomem;
	if (!rows || !diffs || !metrics)
		goto nomem;
	ipcb_comparison_verdict(c, base, verdict, sizeof(verdict));
	root = json_pack(
		"{s:s,s:s,s:o,s:o,s:f,s:f,s:i,s:o,s:o,s:o,s:o,s:o,s:I,s:I,"
		"s:I,s:I,s:I,s:s,s:s}",
		"tool", "ipcbench", "kind", "compare", "base",
		side_json(label_of(l->base, "base"), &base->ctx), "new",
		side_json(label_of(l->new_label, "new"), &nr->ctx),
		"threshold_pct", 100 * c->opts.threshold, "alpha",
		c->opts.alpha, "min_repetitions", (int)c->opts.min_reps,
		"metrics", metrics, "context_differences", diffs, "comparisons",
		rows, "only_in_base",
		names_json(base, c->only_base, c->n_only_base), "only_in_new",
		names_json(nr, c->only_new, c->n_only_new), "matched",
		(json_int_t)c->matched, "regressions",
		(json_int_t)c->regressions, "improvements",
		(json_int_t)c->improvements, "unchanged",
		(json_int_t)c->unchanged, "not_compared",
		(json_int_t)c->not_compared, "verdict",
		c->regressions ? "regression" : "ok", "summary", verdict);
	if (!root)
		return -ENOMEM;
	rc = json_dumpf(root, f,
			JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(root);
	return rc ? -EIO : 0;
nomem:
	json_decref(rows);
	json_decref(diffs);
	json_decref(metrics);
	return -ENOMEM;
}

int ipcb_write_comparison(FILE *f, const struct ipcb_comparison *c,
			  const struct ipcb_results *base,
			  const struct ipcb_results *new_res,
			  const struct ipcb_cmp_labels *labels,
			  enum ipcb_cmp_format fmt)
{
	struct ipcb_cmp_labels none = { NULL, NULL };
	char verdict[1024];
	int rc;

	if (!labels)
		labels = &none;
	if (fmt == IPCB_CMP_JSON) {
		rc = write_json(f, c, base, new_res, labels);
		return rc ? rc : ferror(f) ? -EIO : 0;
	}
	if (fmt == IPCB_CMP_MARKDOWN)
		rc = write_markdown(f, c, base, new_res, labels);
	else
		rc = write_table(f, c, base, new_res, labels);
	if (rc)
		return rc;
	ipcb_comparison_verdict(c, base, verdict, sizeof(verdict));
	if (fmt == IPCB_CMP_MARKDOWN) {
		fputs("\n**", f);
		md_text(f, verdict);
		fputs("**\n", f);
	} else {
		fprintf(f, "\n%s\n", verdict);
	}
	return ferror(f) ? -EIO : 0;
}
