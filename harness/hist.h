/*
 * hist.h - log-linear latency histogram with bounded relative error and
 * fixed memory, in the spirit of HdrHistogram.
 *
 * Values (nanoseconds) below 2^SUB_BITS are exact; above, each power of
 * two is split into 2^SUB_BITS linear buckets, so a bucket is at most
 * 1/2^SUB_BITS of its value wide. Percentiles report the bucket midpoint,
 * so their relative error is below 1/2^(SUB_BITS+1) = 0.4% (< 1%).
 * min, max and mean are exact. The struct is plain data: it can live in
 * shared memory and be merged by the parent.
 */
#ifndef IPCB_HIST_H
#define IPCB_HIST_H

#include <stdint.h>

#define IPCB_HIST_SUB_BITS 7
#define IPCB_HIST_SUB (1u << IPCB_HIST_SUB_BITS)
#define IPCB_HIST_MAX_BITS 44 /* values up to 2^44 ns (~4.9 h) */
#define IPCB_HIST_BUCKETS \
	((IPCB_HIST_MAX_BITS - IPCB_HIST_SUB_BITS + 1) * IPCB_HIST_SUB)

struct ipcb_hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t bucket[IPCB_HIST_BUCKETS];
};

void ipcb_hist_reset(struct ipcb_hist *h);

static inline unsigned ipcb_hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < IPCB_HIST_SUB)
		return (unsigned)v;
	if (v >= (1ull << IPCB_HIST_MAX_BITS))
		v = (1ull << IPCB_HIST_MAX_BITS) - 1;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - IPCB_HIST_SUB_BITS;
	return (shift + 1) * IPCB_HIST_SUB +
	       (unsigned)((v >> shift) - IPCB_HIST_SUB);
}

/* Records one value; the per-message hot path, so inline and branch-light. */
static inline void ipcb_hist_record(struct ipcb_hist *h, uint64_t v)
{
	h->bucket[ipcb_hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* dst += src. */
void ipcb_hist_merge(struct ipcb_hist *dst, const struct ipcb_hist *src);
/* Value at quantile q in [0, 1] (0.5 = median), clamped to [min, max];
 * NaN when empty. */
double ipcb_hist_quantile(const struct ipcb_hist *h, double q);
double ipcb_hist_mean(const struct ipcb_hist *h);

#endif
