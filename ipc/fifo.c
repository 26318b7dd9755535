/*
 * fifo.c - a named pipe (mkfifo(3)).
 *
 * Setup creates a private directory /tmp/<run_tag>-<index> (0700) holding
 * the fifo (0600), and opens both ends itself: opening one end of a fifo
 * blocks until the other is open, and workers attach in any order, so the
 * read end is opened non-blocking first, then the write end, then the read
 * end is made blocking again. Attach only duplicates the end its role uses
 * and seal unlinks the fifo and removes the directory, so from then on the
 * channel is an ordinary pipe reached through inherited descriptors; the
 * data path is the same pipe buffer as any fifo's.
 *
 * The fifo is a byte stream carrying length-framed messages (framed.h),
 * one write per message and a buffered reader, so one consumer per
 * channel. Several producers may share it when every frame (4-byte length
 * plus payload) fits PIPE_BUF: the kernel writes those atomically, so
 * frames never interleave. Packet mode (O_DIRECT) is only for pipe2(), not
 * fifos, so larger shared messages are refused.
 */
#define _GNU_SOURCE
#include "framed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest message several producers may share a fifo with. */
#define FIFO_SHARED_MAX (PIPE_BUF - sizeof(uint32_t))

struct fifo_chan {
	int fd[2];  /* [0] read end (consumer), [1] write end (producers) */
	bool named; /* the fifo and its directory still exist */
	char dir[128];
	char path[sizeof("/fifo") + 128];
};

static size_t fifo_max_msg(void)
{
	return IPCB_FRAMED_MAX;
}

static int fifo_validate(const struct ipcb_chan_config *cfg, const char **why)
{
	if (cfg->producers > 1 && cfg->max_msg > FIFO_SHARED_MAX) {
		*why = "a fifo shared by several producers keeps message "
		       "boundaries only for frames up to PIPE_BUF (4092-byte "
		       "messages)";
		return -EMSGSIZE;
	}
	return 0;
}

/* Removes the fifo and its directory, once. */
static void fifo_unlink(struct fifo_chan *c)
{
	if (c->named) {
		unlink(c->path);
		rmdir(c->dir);
		c->named = false;
	}
}

static int fifo_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	struct fifo_chan *c = calloc(1, sizeof(*c));
	int rc, fl;

	if (!c)
		return -ENOMEM;
	rc = ipcb_name(c->dir, sizeof(c->dir), "/tmp/", cfg, "");
	if (rc)
		goto err_free;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/fifo", c->dir) >=
	    sizeof(c->path)) {
		rc = -ENAMETOOLONG;
		goto err_free;
	}
	/* Both fail with EEXIST rather than reuse anything already there. */
	if (mkdir(c->dir, 0700) < 0) {
		rc = -errno;
		goto err_free;
	}
	if (mkfifo(c->path, 0600) < 0) {
		rc = -errno;
		goto err_rmdir;
	}
	c->named = true;
	c->fd[0] = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd[0] < 0) {
		rc = -errno;
		goto err_unlink;
	}
	c->fd[1] = open(c->path, O_WRONLY | O_CLOEXEC);
	if (c->fd[1] < 0) {
		rc = -errno;
		goto err_close_read;
	}
	fl = fcntl(c->fd[0], F_GETFL);
	if (fl < 0 || fcntl(c->fd[0], F_SETFL, fl & ~O_NONBLOCK) < 0) {
		rc = -errno;
		goto err_close_write;
	}
	info->chunk = 0;
	strcpy(info->detail,
	       cfg->producers > 1
		       ? "named pipe, 4-byte length framing, atomic frames"
		       : "named pipe, 4-byte length framing");
	*chan = c;
	return 0;
err_close_write:
	close(c->fd[1]);
err_close_read:
	close(c->fd[0]);
err_unlink:
	unlink(c->path);
err_rmdir:
	rmdir(c->dir);
err_free:
	free(c);
	return rc;
}

static int fifo_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct fifo_chan *c = chan;

	return ipcb_framed_attach(c->fd[role == IPCB_PRODUCER ? 1 : 0], role,
				  false, ep);
}

static void fifo_need(const struct ipcb_chan_config *cfg,
		      struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 2;
}

static void fifo_drop(void *chan)
{
	struct fifo_chan *c = chan;

	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

static void fifo_seal(void *chan)
{
	fifo_unlink(chan);
	fifo_drop(chan);
}

static void fifo_teardown(void *chan)
{
	fifo_seal(chan);
	free(chan);
}

const struct ipcb_transport ipcb_fifo_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "fifo",
	.summary = "named pipe (mkfifo); length-framed stream",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER | IPCB_CAP_THREADS,
	.max_msg = fifo_max_msg,
	.validate = fifo_validate,
	.setup = fifo_setup,
	.attach = fifo_attach,
	.need = fifo_need,
	.drop = fifo_drop,
	.seal = fifo_seal,
	.teardown = fifo_teardown,
	.send = ipcb_framed_ep_send,
	.recv = ipcb_framed_ep_recv,
	.detach = ipcb_framed_ep_detach,
};
