/*
 * msg.h - what every ipcbench message carries: a 16-byte header with the
 * producer's id and sequence number and the send time (CLOCK_MONOTONIC, so
 * one-way latency can be computed across processes: the send time must
 * travel inside the message, it cannot be read from memory shared before
 * fork). With --verify the rest of the payload is a pattern derived from
 * the sequence, checked byte for byte by the receiver.
 */
#ifndef IPCB_MSG_H
#define IPCB_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define IPCB_MSG_HDR 16u
#define IPCB_SEQ_BITS 48
#define IPCB_SEQ_MASK ((1ull << IPCB_SEQ_BITS) - 1)
#define IPCB_MAX_PRODUCERS 65535u
/* End of stream ("poison pill"): one per consumer ends a run. */
#define IPCB_MSG_PILL UINT64_MAX

struct ipcb_msg_hdr {
	uint64_t seq;	  /* producer id << 48 | sequence */
	uint64_t send_ns; /* CLOCK_MONOTONIC at send */
};

static inline uint64_t ipcb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void ipcb_msg_put(void *buf, uint64_t seq, uint64_t send_ns)
{
	struct ipcb_msg_hdr h = { seq, send_ns };
	memcpy(buf, &h, sizeof(h));
}

static inline struct ipcb_msg_hdr ipcb_msg_get(const void *buf)
{
	struct ipcb_msg_hdr h;
	memcpy(&h, buf, sizeof(h));
	return h;
}

/* Pattern for --verify: 8-byte words derived from the sequence. */
void ipcb_msg_fill(void *buf, size_t len, uint64_t seq);
bool ipcb_msg_check(const void *buf, size_t len, uint64_t seq);

#endif
