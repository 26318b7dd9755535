/*
 * stats.h - statistics over repetitions: median, mean, standard deviation,
 * coefficient of variation, and the Mann-Whitney U test that `ipcbench
 * compare` runs on two sets of repetitions.
 *
 * The summary helpers take plain double arrays that must not hold NaN
 * (filter unmeasured values out first); they return NaN when the array is
 * too short for the statistic.
 */
#ifndef IPCB_STATS_H
#define IPCB_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Median of v[0..n). Sorts v in place (ascending): pass a copy if the order
 * matters. Even n: the mean of the two middle values. NaN if n == 0. */
double ipcb_median(double *v, size_t n);

/* Arithmetic mean. NaN if n == 0. v is not modified. */
double ipcb_mean(const double *v, size_t n);

/* Sample standard deviation (denominator n - 1, as Google Benchmark's
 * stddev aggregate). NaN if n < 2. v is not modified. */
double ipcb_stddev(const double *v, size_t n);

/* Coefficient of variation: sample standard deviation / mean. NaN if
 * n < 2 or the mean is 0. v is not modified. */
double ipcb_cv(const double *v, size_t n);

enum ipcb_utest_method {
	IPCB_UTEST_EXACT,  /* exact null distribution of U, no ties */
	IPCB_UTEST_NORMAL, /* normal approximation, tie and continuity
			      corrected */
};

/* Samples up to this many values per side (and no ties anywhere) get the
 * exact p-value; above it the normal approximation is accurate. */
#define IPCB_UTEST_EXACT_MAX 50

struct ipcb_utest {
	/* U of the first sample: pairs (x, y) with x > y, plus half the
	 * pairs with x == y. U of the second is nx * ny - u. */
	double u;
	double p; /* two-sided p-value, in [0, 1] */
	enum ipcb_utest_method method;
	bool ties; /* some value occurs more than once in x and y */
};

/*
 * Two-sided Mann-Whitney U test (Wilcoxon rank-sum) of x[0..nx) against
 * y[0..ny): could both samples come from one distribution?
 *
 * Method: with no ties in the combined sample and nx, ny both at most
 * IPCB_UTEST_EXACT_MAX, the exact p-value: the null distribution of U is
 * enumerated by dynamic programming over all C(nx + ny, nx) equally likely
 * orderings, p = min(1, 2 * P(U <= min(U_x, U_y))). Otherwise (ties, or
 * larger samples) the normal approximation: mean nx*ny/2, variance
 * nx*ny/12 * ((n + 1) - sum(t^3 - t) / (n(n - 1))) over tie groups of size
 * t (n = nx + ny), continuity correction 0.5, p = erfc(|z| / sqrt 2).
 * All values equal (zero variance) gives p = 1.
 *
 * Returns 0, -EINVAL if a sample is empty or holds NaN, -ENOMEM.
 */
int ipcb_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
		      struct ipcb_utest *out);

/* The exact two-sided p-value of U = u for samples of nx and ny values
 * without ties: min(1, 2 * P(U <= min(u, nx*ny - u))). NaN if nx or ny is 0
 * or above IPCB_UTEST_EXACT_MAX, or on allocation failure. */
double ipcb_mann_whitney_exact_p(size_t nx, size_t ny, double u);

#endif
