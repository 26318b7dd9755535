/*
 * posix_mq.c - POSIX message queues (mq_overview(7)).
 *
 * One queue per channel, created O_EXCL with mode 0600 under an ipcb_name()
 * name and unlinked at seal. Each endpoint duplicates the creator's
 * descriptor (on Linux an mqd_t is a file descriptor), so thread endpoints
 * outlive the creator's handle and a worker forked before seal may still
 * attach after it.
 *
 * Geometry: mq_maxmsg = min(msg_max, 10), the kernel's default depth (root
 * could ask for more; the benchmark measures what an unprivileged user
 * gets). When max_msg <= msgsize_max, mq_msgsize = max_msg and every
 * message is one kernel message, sent and received by one syscall straight
 * from and into the caller's buffer. Otherwise mq_msgsize = msgsize_max and
 * messages are split without any header: a kernel message of exactly
 * mq_msgsize bytes means "more follows", a shorter (possibly empty) one
 * ends the message. A message shorter than mq_msgsize is then still one
 * kernel message; one of k * mq_msgsize bytes ends with an empty one.
 * Chunks of different messages interleave when a queue is shared, so
 * validate() refuses sharing in that mode. A message larger than the
 * receiver's buffer is dropped whole and reported as -EMSGSIZE.
 *
 * End of stream. Data travels at priority 1. The last producer to detach
 * queues one empty message at priority 0 per consumer, without blocking:
 * priority order delivers it after all data, and it ends the stream at
 * once. For peers that die instead, every send and receive is an
 * mq_timed*() call whose absolute CLOCK_REALTIME deadline lives in the
 * endpoint and is refreshed only after it has passed, so the fast path is
 * one syscall and no clock read. A timeout (the queue stayed empty, or
 * full, until the deadline: at most ~100 ms) checks the peers' pids kept
 * in a shared roster (peers.h). Costs: a wait on an empty or full queue
 * arms a kernel hrtimer that a plain mq_receive() would not, and a step of
 * the realtime clock delays or hastens the liveness check.
 */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POSIXMQ_DEPTH 10     /* the kernel's msg_default */
#define POSIXMQ_MSGSIZE 8192 /* the kernel's msgsize_default */
#define POSIXMQ_MAX_MSG (64ul << 20)
#define POSIXMQ_WAIT_NS 100000000L /* liveness check period */
#define POSIXMQ_PRIO_END 0
#define POSIXMQ_PRIO_DATA 1
/* For RLIMIT_MSGQUEUE accounting (ipc/mqueue.c, mqueue_get_inode()):
 * conservative sizes of struct msg_msg and struct posix_msg_tree_node, and
 * MQ_PRIO_MAX. */
#define POSIXMQ_MSG_COST 64
#define POSIXMQ_NODE_COST 48
#define POSIXMQ_PRIO_MAX 32768

struct posixmq_geom {
	long maxmsg;
	long msgsize;
	bool chunked;
};

struct posixmq_chan {
	mqd_t mqd;  /* -1 once dropped or sealed */
	bool named; /* the name still exists */
	struct posixmq_geom g;
	struct ipcb_peers *peers; /* from ipcb_peers_map() */
	char name[NAME_MAX];
};

struct posixmq_ep {
	mqd_t mqd;
	enum ipcb_role role;
	bool chunked;
	bool eos;  /* end of stream seen: later recvs fail */
	int place; /* in the roster */
	size_t msgsize;
	struct ipcb_peers *peers;
	struct timespec deadline; /* of every wait; CLOCK_REALTIME */
	char stage[];		  /* consumers: msgsize bytes */
};

static const struct timespec posixmq_now; /* a deadline already passed */

/* Reads the system's limits; the kernel defaults when /proc lacks them. */
static void posixmq_geometry(const struct ipcb_chan_config *cfg,
			     struct posixmq_geom *g)
{
	unsigned long v, msgsize_max = POSIXMQ_MSGSIZE;

	g->maxmsg = POSIXMQ_DEPTH;
	if (ipcb_read_proc_ulong("/proc/sys/fs/mqueue/msg_max", &v) == 0 &&
	    v > 0 && v < POSIXMQ_DEPTH)
		g->maxmsg = (long)v;
	if (ipcb_read_proc_ulong("/proc/sys/fs/mqueue/msgsize_max", &v) == 0 &&
	    v > 0 && v <= LONG_MAX)
		msgsize_max = v;
	g->chunked = cfg->max_msg > msgsize_max;
	g->msgsize = (long)(g->chunked ? msgsize_max : cfg->max_msg);
}

