/*
 * shm.c - POSIX shared memory and POSIX semaphores: the textbook bounded
 * buffer.
 *
 * setup creates a POSIX shared memory object (shm_open O_CREAT|O_EXCL,
 * mode 0600), sizes it and maps it. The mapping holds two process-shared
 * semaphores counting free and full slots, a process-shared mutex and a
 * ring of slots (shm_ring.h): 16 slots of max_msg bytes, fewer for large
 * messages. send waits on free, copies into the next slot and posts full;
 * recv is the mirror image. The mutex is taken only by a side that several
 * endpoints share: with one producer and one consumer the two semaphores
 * alone keep them on different slots.
 *
 * The mutex is robust rather than a third semaphore: a semaphore used as a
 * lock stays taken forever when its holder is killed, a robust mutex goes
 * to the next waiter with EOWNERDEAD. The ring needs no repair then, as its
 * indices move only after the copy.
 *
 * Each endpoint maps the object itself, from the creator's descriptor
 * (inherited across fork, shared in thread mode) rather than by name: a
 * forked worker may reach attach after the creator's seal has unlinked the
 * name, so the creator keeps its descriptor until seal.
 *
 * End of stream and dead peers follow shm_ring.h: detach posts the peers'
 * semaphore, and a wait that times out (sem_clockwait, taken only after a
 * sem_trywait failed) checks whether any peer is left.
 *
 * Caveat: the pages are reserved with posix_fallocate at setup, so that a
 * full /dev/shm fails setup with -ENOSPC instead of raising SIGBUS on the
 * first touch of a slot.
 */
#define _GNU_SOURCE
#include "shm_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* At the start of the mapping; the ring follows at SHM_RING_OFF. The
 * semaphores and the mutex hold nothing outside the mapping on Linux, so
 * they are never destroyed: they go away with it. */
struct shm_hdr {
	sem_t free;	      /* slots a producer may fill */
	sem_t full;	      /* slots a consumer may drain */
	pthread_mutex_t lock; /* taken by a side several endpoints share */
};

#define SHM_RING_OFF ((sizeof(struct shm_hdr) + 63) & ~(size_t)63)

struct shm_chan {
	char name[NAME_MAX];
	size_t size;	     /* bytes of the object */
	int fd;		     /* the creator's descriptor, until seal */
	struct shm_hdr *hdr; /* the creator's mapping, until seal */
	bool named;	     /* name not unlinked yet */
};

struct shm_ep {
	struct shm_hdr *hdr; /* this endpoint's own mapping */
	struct shmring *ring;
	size_t size;
	enum ipcb_role role;
	int place;   /* in the ring's roster of peers */
	bool locked; /* this side is shared: push/pop under lock */
};

static size_t shm_size(const struct ipcb_chan_config *cfg)
{
	return SHM_RING_OFF + shmring_bytes(cfg);
}

static struct shmring *shm_ring(struct shm_hdr *h)
{
	return (struct shmring *)((char *)h + SHM_RING_OFF);
}

static size_t shm_max_msg(void)
{
	return SHMRING_MAX_MSG;
}

static int shm_init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;
	int rc = pthread_mutexattr_init(&ma);

	if (rc)
		return -rc;
	rc = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!rc)
		rc = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!rc)
		rc = pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
	return -rc;
}

static int shm_setup(const struct ipcb_chan_config *cfg, void **chan,
		     struct ipcb_chan_info *info)
{
	struct shm_chan *c = calloc(1, sizeof(*c));
	unsigned nslots;
	size_t stride;
	int rc;

	if (!c)
		return -ENOMEM;
	c->size = shm_size(cfg);
	rc = ipcb_name(c->name, sizeof(c->name), "/", cfg, "");
	if (rc)
		goto err_free;
	c->fd = shm_open(c->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (c->fd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (ftruncate(c->fd, (off_t)c->size) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	rc = -posix_fallocate(c->fd, 0, (off_t)c->size);
	if (rc)
		goto err_unlink;
	c->hdr = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
		      0);
	if (c->hdr == MAP_FAILED) {
		rc = -errno;
		goto err_unlink;
	}
	shmring_geometry(cfg, &nslots, &stride);
	if (sem_init(&c->hdr->free, 1, nslots) < 0 ||
	    sem_init(&c->hdr->full, 1, 0) < 0) {
		rc = -errno;
		goto err_unmap;
	}
	rc = shm_init_lock(&c->hdr->lock);
	if (rc)
		goto err_unmap;
	shmring_init(shm_ring(c->hdr), cfg);
	c->named = true;
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "%u slots x %zu B, sem_t free/full%s", nslots, stride,
		 cfg->producers > 1 || cfg->consumers > 1 ? " + robust mutex"
							  : "");
	*chan = c;
	return 0;

err_unmap:
	munmap(c->hdr, c->size);
err_unlink:
	shm_unlink(c->name);
	close(c->fd);
err_free:
	free(c);
	return rc;
}

static int shm_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct shm_chan *c = chan;
	struct shm_ep *e = malloc(sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	e->hdr = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
		      0);
	if (e->hdr == MAP_FAILED) {
		rc = -errno;
		goto err_free;
	}
	e->ring = shm_ring(e->hdr);
	e->size = c->size;
	e->role = role;
	e->locked = shmring_peers(e->ring)->expect[role] > 1;
	e->place = ipcb_peers_join(shmring_peers(e->ring), role);
	if (e->place < 0) {
		rc = e->place;
		goto err_unmap;
	}
	*ep = e;
	return 0;

err_unmap:
	munmap(e->hdr, e->size);
err_free:
	free(e);
	return rc;
}

