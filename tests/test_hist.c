/*
 * test_hist.c - unit tests of the log-linear histogram (harness/hist.h).
 *
 * Percentiles are checked against the exact nearest-rank values of the
 * same samples, sorted, within the relative error bound hist.h documents
 * (below 1/2^(IPCB_HIST_SUB_BITS+1), itself below 1%). The samples come
 * from a fixed-seed PRNG, so every run checks the same numbers.
 */
#include "harness/hist.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NSAMPLES 100000
/* The bound hist.h states for a percentile's relative error. */
#define REL_BOUND (1.0 / (double)(1u << (IPCB_HIST_SUB_BITS + 1)))

static const double quantiles[] = { 0.001, 0.01, 0.1,  0.25,  0.5,
				    0.75,  0.9,	 0.99, 0.999, 0.9999 };

/* splitmix64: a small PRNG with a fixed seed, identical everywhere. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
	return (double)(rng_next() >> 11) * 0x1p-53;
}

static uint64_t gen_uniform(void)
{
	return 1000 + rng_next() % 999000; /* 1 us .. 1 ms */
}

static uint64_t gen_exponential(void)
{
	return (uint64_t)(-5000.0 * log(1.0 - rng_unit())) + 200;
}

/* 90% near 2 us, 10% near 500 us: two humps far apart. */
static uint64_t gen_bimodal(void)
{
	if (rng_next() % 10)
		return 1900 + rng_next() % 201;
	return 490000 + rng_next() % 20001;
}

/* Log-uniform from 1 ns to 10 s. */
static uint64_t gen_wide(void)
{
	return (uint64_t)exp(rng_unit() * log(1e10)) + 1;
}

static uint64_t gen_small(void)
{
	return rng_next() % IPCB_HIST_SUB;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank quantile hist.h defines: the smallest value with at
 * least ceil(q * n) values at or below it. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)n);

	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static struct ipcb_hist *hist_new(void)
{
	struct ipcb_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	ipcb_hist_reset(h);
	return h;
}

/* Records NSAMPLES values of gen into a histogram and checks min, max,
 * mean (exact) and every percentile (within the bound) against the
 * sorted samples. */
static void check_distribution(uint64_t (*gen)(void), uint64_t seed, bool exact)
{
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));
	struct ipcb_hist *h = hist_new();
	uint64_t sum = 0;

	assert_non_null(v);
	rng_state = seed;
	for (size_t i = 0; i < NSAMPLES; i++) {
		v[i] = gen();
		sum += v[i];
		ipcb_hist_record(h, v[i]);
	}
	qsort(v, NSAMPLES, sizeof(*v), cmp_u64);

	assert_int_equal(h->count, NSAMPLES);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[NSAMPLES - 1]);
	/* The sum stays below 2^53, so the mean is exact. */
	assert_true(sum < (1ull << 53));
	assert_true(ipcb_hist_mean(h) == (double)sum / NSAMPLES);
	assert_true(ipcb_hist_quantile(h, 0) == (double)v[0]);
	assert_true(ipcb_hist_quantile(h, 1) == (double)v[NSAMPLES - 1]);

	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++) {
		double want = (double)exact_quantile(v, NSAMPLES, quantiles[i]);
		double got = ipcb_hist_quantile(h, quantiles[i]);

		if (exact) {
			assert_true(got == want);
		} else if (fabs(got - want) >= REL_BOUND * want) {
			fail_msg("q=%g: histogram %.1f, exact %.0f: relative "
				 "error %.5f not below %.5f",
				 quantiles[i], got, want,
				 fabs(got - want) / want, REL_BOUND);
		}
	}
	free(h);
	free(v);
}

static void test_bound_below_one_percent(void **state)
{
	(void)state;
	assert_true(REL_BOUND < 0.01);
}

static void test_uniform(void **state)
{
	(void)state;
	check_distribution(gen_uniform, 1, false);
}

static void test_exponential(void **state)
{
	(void)state;
	check_distribution(gen_exponential, 2, false);
}

