/*
 * spsc_ring.c - lifecycle and slow paths of the single-producer/
 * single-consumer shared-memory ring (see spsc_ring.h for the layout and
 * the protocol).
 *
 * The channel is one POSIX shared memory object, created exclusively
 * (0600) by setup. attach maps it through the creator's descriptor: in a
 * forked worker that is the worker's inherited copy, which stays valid
 * when the creator seals, so a worker may attach after seal unlinked the
 * name; in thread mode attach runs before seal. An endpoint owns its
 * mapping and holds no descriptor.
 */
#define _GNU_SOURCE
#include "spsc_ring.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Slots are sized so that the ring of one channel stays within about
 * SPSC_RING_BYTES, with SPSC_MIN_SLOTS..SPSC_MAX_SLOTS slots: small enough
 * to stay in a core's cache (on the machine this was tuned on, rings of
 * 512 KiB to 8 MiB streamed 64 KiB messages equally fast). */
#define SPSC_RING_BYTES ((size_t)1 << 20)
#define SPSC_MIN_SLOTS 2u
#define SPSC_MAX_SLOTS 64u
/* Messages up to this size have their payload right after the slot
 * header; larger ones start on the next cache line. */
#define SPSC_INLINE_MAX 4032u

/* Polls between two looks at the clock on a slow path. */
#define SPSC_BATCH 32
/* futex: poll this long before sleeping. */
#define SPSC_SPIN_NS 3000u
/* spin: poll this long before yielding the CPU between polls, so that two
 * ends on one CPU still make progress. */
#define SPSC_YIELD_NS 50000u
/* Look at the peer's process at most this often while waiting. */
#define SPSC_CHECK_NS 1000000u
/* futex: longest sleep before looking at the peer again. */
#define SPSC_SLEEP_NS 100000000L

struct spsc_chan {
	int fd;	    /* the creator's descriptor; -1 once closed */
	bool named; /* the name still exists */
	bool futex; /* shm-futex: attach registers for membarrier */
	size_t len;
	char name[NAME_MAX];
};

static size_t spsc_header_bytes(void)
{
	return (sizeof(struct spsc_shared) + 63) & ~(size_t)63;
}

static void spsc_geometry(size_t max_msg, uint32_t *nslots, size_t *stride,
			  uint32_t *data_off)
{
	size_t n;

	*data_off = max_msg <= SPSC_INLINE_MAX ? sizeof(struct spsc_slot) : 64;
	*stride = (*data_off + max_msg + 63) & ~(size_t)63;
	n = SPSC_RING_BYTES / *stride;
	if (n > SPSC_MAX_SLOTS)
		n = SPSC_MAX_SLOTS;
	if (n < SPSC_MIN_SLOTS)
		n = SPSC_MIN_SLOTS;
	/* Round down to a power of two: a slot index is pos & mask. */
	while (n & (n - 1))
		n &= n - 1;
	*nslots = (uint32_t)n;
}

static size_t spsc_bytes(size_t max_msg)
{
	uint32_t nslots, data_off;
	size_t stride;

	spsc_geometry(max_msg, &nslots, &stride, &data_off);
	return spsc_header_bytes() + nslots * stride;
}

void spsc_need(const struct ipcb_chan_config *cfg, struct ipcb_need *need)
{
	need->fds = 1;
	need->shm_bytes = spsc_bytes(cfg->max_msg);
}

int spsc_setup(const struct ipcb_chan_config *cfg, bool futex, void **chan,
	       struct ipcb_chan_info *info)
{
	struct spsc_chan *c = calloc(1, sizeof(*c));
	struct spsc_shared *sh;
	uint32_t nslots, data_off;
	unsigned char *slots;
	size_t stride;
	int rc;

