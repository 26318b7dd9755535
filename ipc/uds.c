/*
 * uds.c - Unix domain sockets: "uds" (SOCK_STREAM) and "uds-seqpacket"
 * (SOCK_SEQPACKET).
 *
 * Each channel is one anonymous socketpair(): fd[0] is the producers' end,
 * fd[1] the consumers' end, and data only ever flows from fd[0] to fd[1].
 * No socket path is bound: a connected pair moves data exactly as a bound
 * and connected socket does, and without a name there is nothing to unlink
 * or leak. Attach duplicates only the end its role uses, so once every
 * producer's copy of fd[0] is closed (detached or died) the consumers read
 * end of stream, and once every copy of fd[1] is closed a send fails with
 * EPIPE. shutdown() is not used: it acts on the socket shared by every
 * duplicate, not on one endpoint.
 *
 * uds: a byte stream carrying length-framed messages (framed.h), one
 * sendmsg() per message and a buffered reader, so one producer and one
 * consumer per channel.
 *
 * uds-seqpacket: the kernel keeps message boundaries, one send() is one
 * message and one recv() returns one whole message, so several producers
 * and consumers may share a channel. A message must fit the sender's
 * socket buffer (the kernel refuses len > sk_sndbuf - 32), so setup raises
 * SO_SNDBUF to hold two messages (SO_SNDBUFFORCE when privileged, else
 * capped by net.core.wmem_max), and independently of the buffer the kernel
 * cannot build a datagram above about 4 MiB (its linear part is one kmalloc
 * allocation; beyond that send fails with ENOBUFS). max_msg() probes what
 * this process can really get. Caveat: messages above ~16 KiB need
 * high-order kernel allocations, so under memory fragmentation large sends
 * may be slow or fail with ENOBUFS. A message larger than the receiver's
 * buffer is reported as -EMSGSIZE and is lost (a datagram cannot be read in
 * parts).
 */
#define _GNU_SOURCE
#include "framed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The kernel refuses a datagram with len > sk_sndbuf - UDS_SNDBUF_RESERVE
 * (net/unix/af_unix.c, unix_dgram_sendmsg). */
#define UDS_SNDBUF_RESERVE 32
/* Bookkeeping the kernel charges per datagram beyond its payload, rounded
 * up generously; used only to size the buffer for two messages. */
#define UDS_SKB_OVERHEAD 4096
/* Largest seqpacket message the kernel can allocate (KMALLOC_MAX_SIZE with
 * 4 KiB pages and order-10 allocations; a little more works, 4.3 MB
 * does not). */
#define UDS_SEQPACKET_HARD_MAX (4u << 20)

struct uds_chan {
	int fd[2]; /* [0] producers' end, [1] consumers' end */
};

struct udsp_ep {
	int fd;
};

static int uds_end(enum ipcb_role role)
{
	return role == IPCB_PRODUCER ? 0 : 1;
}

static int uds_pair(int type, struct uds_chan **chan)
{
	struct uds_chan *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, c->fd) < 0) {
		int err = -errno;
		free(c);
		return err;
	}
	*chan = c;
	return 0;
}

static void uds_drop(void *chan)
{
	struct uds_chan *c = chan;

	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

static void uds_teardown(void *chan)
{
	uds_drop(chan);
	free(chan);
}

static void uds_need(const struct ipcb_chan_config *cfg, struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 2;
}

/* ---- uds: stream socket, length-framed ---- */

static size_t uds_max_msg(void)
{
	return IPCB_FRAMED_MAX;
}

static int uds_setup(const struct ipcb_chan_config *cfg, void **chan,
		     struct ipcb_chan_info *info)
{
	struct uds_chan *c = NULL;
	int rc;

	(void)cfg;
	rc = uds_pair(SOCK_STREAM, &c);
	if (rc)
		return rc;
	info->chunk = 0;
	strcpy(info->detail, "socketpair stream, 4-byte length framing");
	*chan = c;
	return 0;
}

static int uds_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct uds_chan *c = chan;

	return ipcb_framed_attach(c->fd[uds_end(role)], role, true, ep);
}

const struct ipcb_transport ipcb_uds_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "uds",
	.summary = "Unix domain stream socketpair; length-framed stream",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_THREADS,
	.max_msg = uds_max_msg,
	.setup = uds_setup,
	.attach = uds_attach,
	.need = uds_need,
	.drop = uds_drop,
	.seal = uds_drop,
	.teardown = uds_teardown,
	.send = ipcb_framed_ep_send,
	.recv = ipcb_framed_ep_recv,
	.detach = ipcb_framed_ep_detach,
};

