/*
 * stats_test.c - the summary helpers and the Mann-Whitney U test of
 * harness/stats.c against published values.
 *
 * Sources of the expected numbers:
 *  - Exact null distribution: with no ties every one of the C(nx+ny, nx)
 *    orderings is equally likely, so complete separation of 3 vs 3 values
 *    has two-sided p = 2/C(6,3) = 0.1 and of 5 vs 5 p = 2/C(10,5) =
 *    2/252 = 0.0079365; R's wilcox.test(1:3, 4:6) and wilcox.test(1:5,
 *    6:10) print p-value = 0.1 and 0.007937.
 *  - Hollander & Wolfe (1973), Nonparametric Statistical Methods, p. 69,
 *    permeability constants of the human chorioamnion, the example of R's
 *    ?wilcox.test: W = 35, one-sided p-value = 0.1272, so two-sided
 *    0.2544 (0.254412... by enumeration of all 3003 orderings).
 *  - The standard table of critical values of U for a two-tailed test at
 *    alpha = 0.05 (printed in most statistics textbooks; also re-derived
 *    by enumeration): n1 = n2 = 5: 2, 8: 13, 9: 17, 10: 23. U at the
 *    critical value is significant (p <= 0.05), one above it is not.
 *  - The other values below were cross-checked with an independent
 *    implementation, scipy.stats.mannwhitneyu (scipy 1.10, two-sided).
 */
#define _GNU_SOURCE
#include "harness/stats.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define assert_near(a, b, eps)                                               \
	do {                                                                 \
		double a_ = (a), b_ = (b);                                   \
		if (!(fabs(a_ - b_) <= (eps)))                               \
			fail_msg("%s = %.10g, expected %.10g +- %g", #a, a_, \
				 b_, (double)(eps));                         \
	} while (0)

static void test_summaries(void **state)
{
	double v[] = { 5, 1, 4, 2, 3 };
	double even[] = { 4, 1, 3, 2 };
	double one[] = { 7 };

	(void)state;
	assert_near(ipcb_mean(v, 5), 3, 1e-12);
	/* Sample standard deviation of 1..5: sqrt(10 / 4). */
	assert_near(ipcb_stddev(v, 5), sqrt(2.5), 1e-12);
	assert_near(ipcb_cv(v, 5), sqrt(2.5) / 3, 1e-12);
	assert_near(ipcb_median(v, 5), 3, 0);
	assert_near(v[0], 1, 0); /* sorted in place, as documented */
	assert_near(v[4], 5, 0);
	assert_near(ipcb_median(even, 4), 2.5, 0);
	assert_near(ipcb_median(one, 1), 7, 0);
	assert_true(isnan(ipcb_median(v, 0)));
	assert_true(isnan(ipcb_mean(v, 0)));
	assert_true(isnan(ipcb_stddev(one, 1)));
	assert_true(isnan(ipcb_cv(one, 1)));
}

static void test_exact_separated(void **state)
{
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	double c[] = { 1, 2, 3, 4, 5 }, d[] = { 6, 7, 8, 9, 10 };
	struct ipcb_utest t;

	(void)state;
	assert_int_equal(ipcb_mann_whitney(a, 3, b, 3, &t), 0);
	assert_int_equal(t.method, IPCB_UTEST_EXACT);
	assert_false(t.ties);
	assert_near(t.u, 0, 0);
	assert_near(t.p, 0.1, 1e-12);
	/* Swapping the samples mirrors U and keeps p. */
	assert_int_equal(ipcb_mann_whitney(b, 3, a, 3, &t), 0);
	assert_near(t.u, 9, 0);
	assert_near(t.p, 0.1, 1e-12);
	assert_int_equal(ipcb_mann_whitney(c, 5, d, 5, &t), 0);
	assert_near(t.p, 2.0 / 252, 1e-12);
}

static void test_exact_hollander_wolfe(void **state)
{
	double x[] = { 0.80, 0.83, 1.89, 1.04, 1.45,
		       1.38, 1.91, 1.64, 0.73, 1.46 };
	double y[] = { 1.15, 0.88, 0.90, 0.74, 1.21 };
	struct ipcb_utest t;

	(void)state;
	assert_int_equal(ipcb_mann_whitney(x, 10, y, 5, &t), 0);
	assert_int_equal(t.method, IPCB_UTEST_EXACT);
	assert_near(t.u, 35, 0);
	assert_near(t.p, 2 * 0.1272, 0.0002);
	assert_near(t.p, 0.2544122544, 1e-9);
}

