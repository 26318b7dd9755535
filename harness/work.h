/*
 * work.h - the per-message work a consumer does after receiving:
 * none, cpu:USEC (real computation over the payload, calibrated once to
 * take USEC on this machine) or io:USEC (a blocking sleep that gives up
 * the CPU, like waiting on a device).
 */
#ifndef IPCB_WORK_H
#define IPCB_WORK_H

#include <stddef.h>
#include <stdint.h>

enum ipcb_work_kind { IPCB_WORK_NONE, IPCB_WORK_CPU, IPCB_WORK_IO };

struct ipcb_work {
	enum ipcb_work_kind kind;
	unsigned usec;
	uint64_t iters; /* cpu: hash rounds that take usec (calibrated) */
};

/* Parses "none", "cpu:USEC" or "io:USEC" (1..1000000). 0 or -EINVAL. */
int ipcb_work_parse(const char *s, struct ipcb_work *w);
/* Writes the spec back ("cpu:50"). */
void ipcb_work_name(const struct ipcb_work *w, char *buf, size_t n);

/* One round of the cpu work: a hash over 64 bytes of the message. */
uint64_t ipcb_work_round(const unsigned char *buf, size_t len, uint64_t h);
/* Rounds that take target_us, from a measurement of `rounds` rounds in
 * elapsed_ns (at least 1). */
uint64_t ipcb_work_rounds_for(uint64_t rounds, uint64_t elapsed_ns,
			      unsigned target_us);
/* Measures this machine once: `rounds` hash rounds took `elapsed_ns` (the
 * best of several trials). Feed both to ipcb_work_rounds_for(). */
struct ipcb_work_cal {
	uint64_t rounds, elapsed_ns;
};
void ipcb_work_calibrate(struct ipcb_work_cal *cal);
/* Prepares the calling thread for w, once before its first message: io
 * work asks for a 1 ns timer slack, or a 50 us sleep would take ~100 us. */
void ipcb_work_prepare(const struct ipcb_work *w);
/* Applies w to one message; returns a value the caller must consume so the
 * computation is not optimized away. */
uint64_t ipcb_work_do(const struct ipcb_work *w, const void *buf, size_t len);

#endif
