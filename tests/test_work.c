/*
 * test_work.c - unit tests of the per-message work (harness/work.h) and
 * the --verify payload pattern (harness/msg.h).
 *
 * The calibration test checks the arithmetic that turns a measurement into
 * a round count, never this machine's speed.
 */
#include "harness/msg.h"
#include "harness/work.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ipcb_work_rounds_for is within 1% (or one round) of the exact
 * proportion. */
#define ROUNDS_TOLERANCE 0.01

static void test_work_parse_accepts(void **state)
{
	static const struct {
		const char *s;
		enum ipcb_work_kind kind;
		unsigned usec;
	} cases[] = {
		{ "none", IPCB_WORK_NONE, 0 },
		{ "cpu:1", IPCB_WORK_CPU, 1 },
		{ "cpu:50", IPCB_WORK_CPU, 50 },
		{ "cpu:050", IPCB_WORK_CPU, 50 },
		{ "cpu:1000000", IPCB_WORK_CPU, 1000000 },
		{ "io:1", IPCB_WORK_IO, 1 },
		{ "io:50", IPCB_WORK_IO, 50 },
		{ "io:1000000", IPCB_WORK_IO, 1000000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipcb_work w;

		memset(&w, 0xff, sizeof(w));
		if (ipcb_work_parse(cases[i].s, &w) != 0)
			fail_msg("'%s' refused", cases[i].s);
		assert_int_equal(w.kind, cases[i].kind);
		assert_int_equal(w.usec, cases[i].usec);
		assert_int_equal(w.iters, 0);
	}
}

static void test_work_parse_rejects(void **state)
{
	static const char *const cases[] = {
		"",
		"cpu",
		"cpu:",
		"cpu:0",
		"cpu:-5",
		"cpu:+5",
		"cpu: 5",
		"cpu:5 ",
		"cpu:5x",
		"cpu:1.5",
		"cpu:1e3",
		"cpu:0x10",
		"cpu:1000001",
		"cpu:4294967297",
		"cpu:18446744073709551617",
		"io:",
		"io:0",
		"io:99999999",
		"gpu:5",
		"none:5",
		"None",
		"CPU:5",
		":5",
		"cpu:5:5",
		" none",
		"none ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipcb_work w;
		int rc = ipcb_work_parse(cases[i], &w);

		if (rc != -EINVAL)
			fail_msg("'%s': returned %d, not -EINVAL", cases[i],
				 rc);
	}
}

/* A spec written back by ipcb_work_name parses to the same work. */
static void test_work_name_round_trip(void **state)
{
	static const char *const specs[] = {
		"none", "cpu:1", "cpu:50",     "cpu:1000000",
		"io:1", "io:50", "io:1000000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct ipcb_work w, again;
		char name[32];

		assert_int_equal(ipcb_work_parse(specs[i], &w), 0);
		ipcb_work_name(&w, name, sizeof(name));
		assert_string_equal(name, specs[i]);
		assert_int_equal(ipcb_work_parse(name, &again), 0);
		assert_int_equal(again.kind, w.kind);
		assert_int_equal(again.usec, w.usec);
	}
}

static void test_work_name_truncates(void **state)
{
	struct ipcb_work w = { IPCB_WORK_CPU, 1000000, 0 };
	char name[6];

	(void)state;
	ipcb_work_name(&w, name, sizeof(name));
	assert_string_equal(name, "cpu:1");
}

/* rounds_for(rounds, elapsed_ns, target_us) against the exact proportion
 * rounds * target_us * 1000 / elapsed_ns. */
static void test_rounds_for(void **state)
{
	static const struct {
		uint64_t rounds, elapsed_ns;
		unsigned target_us;
	} cases[] = {
		{ 20000, 1000000, 50 },		  /* 20 per us: 1000 */
		{ 20000, 163840, 50 },		  /* 6103.5... */
		{ 20000, 20000000, 1 },		  /* exactly 1 */
		{ 20000, 30000000, 3 },		  /* 2 */
		{ 3, 7, 1 },			  /* 428.57 */
		{ 7, 3, 1000000 },		  /* 2.33e9 */
		{ 1, 1000, 1 },			  /* 1 */
		{ 1000000, 1000000000, 1000000 }, /* 1e9 */
		{ 123456789, 987654321, 777 },
		{ 20000, 1, 1000000 }, /* 2e13: the fastest clock */
		{ 20000, 123457, 50 },
		{ 65536, 999999, 100 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long double exact = (long double)cases[i].rounds *
				    cases[i].target_us * 1000.0L /
				    (long double)cases[i].elapsed_ns;
		uint64_t got = ipcb_work_rounds_for(cases[i].rounds,
						    cases[i].elapsed_ns,
						    cases[i].target_us);
		long double tol = exact * ROUNDS_TOLERANCE;

		if (tol < 1)
			tol = 1;
		if (fabsl((long double)got - exact) > tol)
			fail_msg("rounds_for(%llu, %llu, %u) = %llu, exact "
				 "%.3Lf",
				 (unsigned long long)cases[i].rounds,
				 (unsigned long long)cases[i].elapsed_ns,
				 cases[i].target_us, (unsigned long long)got,
				 exact);
	}
}

/* Less than one round still does some work: at least one round. */
static void test_rounds_for_at_least_one(void **state)
{
	(void)state;
	assert_int_equal(ipcb_work_rounds_for(1, 1000000, 1), 1);
	assert_int_equal(ipcb_work_rounds_for(1, UINT64_MAX, 1), 1);
	assert_int_equal(ipcb_work_rounds_for(0, 1000, 50), 1);
	assert_true(ipcb_work_rounds_for(20000, 0, 50) >= 1);
}

/* The calibration gives a usable positive rate (its value is the
 * machine's, not checked). */
static void test_calibrate_is_positive(void **state)
{
	struct ipcb_work_cal cal;

	(void)state;
	ipcb_work_calibrate(&cal);
	assert_true(cal.rounds > 0);
	assert_true(cal.elapsed_ns > 0);
}

static void fill_bytes(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7);
}

/* cpu work is a pure function of the payload and the round count. */
static void test_cpu_work_deterministic(void **state)
{
	static const size_t lens[] = { 16, 63, 64, 65, 4096 };
	struct ipcb_work w;
	unsigned char buf[4096], copy[4096];

	(void)state;
	assert_int_equal(ipcb_work_parse("cpu:50", &w), 0);
	w.iters = 1000;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		uint64_t h1, h2, h3, h4;
		struct ipcb_work more = w;

		fill_bytes(buf, len, (unsigned)i);
		memcpy(copy, buf, len);
		h1 = ipcb_work_do(&w, buf, len);
		h2 = ipcb_work_do(&w, copy, len);
		assert_int_equal(h1, h2);
		assert_memory_equal(buf, copy, len); /* payload untouched */
		assert_int_equal(ipcb_work_do(&w, buf, len), h1);

		copy[0] ^= 1;
		h3 = ipcb_work_do(&w, copy, len);
		assert_int_not_equal(h1, h3);

		more.iters = w.iters + 1;
		h4 = ipcb_work_do(&more, buf, len);
		assert_int_not_equal(h1, h4);
	}
}