static void test_exact_critical_values(void **state)
{
	static const struct {
		size_t n;
		double u;
	} crit[] = { { 5, 2 }, { 8, 13 }, { 9, 17 }, { 10, 23 } };

	(void)state;
	for (size_t i = 0; i < sizeof(crit) / sizeof(crit[0]); i++) {
		size_t n = crit[i].n;
		double at = ipcb_mann_whitney_exact_p(n, n, crit[i].u);
		double above = ipcb_mann_whitney_exact_p(n, n, crit[i].u + 1);
		if (!(at <= 0.05 && above > 0.05))
			fail_msg("n=%zu: p(U=%g)=%g p(U=%g)=%g", n, crit[i].u,
				 at, crit[i].u + 1, above);
		/* U and n1*n2 - U are the same two-sided test. */
		assert_near(ipcb_mann_whitney_exact_p(
				    n, n, (double)(n * n) - crit[i].u),
			    at, 1e-15);
	}
	assert_near(ipcb_mann_whitney_exact_p(4, 4, 8), 1, 0);
	assert_true(isnan(ipcb_mann_whitney_exact_p(0, 4, 0)));
	assert_true(isnan(
		ipcb_mann_whitney_exact_p(IPCB_UTEST_EXACT_MAX + 1, 4, 0)));
}

/*
 * Ties force the normal approximation. x = {1, 2, 2, 3}, y = {2, 3, 4, 5}:
 * sorted 1 2 2 2 3 3 4 5, ranks 1, 3, 3, 3, 5.5, 5.5, 7, 8; x holds ranks
 * 1 + 3 + 3 + 5.5 = 12.5, U = 12.5 - 10 = 2.5. Mean 8; ties of 3 and 2
 * give sum(t^3 - t) = 24 + 6 = 30, variance 16/12 * (9 - 30/56) = 11.2857;
 * z = (|2.5 - 8| - 0.5) / sqrt(11.2857) = 1.48837, p = erfc(z / sqrt 2) =
 * 0.1366582477, as scipy.stats.mannwhitneyu(x, y, method="asymptotic")
 * (continuity corrected, scipy 1.10) computes it.
 */
static void test_normal_ties(void **state)
{
	double x[] = { 1, 2, 2, 3 }, y[] = { 2, 3, 4, 5 };
	double same[] = { 7, 7, 7 };
	struct ipcb_utest t;

	(void)state;
	assert_int_equal(ipcb_mann_whitney(x, 4, y, 4, &t), 0);
	assert_int_equal(t.method, IPCB_UTEST_NORMAL);
	assert_true(t.ties);
	assert_near(t.u, 2.5, 0);
	assert_near(t.p,
		    erfc(5.0 / sqrt(16.0 / 12 * (9 - 30.0 / 56)) / M_SQRT2),
		    1e-12);
	assert_near(t.p, 0.1366582477381475, 1e-12);
	/* All values equal: no evidence of any difference. */
	assert_int_equal(ipcb_mann_whitney(same, 3, same, 3, &t), 0);
	assert_near(t.p, 1, 0);
}

/* Without ties the two methods must agree closely where both apply; above
 * IPCB_UTEST_EXACT_MAX values the normal approximation is used. */
static void test_exact_vs_normal(void **state)
{
	double x[60], y[60], y2[60];
	struct ipcb_utest exact, big;
	double z, approx;

	(void)state;
	for (int i = 0; i < 60; i++) {
		x[i] = i * 1.0;	      /* 0, 1, 2, ... */
		y[i] = i * 1.0 + 6.5; /* shifted, interleaved, no ties */
		y2[i] = i * 1.0 + 3.5;
	}
	/* U = 1 + 2 + ... + 13 = 91 of 400: exact p = 0.0026426306
	 * (scipy.stats.mannwhitneyu, method="exact"), the normal
	 * approximation z = 2.92, p = 0.0035. */
	assert_int_equal(ipcb_mann_whitney(x, 20, y, 20, &exact), 0);
	assert_int_equal(exact.method, IPCB_UTEST_EXACT);
	assert_near(exact.u, 91, 0);
	z = (fabs(exact.u - 200) - 0.5) / sqrt(400.0 * 41 / 12);
	approx = erfc(z / M_SQRT2);
	assert_near(exact.p, 0.0026426305915593523, 1e-12);
	assert_near(exact.p, approx, 0.001);
	assert_true(exact.p < 0.05);

	/* U = 1 + 2 + ... + 56 = 1596 of 3600, z = 1.07, p = 0.2854763
	 * (scipy.stats.mannwhitneyu, method="asymptotic"). */
	assert_int_equal(ipcb_mann_whitney(x, 60, y2, 60, &big), 0);
	assert_int_equal(big.method, IPCB_UTEST_NORMAL);
	assert_false(big.ties);
	assert_near(big.u, 1596, 0);
	assert_near(
		big.p,
		erfc((1800 - 1596 - 0.5) / sqrt(3600.0 * 121 / 12) / M_SQRT2),
		1e-12);
	assert_near(big.p, 0.28547630885188224, 1e-12);
}

static void test_bad_input(void **state)
{
	double x[] = { 1, NAN }, y[] = { 2, 3 };
	struct ipcb_utest t;

	(void)state;
	assert_int_equal(ipcb_mann_whitney(x, 2, y, 2, &t), -EINVAL);
	assert_int_equal(ipcb_mann_whitney(y, 0, y, 2, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_exact_separated),
		cmocka_unit_test(test_exact_hollander_wolfe),
		cmocka_unit_test(test_exact_critical_values),
		cmocka_unit_test(test_normal_ties),
		cmocka_unit_test(test_exact_vs_normal),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