	if (!c)
		return -ENOMEM;
	if (cfg->max_msg > SPSC_MAX_MSG) {
		rc = -EMSGSIZE;
		goto err_free;
	}
	c->futex = futex;
	rc = ipcb_name(c->name, sizeof(c->name), "/", cfg,
		       futex ? "-futex" : "-spin");
	if (rc)
		goto err_free;
	spsc_geometry(cfg->max_msg, &nslots, &stride, &data_off);
	c->len = spsc_header_bytes() + nslots * stride;
	c->fd = shm_open(c->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		rc = -errno;
		goto err_free;
	}
	c->named = true;
	if (ftruncate(c->fd, (off_t)c->len) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	sh = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (sh == MAP_FAILED) {
		rc = -errno;
		goto err_unlink;
	}
	/* The object is zero-filled: peers ABSENT, pids unknown, nobody
	 * asleep, tail 0. CPUs are unknown and each slot starts stale. */
	sh->stride = stride;
	sh->nslots = nslots;
	sh->max_msg = (uint32_t)cfg->max_msg;
	sh->data_off = data_off;
	atomic_init(&sh->cpu[IPCB_PRODUCER], -1);
	atomic_init(&sh->cpu[IPCB_CONSUMER], -1);
	slots = (unsigned char *)sh + spsc_header_bytes();
	for (uint32_t i = 0; i < nslots; i++)
		atomic_init(&((struct spsc_slot *)(slots + i * stride))->seq,
			    i + 1 - nslots);
	munmap(sh, c->len);
	info->chunk = 0;
	snprintf(info->detail, sizeof(info->detail),
		 "ring of %u slots x %zu B, %s", nslots, stride,
		 futex ? "spin, then futex" : "spin");
	*chan = c;
	return 0;

err_unlink:
	shm_unlink(c->name);
	close(c->fd);
err_free:
	free(c);
	return rc;
}

int spsc_attach(void *chan, enum ipcb_role role, void **ep)
{
	struct spsc_chan *c = chan;
	struct spsc_ep *e = calloc(1, sizeof(*e));
	uint32_t absent = SPSC_ABSENT;
	struct spsc_shared *sh;
	int rc;

	if (!e)
		return -ENOMEM;
	if (c->fd < 0) {
		rc = -EBADF;
		goto err_free;
	}
	/* Populated now so that page faults stay out of the measurement. */
	sh = mmap(NULL, c->len, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, c->fd, 0);
	if (sh == MAP_FAILED) {
		rc = -errno;
		goto err_free;
	}
	if (!atomic_compare_exchange_strong(&sh->state[role], &absent,
					    SPSC_ATTACHED)) {
		rc = -EUSERS;
		goto err_unmap;
	}
	atomic_store(&sh->pid[role], getpid());
	e->sh = sh;
	e->slots = (unsigned char *)sh + spsc_header_bytes();
	e->map_len = c->len;
	e->stride = sh->stride;
	e->mask = sh->nslots - 1;
	e->max_msg = sh->max_msg;
	e->data_off = sh->data_off;
	e->pos = 0;
	e->limit = sh->nslots;
	e->role = role;
	/* Registration is per process and idempotent. Without it (kernel
	 * older than 4.16, or a seccomp filter) this end publishes with a
	 * full barrier of its own. */
	e->fence = c->futex &&
		   syscall(SYS_membarrier,
			   MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) < 0;
	*ep = e;
	return 0;

err_unmap:
	munmap(sh, c->len);
err_free:
	free(e);
	return rc;
}

void spsc_drop(void *chan)
{
	struct spsc_chan *c = chan;

	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

void spsc_seal(void *chan)
{
	struct spsc_chan *c = chan;

	if (c->named) {
		shm_unlink(c->name);
		c->named = false;
	}
	spsc_drop(c);
}

void spsc_teardown(void *chan)
{
	spsc_seal(chan);
	free(chan);
}

static enum ipcb_role spsc_peer(enum ipcb_role role)
{
	return role == IPCB_PRODUCER ? IPCB_CONSUMER : IPCB_PRODUCER;
}

void spsc_detach(void *ep)
{
	struct spsc_ep *e = ep;

	/* After the last publish, so a peer that sees GONE also sees every
	 * message; then wake the peer in case it sleeps waiting for us. */
	atomic_store_explicit(&e->sh->state[e->role], SPSC_GONE,
			      memory_order_seq_cst);
	if (atomic_load_explicit(&e->sh->asleep[spsc_peer(e->role)],
				 memory_order_seq_cst))
		spsc_ring_bell(e->sh, spsc_peer(e->role));
	munmap(e->sh, e->map_len);
	free(e);
}

/* Records the CPU the end of role runs on, for its peer's look in
 * spsc_share_cpu(); writes the shared line only when the CPU changed.
 * Returns the CPU, or -1. */
static int spsc_note_cpu(struct spsc_shared *sh, enum ipcb_role role)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 &&
	    atomic_load_explicit(&sh->cpu[role], memory_order_relaxed) != cpu)
		atomic_store_explicit(&sh->cpu[role], cpu,
				      memory_order_relaxed);
	return cpu;
}

void spsc_ring_bell(struct spsc_shared *sh, enum ipcb_role role)
{
	/* The waker's CPU too: in a ping-pong the sender never waits on
	 * this channel, and this is where its sleeping peer learns it. */
	spsc_note_cpu(sh, spsc_peer(role));
	atomic_fetch_add_explicit(&sh->bell[role], 1, memory_order_seq_cst);
	syscall(SYS_futex, &sh->bell[role], FUTEX_WAKE, 1, NULL, NULL, 0);
}

static inline void spsc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static uint64_t spsc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The peer can no longer move the ring: it detached or (when check_pid,
 * which costs syscalls) its process is gone. Not yet attached is not
 * gone. */
