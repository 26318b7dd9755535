/*
 * shm_spin.c - shm-spin: a lock-free single-producer/single-consumer ring
 * in POSIX shared memory whose ends wait by busy-polling (spsc_ring.h).
 *
 * A message is one copy into a slot and one copy out; the consumer polls
 * the slot's sequence word, in the same cache line as the first bytes of
 * the payload, so a small message costs about one cache-line transfer
 * each way: this is the transport closest to the machine's limit.
 *
 * Caveat: a waiting end burns its CPU. With both ends on one CPU, polling
 * only wastes the time slice the other end needs, so the harness refuses
 * that placement (IPCB_CAP_SPINS); unpinned, the ends may still meet on
 * one CPU for a while, so a wait longer than 50 us yields the CPU between
 * polls (slow, but it finishes).
 */
#include "spsc_ring.h"

static size_t shmspin_max_msg(void)
{
	return SPSC_MAX_MSG;
}

static int shmspin_setup(const struct ipcb_chan_config *cfg, void **chan,
			 struct ipcb_chan_info *info)
{
	return spsc_setup(cfg, false, chan, info);
}

static int shmspin_send(void *ep, const void *buf, size_t len)
{
	return spsc_push(ep, buf, len, false);
}

static int shmspin_recv(void *ep, void *buf, size_t cap, size_t *len)
{
	return spsc_pop(ep, buf, cap, len, false);
}

const struct ipcb_transport ipcb_shm_spin_transport = {
	.version = IPCB_OPS_VERSION,
	.name = "shm-spin",
	.summary = "lock-free SPSC ring in POSIX shm, busy-polling",
	.caps = IPCB_CAP_PAYLOAD | IPCB_CAP_THREADS | IPCB_CAP_SPINS,
	.max_msg = shmspin_max_msg,
	.setup = shmspin_setup,
	.attach = spsc_attach,
	.need = spsc_need,
	.drop = spsc_drop,
	.seal = spsc_seal,
	.teardown = spsc_teardown,
	.send = shmspin_send,
	.recv = shmspin_recv,
	.detach = spsc_detach,
};