static void shm_need(const struct ipcb_chan_config *cfg, struct ipcb_need *need)
{
	need->fds = 1;
	need->shm_bytes = shm_size(cfg);
}

/* Unmaps and closes the creator's handles (the inherited copies in a
 * forked worker); unlinks nothing. */
static void shm_drop(void *chan)
{
	struct shm_chan *c = chan;

	if (c->hdr) {
		munmap(c->hdr, c->size);
		c->hdr = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void shm_seal(void *chan)
{
	struct shm_chan *c = chan;

	if (c->named) {
		shm_unlink(c->name);
		c->named = false;
	}
	shm_drop(c);
}

static void shm_teardown(void *chan)
{
	shm_seal(chan);
	free(chan);
}

/* Takes one count of s. 0 when taken; 1 when the wait timed out and no peer
 * of role peer is left (nothing taken); -errno on failure. */
static int shm_down(sem_t *s, struct shmring *r, enum ipcb_role peer)
{
	struct timespec deadline;

	if (sem_trywait(s) == 0)
		return 0;
	for (;;) {
		shmring_deadline(&deadline);
		if (sem_clockwait(s, CLOCK_MONOTONIC, &deadline) == 0)
			return 0;
		if (errno == ETIMEDOUT) {
			if (!ipcb_peers_left(shmring_peers(r), peer))
				return 1;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

static void shm_lock(struct shm_ep *e)
{
	if (e->locked && pthread_mutex_lock(&e->hdr->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&e->hdr->lock);
}

static void shm_unlock(struct shm_ep *e)
{
	if (e->locked)
		pthread_mutex_unlock(&e->hdr->lock);
}

static int shm_send(void *ep, const void *buf, size_t len)
{
	struct shm_ep *e = ep;
	struct shm_hdr *h = e->hdr;
	bool gone = false;
	int rc;

	if (len > e->ring->max_msg)
		return -EMSGSIZE;
	for (;;) {
		if (!gone) {
			rc = shm_down(&h->free, e->ring, IPCB_CONSUMER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		shm_lock(e);
		rc = shmring_push(e->ring, buf, len);
		shm_unlock(e);
		if (rc == 0) {
			sem_post(&h->full);
			return 0;
		}
		if (gone) {
			/* Let the next blocked producer see it too. */
			sem_post(&h->free);
			return -EPIPE;
		}
		/* The count was a consumer's farewell: the last push after
		 * seeing every consumer gone is final. */
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_CONSUMER);
	}
}

static int shm_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct shm_ep *e = ep;
	struct shm_hdr *h = e->hdr;
	bool gone = false;
	int rc;

	for (;;) {
		if (!gone) {
			rc = shm_down(&h->full, e->ring, IPCB_PRODUCER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		shm_lock(e);
		rc = shmring_pop(e->ring, buf, cap, len);
		shm_unlock(e);
		if (rc == 0) {
			sem_post(&h->free);
			return 0;
		}
		if (rc != -EAGAIN || gone) {
			/* Pass the count on: the message stays in place, or
			 * the next blocked consumer must see the end too. */
			sem_post(&h->full);
			return rc == -EAGAIN ? -EPIPE : rc;
		}
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_PRODUCER);
	}
}

/* Leaves the roster of peers, then wakes one blocked peer so that it
 * re-checks at once whether anyone is left. */
static void shm_detach(void *ep)
{
	struct shm_ep *e = ep;

	ipcb_peers_leave(shmring_peers(e->ring), e->role, e->place);
	sem_post(e->role == IPCB_PRODUCER ? &e->hdr->full : &e->hdr->free);
	munmap(e->hdr, e->size);
	free(e);
}

const struct ipcb_transport ipcb_shm_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "shm",
	.summary = "POSIX shared memory ring, POSIX semaphores: bounded buffer",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = shm_max_msg,
	.setup = shm_setup,
	.attach = shm_attach,
	.need = shm_need,
	.drop = shm_drop,
	.seal = shm_seal,
	.teardown = shm_teardown,
	.send = shm_send,
	.recv = shm_recv,
	.detach = shm_detach,
};