/* ---- uds-seqpacket: one datagram per message ---- */

/* Grows fd's send buffer so that two messages of max_msg bytes fit, never
 * shrinking it; returns the resulting sk_sndbuf (what SO_SNDBUF reads back)
 * or -errno. SO_SNDBUFFORCE passes net.core.wmem_max when privileged;
 * otherwise SO_SNDBUF is silently capped at it, and the caller compares. */
static int udsp_grow_sndbuf(int fd, size_t max_msg)
{
	size_t want = max_msg + UDS_SKB_OVERHEAD;
	int cur, val;
	socklen_t sl = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) < 0)
		return -errno;
	/* The kernel doubles the value set: val buys 2 * val bytes. */
	if (want > (size_t)cur / 2) {
		val = want > INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &val,
			       sizeof(val)) < 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)) <
			    0)
			return -errno;
		sl = sizeof(cur);
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) < 0)
			return -errno;
	}
	return cur;
}

static size_t udsp_fits(int sndbuf)
{
	size_t n = sndbuf > UDS_SNDBUF_RESERVE
			   ? (size_t)sndbuf - UDS_SNDBUF_RESERVE
			   : 0;
	return n < UDS_SEQPACKET_HARD_MAX ? n : UDS_SEQPACKET_HARD_MAX;
}

/* What this process can really send: probes the send buffer it can get.
 * If no socket can be made, assumes an unprivileged process and the
 * configured net.core.wmem_max. */
static size_t udsp_max_msg(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	unsigned long wmem_max;
	int sndbuf = -1;

	if (fd >= 0) {
		sndbuf = udsp_grow_sndbuf(fd, UDS_SEQPACKET_HARD_MAX);
		close(fd);
	}
	if (sndbuf >= 0)
		return udsp_fits(sndbuf);
	if (ipcb_read_proc_ulong("/proc/sys/net/core/wmem_max", &wmem_max))
		return 0;
	return udsp_fits(wmem_max > INT32_MAX / 2 ? INT32_MAX
						  : (int)wmem_max * 2);
}

static int udsp_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	struct uds_chan *c = NULL;
	int rc, sndbuf;

	rc = uds_pair(SOCK_SEQPACKET, &c);
	if (rc)
		return rc;
	sndbuf = udsp_grow_sndbuf(c->fd[0], cfg->max_msg);
	if (sndbuf < 0) {
		rc = sndbuf;
		goto err;
	}
	if (udsp_fits(sndbuf) < cfg->max_msg) {
		rc = -EMSGSIZE;
		goto err;
	}
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "socketpair seqpacket, sndbuf %d B", sndbuf);
	*chan = c;
	return 0;
err:
	uds_teardown(c);
	return rc;
}

static int udsp_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct uds_chan *c = chan;
	struct udsp_ep *e = malloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->fd = fcntl(c->fd[uds_end(role)], F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0) {
		int err = -errno;
		free(e);
		return err;
	}
	*ep = e;
	return 0;
}

static int udsp_send(void *ep, const void *buf, size_t len)
{
	struct udsp_ep *e = ep;
	ssize_t w;

	do
		w = send(e->fd, buf, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return (size_t)w == len ? 0 : -EIO;
}

/* MSG_TRUNC makes recv() return the datagram's real length, so a message
 * larger than cap is detected (and, being a datagram, dropped). Messages
 * are never empty (the harness refuses 0 bytes), so 0 is end of stream. */
static int udsp_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct udsp_ep *e = ep;
	ssize_t r;

	do
		r = recv(e->fd, buf, cap, MSG_TRUNC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	if (r == 0)
		return -EPIPE;
	if ((size_t)r > cap)
		return -EMSGSIZE;
	*len = (size_t)r;
	return 0;
}

static void udsp_detach(void *ep)
{
	struct udsp_ep *e = ep;

	close(e->fd);
	free(e);
}

const struct ipcb_transport ipcb_uds_seqpacket_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "uds-seqpacket",
	.summary = "Unix domain seqpacket socketpair; one datagram per message",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = udsp_max_msg,
	.setup = udsp_setup,
	.attach = udsp_attach,
	.need = uds_need,
	.drop = uds_drop,
	.seal = uds_drop,
	.teardown = uds_teardown,
	.send = udsp_send,
	.recv = udsp_recv,
	.detach = udsp_detach,
};
