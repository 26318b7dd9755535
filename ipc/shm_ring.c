/*
 * shm_ring.c - the slot ring shared by the shared-memory transports; see
 * shm_ring.h for the layout and the wake-up protocol.
 */
#define _GNU_SOURCE
#include "shm_ring.h"

#include <errno.h>
#include <string.h>

#define SHMRING_ALIGN 64

static size_t shmring_round(size_t n)
{
	return (n + SHMRING_ALIGN - 1) & ~(size_t)(SHMRING_ALIGN - 1);
}

void shmring_geometry(const struct ipcb_chan_config *cfg, unsigned *nslots,
		      size_t *stride)
{
	unsigned n = SHMRING_SLOTS;

	*stride = shmring_round(cfg->max_msg);
	while (n > 2 && n * *stride > SHMRING_MAX_BYTES)
		n /= 2;
	*nslots = n;
}

/* Offsets of the length array and of the slots from the ring start. */
static void shmring_offsets(const struct ipcb_chan_config *cfg, unsigned nslots,
			    size_t *len_off, size_t *data_off)
{
	*len_off =
		shmring_round(sizeof(struct shmring) +
			      ipcb_peers_size(cfg->producers, cfg->consumers));
	*data_off = shmring_round(*len_off + nslots * sizeof(uint64_t));
}

size_t shmring_bytes(const struct ipcb_chan_config *cfg)
{
	size_t stride, len_off, data_off;
	unsigned nslots;

	shmring_geometry(cfg, &nslots, &stride);
	shmring_offsets(cfg, nslots, &len_off, &data_off);
	return data_off + nslots * stride;
}

/* The roster follows the ring header: sizeof(struct shmring) is a multiple
 * of its 64-byte alignment, more than the roster needs. */
struct ipcb_peers *shmring_peers(struct shmring *r)
{
	return (struct ipcb_peers *)(r + 1);
}

void shmring_init(struct shmring *r, const struct ipcb_chan_config *cfg)
{
	size_t stride, len_off, data_off;
	unsigned nslots;

	shmring_geometry(cfg, &nslots, &stride);
	shmring_offsets(cfg, nslots, &len_off, &data_off);
	r->nslots = nslots;
	r->stride = stride;
	r->max_msg = cfg->max_msg;
	r->len_off = len_off;
	r->data_off = data_off;
	ipcb_peers_init(shmring_peers(r), cfg->producers, cfg->consumers);
}

static uint64_t *shmring_lens(struct shmring *r)
{
	return (uint64_t *)((char *)r + r->len_off);
}

static char *shmring_slot(struct shmring *r, uint64_t i)
{
	return (char *)r + r->data_off + (i & (r->nslots - 1)) * r->stride;
}

int shmring_push(struct shmring *r, const void *buf, size_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (head - atomic_load_explicit(&r->tail, memory_order_acquire) >=
	    r->nslots)
		return -EAGAIN;
	memcpy(shmring_slot(r, head), buf, len);
	shmring_lens(r)[head & (r->nslots - 1)] = len;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

int shmring_pop(struct shmring *r, void *buf, size_t cap, size_t *len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t n;

	if (tail == atomic_load_explicit(&r->head, memory_order_acquire))
		return -EAGAIN;
	n = shmring_lens(r)[tail & (r->nslots - 1)];
	if (n > cap)
		return -EMSGSIZE;
	memcpy(buf, shmring_slot(r, tail), n);
	*len = n;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

void shmring_deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += SHMRING_WAIT_MS * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}