static size_t posixmq_max_msg(void)
{
	return POSIXMQ_MAX_MSG;
}

static int posixmq_validate(const struct ipcb_chan_config *cfg,
			    const char **why)
{
	struct posixmq_geom g;

	posixmq_geometry(cfg, &g);
	if (g.chunked && (cfg->producers > 1 || cfg->consumers > 1)) {
		*why = "messages above msgsize_max are split into chunks, "
		       "which interleave when producers or consumers share a "
		       "queue";
		return -EMSGSIZE;
	}
	return 0;
}

static void posixmq_need(const struct ipcb_chan_config *cfg,
			 struct ipcb_need *need)
{
	struct posixmq_geom g;
	unsigned long n;

	posixmq_geometry(cfg, &g);
	n = (unsigned long)g.maxmsg;
	need->fds = 1;
	need->mq_bytes = n * POSIXMQ_MSG_COST +
			 (n < POSIXMQ_PRIO_MAX ? n : POSIXMQ_PRIO_MAX) *
				 POSIXMQ_NODE_COST +
			 n * (unsigned long)g.msgsize;
}

static int posixmq_setup(const struct ipcb_chan_config *cfg, void **chan,
			 struct ipcb_chan_info *info)
{
	struct posixmq_chan *c = calloc(1, sizeof(*c));
	struct mq_attr attr = { 0 };
	int rc;

	if (!c)
		return -ENOMEM;
	posixmq_geometry(cfg, &c->g);
	rc = ipcb_name(c->name, sizeof(c->name), "/", cfg, "");
	if (rc)
		goto err_free;
	c->peers = ipcb_peers_map(cfg->producers, cfg->consumers);
	if (!c->peers) {
		rc = -ENOMEM;
		goto err_free;
	}
	attr.mq_maxmsg = c->g.maxmsg;
	attr.mq_msgsize = c->g.msgsize;
	c->mqd = mq_open(c->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
			 &attr);
	if (c->mqd == (mqd_t)-1) {
		rc = -errno;
		goto err_peers;
	}
	c->named = true;
	info->chunk = c->g.chunked ? (size_t)c->g.msgsize : 0;
	snprintf(info->detail, sizeof(info->detail), "maxmsg=%ld msgsize=%ld%s",
		 c->g.maxmsg, c->g.msgsize, c->g.chunked ? ", chunked" : "");
	*chan = c;
	return 0;

err_peers:
	ipcb_peers_unmap(c->peers);
err_free:
	free(c);
	return rc;
}

static void posixmq_rearm(struct timespec *deadline)
{
	clock_gettime(CLOCK_REALTIME, deadline);
	deadline->tv_nsec += POSIXMQ_WAIT_NS;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

static int posixmq_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct posixmq_chan *c = chan;
	bool reader = role == IPCB_CONSUMER;
	struct posixmq_ep *e;
	int rc;

	e = malloc(sizeof(*e) + (reader ? (size_t)c->g.msgsize : 0));
	if (!e)
		return -ENOMEM;
	e->mqd = fcntl(c->mqd, F_DUPFD_CLOEXEC, 0);
	if (e->mqd < 0) {
		rc = -errno;
		goto err_free;
	}
	e->place = ipcb_peers_join(c->peers, role);
	if (e->place < 0) {
		rc = e->place;
		goto err_close;
	}
	ipcb_peers_hold(c->peers);
	e->role = role;
	e->chunked = c->g.chunked;
	e->eos = false;
	e->msgsize = (size_t)c->g.msgsize;
	e->peers = c->peers;
	posixmq_rearm(&e->deadline);
	*ep = e;
	return 0;

err_close:
	mq_close(e->mqd);
err_free:
	free(e);
	return rc;
}

static void posixmq_drop(void *chan)
{
	struct posixmq_chan *c = chan;

	if (c->mqd != (mqd_t)-1) {
		mq_close(c->mqd);
		c->mqd = (mqd_t)-1;
	}
}

static void posixmq_seal(void *chan)
{
	struct posixmq_chan *c = chan;

	if (c->named) {
		mq_unlink(c->name);
		c->named = false;
	}
	posixmq_drop(c);
}

