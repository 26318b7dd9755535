/*
 * signal.c - POSIX real-time signals: sigqueue(2) to send, sigtimedwait(2)
 * to receive.
 *
 * Every message is one queued signal, SIGRTMIN + SIGNAL_RTOFF (4) in every
 * process, sent to the consumer's pid. Messages of at most 8 bytes (the
 * size of union sigval) travel inline in the signal's value. A larger
 * message is copied into a slot of a ring in shared memory (a shared
 * region made in setup: an unnamed memfd, see below) and the signal is its
 * doorbell, its value carrying slot index and length. The length of an
 * inline message lives in the shared ring too (lens[], one per slot): it
 * cannot be encoded in the choice of signal number, because the kernel
 * delivers the lowest pending signal number first and messages of
 * different lengths would be reordered; signals of one number are queued
 * and delivered in order.
 *
 * Flow control: the producer has at most nslots messages outstanding (the
 * ring's slot count, 2..64, fewer for big messages) plus one end-of-stream
 * signal, so a channel never queues more than nslots + 1 signals: that is
 * what need() charges to RLIMIT_SIGPENDING, and no signal is lost to it.
 * The consumer returns credit by advancing a shared tail counter; a
 * producer out of credit sleeps on a non-private futex, and the consumer
 * wakes it only when it is waiting and half the window is free, so that a
 * producer running ahead pays one futex wait and wake per half window, not
 * per message. The fast path is one rt_sigqueueinfo(2) per send and one
 * rt_sigtimedwait(2) per receive: send fills its siginfo once at attach
 * exactly as glibc's sigqueue() does (SI_QUEUE, own pid and uid) and makes
 * the system call itself, because glibc's sigqueue() adds a getpid() and a
 * getuid() system call to every message.
 *
 * Addressing and masks: the consumer's attach blocks the signal in its
 * process (sigprocmask), drains any stale copy and then publishes its pid;
 * detach drains again and unblocks it only if attach blocked it. Because
 * every channel uses the same signal number, a process may hold one
 * consumer endpoint at a time (-EBUSY otherwise), and the consumer's
 * process must be single-threaded (or every thread must block the signal):
 * a process-directed signal goes to any thread that does not block it, and
 * its default action terminates the process. For the same reason a
 * producer never signals a consumer that has detached: it raises a shared
 * "sending" flag around each sigqueue and checks the consumer's "gone"
 * flag (a Dekker handshake), and the consumer's detach waits for "sending"
 * to drop before it unblocks the signal. The consumer must attach before
 * the first send (send returns -ENOTCONN otherwise).
 *
 * End of stream: the producer's detach sends one last signal that carries
 * no message. A producer that died is found by the consumer on a slow
 * path: sigtimedwait times out after 100 ms and the producer's pid is
 * checked. A producer waiting for credit from a dead or detached consumer
 * likewise wakes every 100 ms and returns -EPIPE. A zombie counts as alive
 * (kill(pid, 0) succeeds), so a peer must be reaped to be seen dead; a
 * reused pid of a dead consumer would receive the signal.
 *
 * Each endpoint maps its own view of the shared block at attach, from the
 * region's memfd (ipcb_region_map()), so drop and seal may close the fd
 * and unmap the channel's view while endpoints are in use. The memfd has
 * no name, so nothing can leak. Requires a 64-bit sigval.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SIGNAL_RTOFF 4 /* the signal is SIGRTMIN + this */
#define SIGNAL_INLINE sizeof(union sigval)
#define SIGNAL_MAX_MSG ((size_t)64 << 20)
#define SIGNAL_MAX_SLOTS 64u /* power of two */
#define SIGNAL_MIN_SLOTS 2u
#define SIGNAL_RING_BUDGET ((size_t)16 << 20)
#define SIGNAL_SLOW_NS 100000000L /* 100 ms: the dead-peer check period */
#define SIGNAL_LINE 64

_Static_assert(sizeof(union sigval) == 8,
	       "the doorbell packs slot index and length into a 64-bit sigval");

