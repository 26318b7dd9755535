/*
 * sysv_mq.c - System V message queues (msgget(2), msgsnd(2), msgrcv(2)).
 *
 * One IPC_PRIVATE queue per channel, mode 0600. Its id is all an endpoint
 * needs, so attach opens nothing and drop and seal have nothing to do; the
 * queue dies on IPC_RMID, so teardown removes it.
 *
 * msgsnd() and msgrcv() want the payload right after a long mtype, so each
 * side copies a message through a buffer of its own: one memcpy() per
 * message at each end on top of the kernel's two copies. A message of at
 * most msgmax bytes (capped at msgmnb, so that one fits in an empty queue)
 * is one kernel message of type LAST; a larger one is split into chunks of
 * that size, of type MORE, the last one LAST. Chunks of different messages
 * interleave when a queue is shared, so validate() refuses sharing for
 * messages above the chunk size. A message larger than the receiver's
 * buffer is dropped whole and reported as -EMSGSIZE.
 *
 * End of stream. msgsnd() and msgrcv() cannot time out, so to keep the fast
 * path one blocking call the slow path lives in a watcher thread per
 * endpoint (all signals blocked), which wakes every 100 ms and checks the
 * peers' pids kept in a shared roster (peers.h). The last producer to
 * detach queues one empty END message per consumer, without blocking; FIFO
 * order delivers it after all data and ends the stream at once. When the
 * producers die instead, a consumer's watcher queues an END once no
 * producer is left and the queue is empty. When every consumer is gone, a
 * producer's watcher marks the endpoint and takes one message out of the
 * queue, so that a send blocked on a full queue returns; send reads that
 * mark after each msgsnd() (a load, no syscall) and fails with -EPIPE.
 *
 * The watcher starts at the endpoint's first send or receive, not at
 * attach, so that a process that attaches and then forks (the conformance
 * suite does) is still single-threaded when it forks. Noticing the first
 * call costs no test the fast path does not make anyway: send compares the
 * size with a limit that is 0 until then, recv tests one flag that also
 * stands for end of stream.
 *
 * Costs: a thread per active endpoint waking 10 times a second; a dead
 * peer is noticed within 100 ms; the first send or receive starts a
 * thread.
 */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

#define SYSVMQ_MSGMAX 8192  /* the kernel's default msgmax */
#define SYSVMQ_MSGMNB 16384 /* the kernel's default msgmnb */
#define SYSVMQ_MAX_MSG (64ul << 20)
#define SYSVMQ_WATCH_NS 100000000L /* liveness check period */

/* Message types: mtype frames messages and carries end of stream. */
enum { SYSVMQ_LAST = 1, SYSVMQ_MORE = 2, SYSVMQ_END = 3 };

struct sysvmq_geom {
	unsigned long msgmax, msgmnb;
	size_t chunk; /* bytes per kernel message at most */
	bool chunked;
};

struct sysvmq_chan {
	int id;
	struct sysvmq_geom g;
	struct ipcb_peers *peers; /* from ipcb_peers_map() */
};

struct sysvmq_msg {
	long mtype;
	char mtext[];
};

struct sysvmq_ep {
	int id;
	enum ipcb_role role;
	bool chunked;
	bool watching;	  /* the watcher thread runs */
	bool slow;	  /* consumers: !watching or eos */
	bool eos;	  /* end of stream seen: later recvs fail */
	atomic_bool gone; /* producers: no consumer left (the watcher) */
	int place;	  /* in the roster */
	size_t chunk;
	size_t limit; /* producers: 0 until watching, then the
				 * largest message sent without a check */
	struct ipcb_peers *peers;
	struct sysvmq_msg *msg; /* chunk bytes of mtext */
	pthread_t watcher;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running; /* under lock: the watcher has started */
	bool stop;    /* under lock: detach ends the watcher */
};

/* Reads the system's limits; the kernel defaults when /proc lacks them. */
static void sysvmq_geometry(const struct ipcb_chan_config *cfg,
			    struct sysvmq_geom *g)
{
	unsigned long v, limit;

	g->msgmax = SYSVMQ_MSGMAX;
	g->msgmnb = SYSVMQ_MSGMNB;
	if (ipcb_read_proc_ulong("/proc/sys/kernel/msgmax", &v) == 0 && v > 0)
		g->msgmax = v;
	if (ipcb_read_proc_ulong("/proc/sys/kernel/msgmnb", &v) == 0 && v > 0)
		g->msgmnb = v;
	limit = g->msgmax < g->msgmnb ? g->msgmax : g->msgmnb;
	g->chunked = cfg->max_msg > limit;
	g->chunk = g->chunked ? limit : cfg->max_msg;
}

static size_t sysvmq_max_msg(void)
{
	return SYSVMQ_MAX_MSG;
}

