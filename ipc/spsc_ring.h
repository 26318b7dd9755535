/*
 * spsc_ring.h - the single-producer/single-consumer ring in POSIX shared
 * memory behind shm-spin and shm-futex: layout, the inline per-message fast
 * path, and the out-of-line lifecycle and waits (spsc_ring.c).
 *
 * Layout of the shared object (shm_open, one per channel):
 *
 *   struct spsc_shared | slot 0 | slot 1 | ... | slot nslots-1
 *
 * Message n (counted from 0) goes to slot n % nslots. A slot starts with
 * an 8-byte header { seq, len }; the payload follows at data_off (8 for
 * small messages, so that a message of up to 56 bytes and the word that
 * publishes it travel in one cache line; 64 for large ones, so that big
 * copies are aligned). The producer copies the payload in, then stores
 * seq = n + 1 with release order: seq is the "head", kept per slot so the
 * consumer, which polls it, finds the data in the line it was polling.
 * Before message n arrives the slot's seq is n + 1 - nslots ("stale").
 * The consumer copies the payload out, then stores its count of received
 * messages in tail (release), on its own cache line; the producer keeps a
 * private limit (tail + nslots) and reads tail only when it reaches it.
 * So a message costs one copy in, one copy out and, in shm-spin, no
 * atomic read-modify-write, fence or syscall; a small message moves about
 * one cache line each way.
 *
 * Waiting is done by polling, then (spin) yielding the CPU between polls
 * once a wait passes 50 us, or (futex) sleeping on a futex once it passes
 * 3 us. An end whose peer was last seen on its own CPU does not poll at
 * all: the peer cannot run until the CPU is given up. Sleeping (futex): a
 * sleeper sets asleep[role], looks at the ring once more and sleeps on
 * bell[role]; a waker stores seq or tail with seq_cst (on x86 an xchg, the
 * one extra cost of shm-futex on the fast path) and then looks at the
 * flag, ringing the bell (increment + FUTEX_WAKE) only when it is set, so
 * no syscall is made while nobody sleeps. The flags, bells and last-seen
 * CPUs sit on a line written only on slow paths.
 *
 * Peers: state[role] and pid[role] record attach and detach. A waiting end
 * checks the peer's state on every slow-path round, and whether the peer's
 * process is alive at most once a millisecond (futex sleeps last 100 ms at
 * most, so a sleeper looks at least that often); once the peer is gone
 * and the ring still cannot move, the wait fails with -EPIPE. A peer that
 * has not attached yet is waited for.
 */
#ifndef IPCB_SPSC_RING_H
#define IPCB_SPSC_RING_H

#include "ipc.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

/* Largest message; a channel needs at least two slots of it. */
#define SPSC_MAX_MSG ((size_t)64 << 20)

enum spsc_state { SPSC_ABSENT, SPSC_ATTACHED, SPSC_GONE };

struct spsc_slot {
	_Atomic uint32_t seq; /* n + 1 once message n is in the slot */
	uint32_t len;
};

struct spsc_shared {
	/* Read-mostly line: geometry (written by setup), peers (written at
	 * attach and detach), sleepers (written only on slow paths). The
	 * arrays are indexed by enum ipcb_role. */
	uint64_t stride; /* bytes from one slot to the next */
	uint32_t nslots; /* a power of two */
	uint32_t max_msg;
	uint32_t data_off;	   /* payload offset inside a slot */
	_Atomic uint32_t state[2]; /* enum spsc_state */
	_Atomic pid_t pid[2];	   /* 0 until known */
	_Atomic uint32_t asleep[2];
	_Atomic uint32_t bell[2]; /* futex words of the sleepers */
	_Atomic int32_t cpu[2];	  /* CPU of the last wait; -1 unknown */
	/* The consumer's count of received messages. */
	alignas(64) _Atomic uint32_t tail;
};

/* One end of a channel, private to the process or thread using it. */
struct spsc_ep {
	struct spsc_shared *sh; /* this end's own mapping */
	unsigned char *slots;
	size_t map_len;
	uint64_t stride;
	uint32_t mask, max_msg, data_off;
	uint32_t pos;	/* messages this end has sent (received) */
	uint32_t limit; /* producer: pos may reach this without reading tail */
	enum ipcb_role role;
	bool fence; /* futex without membarrier: publish with seq_cst */
};

