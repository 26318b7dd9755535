/*
 * sysv_shm.c - SysV shared memory and SysV semaphores: the textbook bounded
 * buffer with the System V API.
 *
 * setup creates a shared memory segment holding a ring of slots
 * (shm_ring.h: 16 slots of max_msg bytes, fewer for large messages) and a
 * set of three semaphores: free slots, full slots and a lock, all with
 * IPC_PRIVATE keys and mode 0600. send takes free, copies into the next
 * slot and gives full; recv is the mirror image. The lock is taken only by
 * a side that several endpoints share: with one producer and one consumer
 * the two counting semaphores alone keep them on different slots.
 *
 * SEM_UNDO is used for the lock only. free and full are counting
 * semaphores whose counts travel between processes (a producer takes free,
 * a consumer gives it back): with SEM_UNDO the kernel would revert each
 * process's net change at its exit, inventing free slots and erasing full
 * ones that hold unread messages, and semop would fail with ERANGE once a
 * process's adjustment passed SEMAEM (32767 messages). Each lock/unlock
 * pair nets zero, so there SEM_UNDO is exactly what releases the lock of a
 * holder killed inside it.
 *
 * Each endpoint attaches the segment itself (shmat). seal marks the segment
 * for removal (IPC_RMID); it lives until the last detach, and Linux still
 * lets a forked worker that holds the inherited attachment attach it after
 * that. The semaphore set dies on IPC_RMID, so teardown removes it.
 *
 * Waits use semtimedop with a SHMRING_WAIT_MS timeout: every SysV semaphore
 * operation is a system call, and a timeout costs nothing when the
 * semaphore is available, so there is no separate IPC_NOWAIT probe. A
 * timeout leads to the dead-peer check of shm_ring.h.
 */
#define _GNU_SOURCE
#include "shm_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

enum { SYSV_FREE, SYSV_FULL, SYSV_LOCK, SYSV_NSEMS };

/* The caller of semctl defines it (semctl(2)). */
union sysv_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct sysv_chan {
	int shmid;
	int semid;
	struct shmring *ring; /* the creator's attachment, until seal */
	bool shm_live;	      /* segment not marked for removal yet */
};

struct sysv_ep {
	struct shmring *ring; /* this endpoint's own attachment */
	int semid;
	enum ipcb_role role;
	int place;   /* in the ring's roster of peers */
	bool locked; /* this side is shared: push/pop under lock */
};

static size_t sysv_max_msg(void)
{
	return SHMRING_MAX_MSG;
}

static int sysv_validate(const struct ipcb_chan_config *cfg, const char **why)
{
	unsigned long shmmax;

	if (ipcb_read_proc_ulong("/proc/sys/kernel/shmmax", &shmmax) == 0 &&
	    shmring_bytes(cfg) > shmmax) {
		*why = "the ring of slots is larger than kernel.shmmax";
		return -EMSGSIZE;
	}
	return 0;
}

static int sysv_setup(const struct ipcb_chan_config *cfg, void **chan,
		      struct ipcb_chan_info *info)
{
	struct sysv_chan *c = calloc(1, sizeof(*c));
	unsigned short init[SYSV_NSEMS];
	union sysv_semun arg = { .array = init };
	unsigned nslots;
	size_t stride;
	int rc;

	if (!c)
		return -ENOMEM;
	c->shmid = shmget(IPC_PRIVATE, shmring_bytes(cfg),
			  IPC_CREAT | IPC_EXCL | 0600);
	if (c->shmid < 0) {
		rc = -errno;
		goto err_free;
	}
	c->ring = shmat(c->shmid, NULL, 0);
	if (c->ring == (void *)-1) {
		rc = -errno;
		goto err_rmid;
	}
	c->semid = semget(IPC_PRIVATE, SYSV_NSEMS, IPC_CREAT | IPC_EXCL | 0600);
	if (c->semid < 0) {
		rc = -errno;
		goto err_shmdt;
	}
	shmring_geometry(cfg, &nslots, &stride);
	init[SYSV_FREE] = (unsigned short)nslots;
	init[SYSV_FULL] = 0;
	init[SYSV_LOCK] = 1;
	if (semctl(c->semid, 0, SETALL, arg) < 0) {
		rc = -errno;
		goto err_semrm;
	}
	shmring_init(c->ring, cfg);
	c->shm_live = true;
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "%u slots x %zu B, SysV sem free/full%s", nslots, stride,
		 cfg->producers > 1 || cfg->consumers > 1 ? " + lock (SEM_UNDO)"
							  : "");
	*chan = c;
	return 0;

err_semrm:
	semctl(c->semid, 0, IPC_RMID);
err_shmdt:
	shmdt(c->ring);
err_rmid:
	shmctl(c->shmid, IPC_RMID, NULL);
err_free:
	free(c);
	return rc;
}

static int sysv_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct sysv_chan *c = chan;
	struct sysv_ep *e = malloc(sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	e->ring = shmat(c->shmid, NULL, 0);
	if (e->ring == (void *)-1) {
		rc = -errno;
		goto err_free;
	}
	e->semid = c->semid;
	e->role = role;
	e->locked = shmring_peers(e->ring)->expect[role] > 1;
	e->place = ipcb_peers_join(shmring_peers(e->ring), role);
	if (e->place < 0) {
		rc = e->place;
		goto err_shmdt;
	}
	*ep = e;
	return 0;

err_shmdt:
	shmdt(e->ring);
err_free:
	free(e);
	return rc;
}