static bool spsc_peer_gone(const struct spsc_ep *e, bool check_pid)
{
	enum ipcb_role peer = spsc_peer(e->role);
	uint32_t st =
		atomic_load_explicit(&e->sh->state[peer], memory_order_seq_cst);
	pid_t pid;

	if (st == SPSC_GONE)
		return true;
	if (st != SPSC_ATTACHED || !check_pid)
		return false;
	pid = atomic_load_explicit(&e->sh->pid[peer], memory_order_relaxed);
	return pid != 0 && !ipcb_pid_alive(pid);
}

/* Sleeps until the bell rings, *word moves away from stale, the peer goes
 * or SPSC_SLEEP_NS pass. The flag is set, then membarrier() makes every
 * attached process that is running pass a full barrier: a waker that
 * stored *word before its barrier has it visible to the look below, and a
 * waker past its barrier sees the flag (spsc_publish). A wake between the
 * look and the sleep moves the bell, so FUTEX_WAIT returns at once. Should
 * membarrier fail, a peer that registered anyway could miss the flag; the
 * timed sleep bounds the damage to SPSC_SLEEP_NS. */
static void spsc_sleep(struct spsc_ep *e, _Atomic uint32_t *word,
		       uint32_t stale)
{
	struct spsc_shared *sh = e->sh;
	struct timespec ts = { .tv_nsec = SPSC_SLEEP_NS };
	uint32_t bell =
		atomic_load_explicit(&sh->bell[e->role], memory_order_seq_cst);

	atomic_store_explicit(&sh->asleep[e->role], 1, memory_order_seq_cst);
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
	if (atomic_load_explicit(word, memory_order_seq_cst) == stale &&
	    !spsc_peer_gone(e, false))
		syscall(SYS_futex, &sh->bell[e->role], FUTEX_WAIT, bell, &ts,
			NULL, 0);
	atomic_store_explicit(&sh->asleep[e->role], 0, memory_order_relaxed);
}

/* True when the peer was last seen (waiting, or waking this end) on the
 * CPU this end runs on: then it cannot move the ring before this end
 * gives the CPU up, and polling only wastes the time it needs. A stale
 * record costs one needless sleep or yield; the next wait or wake-up
 * corrects it. */
static bool spsc_share_cpu(struct spsc_ep *e)
{
	int cpu = spsc_note_cpu(e->sh, e->role);

	return cpu >= 0 && atomic_load_explicit(&e->sh->cpu[spsc_peer(e->role)],
						memory_order_relaxed) == cpu;
}

/* Waits until *word differs from stale (the peer moved it): polls for
 * poll_ns (none when both ends share a CPU), then sleeps (futex) or polls
 * with a yield between rounds (spin). The clock is first read after one
 * round, so a short wait costs no clock read. */
static int spsc_wait(struct spsc_ep *e, _Atomic uint32_t *word, uint32_t stale,
		     bool futex)
{
	bool share = spsc_share_cpu(e);
	uint64_t poll_ns = share ? 0 : futex ? SPSC_SPIN_NS : SPSC_YIELD_NS;
	int polls = share ? 1 : SPSC_BATCH;
	uint64_t start = 0, checked = 0, now;

	for (;;) {
		bool check_pid;

		for (int i = 0; i < polls; i++) {
			if (atomic_load_explicit(word, memory_order_acquire) !=
			    stale)
				return 0;
			spsc_relax();
		}
		now = spsc_now_ns();
		if (!start)
			start = checked = now;
		/* The process look costs syscalls: at most once per
		 * SPSC_CHECK_NS (so after every timed-out sleep). */
		check_pid = now - checked >= SPSC_CHECK_NS;
		if (check_pid)
			checked = now;
		/* Gone: what is in the ring now is final. */
		if (spsc_peer_gone(e, check_pid)) {
			uint32_t v = atomic_load_explicit(word,
							  memory_order_acquire);
			return v != stale ? 0 : -EPIPE;
		}
		if (now - start < poll_ns)
			continue;
		if (futex)
			spsc_sleep(e, word, stale);
		else
			sched_yield();
	}
}

int spsc_wait_space(struct spsc_ep *e, bool futex)
{
	/* Cheap look first: the consumer has usually moved on. */
	uint32_t tail =
		atomic_load_explicit(&e->sh->tail, memory_order_acquire);
	int rc;

	if (tail + e->mask + 1 == e->pos) {
		rc = spsc_wait(e, &e->sh->tail, tail, futex);
		if (rc)
			return rc;
		tail = atomic_load_explicit(&e->sh->tail, memory_order_acquire);
	}
	e->limit = tail + e->mask + 1;
	return 0;
}

int spsc_wait_data(struct spsc_ep *e, bool futex)
{
	struct spsc_slot *s = spsc_slot(e, e->pos);

	return spsc_wait(e, &s->seq, e->pos - e->mask, futex);
}