static void posixmq_teardown(void *chan)
{
	struct posixmq_chan *c = chan;

	posixmq_seal(c);
	ipcb_peers_unmap(c->peers);
	free(c);
}

/* Queues one kernel message, blocking while the queue is full; -EPIPE when
 * it stayed full until a deadline and no consumer is left. */
static int posixmq_put(struct posixmq_ep *e, const char *p, size_t n)
{
	for (;;) {
		if (mq_timedsend(e->mqd, p, n, POSIXMQ_PRIO_DATA,
				 &e->deadline) == 0)
			return 0;
		if (errno == ETIMEDOUT) {
			if (!ipcb_peers_left(e->peers, IPCB_CONSUMER))
				return -EPIPE;
			posixmq_rearm(&e->deadline);
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

static int posixmq_send(void *ep, const void *buf, size_t len)
{
	struct posixmq_ep *e = ep;
	const char *p = buf;
	int rc;

	if (!e->chunked || len < e->msgsize)
		return posixmq_put(e, p, len);
	for (;;) {
		size_t n = len < e->msgsize ? len : e->msgsize;
		rc = posixmq_put(e, p, n);
		if (rc || n < e->msgsize)
			return rc;
		p += n;
		len -= n;
	}
}

/* Takes one kernel message into p (n >= msgsize bytes), blocking while the
 * queue is empty; -EPIPE when it stayed empty until a deadline, no
 * producer is left and a last look still finds nothing. */
static ssize_t posixmq_get(struct posixmq_ep *e, char *p, size_t n,
			   unsigned *prio)
{
	const struct timespec *deadline = &e->deadline;

	for (;;) {
		ssize_t r = mq_timedreceive(e->mqd, p, n, prio, deadline);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			return -errno;
		if (deadline == &posixmq_now)
			return -EPIPE;
		if (ipcb_peers_left(e->peers, IPCB_PRODUCER))
			posixmq_rearm(&e->deadline);
		else
			deadline = &posixmq_now;
	}
}

/* The message did not fit: drops the rest of it, so that the next receive
 * starts at a message boundary. */
static int posixmq_discard(struct posixmq_ep *e, size_t r)
{
	unsigned prio;

	while (e->chunked && r == e->msgsize) {
		ssize_t n = posixmq_get(e, e->stage, e->msgsize, &prio);
		if (n < 0)
			return n == -EPIPE ? -EPROTO : (int)n;
		r = (size_t)n;
	}
	return -EMSGSIZE;
}

static int posixmq_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct posixmq_ep *e = ep;
	char *p = buf;
	size_t off = 0;

	if (e->eos)
		return -EPIPE;
	for (;;) {
		size_t room = cap - off;
		bool direct = room >= e->msgsize;
		unsigned prio;
		ssize_t r = posixmq_get(e, direct ? p + off : e->stage,
					direct ? room : e->msgsize, &prio);

		if (r < 0)
			return off && r == -EPIPE ? -EPROTO : (int)r;
		if (prio == POSIXMQ_PRIO_END) {
			if (off)
				return -EPROTO;
			e->eos = true;
			return -EPIPE;
		}
		if (!direct) {
			if ((size_t)r > room)
				return posixmq_discard(e, (size_t)r);
			memcpy(p + off, e->stage, (size_t)r);
		}
		off += (size_t)r;
		if (!e->chunked || (size_t)r < e->msgsize)
			break;
	}
	*len = off;
	return 0;
}

static void posixmq_detach(void *ep)
{
	struct posixmq_ep *e = ep;

	if (ipcb_peers_leave(e->peers, e->role, e->place) &&
	    e->role == IPCB_PRODUCER)
		for (unsigned i = 0; i < e->peers->expect[IPCB_CONSUMER]; i++)
			mq_timedsend(e->mqd, "", 0, POSIXMQ_PRIO_END,
				     &posixmq_now);
	mq_close(e->mqd);
	ipcb_peers_unmap(e->peers);
	free(e);
}

const struct ipcb_transport ipcb_posix_mq_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "mq",
	.summary = "POSIX message queue; chunked above msgsize_max",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = posixmq_max_msg,
	.validate = posixmq_validate,
	.setup = posixmq_setup,
	.attach = posixmq_attach,
	.need = posixmq_need,
	.drop = posixmq_drop,
	.seal = posixmq_seal,
	.teardown = posixmq_teardown,
	.send = posixmq_send,
	.recv = posixmq_recv,
	.detach = posixmq_detach,
};
