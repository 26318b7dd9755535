/*
 * null.c - a transport that moves no payload, to measure the harness.
 *
 * Like fio's null engine it exists so that the harness's own per-message
 * cost (timing, histograms, message synthesis) can be measured and
 * subtracted: it has no IPCB_CAP_PAYLOAD, send never reads buf and recv
 * never writes it; it only reports a message of the configured size, and
 * the harness synthesizes the message it would have carried.
 *
 * The channel is a small block of shared anonymous memory with two
 * counters on their own cache lines: `sent`, written only by the producer,
 * and `received`, written only by the consumer (one of each: no sharing).
 * send waits while NULL_DEPTH messages are unreceived, so it behaves like a
 * bounded channel; recv waits until sent > received. Waiting spins briefly,
 * then calls sched_yield() between checks: the ends never sleep, so this
 * is a spinning transport that burns a CPU while it waits.
 *
 * A peer is gone once it detached (a flag in the block) or its process died
 * (ipcb_pid_alive(), checked about every NULL_CHECK_NS while waiting). A
 * peer that has not attached yet is waited for; one that dies before it
 * attaches cannot be seen, and the harness must notice that worker's death
 * itself. The block is a shared region (ipcb_region_create(): an unnamed
 * memfd, so nothing can leak) of which each endpoint maps its own view, so
 * drop and seal may close the creator's fd and unmap its view while
 * endpoints are in use.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Unreceived messages before send waits. */
#define NULL_DEPTH 64
/* Polls before the first sched_yield(). */
#define NULL_SPINS 1000
/* Yields between two readings of the clock while waiting. */
#define NULL_CLOCK_EVERY 64
/* Period of the peer liveness check while waiting. */
#define NULL_CHECK_NS (50 * 1000 * 1000L)

#if defined(__x86_64__) || defined(__i386__)
#define null_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define null_relax() __asm__ volatile("yield" ::: "memory")
#else
#define null_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

enum null_state { NULL_ABSENT, NULL_ATTACHED, NULL_DETACHED };

struct null_end {
	atomic_int state; /* enum null_state; release-stored after pid */
	pid_t pid;
};

struct null_shared {
	alignas(64) atomic_ulong sent;	    /* written by the producer only */
	alignas(64) atomic_ulong received;  /* written by the consumer only */
	alignas(64) struct null_end end[2]; /* indexed by enum ipcb_role */
	size_t max_msg;
};

struct null_chan {
	struct ipcb_region region; /* of one struct null_shared */
};

struct null_ep {
	struct null_shared *sh; /* this endpoint's own view */
	enum ipcb_role role;
	unsigned long count; /* own counter's value: only we write it */
	unsigned long seen;  /* the peer's counter when last read */
	size_t max_msg;
};

static size_t null_max_msg(void)
{
	return SIZE_MAX;
}

static int null_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	struct null_chan *c = malloc(sizeof(*c));
	struct null_shared *sh;
	int rc;

	if (!c)
		return -ENOMEM;
	rc = ipcb_region_create(&c->region, sizeof(*sh));
	if (rc) {
		free(c);
		return rc;
	}
	sh = c->region.base;
	atomic_init(&sh->sent, 0);
	atomic_init(&sh->received, 0);
	for (int i = 0; i < 2; i++) {
		atomic_init(&sh->end[i].state, NULL_ABSENT);
		sh->end[i].pid = 0;
	}
	sh->max_msg = cfg->max_msg;
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "no payload; shared counters, at most %d unreceived",
		 NULL_DEPTH);
	*chan = c;
	return 0;
}

static int null_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct null_chan *c = chan;
	struct null_ep *e = malloc(sizeof(*e));
	struct null_shared *sh;
	void *view;
	int rc;

	if (!e)
		return -ENOMEM;
	rc = ipcb_region_map(&c->region, &view);
	if (rc) {
		free(e);
		return rc;
	}
	e->sh = sh = view;
	e->role = role;
	e->max_msg = sh->max_msg;
	e->count = atomic_load_explicit(role == IPCB_PRODUCER ? &sh->sent
							      : &sh->received,
					memory_order_relaxed);
	e->seen = atomic_load_explicit(role == IPCB_PRODUCER ? &sh->received
							     : &sh->sent,
				       memory_order_acquire);
	sh->end[role].pid = getpid();
	atomic_store_explicit(&sh->end[role].state, NULL_ATTACHED,
			      memory_order_release);
	*ep = e;
	return 0;
}

