/*
 * shm_futex.c - shm-futex: the single-producer/single-consumer ring of
 * shm-spin (spsc_ring.h), but a waiting end polls for about 3 us and then
 * sleeps on a futex in the shared memory.
 *
 * Across CPUs a ping-pong never sleeps, so it runs at nearly the speed of
 * shm-spin; the price on the fast path is one seq_cst store (a locked
 * instruction on x86) and a look at the peer's "asleep" flag per message,
 * with a FUTEX_WAKE only when the peer really sleeps. With both ends on
 * one CPU the waiter gives the CPU up after its short poll, so the
 * transport stays correct and reasonable there, at the cost of one futex
 * wait and wake per hand-over. Sleeps last at most 100 ms, after which
 * the sleeper checks that its peer is still alive.
 */
#include "spsc_ring.h"

static size_t shmfutex_max_msg(void)
{
	return SPSC_MAX_MSG;
}

static int shmfutex_setup(const struct ipcb_chan_config *cfg, void **chan,
			  struct ipcb_chan_info *info)
{
	return spsc_setup(cfg, true, chan, info);
}

static int shmfutex_send(void *ep, const void *buf, size_t len)
{
	return spsc_push(ep, buf, len, true);
}

static int shmfutex_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	return spsc_pop(ep, buf, cap, len, true);
}

const struct ipcb_transport ipcb_shm_futex_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "shm-futex",
	.summary = "lock-free SPSC ring in POSIX shm, short spin then futex",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_THREADS,
	.max_msg = shmfutex_max_msg,
	.setup = shmfutex_setup,
	.attach = spsc_attach,
	.need = spsc_need,
	.drop = spsc_drop,
	.seal = spsc_seal,
	.teardown = spsc_teardown,
	.send = shmfutex_send,
	.recv = shmfutex_recv,
	.detach = spsc_detach,
};
