/*
 * framed.c - length-framed messages over a byte stream; see framed.h.
 */
#define _GNU_SOURCE
#include "framed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Frames up to this size are copied behind their header and sent with one
 * plain write()/send(): measurably cheaper than gathering two pieces. */
#define FRAMED_COPY_MAX 1024

/* Writes all of buf, retrying on EINTR and partial writes. */
static int framed_write_all(int fd, bool sock, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = sock ? send(fd, buf, len, MSG_NOSIGNAL)
				 : write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int ipcb_framed_send(int fd, bool sock, const void *buf, size_t len)
{
	uint32_t hdr = (uint32_t)len;

	if (len <= FRAMED_COPY_MAX) {
		char frame[sizeof(hdr) + FRAMED_COPY_MAX];
		memcpy(frame, &hdr, sizeof(hdr));
		memcpy(frame + sizeof(hdr), buf, len);
		return framed_write_all(fd, sock, frame, sizeof(hdr) + len);
	}
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)buf, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	for (;;) {
		ssize_t w = sock ? sendmsg(fd, &msg, MSG_NOSIGNAL)
				 : writev(fd, msg.msg_iov, (int)msg.msg_iovlen);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		/* A message larger than the kernel's buffer goes in pieces:
		 * skip what was taken and send the rest. */
		while (msg.msg_iovlen > 0 &&
		       (size_t)w >= msg.msg_iov->iov_len) {
			w -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen == 0)
			return 0;
		msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + w;
		msg.msg_iov->iov_len -= (size_t)w;
	}
}

/* Reads into the receive buffer until it holds at least want unread bytes
 * (want <= IPCB_FRAMED_RBUF). A reset connection counts as end of stream:
 * the peer is gone either way. */
static int framed_fill(int fd, struct ipcb_framed_rx *rx, size_t want)
{
	if (rx->pos > 0) {
		memmove(rx->buf, rx->buf + rx->pos, rx->len - rx->pos);
		rx->len -= rx->pos;
		rx->pos = 0;
	}
	while (rx->len < want) {
		ssize_t r =
			read(fd, rx->buf + rx->len, IPCB_FRAMED_RBUF - rx->len);
		if (r > 0)
			rx->len += (size_t)r;
		else if (r == 0 || errno == ECONNRESET)
			return rx->len == 0 ? -EPIPE : -EPROTO;
		else if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int ipcb_framed_recv(int fd, struct ipcb_framed_rx *rx, void *buf, size_t cap,
		     size_t *len)
{
	uint32_t n;
	size_t have;
	int rc;

	if (rx->len - rx->pos < sizeof(n)) {
		rc = framed_fill(fd, rx, sizeof(n));
		if (rc)
			return rc;
	}
	memcpy(&n, rx->buf + rx->pos, sizeof(n));
	if (n > cap)
		return -EMSGSIZE;
	rx->pos += sizeof(n);
	have = rx->len - rx->pos;
	if (have >= n) {
		memcpy(buf, rx->buf + rx->pos, n);
		rx->pos += n;
	} else {
		/* The rest of the frame goes straight into buf: one copy
		 * for large messages, and the buffer never has to grow. */
		memcpy(buf, rx->buf + rx->pos, have);
		rx->pos = rx->len = 0;
		rc = ipcb_read_full(fd, (char *)buf + have, n - have);
		if (rc)
			return rc == -EPIPE ? -EPROTO : rc;
	}
	*len = n;
	return 0;
}

int ipcb_framed_attach(int fd, enum ipcb_role role, bool sock, void **ep)
{
	bool reader = role == IPCB_CONSUMER;
	struct ipcb_framed_ep *e =
		malloc(sizeof(*e) + (reader ? IPCB_FRAMED_RBUF : 0));

	if (!e)
		return -ENOMEM;
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0) {
		int err = -errno;
		free(e);
		return err;
	}
	e->sock = sock;
	e->rx = (struct ipcb_framed_rx){ .buf = reader ? (char *)(e + 1)
						       : NULL };
	*ep = e;
	return 0;
}

int ipcb_framed_ep_send(void *ep, const void *buf, size_t len)
{
	struct ipcb_framed_ep *e = ep;

	return ipcb_framed_send(e->fd, e->sock, buf, len);
}

int ipcb_framed_ep_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct ipcb_framed_ep *e = ep;

	return ipcb_framed_recv(e->fd, &e->rx, buf, cap, len);
}

void ipcb_framed_ep_detach(void *ep)
{
	struct ipcb_framed_ep *e = ep;

	close(e->fd);
	free(e);
}