/*
 * The shared block. Lines are split by who writes them: ids and flags
 * written once per attach or detach, the producer's per-message line, the
 * consumer's per-message line. Slot data follows the struct.
 */
struct signal_shared {
	_Alignas(SIGNAL_LINE) pid_t cons_pid; /* 0 until consumer attaches */
	pid_t prod_pid;			      /* 0 until producer attaches */
	uint32_t cons_gone;		      /* consumer detached */
	uint32_t prod_done;		      /* producer detached */

	_Alignas(SIGNAL_LINE) uint32_t head; /* messages published */
	uint32_t sending;		     /* producer is in sigqueue */
	uint32_t waiting;		     /* producer sleeps; futex */
	uint32_t wake_at;		     /* tail that wakes it */

	_Alignas(SIGNAL_LINE) uint32_t tail; /* messages consumed */

	_Alignas(SIGNAL_LINE) uint32_t lens[SIGNAL_MAX_SLOTS];
};

struct signal_chan {
	struct ipcb_region region; /* the shared block, then slot data */
	size_t max_msg;
	size_t stride; /* bytes per slot; 0 when all is inline */
	uint32_t nslots;
	int signo;
};

struct signal_ep {
	struct signal_shared *sh; /* this endpoint's own mapping */
	unsigned char *data;
	size_t map_len;
	size_t max_msg;
	size_t stride;
	uint32_t mask; /* nslots - 1 */
	uint32_t nslots;
	int signo;
	bool consumer;
	uint32_t head; /* producer: next sequence number */
	uint32_t tail; /* consumer: next to read; producer: last
				   * tail seen */
	pid_t peer;    /* the other end's pid, 0 until known */
	/* Producer. */
	siginfo_t info; /* prebuilt as sigqueue() would */
	/* Consumer. */
	sigset_t set;
	bool was_blocked; /* the signal was blocked before attach */
	bool held;	  /* a message refused with -EMSGSIZE */
	bool dead;	  /* producer found dead: drain, then EOF */
	bool eof;
	union sigval held_val;
};

/* The process holding a consumer endpoint, so a second one is refused. */
static pid_t signal_consumer_pid;

static const struct timespec signal_slow = { 0, SIGNAL_SLOW_NS };
static const struct timespec signal_now = { 0, 0 };

static size_t signal_max_msg(void)
{
	return SIGNAL_MAX_MSG;
}

static size_t signal_stride(size_t max_msg)
{
	if (max_msg <= SIGNAL_INLINE)
		return 0;
	return (max_msg + SIGNAL_LINE - 1) & ~(size_t)(SIGNAL_LINE - 1);
}

/* Slots: as many as fit the ring budget, between 2 and 64. */
static uint32_t signal_nslots(size_t stride)
{
	uint32_t n = SIGNAL_MAX_SLOTS;

	while (n > SIGNAL_MIN_SLOTS && (size_t)n * stride > SIGNAL_RING_BUDGET)
		n /= 2;
	return n;
}

static void signal_need(const struct ipcb_chan_config *cfg,
			struct ipcb_need *need)
{
	need->fds = 1; /* the region's memfd, until seal */
	/* Every slot's signal plus the end-of-stream one. */
	need->sigpending = signal_nslots(signal_stride(cfg->max_msg)) + 1;
}