static void test_work_round_deterministic(void **state)
{
	unsigned char buf[64];

	(void)state;
	fill_bytes(buf, sizeof(buf), 9);
	assert_int_equal(ipcb_work_round(buf, sizeof(buf), 42),
			 ipcb_work_round(buf, sizeof(buf), 42));
	assert_int_not_equal(ipcb_work_round(buf, sizeof(buf), 42),
			     ipcb_work_round(buf, sizeof(buf), 43));
}

static void test_none_work_ignores_payload(void **state)
{
	struct ipcb_work w;
	unsigned char a[64], b[64];

	(void)state;
	assert_int_equal(ipcb_work_parse("none", &w), 0);
	fill_bytes(a, sizeof(a), 1);
	fill_bytes(b, sizeof(b), 2);
	assert_int_equal(ipcb_work_do(&w, a, sizeof(a)),
			 ipcb_work_do(&w, b, sizeof(b)));
}

#define GUARD 16
#define GUARD_BYTE 0xa5

static const uint64_t seqs[] = {
	0, 1, 12345, IPCB_SEQ_MASK, (7ull << IPCB_SEQ_BITS) | 99,
};

/* For one size: fill accepts its own pattern, writes only the payload,
 * and check refuses any single flipped payload byte or another
 * sequence's pattern. */
static void check_size(size_t len)
{
	unsigned char *buf = malloc(len + GUARD);

	assert_non_null(buf);
	for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
		memset(buf, GUARD_BYTE, len + GUARD);
		ipcb_msg_put(buf, seqs[s], 777);
		ipcb_msg_fill(buf, len, seqs[s]);
		for (size_t i = len; i < len + GUARD; i++)
			if (buf[i] != GUARD_BYTE)
				fail_msg("size %zu: fill wrote byte %zu", len,
					 i);
		assert_int_equal(ipcb_msg_get(buf).seq, seqs[s]);
		assert_int_equal(ipcb_msg_get(buf).send_ns, 777);
		if (!ipcb_msg_check(buf, len, seqs[s]))
			fail_msg("size %zu seq %llu: intact payload refused",
				 len, (unsigned long long)seqs[s]);
		for (size_t i = IPCB_MSG_HDR; i < len; i++) {
			for (unsigned bit = 0; bit < 8; bit += 7) {
				buf[i] ^= (unsigned char)(1u << bit);
				if (ipcb_msg_check(buf, len, seqs[s]))
					fail_msg("size %zu seq %llu: bit %u "
						 "of byte %zu flipped, not "
						 "detected",
						 len,
						 (unsigned long long)seqs[s],
						 bit, i);
				buf[i] ^= (unsigned char)(1u << bit);
			}
		}
		assert_true(ipcb_msg_check(buf, len, seqs[s]));
		if (len > IPCB_MSG_HDR)
			assert_false(ipcb_msg_check(buf, len, seqs[s] + 1));
	}
	free(buf);
}

static void test_msg_sizes_16_to_100(void **state)
{
	(void)state;
	for (size_t len = IPCB_MSG_HDR; len <= 100; len++)
		check_size(len);
}

static void test_msg_size_4096(void **state)
{
	(void)state;
	check_size(4096);
}

/* With only a header there is no payload: any pattern is intact. */
static void test_msg_header_only(void **state)
{
	unsigned char buf[IPCB_MSG_HDR];

	(void)state;
	memset(buf, 0, sizeof(buf));
	ipcb_msg_fill(buf, sizeof(buf), 5);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_true(ipcb_msg_check(buf, sizeof(buf), 5));
	assert_true(ipcb_msg_check(buf, sizeof(buf), 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_parse_accepts),
		cmocka_unit_test(test_work_parse_rejects),
		cmocka_unit_test(test_work_name_round_trip),
		cmocka_unit_test(test_work_name_truncates),
		cmocka_unit_test(test_rounds_for),
		cmocka_unit_test(test_rounds_for_at_least_one),
		cmocka_unit_test(test_calibrate_is_positive),
		cmocka_unit_test(test_cpu_work_deterministic),
		cmocka_unit_test(test_work_round_deterministic),
		cmocka_unit_test(test_none_work_ignores_payload),
		cmocka_unit_test(test_msg_sizes_16_to_100),
		cmocka_unit_test(test_msg_size_4096),
		cmocka_unit_test(test_msg_header_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
