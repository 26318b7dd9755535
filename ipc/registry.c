/*
 * registry.c - the explicit list of transports and the checks every ops
 * table and every channel configuration goes through before use.
 */
#include "ipc.h"

#include <errno.h>
#include <string.h>

extern const struct ipcb_transport ipcb_pipe_transport;
extern const struct ipcb_transport ipcb_posix_mq_transport;
extern const struct ipcb_transport ipcb_sysv_mq_transport;
extern const struct ipcb_transport ipcb_shm_transport;
extern const struct ipcb_transport ipcb_sysv_shm_transport;
extern const struct ipcb_transport ipcb_eventfd_transport;
extern const struct ipcb_transport ipcb_uds_transport;
extern const struct ipcb_transport ipcb_uds_seqpacket_transport;
extern const struct ipcb_transport ipcb_tcp_transport;
extern const struct ipcb_transport ipcb_fifo_transport;
extern const struct ipcb_transport ipcb_null_transport;
extern const struct ipcb_transport ipcb_signal_transport;
extern const struct ipcb_transport ipcb_shm_spin_transport;
extern const struct ipcb_transport ipcb_shm_futex_transport;

/* `ipcbench list` prints them in this order. */
const struct ipcb_transport *const ipcb_transports[] = {
	&ipcb_pipe_transport,	  &ipcb_posix_mq_transport,
	&ipcb_sysv_mq_transport,  &ipcb_fifo_transport,
	&ipcb_uds_transport,	  &ipcb_uds_seqpacket_transport,
	&ipcb_tcp_transport,	  &ipcb_null_transport,
	&ipcb_signal_transport,	  &ipcb_shm_transport,
	&ipcb_sysv_shm_transport, &ipcb_eventfd_transport,
	&ipcb_shm_spin_transport, &ipcb_shm_futex_transport,
};
const size_t ipcb_transport_count =
	sizeof(ipcb_transports) / sizeof(ipcb_transports[0]);

const struct ipcb_transport *ipcb_transport_find(const char *name)
{
	for (size_t i = 0; i < ipcb_transport_count; i++)
		if (strcmp(ipcb_transports[i]->name, name) == 0)
			return ipcb_transports[i];
	return NULL;
}

int ipcb_transport_check(const struct ipcb_transport *t, const char **why)
{
	if (t->version != IPCB_OPS_VERSION) {
		*why = "ops table version does not match IPCB_OPS_VERSION";
		return -EINVAL;
	}
	if (!t->name || !t->summary || !t->max_msg || !t->setup || !t->attach ||
	    !t->drop || !t->seal || !t->teardown || !t->send || !t->recv ||
	    !t->detach) {
		*why = "ops table lacks a required hook";
		return -EINVAL;
	}
	return 0;
}

int ipcb_transport_validate(const struct ipcb_transport *t,
			    const struct ipcb_chan_config *cfg,
			    const char **why)
{
	if (cfg->max_msg == 0) {
		*why = "message size must be at least 1 byte";
		return -EINVAL;
	}
	if (cfg->max_msg > t->max_msg()) {
		*why = "message larger than the transport can carry";
		return -EMSGSIZE;
	}
	if (cfg->producers > 1 && !(t->caps & IPCB_CAP_MULTI_PRODUCER)) {
		*why = "transport cannot share one channel between producers";
		return -EOPNOTSUPP;
	}
	if (cfg->consumers > 1 && !(t->caps & IPCB_CAP_MULTI_CONSUMER)) {
		*why = "transport cannot share one channel between consumers";
		return -EOPNOTSUPP;
	}
	if (cfg->threads && !(t->caps & IPCB_CAP_THREADS)) {
		*why = "transport cannot run with thread workers";
		return -EOPNOTSUPP;
	}
	return t->validate ? t->validate(cfg, why) : 0;
}