static long signal_futex(uint32_t *word, int op, uint32_t val,
			 const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static int signal_setup(const struct ipcb_chan_config *cfg, void **chan,
			struct ipcb_chan_info *info)
{
	struct signal_chan *c;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len;
	int rc;

	if (SIGRTMIN + SIGNAL_RTOFF > SIGRTMAX)
		return -EOPNOTSUPP;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->signo = SIGRTMIN + SIGNAL_RTOFF;
	c->max_msg = cfg->max_msg;
	c->stride = signal_stride(cfg->max_msg);
	c->nslots = signal_nslots(c->stride);
	len = sizeof(struct signal_shared) + c->nslots * c->stride;
	rc = ipcb_region_create(&c->region, (len + page - 1) & ~(page - 1));
	if (rc) {
		free(c);
		return rc;
	}
	info->chunk = 0;
	if (c->stride)
		snprintf(info->detail, sizeof(info->detail),
			 "SIGRTMIN+%d; <=%zu B in sigval, else ring of %u "
			 "slots x %zu B",
			 SIGNAL_RTOFF, SIGNAL_INLINE, c->nslots, c->stride);
	else
		snprintf(info->detail, sizeof(info->detail),
			 "SIGRTMIN+%d; payload in sigval, window %u",
			 SIGNAL_RTOFF, c->nslots);
	*chan = c;
	return 0;
}

/* Removes every queued copy of the endpoint's signal from this process. */
static void signal_drain(const sigset_t *set)
{
	siginfo_t si;

	while (sigtimedwait(set, &si, &signal_now) >= 0 || errno == EINTR)
		;
}

static int signal_attach_consumer(struct signal_ep *e)
{
	pid_t self = getpid();
	pid_t none = 0;
	sigset_t old;

	if (signal_consumer_pid == self)
		return -EBUSY;
	sigemptyset(&e->set);
	sigaddset(&e->set, e->signo);
	if (sigprocmask(SIG_BLOCK, &e->set, &old) < 0)
		return -errno;
	e->was_blocked = sigismember(&old, e->signo) == 1;
	signal_drain(&e->set);
	if (!__atomic_compare_exchange_n(&e->sh->cons_pid, &none, self, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (!e->was_blocked)
			sigprocmask(SIG_UNBLOCK, &e->set, NULL);
		return -EBUSY;
	}
	signal_consumer_pid = self;
	e->peer = __atomic_load_n(&e->sh->prod_pid, __ATOMIC_ACQUIRE);
	return 0;
}

static int signal_attach_producer(struct signal_ep *e)
{
	pid_t self = getpid();
	pid_t none = 0;

	if (!__atomic_compare_exchange_n(&e->sh->prod_pid, &none, self, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return -EBUSY;
	memset(&e->info, 0, sizeof(e->info));
	e->info.si_signo = e->signo;
	e->info.si_code = SI_QUEUE;
	e->info.si_pid = self;
	e->info.si_uid = getuid();
	e->peer = __atomic_load_n(&e->sh->cons_pid, __ATOMIC_ACQUIRE);
	return 0;
}

static int signal_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct signal_chan *c = chan;
	struct signal_ep *e;
	void *map;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	rc = ipcb_region_map(&c->region, &map);
	if (rc)
		goto err_free;
	e->sh = map;
	e->data = (unsigned char *)map + sizeof(struct signal_shared);
	e->map_len = c->region.len;
	e->max_msg = c->max_msg;
	e->stride = c->stride;
	e->nslots = c->nslots;
	e->mask = c->nslots - 1;
	e->signo = c->signo;
	e->consumer = role == IPCB_CONSUMER;
	rc = e->consumer ? signal_attach_consumer(e)
			 : signal_attach_producer(e);
	if (rc)
		goto err_unmap;
	*ep = e;
	return 0;

err_unmap:
	ipcb_region_unmap(e->sh, e->map_len);
err_free:
	free(e);
	return rc;
}

/* Closes the region's fd and unmaps the creator's view: endpoints have
 * their own. */
static void signal_drop(void *chan)
{
	struct signal_chan *c = chan;

	ipcb_region_release(&c->region);
}

static void signal_teardown(void *chan)
{
	signal_drop(chan);
	free(chan);
}

/*
 * Slow path of send: out of credit, sleep until the consumer has freed half
 * the window, checking every 100 ms that the consumer is still there.
 * "waiting" and "tail" form a Dekker pair with the consumer's wake.
 */
static int signal_wait_credit(struct signal_ep *e)
{
	struct signal_shared *s = e->sh;

	for (;;) {
		uint32_t t;

		__atomic_store_n(&s->wake_at, e->head - e->nslots / 2,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
		t = __atomic_load_n(&s->tail, __ATOMIC_SEQ_CST);
		if (e->head - t < e->nslots) {
			__atomic_store_n(&s->waiting, 0, __ATOMIC_RELAXED);
			e->tail = t;
			return 0;
		}
		if (__atomic_load_n(&s->cons_gone, __ATOMIC_ACQUIRE))
			return -EPIPE;
		if (signal_futex(&s->waiting, FUTEX_WAIT, 1, &signal_slow) <
			    0 &&
		    errno == ETIMEDOUT && !ipcb_pid_alive(e->peer))
			return -EPIPE;
	}
}

/*
 * Queues one signal at the consumer unless it has detached. The "sending"
 * flag and the consumer's "gone" flag form a Dekker handshake, so that the
 * consumer's detach cannot unblock the signal while one is on its way.
 */
static int signal_ring(struct signal_ep *e, union sigval v)
{
	struct signal_shared *s = e->sh;
	int rc = 0;

	e->info.si_value = v;
	__atomic_store_n(&s->sending, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->cons_gone, __ATOMIC_SEQ_CST))
		rc = -EPIPE;
	else if (syscall(SYS_rt_sigqueueinfo, e->peer, e->signo, &e->info) < 0)
		rc = errno == ESRCH ? -EPIPE : -errno;
	__atomic_store_n(&s->sending, 0, __ATOMIC_RELEASE);
	return rc;
}

static int signal_send(void *ep, const void *buf, size_t len)
{
	struct signal_ep *e = ep;
	struct signal_shared *s = e->sh;
	union sigval v = { .sival_ptr = NULL };
	uint32_t idx;
	int rc;

	if (len > e->max_msg)
		return -EMSGSIZE;
	if (!e->peer) {
		e->peer = __atomic_load_n(&s->cons_pid, __ATOMIC_ACQUIRE);
		if (!e->peer)
			return -ENOTCONN;
	}
	if (e->head - e->tail >= e->nslots) {
		e->tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
		if (e->head - e->tail >= e->nslots) {
			rc = signal_wait_credit(e);
			if (rc)
				return rc;
		}
	}
	idx = e->head & e->mask;
	if (len <= SIGNAL_INLINE) {
		memcpy(&v, buf, len);
	} else {
		memcpy(e->data + idx * e->stride, buf, len);
		v.sival_ptr = (void *)(((uintptr_t)len << 32) | idx);
	}
	s->lens[idx] = (uint32_t)len;
	/* Publish before the signal: the consumer reads head when it
	 * receives it, to tell a message from the end of stream. */
	__atomic_store_n(&s->head, e->head + 1, __ATOMIC_RELEASE);
	rc = signal_ring(e, v);
	if (rc) {
		/* No signal, so the consumer never takes this slot. */
		__atomic_store_n(&s->head, e->head, __ATOMIC_RELEASE);
		return rc;
	}
	e->head++;
	return 0;
}

/*
 * Waits for the next message's signal and stores its value in *v. -EPIPE
 * at the end signal, once the producer detached with nothing left (should
 * its end signal have failed), or once it died and nothing is queued.
 */
static int signal_next(struct signal_ep *e, union sigval *v)
{
	struct signal_shared *s = e->sh;
	siginfo_t si;

	for (;;) {
		int sig = sigtimedwait(&e->set, &si,
				       e->dead ? &signal_now : &signal_slow);

		if (sig == e->signo) {
			if (si.si_code != SI_QUEUE)
				continue;
			if (si.si_pid != e->peer) {
				e->peer = __atomic_load_n(&s->prod_pid,
							  __ATOMIC_ACQUIRE);
				if (si.si_pid != e->peer)
					continue;
			}
			if (e->tail !=
			    __atomic_load_n(&s->head, __ATOMIC_ACQUIRE)) {
				*v = si.si_value;
				return 0;
			}
			if (__atomic_load_n(&s->prod_done, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		if (sig >= 0 || errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (e->dead)
			break;
		if (__atomic_load_n(&s->prod_done, __ATOMIC_ACQUIRE) &&
		    e->tail == __atomic_load_n(&s->head, __ATOMIC_ACQUIRE))
			break;
		if (!e->peer)
			e->peer =
				__atomic_load_n(&s->prod_pid, __ATOMIC_ACQUIRE);
		/* One more look without waiting for what it queued last. */
		if (e->peer && !ipcb_pid_alive(e->peer))
			e->dead = true;
	}
	e->eof = true;
	return -EPIPE;
}

static int signal_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct signal_ep *e = ep;
	struct signal_shared *s = e->sh;
	uint32_t idx, n;
	union sigval v;
	int rc;

	if (e->held) {
		v = e->held_val;
	} else {
		if (e->eof)
			return -EPIPE;
		rc = signal_next(e, &v);
		if (rc)
			return rc;
	}
	idx = e->tail & e->mask;
	n = s->lens[idx];
	if (n > cap) {
		e->held = true;
		e->held_val = v;
		return -EMSGSIZE;
	}
	e->held = false;
	if (n <= SIGNAL_INLINE) {
		memcpy(buf, &v, n);
	} else {
		uintptr_t bell = (uintptr_t)v.sival_ptr;
		if ((bell & 0xffffffffu) != idx || bell >> 32 != n)
			return -EPROTO;
		memcpy(buf, e->data + idx * e->stride, n);
	}
	*len = n;
	/* Return the credit; wake the producer only if it sleeps and half
	 * the window is free. */
	__atomic_store_n(&s->tail, ++e->tail, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST) &&
	    (int32_t)(e->tail -
		      __atomic_load_n(&s->wake_at, __ATOMIC_RELAXED)) >= 0 &&
	    __atomic_exchange_n(&s->waiting, 0, __ATOMIC_SEQ_CST))
		signal_futex(&s->waiting, FUTEX_WAKE, 1, NULL);
	return 0;
}

/* Waits until no sigqueue is on its way, or the producer is dead. */
static void signal_wait_quiet(struct signal_ep *e)
{
	static const struct timespec nap = { 0, 100000 };
	struct signal_shared *s = e->sh;
	long waited = 0;

	while (__atomic_load_n(&s->sending, __ATOMIC_SEQ_CST)) {
		nanosleep(&nap, NULL);
		waited += nap.tv_nsec;
		if (waited >= SIGNAL_SLOW_NS) {
			pid_t pid =
				__atomic_load_n(&s->prod_pid, __ATOMIC_ACQUIRE);
			if (!ipcb_pid_alive(pid))
				return;
			waited = 0;
		}
	}
}

static void signal_detach(void *ep)
{
	struct signal_ep *e = ep;
	struct signal_shared *s = e->sh;

	if (e->consumer) {
		__atomic_store_n(&s->cons_gone, 1, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&s->waiting, 0, __ATOMIC_SEQ_CST))
			signal_futex(&s->waiting, FUTEX_WAKE, 1, NULL);
		signal_wait_quiet(e);
		signal_drain(&e->set);
		if (!e->was_blocked)
			sigprocmask(SIG_UNBLOCK, &e->set, NULL);
		signal_consumer_pid = 0;
	} else {
		union sigval end = { .sival_ptr = NULL };

		__atomic_store_n(&s->prod_done, 1, __ATOMIC_SEQ_CST);
		if (!e->peer)
			e->peer =
				__atomic_load_n(&s->cons_pid, __ATOMIC_ACQUIRE);
		if (e->peer)
			signal_ring(e, end);
	}
	ipcb_region_unmap(e->sh, e->map_len);
	free(e);
}

const struct ipcb_transport ipcb_signal_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "signal",
	.summary = "POSIX RT signals via sigqueue; sigval inline, shm slot "
		   "ring for larger messages",
	.caps = IPCB_CAP_PAYLOAD,
	.max_msg = signal_max_msg,
	.setup = signal_setup,
	.attach = signal_attach,
	.need = signal_need,
	.drop = signal_drop,
	.seal = signal_drop,
	.teardown = signal_teardown,
	.send = signal_send,
	.recv = signal_recv,
	.detach = signal_detach,
};
