/*
 * shm_ring.h - the slot ring shared by the shared-memory transports (shm,
 * sysv-shm, eventfd): layout, copying in and out, and where the roster of
 * peers (peers.h) lives. The transports differ only in how they count free
 * and full slots and in the lock; this file knows nothing about either.
 *
 * A ring lives in memory shared by every endpoint:
 *
 *   struct shmring | roster of peers | length of each slot | slots
 *
 * head counts messages ever pushed, tail messages ever popped; both move
 * only after the copy, so the ring is consistent at every instant even if
 * an endpoint is killed mid-copy. push and pop never block: they return
 * -EAGAIN when the ring is full or empty. With one producer (consumer) no
 * lock is needed on that side; several producers (consumers) must push
 * (pop) under a lock shared by that side.
 *
 * Wake-up protocol. The transports block on counting semaphores (or
 * eventfds) of free and full slots, as in the textbook bounded buffer, and
 * an endpoint that detaches posts one extra count to its peers' semaphore
 * so that a blocked peer wakes at once and notices it left. A count is thus
 * a hint, never a message: after taking one, an endpoint pushes or pops,
 * and -EAGAIN means the count was a wake-up. The endpoint then asks
 * ipcb_peers_left(); when no peer is left it pushes or pops once more
 * (what it sees now is final) and, if that still fails, posts the count on
 * to the next waiter and returns -EPIPE. A peer killed without detaching
 * posts nothing: waits are timed (SHMRING_WAIT_MS) on their slow path only,
 * and a timeout leads to the same ipcb_peers_left() check.
 */
#ifndef IPCB_SHM_RING_H
#define IPCB_SHM_RING_H

#include "peers.h"

#include <stdatomic.h>
#include <time.h>

/* Largest message; the slot count shrinks for large messages so that the
 * slots of one channel stay within SHMRING_MAX_BYTES, but never below 2. */
#define SHMRING_MAX_MSG ((size_t)64 << 20)
#define SHMRING_SLOTS 16u
#define SHMRING_MAX_BYTES ((size_t)64 << 20)
/* Slow-path wait before re-checking that peers are still there. */
#define SHMRING_WAIT_MS 100

struct shmring {
	uint64_t nslots; /* a power of two */
	uint64_t stride; /* bytes between slots: max_msg rounded up */
	uint64_t max_msg;
	uint64_t len_off; /* offsets from the start of the ring */
	uint64_t data_off;
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) _Atomic uint64_t tail;
};

/* Bytes of a ring for cfg, including its slots. */
size_t shmring_bytes(const struct ipcb_chan_config *cfg);
/* Slots and their size a ring for cfg will have. */
void shmring_geometry(const struct ipcb_chan_config *cfg, unsigned *nslots,
		      size_t *stride);
/* Initializes a ring in zeroed memory of shmring_bytes(cfg) bytes. */
void shmring_init(struct shmring *r, const struct ipcb_chan_config *cfg);

/* The roster of the ring's peers, initialized by shmring_init(). */
struct ipcb_peers *shmring_peers(struct shmring *r);

/* Copies a message of len (<= max_msg) bytes into the next free slot;
 * -EAGAIN when the ring is full. */
int shmring_push(struct shmring *r, const void *buf, size_t len);
/* Copies the oldest message out; -EAGAIN when the ring is empty, -EMSGSIZE
 * (leaving the message in place) when it is larger than cap. */
int shmring_pop(struct shmring *r, void *buf, size_t cap, size_t *len);

/* CLOCK_MONOTONIC now + SHMRING_WAIT_MS, for the slow path. */
void shmring_deadline(struct timespec *ts);

#endif
