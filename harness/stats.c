/*
 * stats.c - median, mean, standard deviation, coefficient of variation and
 * the two-sided Mann-Whitney U test (exact or normal approximation; see
 * stats.h for which is used when).
 */
#define _GNU_SOURCE
#include "harness/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double ipcb_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ipcb_mean(const double *v, size_t n)
{
	double sum = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return sum / (double)n;
}

double ipcb_stddev(const double *v, size_t n)
{
	double mean, ss = 0;

	if (n < 2)
		return NAN;
	mean = ipcb_mean(v, n);
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	return sqrt(ss / (double)(n - 1));
}

double ipcb_cv(const double *v, size_t n)
{
	double mean = ipcb_mean(v, n);

	if (n < 2 || mean == 0)
		return NAN;
	return ipcb_stddev(v, n) / mean;
}

double ipcb_mann_whitney_exact_p(size_t nx, size_t ny, double u)
{
	/* Rows i = 0..m of g hold the counts of orderings of i values of the
	 * smaller sample among j of the larger one, by U in 0..i*j: adding
	 * the j-th larger-sample value as the largest of all adds nothing
	 * to U, adding the i-th smaller-sample value as the largest adds j,
	 * so f(i, j, u) = f(i, j - 1, u) + f(i - 1, j, u - j). */
	size_t m = nx < ny ? nx : ny, big = nx < ny ? ny : nx;
	size_t width = m * big + 1;
	double umin, below = 0, total = 0;
	double *g;

	if (m == 0 || big > IPCB_UTEST_EXACT_MAX || isnan(u))
		return NAN;
	g = calloc((m + 1) * width, sizeof(*g));
	if (!g)
		return NAN;
	for (size_t i = 0; i <= m; i++)
		g[i * width] = 1;
	for (size_t j = 1; j <= big; j++)
		for (size_t i = 1; i <= m; i++)
			for (size_t k = j; k <= i * j; k++)
				g[i * width + k] += g[(i - 1) * width + k - j];
	umin = fmin(u, (double)(m * big) - u);
	for (size_t k = 0; k < width; k++) {
		total += g[m * width + k];
		if ((double)k <= umin)
			below += g[m * width + k];
	}
	free(g);
	return fmin(1.0, 2 * below / total);
}

struct tagged {
	double v;
	bool first; /* from x */
};

static int cmp_tagged(const void *a, const void *b)
{
	return cmp_double(&((const struct tagged *)a)->v,
			  &((const struct tagged *)b)->v);
}

int ipcb_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
		      struct ipcb_utest *out)
{
	size_t n = nx + ny;
	double rank_x = 0, tie_sum = 0, mu, var, z;
	struct tagged *all;

	if (nx == 0 || ny == 0)
		return -EINVAL;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		all[i] = (struct tagged){ x[i], true };
	for (size_t i = 0; i < ny; i++)
		all[nx + i] = (struct tagged){ y[i], false };
	for (size_t i = 0; i < n; i++)
		if (isnan(all[i].v)) {
			free(all);
			return -EINVAL;
		}
	qsort(all, n, sizeof(*all), cmp_tagged);

	/* Ranks 1..n, tied values sharing their mean rank. */
	for (size_t i = 0, j; i < n; i = j) {
		double t, midrank;

		for (j = i + 1; j < n && all[j].v == all[i].v; j++)
			;
		t = (double)(j - i);
		midrank = ((double)i + 1 + (double)j) / 2;
		for (size_t k = i; k < j; k++)
			if (all[k].first)
				rank_x += midrank;
		tie_sum += t * t * t - t;
	}
	free(all);

	memset(out, 0, sizeof(*out));
	out->u = rank_x - (double)nx * ((double)nx + 1) / 2;
	out->ties = tie_sum > 0;
	if (!out->ties && nx <= IPCB_UTEST_EXACT_MAX &&
	    ny <= IPCB_UTEST_EXACT_MAX) {
		out->method = IPCB_UTEST_EXACT;
		out->p = ipcb_mann_whitney_exact_p(nx, ny, out->u);
		return isnan(out->p) ? -ENOMEM : 0;
	}

	out->method = IPCB_UTEST_NORMAL;
	mu = (double)nx * (double)ny / 2;
	var = (double)nx * (double)ny / 12 *
	      (((double)n + 1) - tie_sum / ((double)n * ((double)n - 1)));
	if (var <= 0) {
		out->p = 1;
		return 0;
	}
	z = fmax(0, fabs(out->u - mu) - 0.5) / sqrt(var);
	out->p = fmin(1.0, erfc(z / M_SQRT2));
	return 0;
}