static void test_bimodal(void **state)
{
	(void)state;
	check_distribution(gen_bimodal, 3, false);
}

static void test_wide_range(void **state)
{
	(void)state;
	check_distribution(gen_wide, 4, false);
}

static void test_small_values_exact(void **state)
{
	(void)state;
	check_distribution(gen_small, 5, true);
}

/* Every value below 2^SUB_BITS, recorded once, comes back exactly. */
static void test_each_small_value(void **state)
{
	struct ipcb_hist *h = hist_new();

	(void)state;
	for (uint64_t x = 0; x < IPCB_HIST_SUB; x++)
		ipcb_hist_record(h, x);
	for (uint64_t x = 0; x < IPCB_HIST_SUB; x++)
		assert_true(ipcb_hist_quantile(h, (double)(x + 1) /
							  IPCB_HIST_SUB) ==
			    (double)x);
	free(h);
}

/* One value: every quantile is that value (clamped to min and max). */
static void test_single_value(void **state)
{
	struct ipcb_hist *h = hist_new();

	(void)state;
	ipcb_hist_record(h, 1000003);
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		assert_true(ipcb_hist_quantile(h, quantiles[i]) == 1000003.0);
	assert_true(ipcb_hist_mean(h) == 1000003.0);
	free(h);
}

static void test_empty_is_nan(void **state)
{
	struct ipcb_hist *h = hist_new();

	(void)state;
	assert_int_equal(h->count, 0);
	assert_true(isnan(ipcb_hist_quantile(h, 0)));
	assert_true(isnan(ipcb_hist_quantile(h, 0.5)));
	assert_true(isnan(ipcb_hist_quantile(h, 0.99)));
	assert_true(isnan(ipcb_hist_quantile(h, 1)));
	assert_true(isnan(ipcb_hist_mean(h)));
	free(h);
}

static void assert_hist_equal(const struct ipcb_hist *a,
			      const struct ipcb_hist *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_true(a->sum == b->sum);
	assert_memory_equal(a->bucket, b->bucket, sizeof(a->bucket));
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		assert_true(ipcb_hist_quantile(a, quantiles[i]) ==
			    ipcb_hist_quantile(b, quantiles[i]));
}

/* Recording into two histograms and merging equals recording everything
 * into one; merging an empty histogram changes nothing. */
static void test_merge(void **state)
{
	struct ipcb_hist *all = hist_new(), *a = hist_new(), *b = hist_new();
	struct ipcb_hist *empty = hist_new(), *fresh = hist_new();

	(void)state;
	rng_state = 6;
	for (size_t i = 0; i < NSAMPLES; i++) {
		/* b gets the wide values, a the narrow ones: their
		 * minima and maxima differ. */
		uint64_t x = i % 3 ? gen_bimodal() : gen_wide();

		ipcb_hist_record(all, x);
		ipcb_hist_record(i % 3 ? a : b, x);
	}
	ipcb_hist_merge(a, b);
	assert_hist_equal(a, all);

	ipcb_hist_merge(a, empty);
	assert_hist_equal(a, all);

	ipcb_hist_merge(fresh, all);
	assert_hist_equal(fresh, all);

	free(fresh);
	free(empty);
	free(b);
	free(a);
	free(all);
}

/* Beyond the documented range (2^44 ns) values are clamped into the last
 * bucket, but min, max and quantile 1 stay exact. */
static void test_beyond_range(void **state)
{
	struct ipcb_hist *h = hist_new();

	(void)state;
	ipcb_hist_record(h, 5);
	ipcb_hist_record(h, UINT64_MAX);
	assert_int_equal(h->min, 5);
	assert_int_equal(h->max, UINT64_MAX);
	assert_true(ipcb_hist_quantile(h, 0) == 5.0);
	assert_true(ipcb_hist_quantile(h, 1) == (double)UINT64_MAX);
	assert_true(ipcb_hist_quantile(h, 0.5) == 5.0);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_below_one_percent),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_wide_range),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_each_small_value),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_empty_is_nan),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_beyond_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
