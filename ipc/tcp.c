/*
 * tcp.c - TCP over loopback (127.0.0.1), TCP_NODELAY.
 *
 * Setup makes the whole connection in the creator: a listener bound to
 * 127.0.0.1 port 0 (the kernel picks a free port), a connect() to it, an
 * accept(), then the listener is closed. Workers attach in any order and
 * concurrently, so none of them may wait for another: attach only
 * duplicates the connected socket its role uses (the connecting socket for
 * the producer, the accepted one for the consumer). The data path is a real
 * loopback TCP connection, as between two programs.
 *
 * The connection is a byte stream carrying length-framed messages
 * (framed.h), one sendmsg() per message and a buffered reader, so one
 * producer and one consumer per channel. Once every copy of the producer's
 * socket is closed the consumer reads end of stream (FIN); once the
 * consumer's is closed, the next sends fail with EPIPE or a reset, both
 * reported as -EPIPE. Each channel leaves a TIME_WAIT entry behind on
 * loopback after it is closed; nothing named is created.
 */
#define _GNU_SOURCE
#include "framed.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_chan {
	int fd[2]; /* [0] producer's (connecting), [1] consumer's (accepted) */
};

static size_t tcp_max_msg(void)
{
	return IPCB_FRAMED_MAX;
}

static int tcp_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static int tcp_setup(const struct ipcb_chan_config *cfg, void **chan,
		     struct ipcb_chan_info *info)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = 0,
	};
	socklen_t alen = sizeof(addr);
	struct tcp_chan *c;
	int lfd, rc;

	(void)cfg;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
		rc = -errno;
		goto err_listener;
	}
	c->fd[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd[0] < 0) {
		rc = -errno;
		goto err_listener;
	}
	/* The handshake completes in the kernel against the listen backlog;
	 * accept() then only picks up the established connection. */
	if (connect(c->fd[0], (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		goto err_producer;
	}
	c->fd[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c->fd[1] < 0) {
		rc = -errno;
		goto err_producer;
	}
	rc = tcp_nodelay(c->fd[0]);
	if (!rc)
		rc = tcp_nodelay(c->fd[1]);
	if (rc)
		goto err_consumer;
	close(lfd);
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "127.0.0.1:%u, TCP_NODELAY, 4-byte length framing",
		 (unsigned)ntohs(addr.sin_port));
	*chan = c;
	return 0;
err_consumer:
	close(c->fd[1]);
err_producer:
	close(c->fd[0]);
err_listener:
	close(lfd);
err_free:
	free(c);
	return rc;
}

static int tcp_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct tcp_chan *c = chan;

	return ipcb_framed_attach(c->fd[role == IPCB_PRODUCER ? 0 : 1], role,
				  true, ep);
}

static void tcp_need(const struct ipcb_chan_config *cfg, struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 2;
}

static void tcp_drop(void *chan)
{
	struct tcp_chan *c = chan;

	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

static void tcp_teardown(void *chan)
{
	tcp_drop(chan);
	free(chan);
}

const struct ipcb_transport ipcb_tcp_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "tcp",
	.summary = "TCP over 127.0.0.1 with TCP_NODELAY; length-framed stream",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_THREADS,
	.max_msg = tcp_max_msg,
	.setup = tcp_setup,
	.attach = tcp_attach,
	.need = tcp_need,
	.drop = tcp_drop,
	.seal = tcp_drop,
	.teardown = tcp_teardown,
	.send = ipcb_framed_ep_send,
	.recv = ipcb_framed_ep_recv,
	.detach = ipcb_framed_ep_detach,
};