/* Lifecycle (ipc.h), shared by both transports; futex selects the way of
 * waiting (shm-futex) over polling only (shm-spin). */
int spsc_setup(const struct ipcb_chan_config *cfg, bool futex, void **chan,
	       struct ipcb_chan_info *info);
int spsc_attach(void *chan, enum ipcb_role role, void **ep);
void spsc_need(const struct ipcb_chan_config *cfg, struct ipcb_need *need);
void spsc_drop(void *chan);
void spsc_seal(void *chan);
void spsc_teardown(void *chan);
void spsc_detach(void *ep);

/* Slow paths: wait until the ring has room (the producer's limit moved) or
 * message pos is in its slot. 0, or -EPIPE once the peer is gone and the
 * ring can no longer move. */
int spsc_wait_space(struct spsc_ep *e, bool futex);
int spsc_wait_data(struct spsc_ep *e, bool futex);
/* Wakes the peer of role if it sleeps (futex). */
void spsc_ring_bell(struct spsc_shared *sh, enum ipcb_role role);

static inline struct spsc_slot *spsc_slot(const struct spsc_ep *e, uint32_t n)
{
	return (struct spsc_slot *)(e->slots + (n & e->mask) * e->stride);
}

/* Publishes a store that a sleeping peer may be waiting for. With futex
 * the store is followed by a look at the peer's "asleep" flag, and the
 * sleeper sets its flag before its last look at the word: one of the two
 * must see the other, which takes a store-load barrier on one side. The
 * sleeper pays for it with membarrier(), which runs a full barrier on
 * every CPU running an attached process, so the waker needs none here;
 * only where membarrier is unavailable does the store become seq_cst (an
 * xchg on x86). Inlined with a constant futex: shm-spin pays for none. */
static inline void spsc_publish(const struct spsc_ep *e, _Atomic uint32_t *word,
				uint32_t val, enum ipcb_role peer, bool futex)
{
	bool asleep;

	if (futex && e->fence) {
		atomic_store_explicit(word, val, memory_order_seq_cst);
		asleep = atomic_load_explicit(&e->sh->asleep[peer],
					      memory_order_seq_cst);
	} else {
		atomic_store_explicit(word, val, memory_order_release);
		if (!futex)
			return;
		/* Keeps the compiler from moving the load above the store;
		 * the CPU's store-load order is the sleeper's business. */
		atomic_signal_fence(memory_order_seq_cst);
		asleep = atomic_load_explicit(&e->sh->asleep[peer],
					      memory_order_relaxed);
	}
	if (asleep)
		spsc_ring_bell(e->sh, peer);
}

static inline int spsc_push(struct spsc_ep *e, const void *buf, size_t len,
			    bool futex)
{
	struct spsc_slot *s;

	if (len > e->max_msg)
		return -EMSGSIZE;
	if (e->pos == e->limit) {
		int rc = spsc_wait_space(e, futex);
		if (rc)
			return rc;
	}
	s = spsc_slot(e, e->pos);
	memcpy((unsigned char *)s + e->data_off, buf, len);
	s->len = (uint32_t)len;
	e->pos++;
	spsc_publish(e, &s->seq, e->pos, IPCB_CONSUMER, futex);
	return 0;
}

/* -EMSGSIZE leaves the message in the ring. */
static inline int spsc_pop(struct spsc_ep *e, void *buf, size_t cap,
			   size_t *len, bool futex)
{
	struct spsc_slot *s = spsc_slot(e, e->pos);
	uint32_t n;

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != e->pos + 1) {
		int rc = spsc_wait_data(e, futex);
		if (rc)
			return rc;
	}
	n = s->len;
	if (n > cap || n > e->max_msg)
		return n > e->max_msg ? -EPROTO : -EMSGSIZE;
	memcpy(buf, (unsigned char *)s + e->data_off, n);
	*len = n;
	e->pos++;
	spsc_publish(e, &e->sh->tail, e->pos, IPCB_PRODUCER, futex);
	return 0;
}

#endif
