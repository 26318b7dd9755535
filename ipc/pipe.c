/*
 * pipe.c - anonymous pipes (pipe(2)).
 *
 * One pipe per channel. With one producer and one consumer the pipe is a
 * byte stream carrying length-framed messages (framed.h): each message is
 * written with one system call; a message larger than the pipe buffer is
 * streamed whole and the consumer reads until it is complete. The consumer
 * reads into its own buffer so that a small message costs one read(), as a
 * real program would do it.
 *
 * Shared by several producers or consumers, a pipe keeps message
 * boundaries only for writes of at most PIPE_BUF bytes, so the channel is
 * opened in packet mode (O_DIRECT, Linux >= 3.4): every write is one
 * packet, every read returns one packet, and messages above PIPE_BUF are
 * refused by validate().
 *
 * The harness must ignore SIGPIPE so that a write to a pipe without reader
 * returns -EPIPE.
 */
#define _GNU_SOURCE
#include "framed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pipe_chan {
	int fd[2];
	bool packet;
};

struct pipe_ep {
	int fd;
	bool packet;
	struct ipcb_framed_rx rx; /* stream mode consumer only */
};

static size_t pipe_max_msg(void)
{
	return IPCB_FRAMED_MAX;
}

static bool pipe_shared(const struct ipcb_chan_config *cfg)
{
	return cfg->producers > 1 || cfg->consumers > 1;
}

static int pipe_validate(const struct ipcb_chan_config *cfg, const char **why)
{
	if (pipe_shared(cfg) && cfg->max_msg > PIPE_BUF) {
		*why = "a pipe shared by several producers or consumers keeps "
		       "message boundaries only up to PIPE_BUF (4096 bytes)";
		return -EMSGSIZE;
	}
	return 0;
}

static int pipe_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	struct pipe_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->packet = pipe_shared(cfg);
	if (pipe2(c->fd, O_CLOEXEC | (c->packet ? O_DIRECT : 0)) < 0) {
		int err = -errno;
		free(c);
		return err;
	}
	info->chunk = 0;
	strcpy(info->detail, c->packet ? "packet mode (O_DIRECT)"
				       : "stream, 4-byte length framing");
	*chan = c;
	return 0;
}

static int pipe_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct pipe_chan *c = chan;
	bool reader = role == IPCB_CONSUMER;
	bool stream_reader = reader && !c->packet;
	struct pipe_ep *e =
		malloc(sizeof(*e) + (stream_reader ? IPCB_FRAMED_RBUF : 0));

	if (!e)
		return -ENOMEM;
	e->fd = fcntl(c->fd[reader ? 0 : 1], F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0) {
		int err = -errno;
		free(e);
		return err;
	}
	e->packet = c->packet;
	e->rx = (struct ipcb_framed_rx){ .buf = stream_reader ? (char *)(e + 1)
							      : NULL };
	*ep = e;
	return 0;
}

static void pipe_drop(void *chan)
{
	struct pipe_chan *c = chan;

	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

static void pipe_teardown(void *chan)
{
	pipe_drop(chan);
	free(chan);
}

static void pipe_need(const struct ipcb_chan_config *cfg,
		      struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 2;
}

static int pipe_send(void *ep, const void *buf, size_t len)
{
	struct pipe_ep *e = ep;
	ssize_t w;

	if (!e->packet)
		return ipcb_framed_send(e->fd, false, buf, len);
	w = write(e->fd, buf, len);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

static int pipe_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct pipe_ep *e = ep;
	ssize_t r;

	if (!e->packet)
		return ipcb_framed_recv(e->fd, &e->rx, buf, cap, len);
	do
		r = read(e->fd, buf, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EPIPE;
	*len = (size_t)r;
	return 0;
}

static void pipe_detach(void *ep)
{
	struct pipe_ep *e = ep;

	close(e->fd);
	free(e);
}

const struct ipcb_transport ipcb_pipe_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "pipe",
	.summary =
		"anonymous pipe; length-framed stream, packet mode when shared",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = pipe_max_msg,
	.validate = pipe_validate,
	.setup = pipe_setup,
	.attach = pipe_attach,
	.need = pipe_need,
	.drop = pipe_drop,
	.seal = pipe_drop,
	.teardown = pipe_teardown,
	.send = pipe_send,
	.recv = pipe_recv,
	.detach = pipe_detach,
};
