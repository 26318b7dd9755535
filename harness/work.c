/*
 * work.c - per-message work and its calibration (see work.h).
 */
#define _GNU_SOURCE
#include "harness/work.h"
#include "harness/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define WORK_MAX_USEC 1000000u

int ipcb_work_parse(const char *s, struct ipcb_work *w)
{
	const char *num;
	char *end;
	unsigned long v;

	memset(w, 0, sizeof(*w));
	if (strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "cpu:", 4) == 0)
		w->kind = IPCB_WORK_CPU;
	else if (strncmp(s, "io:", 3) == 0)
		w->kind = IPCB_WORK_IO;
	else
		return -EINVAL;
	num = strchr(s, ':') + 1;
	if (*num < '0' || *num > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(num, &end, 10);
	if (errno || *end || v == 0 || v > WORK_MAX_USEC)
		return -EINVAL;
	w->usec = (unsigned)v;
	return 0;
}

void ipcb_work_name(const struct ipcb_work *w, char *buf, size_t n)
{
	if (w->kind == IPCB_WORK_NONE)
		snprintf(buf, n, "none");
	else
		snprintf(buf, n, "%s:%u",
			 w->kind == IPCB_WORK_CPU ? "cpu" : "io", w->usec);
}

/* Never inlined, so the calibration times exactly the code the consumers
 * run (inlined with a constant length, the compiler would specialize it). */
__attribute__((noinline)) uint64_t ipcb_work_round(const unsigned char *buf,
						   size_t len, uint64_t h)
{
	size_t j = 0;

	/* FNV-1a over 64 bytes, wrapping around short messages. */
	for (size_t i = 0; i < 64; i++) {
		h ^= buf[j];
		h *= 0x100000001b3ull;
		if (++j == len)
			j = 0;
	}
	return h;
}

uint64_t ipcb_work_rounds_for(uint64_t rounds, uint64_t elapsed_ns,
			      unsigned target_us)
{
	double per_us =
		(double)rounds * 1000.0 / (double)(elapsed_ns ? elapsed_ns : 1);
	double want = per_us * target_us;

	return want < 1 ? 1 : (uint64_t)(want + 0.5);
}

void ipcb_work_calibrate(struct ipcb_work_cal *cal)
{
	unsigned char buf[4096];
	/* volatile: the length is not known at compile time, as in a run. */
	volatile size_t len = sizeof(buf);
	uint64_t best = UINT64_MAX, rounds = 20000, h = 0;

	memset(buf, 0x5a, sizeof(buf));
	/* Best of several trials: the least disturbed one. */
	for (int trial = 0; trial < 7; trial++) {
		uint64_t t0 = ipcb_now_ns(), dt;
		for (uint64_t i = 0; i < rounds; i++)
			h = ipcb_work_round(buf, len, h);
		dt = ipcb_now_ns() - t0;
		if (dt < best)
			best = dt;
	}
	__asm__ volatile("" : : "r"(h));
	cal->rounds = rounds;
	cal->elapsed_ns = best;
}

void ipcb_work_prepare(const struct ipcb_work *w)
{
	if (w->kind == IPCB_WORK_IO)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

uint64_t ipcb_work_do(const struct ipcb_work *w, const void *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	struct timespec ts;

	switch (w->kind) {
	case IPCB_WORK_CPU:
		for (uint64_t i = 0; i < w->iters; i++)
			h = ipcb_work_round(buf, len, h);
		break;
	case IPCB_WORK_IO:
		ts.tv_sec = w->usec / 1000000u;
		ts.tv_nsec = (long)(w->usec % 1000000u) * 1000;
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		break;
	case IPCB_WORK_NONE:
		break;
	}
	return h;
}
