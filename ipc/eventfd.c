/*
 * eventfd.c - a shared-memory ring with eventfd(2) doorbells.
 *
 * The payload travels in a ring of slots (shm_ring.h: 16 slots of max_msg
 * bytes, fewer for large messages) in a shared region created at setup
 * (ipcb_region_create(): an unnamed memfd, so nothing is named). Two
 * eventfds in semaphore mode (EFD_SEMAPHORE: each read takes one) count the
 * slots, as the semaphores of the textbook bounded buffer do: "full" rings
 * the consumer, "free" the producer. send reads free, copies into the next
 * slot and writes full; recv is the mirror image. One producer and one
 * consumer, so no lock.
 *
 * The eventfds are non-blocking: a read that would block falls back to
 * poll() with a SHMRING_WAIT_MS timeout, the slow path on which a dead
 * peer is noticed (shm_ring.h). detach rings the peer's doorbell once so
 * that a blocked peer notices at once.
 *
 * Handles: attach duplicates both eventfds and gives the endpoint its own
 * view of the ring, mapped from the region's memfd, so that drop and seal
 * may unmap the creator's view and close its memfd and eventfds (the
 * inherited copies, in a forked worker) while endpoints run, and each
 * endpoint unmaps its own at detach.
 */
#define _GNU_SOURCE
#include "shm_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evfd_chan {
	struct ipcb_region region; /* the ring; released at drop and seal */
	int full;		   /* eventfd: slots the consumer may drain */
	int free;		   /* eventfd: slots the producer may fill */
};

struct evfd_ep {
	struct shmring *ring; /* this endpoint's own mapping */
	size_t size;
	int full;
	int free;
	enum ipcb_role role;
	int place; /* in the ring's roster of peers */
};

static size_t evfd_max_msg(void)
{
	return SHMRING_MAX_MSG;
}

static int evfd_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	const int flags = EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE;
	struct evfd_chan *c = malloc(sizeof(*c));
	unsigned nslots;
	size_t stride;
	int rc;

	if (!c)
		return -ENOMEM;
	shmring_geometry(cfg, &nslots, &stride);
	rc = ipcb_region_create(&c->region, shmring_bytes(cfg));
	if (rc)
		goto err_free;
	c->full = eventfd(0, flags);
	if (c->full < 0) {
		rc = -errno;
		goto err_release;
	}
	c->free = eventfd(nslots, flags);
	if (c->free < 0) {
		rc = -errno;
		goto err_close_full;
	}
	shmring_init(c->region.base, cfg);
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "%u slots x %zu B, eventfd doorbells full/free", nslots,
		 stride);
	*chan = c;
	return 0;

err_close_full:
	close(c->full);
err_release:
	ipcb_region_release(&c->region);
err_free:
	free(c);
	return rc;
}

static int evfd_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct evfd_chan *c = chan;
	struct evfd_ep *e = malloc(sizeof(*e));
	void *view;
	int rc;

	if (!e)
		return -ENOMEM;
	rc = ipcb_region_map(&c->region, &view);
	if (rc)
		goto err_free;
	e->ring = view;
	e->size = c->region.len;
	e->full = fcntl(c->full, F_DUPFD_CLOEXEC, 0);
	if (e->full < 0) {
		rc = -errno;
		goto err_unmap;
	}
	e->free = fcntl(c->free, F_DUPFD_CLOEXEC, 0);
	if (e->free < 0) {
		rc = -errno;
		goto err_close_full;
	}
	e->role = role;
	e->place = ipcb_peers_join(shmring_peers(e->ring), role);
	if (e->place < 0) {
		rc = e->place;
		goto err_close_free;
	}
	*ep = e;
	return 0;

err_close_free:
	close(e->free);
err_close_full:
	close(e->full);
err_unmap:
	ipcb_region_unmap(e->ring, e->size);
err_free:
	free(e);
	return rc;
}

static void evfd_need(const struct ipcb_chan_config *cfg,
		      struct ipcb_need *need)
{
	(void)cfg;
	need->fds = 3; /* the region's memfd and two eventfds, until seal */
}

/* Releases the region and closes the creator's eventfds (the inherited
 * copies in a forked worker). Nothing is named, so seal does the same. */
static void evfd_drop(void *chan)
{
	struct evfd_chan *c = chan;

	if (c->region.fd < 0)
		return;
	ipcb_region_release(&c->region);
	close(c->full);
	close(c->free);
}

static void evfd_teardown(void *chan)
{
	evfd_drop(chan);
	free(chan);
}

/* Takes one count of eventfd fd. 0 when taken; 1 when the wait timed out
 * and no peer of role peer is left (nothing taken); -errno on failure. */
static int evfd_down(int fd, struct shmring *r, enum ipcb_role peer)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	eventfd_t v;
	int n;

	for (;;) {
		if (eventfd_read(fd, &v) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		n = poll(&p, 1, SHMRING_WAIT_MS);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && !ipcb_peers_left(shmring_peers(r), peer))
			return 1;
	}
}

static int evfd_send(void *ep, const void *buf, size_t len)
{
	struct evfd_ep *e = ep;
	bool gone = false;
	int rc;

	if (len > e->ring->max_msg)
		return -EMSGSIZE;
	for (;;) {
		if (!gone) {
			rc = evfd_down(e->free, e->ring, IPCB_CONSUMER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		if (shmring_push(e->ring, buf, len) == 0) {
			eventfd_write(e->full, 1);
			return 0;
		}
		if (gone) {
			/* Keep the count: a later call must see it too. */
			eventfd_write(e->free, 1);
			return -EPIPE;
		}
		/* The count was the consumer's farewell: the last push after
		 * seeing it gone is final. */
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_CONSUMER);
	}
}

static int evfd_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct evfd_ep *e = ep;
	bool gone = false;
	int rc;

	for (;;) {
		if (!gone) {
			rc = evfd_down(e->full, e->ring, IPCB_PRODUCER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		rc = shmring_pop(e->ring, buf, cap, len);
		if (rc == 0) {
			eventfd_write(e->free, 1);
			return 0;
		}
		if (rc != -EAGAIN || gone) {
			/* Keep the count: the message stays in place, or a
			 * later call must see the end too. */
			eventfd_write(e->full, 1);
			return rc == -EAGAIN ? -EPIPE : rc;
		}
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_PRODUCER);
	}
}

/* Leaves the roster of peers, then rings the peer's doorbell so that a
 * blocked peer re-checks at once whether anyone is left. */
static void evfd_detach(void *ep)
{
	struct evfd_ep *e = ep;

	ipcb_peers_leave(shmring_peers(e->ring), e->role, e->place);
	eventfd_write(e->role == IPCB_PRODUCER ? e->full : e->free, 1);
	close(e->full);
	close(e->free);
	ipcb_region_unmap(e->ring, e->size);
	free(e);
}

const struct ipcb_transport ipcb_eventfd_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "eventfd",
	.summary = "shared-memory ring with eventfd doorbells (one to one)",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_THREADS,
	.max_msg = evfd_max_msg,
	.setup = evfd_setup,
	.attach = evfd_attach,
	.need = evfd_need,
	.drop = evfd_drop,
	.seal = evfd_drop,
	.teardown = evfd_teardown,
	.send = evfd_send,
	.recv = evfd_recv,
	.detach = evfd_detach,
};
