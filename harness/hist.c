/*
 * hist.c - merging and reading the log-linear histogram (see hist.h).
 */
#include "harness/hist.h"

#include <math.h>
#include <string.h>

void ipcb_hist_reset(struct ipcb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void ipcb_hist_merge(struct ipcb_hist *dst, const struct ipcb_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < IPCB_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Lowest value of bucket i and its width. */
static void bucket_range(unsigned i, double *lo, double *width)
{
	unsigned group = i / IPCB_HIST_SUB, sub = i % IPCB_HIST_SUB;

	if (group == 0) {
		*lo = sub;
		*width = 1;
		return;
	}
	*width = ldexp(1.0, (int)group - 1);
	*lo = (IPCB_HIST_SUB + sub) * *width;
}

double ipcb_hist_quantile(const struct ipcb_hist *h, double q)
{
	uint64_t rank, seen = 0;
	double lo, width, v;

	if (!h->count || isnan(q))
		return NAN;
	if (q <= 0)
		return (double)h->min;
	if (q >= 1)
		return (double)h->max;
	/* The smallest value with at least ceil(q * count) values at or
	 * below it (the nearest-rank definition); the tolerance keeps a
	 * product like 0.07 * 100 = 7.000000000000001 at rank 7. */
	rank = (uint64_t)ceil(q * (double)h->count * (1 - 1e-12));
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < IPCB_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			bucket_range(i, &lo, &width);
			v = width > 1 ? lo + (width - 1) / 2 : lo;
			if (v < (double)h->min)
				v = (double)h->min;
			if (v > (double)h->max)
				v = (double)h->max;
			return v;
		}
	}
	return (double)h->max;
}

double ipcb_hist_mean(const struct ipcb_hist *h)
{
	return h->count ? h->sum / (double)h->count : NAN;
}