static int sysvmq_validate(const struct ipcb_chan_config *cfg, const char **why)
{
	struct sysvmq_geom g;

	sysvmq_geometry(cfg, &g);
	if (g.chunked && (cfg->producers > 1 || cfg->consumers > 1)) {
		*why = "messages above msgmax (or msgmnb) are split into "
		       "chunks, which interleave when producers or consumers "
		       "share a queue";
		return -EMSGSIZE;
	}
	return 0;
}

static int sysvmq_setup(const struct ipcb_chan_config *cfg, void **chan,
			struct ipcb_chan_info *info)
{
	struct sysvmq_chan *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	sysvmq_geometry(cfg, &c->g);
	c->peers = ipcb_peers_map(cfg->producers, cfg->consumers);
	if (!c->peers) {
		rc = -ENOMEM;
		goto err_free;
	}
	c->id = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
	if (c->id < 0) {
		rc = -errno;
		goto err_peers;
	}
	info->chunk = c->g.chunked ? c->g.chunk : 0;
	snprintf(info->detail, sizeof(info->detail), "msgmax=%lu msgmnb=%lu%s",
		 c->g.msgmax, c->g.msgmnb, c->g.chunked ? ", chunked" : "");
	*chan = c;
	return 0;

err_peers:
	ipcb_peers_unmap(c->peers);
err_free:
	free(c);
	return rc;
}

/* Queues n END messages without blocking; a full queue takes fewer, and the
 * consumers' watchers make up for them. */
static void sysvmq_end(int id, unsigned n)
{
	long end = SYSVMQ_END;

	for (unsigned i = 0; i < n; i++)
		msgsnd(id, &end, 0, IPC_NOWAIT);
}

/* One look of the watcher at the peers of its endpoint. */
static void sysvmq_look(struct sysvmq_ep *e)
{
	struct msqid_ds ds;
	long type;

	if (e->role == IPCB_CONSUMER) {
		if (!ipcb_peers_left(e->peers, IPCB_PRODUCER) &&
		    msgctl(e->id, IPC_STAT, &ds) == 0 && ds.msg_qnum == 0)
			sysvmq_end(e->id, 1);
	} else if (!ipcb_peers_left(e->peers, IPCB_CONSUMER)) {
		atomic_store(&e->gone, true);
		msgrcv(e->id, &type, 0, 0, IPC_NOWAIT | MSG_NOERROR);
	}
}

static void *sysvmq_watch(void *arg)
{
	struct sysvmq_ep *e = arg;
	struct timespec t;

	pthread_mutex_lock(&e->lock);
	e->running = true;
	pthread_cond_broadcast(&e->wake);
	while (!e->stop) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += SYSVMQ_WATCH_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		while (!e->stop &&
		       pthread_cond_timedwait(&e->wake, &e->lock, &t) == 0)
			;
		if (e->stop)
			break;
		pthread_mutex_unlock(&e->lock);
		sysvmq_look(e);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/*
 * Starts the watcher with every signal blocked, so that signals meant for
 * the worker never land in it, and returns once it runs: a new thread's
 * start-up may allocate (it does under ASan), and a fork() of the caller
 * meanwhile would leave the allocator's lock held forever in the child.
 */
static int sysvmq_watch_start(struct sysvmq_ep *e)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	rc = pthread_condattr_init(&ca);
	if (rc)
		return -rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&e->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc)
		return -rc;
	rc = pthread_mutex_init(&e->lock, NULL);
	if (rc)
		goto err_cond;
	e->running = e->stop = false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&e->watcher, NULL, sysvmq_watch, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		goto err_mutex;
	pthread_mutex_lock(&e->lock);
	while (!e->running)
		pthread_cond_wait(&e->wake, &e->lock);
	pthread_mutex_unlock(&e->lock);
	return 0;

err_mutex:
	pthread_mutex_destroy(&e->lock);
err_cond:
	pthread_cond_destroy(&e->wake);
	return -rc;
}

static void sysvmq_watch_stop(struct sysvmq_ep *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->watcher, NULL);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->wake);
}

static int sysvmq_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct sysvmq_chan *c = chan;
	struct sysvmq_ep *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	e->msg = malloc(sizeof(*e->msg) + c->g.chunk);
	if (!e->msg) {
		rc = -ENOMEM;
		goto err_free;
	}
	e->place = ipcb_peers_join(c->peers, role);
	if (e->place < 0) {
		rc = e->place;
		goto err_msg;
	}
	ipcb_peers_hold(c->peers);
	e->id = c->id;
	e->role = role;
	e->chunked = c->g.chunked;
	e->chunk = c->g.chunk;
	e->peers = c->peers;
	e->slow = true;
	atomic_init(&e->gone, false);
	*ep = e;
	return 0;

