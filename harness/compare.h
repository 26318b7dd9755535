/*
 * compare.h - compare two result sets (a baseline and a new run) the way
 * `ipcbench compare` does: match configurations by key, and for each
 * matched configuration and metric decide regression, improvement or
 * unchanged, with a Mann-Whitney U test over the repetitions when both
 * sides have enough of them.
 *
 * Judgement, per configuration and metric:
 *  - base and new values are the medians over the repetitions (the
 *    results' own top-level numbers when a side has no repetitions);
 *    change = (new - base) / base.
 *  - reliable: both sides have at least min_reps repetitions with the
 *    metric measured. Then the U test runs and the change counts only if
 *    p < alpha: a regression is a change worse than the threshold that is
 *    significant, an improvement a change better than the threshold that
 *    is significant; everything else is unchanged.
 *  - unreliable (fewer repetitions): judged by the threshold alone, and
 *    flagged as such.
 *  - a configuration that ran in the base but failed in the new run is a
 *    regression (of every metric at once: one row); one that is not
 *    measured on either side is not compared.
 * Many configurations times metrics means many tests: at alpha = 0.05 one
 * in twenty unchanged rows is "significant" by chance, which is why a
 * regression must also exceed the threshold.
 */
#ifndef IPCB_COMPARE_H
#define IPCB_COMPARE_H

#include "harness/results.h"
#include "harness/stats.h"

#include <stdio.h>

enum ipcb_metric {
	IPCB_METRIC_P50,
	IPCB_METRIC_P90,
	IPCB_METRIC_P99,
	IPCB_METRIC_P999,
	IPCB_METRIC_MAX,
	IPCB_METRIC_MEAN,
	IPCB_METRIC_MSGS_PER_S,
	IPCB_METRIC_BYTES_PER_S,
	IPCB_METRIC_COUNT
};

#define IPCB_METRIC_BIT(m) (1u << (m))
/* p50, p99 latency and msgs_per_s throughput. */
#define IPCB_METRICS_DEFAULT                                                   \
	(IPCB_METRIC_BIT(IPCB_METRIC_P50) | IPCB_METRIC_BIT(IPCB_METRIC_P99) | \
	 IPCB_METRIC_BIT(IPCB_METRIC_MSGS_PER_S))

/* "p50", ..., "msgs_per_s", "bytes_per_s". */
const char *ipcb_metric_name(enum ipcb_metric m);
/* The metric named s, or -1. */
int ipcb_metric_parse(const char *s);
/* Latency metrics: lower is better; throughput: higher is better. */
bool ipcb_metric_lower_is_better(enum ipcb_metric m);
/* Parses a comma-separated metric list ("p50,p99,msgs_per_s") into a mask
 * of IPCB_METRIC_BIT()s. Returns 0, or -EINVAL with the offending name
 * (or "empty list") in err. */
int ipcb_metric_list_parse(const char *list, unsigned *mask, char *err,
			   size_t errlen);

enum ipcb_verdict {
	IPCB_UNCHANGED,
	IPCB_IMPROVEMENT,
	IPCB_REGRESSION,
	IPCB_NOT_COMPARED, /* not measured on one side */
};

const char *ipcb_verdict_name(enum ipcb_verdict v);

struct ipcb_compare_opts {
	double threshold;  /* relative change that matters, 0.05 = 5% */
	double alpha;	   /* significance level of the U test */
	unsigned min_reps; /* repetitions per side for the U test */
	unsigned metrics;  /* mask of IPCB_METRIC_BIT()s */
};

/* threshold 5%, alpha 0.05, min_reps 5, IPCB_METRICS_DEFAULT. */
void ipcb_compare_opts_default(struct ipcb_compare_opts *o);

/* One configuration and metric. */
struct ipcb_cmp_row {
	size_t base_i, new_i;	      /* indices into base->v and new->v */
	enum ipcb_metric metric;      /* unused when whole_config */
	bool whole_config;	      /* the row stands for the configuration:
				     a failure, see note */
	double base_val, new_val;     /* medians; NaN when not measured */
	double change;		      /* relative; NaN when not computable */
	unsigned base_reps, new_reps; /* repetitions with the metric */
	bool reliable;		      /* the U test ran */
	struct ipcb_utest utest;      /* valid when reliable */
	bool significant;	      /* reliable and p < alpha */
	bool beyond;		      /* |change| exceeds the threshold */
	enum ipcb_verdict verdict;
	char note[192]; /* why not compared / why failed, or "" */
};

/* A context field that differs between the two runs. */
struct ipcb_cmp_diff {
	const char *field; /* "hostname", "kernel", ... */
	char base[256], new_val[256];
};

#define IPCB_CMP_MAX_DIFFS 8

struct ipcb_comparison {
	struct ipcb_compare_opts opts;
	struct ipcb_cmp_row *rows;
	size_t nrows;
	size_t *only_base, n_only_base; /* indices of unmatched results */
	size_t *only_new, n_only_new;
	size_t matched; /* configurations on both sides */
	struct ipcb_cmp_diff diffs[IPCB_CMP_MAX_DIFFS];
	size_t ndiffs;
	size_t regressions, improvements, unchanged, not_compared; /* rows */
};

/*
 * Compares new against base with options o (NULL: defaults). Fills *c
 * (free with ipcb_comparison_free, also after a failure). base and new
 * must outlive c. Matching pairs each base result with the first unused
 * new result of equal key, so duplicated keys pair in order.
 * Context differences checked: hostname, kernel, cpu_model, cpu_count,
 * placement. Returns 0 (also when nothing matched: c->matched == 0) or
 * -ENOMEM.
 */
int ipcb_compare(const struct ipcb_results *base,
		 const struct ipcb_results *new_res,
		 const struct ipcb_compare_opts *o, struct ipcb_comparison *c);
void ipcb_comparison_free(struct ipcb_comparison *c);

enum ipcb_cmp_format { IPCB_CMP_TABLE, IPCB_CMP_MARKDOWN, IPCB_CMP_JSON };

/* Labels the writers print for each side: usually the file names. */
struct ipcb_cmp_labels {
	const char *base, *new_label;
};

/*
 * Writes the comparison: a table for a terminal, markdown that pastes into
 * a pull request (the verdict is its last line), or JSON (the verdict is a
 * field; compare.c documents the layout). The table and markdown
 * end with the verdict line of ipcb_comparison_verdict(). Returns 0 or
 * -errno.
 */
int ipcb_write_comparison(FILE *f, const struct ipcb_comparison *c,
			  const struct ipcb_results *base,
			  const struct ipcb_results *new_res,
			  const struct ipcb_cmp_labels *labels,
			  enum ipcb_cmp_format fmt);

/* The one-line verdict, without newline: "REGRESSION: ..." or
 * "OK: no regression ...". */
void ipcb_comparison_verdict(const struct ipcb_comparison *c,
			     const struct ipcb_results *base, char *buf,
			     size_t n);

#endif