static void null_need(const struct ipcb_chan_config *cfg,
		      struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 1; /* the region's memfd, until seal */
}

/* Closes the region's fd and unmaps the creator's view; endpoints keep
 * their own views. */
static void null_drop(void *chan)
{
	struct null_chan *c = chan;

	ipcb_region_release(&c->region);
}

static void null_teardown(void *chan)
{
	null_drop(chan);
	free(chan);
}

static bool null_room(const struct null_ep *e)
{
	return e->role == IPCB_CONSUMER ? e->seen != e->count
					: e->count - e->seen < NULL_DEPTH;
}

/* True when e may go on: a message to receive, or room to send. The
 * peer's counter is read (its cache line fetched) only when what was seen
 * last time is used up, so a stream does not move a line per message. */
static bool null_ready(struct null_ep *e)
{
	if (null_room(e))
		return true;
	e->seen = atomic_load_explicit(
		e->role == IPCB_CONSUMER ? &e->sh->sent : &e->sh->received,
		memory_order_acquire);
	return null_room(e);
}

/* True once e's peer detached, or (check_pid) attached and died. */
static bool null_peer_gone(const struct null_ep *e, bool check_pid)
{
	const struct null_end *p =
		&e->sh->end[e->role == IPCB_PRODUCER ? IPCB_CONSUMER
						     : IPCB_PRODUCER];
	int st = atomic_load_explicit(&p->state, memory_order_acquire);

	if (st == NULL_DETACHED)
		return true;
	return check_pid && st == NULL_ATTACHED && !ipcb_pid_alive(p->pid);
}

static long null_elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000L +
	       (b->tv_nsec - a->tv_nsec);
}

/* The slow path of send and recv: waits until null_ready(e), or returns
 * -EPIPE once the peer is gone and e still cannot go on. */
static int null_wait(struct null_ep *e)
{
	struct timespec last, now;

	for (int i = 0; i < NULL_SPINS; i++) {
		if (null_ready(e))
			return 0;
		null_relax();
	}
	clock_gettime(CLOCK_MONOTONIC, &last);
	for (unsigned long n = 1;; n++) {
		bool check_pid = false;

		sched_yield();
		if (null_ready(e))
			return 0;
		if (n % NULL_CLOCK_EVERY == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (null_elapsed_ns(&last, &now) >= NULL_CHECK_NS) {
				check_pid = true;
				last = now;
			}
		}
		/* The peer's last counter update happened before it left:
		 * look once more after seeing it gone. */
		if (null_peer_gone(e, check_pid))
			return null_ready(e) ? 0 : -EPIPE;
	}
}

static int null_send(void *ep, const void *buf, size_t len)
{
	struct null_ep *e = ep;

	(void)buf;
	(void)len;
	if (!null_ready(e)) {
		int rc = null_wait(e);
		if (rc)
			return rc;
	}
	atomic_store_explicit(&e->sh->sent, ++e->count, memory_order_release);
	return 0;
}

static int null_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct null_ep *e = ep;

	(void)buf;
	if (e->max_msg > cap)
		return -EMSGSIZE;
	if (!null_ready(e)) {
		int rc = null_wait(e);
		if (rc)
			return rc;
	}
	atomic_store_explicit(&e->sh->received, ++e->count,
			      memory_order_release);
	*len = e->max_msg;
	return 0;
}

static void null_detach(void *ep)
{
	struct null_ep *e = ep;

	atomic_store_explicit(&e->sh->end[e->role].state, NULL_DETACHED,
			      memory_order_release);
	ipcb_region_unmap(e->sh, sizeof(*e->sh));
	free(e);
}

const struct ipcb_transport ipcb_null_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "null",
	.summary = "moves no payload; measures the harness's own cost",
	.caps = IPCB_CAP_THREADS | IPCB_CAP_SPINS,
	.max_msg = null_max_msg,
	.setup = null_setup,
	.attach = null_attach,
	.need = null_need,
	.drop = null_drop,
	.seal = null_drop,
	.teardown = null_teardown,
	.send = null_send,
	.recv = null_recv,
	.detach = null_detach,
};