err_msg:
	free(e->msg);
err_free:
	free(e);
	return rc;
}

static void sysvmq_nothing(void *chan)
{
	(void)chan;
}

static void sysvmq_teardown(void *chan)
{
	struct sysvmq_chan *c = chan;

	msgctl(c->id, IPC_RMID, NULL);
	ipcb_peers_unmap(c->peers);
	free(c);
}

/* Queues one kernel message, blocking while the queue is full; -EPIPE once
 * no consumer is left (or the queue was removed). */
static int sysvmq_put(struct sysvmq_ep *e, const char *p, size_t n, long type)
{
	e->msg->mtype = type;
	memcpy(e->msg->mtext, p, n);
	while (msgsnd(e->id, e->msg, n, 0) < 0)
		if (errno != EINTR)
			return errno == EIDRM || errno == EINVAL ? -EPIPE
								 : -errno;
	return atomic_load_explicit(&e->gone, memory_order_relaxed) ? -EPIPE
								    : 0;
}

/* First send or receive of an endpoint: starts its watcher. */
static int sysvmq_first(struct sysvmq_ep *e)
{
	int rc;

	if (e->watching)
		return 0;
	rc = sysvmq_watch_start(e);
	if (rc)
		return rc;
	e->watching = true;
	e->slow = e->eos;
	e->limit = e->chunked ? SIZE_MAX : e->chunk;
	return 0;
}

static int sysvmq_send(void *ep, const void *buf, size_t len)
{
	struct sysvmq_ep *e = ep;
	const char *p = buf;
	int rc;

	if (len > e->limit) {
		rc = sysvmq_first(e);
		if (rc)
			return rc;
		if (len > e->limit)
			return -EMSGSIZE;
	}
	while (len > e->chunk) {
		rc = sysvmq_put(e, p, e->chunk, SYSVMQ_MORE);
		if (rc)
			return rc;
		p += e->chunk;
		len -= e->chunk;
	}
	return sysvmq_put(e, p, len, SYSVMQ_LAST);
}

/* Takes the next kernel message into the endpoint's buffer: its length, or
 * -EPIPE when the queue was removed. */
static ssize_t sysvmq_get(struct sysvmq_ep *e)
{
	for (;;) {
		ssize_t r = msgrcv(e->id, e->msg, e->chunk, 0, 0);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return errno == EIDRM || errno == EINVAL ? -EPIPE
								 : -errno;
	}
}

/* The message did not fit: drops the rest of it, so that the next receive
 * starts at a message boundary. */
static int sysvmq_discard(struct sysvmq_ep *e)
{
	while (e->msg->mtype == SYSVMQ_MORE) {
		ssize_t r = sysvmq_get(e);
		if (r < 0)
			return r == -EPIPE ? -EPROTO : (int)r;
	}
	if (e->msg->mtype == SYSVMQ_END)
		e->eos = e->slow = true;
	return -EMSGSIZE;
}

static int sysvmq_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct sysvmq_ep *e = ep;
	char *p = buf;
	size_t off = 0;
	int rc;

	if (e->slow) {
		if (e->eos)
			return -EPIPE;
		rc = sysvmq_first(e);
		if (rc)
			return rc;
	}
	for (;;) {
		ssize_t r = sysvmq_get(e);

		if (r < 0)
			return off && r == -EPIPE ? -EPROTO : (int)r;
		if (e->msg->mtype == SYSVMQ_END) {
			e->eos = e->slow = true;
			return off ? -EPROTO : -EPIPE;
		}
		if ((size_t)r > cap - off)
			return sysvmq_discard(e);
		memcpy(p + off, e->msg->mtext, (size_t)r);
		off += (size_t)r;
		if (e->msg->mtype == SYSVMQ_LAST)
			break;
	}
	*len = off;
	return 0;
}

static void sysvmq_detach(void *ep)
{
	struct sysvmq_ep *e = ep;

	if (e->watching)
		sysvmq_watch_stop(e);
	if (ipcb_peers_leave(e->peers, e->role, e->place) &&
	    e->role == IPCB_PRODUCER)
		sysvmq_end(e->id, e->peers->expect[IPCB_CONSUMER]);
	ipcb_peers_unmap(e->peers);
	free(e->msg);
	free(e);
}

const struct ipcb_transport ipcb_sysv_mq_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "sysv-mq",
	.summary = "System V message queue; chunked above msgmax",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = sysvmq_max_msg,
	.validate = sysvmq_validate,
	.setup = sysvmq_setup,
	.attach = sysvmq_attach,
	.drop = sysvmq_nothing,
	.seal = sysvmq_nothing,
	.teardown = sysvmq_teardown,
	.send = sysvmq_send,
	.recv = sysvmq_recv,
	.detach = sysvmq_detach,
};