/* Detaches the creator's attachment (the inherited one in a forked
 * worker); removes nothing. */
static void sysv_drop(void *chan)
{
	struct sysv_chan *c = chan;

	if (c->ring) {
		shmdt(c->ring);
		c->ring = NULL;
	}
}

static void sysv_seal(void *chan)
{
	struct sysv_chan *c = chan;

	if (c->shm_live) {
		shmctl(c->shmid, IPC_RMID, NULL);
		c->shm_live = false;
	}
	sysv_drop(c);
}

static void sysv_teardown(void *chan)
{
	struct sysv_chan *c = chan;

	sysv_seal(c);
	semctl(c->semid, 0, IPC_RMID);
	free(c);
}

/* Takes one count of semaphore num. 0 when taken; 1 when the wait timed
 * out and no peer of role peer is left (nothing taken); -errno on
 * failure. */
static int sysv_down(int semid, unsigned short num, struct shmring *r,
		     enum ipcb_role peer)
{
	static const struct timespec wait = {
		.tv_nsec = SHMRING_WAIT_MS * 1000000L,
	};
	struct sembuf op = { .sem_num = num, .sem_op = -1 };

	for (;;) {
		if (semtimedop(semid, &op, 1, &wait) == 0)
			return 0;
		if (errno == EAGAIN) {
			if (!ipcb_peers_left(shmring_peers(r), peer))
				return 1;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

static void sysv_up(int semid, unsigned short num)
{
	struct sembuf op = { .sem_num = num, .sem_op = 1 };

	semop(semid, &op, 1);
}

/* op -1 takes the lock, +1 gives it back; nothing when the side is not
 * shared. */
static int sysv_lock(struct sysv_ep *e, short op)
{
	struct sembuf sb = { .sem_num = SYSV_LOCK,
			     .sem_op = op,
			     .sem_flg = SEM_UNDO };

	if (!e->locked)
		return 0;
	while (semop(e->semid, &sb, 1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int sysv_send(void *ep, const void *buf, size_t len)
{
	struct sysv_ep *e = ep;
	bool gone = false;
	int rc;

	if (len > e->ring->max_msg)
		return -EMSGSIZE;
	for (;;) {
		if (!gone) {
			rc = sysv_down(e->semid, SYSV_FREE, e->ring,
				       IPCB_CONSUMER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		rc = sysv_lock(e, -1);
		if (rc)
			return rc;
		rc = shmring_push(e->ring, buf, len);
		sysv_lock(e, 1);
		if (rc == 0) {
			sysv_up(e->semid, SYSV_FULL);
			return 0;
		}
		if (gone) {
			/* Let the next blocked producer see it too. */
			sysv_up(e->semid, SYSV_FREE);
			return -EPIPE;
		}
		/* The count was a consumer's farewell: the last push after
		 * seeing every consumer gone is final. */
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_CONSUMER);
	}
}

static int sysv_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	struct sysv_ep *e = ep;
	bool gone = false;
	int rc;

	for (;;) {
		if (!gone) {
			rc = sysv_down(e->semid, SYSV_FULL, e->ring,
				       IPCB_PRODUCER);
			if (rc < 0)
				return rc;
			gone = rc > 0;
		}
		rc = sysv_lock(e, -1);
		if (rc)
			return rc;
		rc = shmring_pop(e->ring, buf, cap, len);
		sysv_lock(e, 1);
		if (rc == 0) {
			sysv_up(e->semid, SYSV_FREE);
			return 0;
		}
		if (rc != -EAGAIN || gone) {
			/* Pass the count on: the message stays in place, or
			 * the next blocked consumer must see the end too. */
			sysv_up(e->semid, SYSV_FULL);
			return rc == -EAGAIN ? -EPIPE : rc;
		}
		gone = !ipcb_peers_left(shmring_peers(e->ring), IPCB_PRODUCER);
	}
}

/* Leaves the roster of peers, then wakes one blocked peer so that it
 * re-checks at once whether anyone is left. */
static void sysv_detach(void *ep)
{
	struct sysv_ep *e = ep;

	ipcb_peers_leave(shmring_peers(e->ring), e->role, e->place);
	sysv_up(e->semid, e->role == IPCB_PRODUCER ? SYSV_FULL : SYSV_FREE);
	shmdt(e->ring);
	free(e);
}

const struct ipcb_transport ipcb_sysv_shm_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "sysv-shm",
	.summary = "SysV shared memory ring, SysV semaphores: bounded buffer",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_MULTI_PRODUCER |
		IPCB_CAP_MULTI_CONSUMER | IPCB_CAP_THREADS,
	.max_msg = sysv_max_msg,
	.validate = sysv_validate,
	.setup = sysv_setup,
	.attach = sysv_attach,
	.drop = sysv_drop,
	.seal = sysv_seal,
	.teardown = sysv_teardown,
	.send = sysv_send,
	.recv = sysv_recv,
	.detach = sysv_detach,
};
