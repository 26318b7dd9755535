/*
 * limits.c - system limits against what a sweep needs (see limits.h).
 */
#define _GNU_SOURCE
#include "harness/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

/* Descriptors ipcbench itself may hold besides channels (stdio, output). */
#define BASE_FDS 32

struct want {
	unsigned long fds, procs, mq_bytes, sigpending, shm_bytes;
	const char *who; /* the configuration needing the most of something */
};

static unsigned channels_of(const struct ipcb_config_key *k)
{
	if (k->topology == IPCB_SHARED)
		return 1;
	return k->pattern == IPCB_LATENCY ? k->procs : k->procs / 2;
}

/* Makes sure resource res allows at least need, raising the soft limit (and
 * the hard one where privileged) when it does not. */
static int ensure(int res, unsigned long need)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		rl.rlim_max = need; /* only works with CAP_SYS_RESOURCE */
	return setrlimit(res, &rl) < 0 ? -E2BIG : 0;
}

static unsigned long current(int res)
{
	struct rlimit rl;
	return getrlimit(res, &rl) < 0 ? 0 : (unsigned long)rl.rlim_cur;
}

int ipcb_check_limits(const struct ipcb_run_config *items, size_t n, char *err,
		      size_t errlen)
{
	struct want w = { 0 };
	struct statvfs vfs;

	for (size_t i = 0; i < n; i++) {
		const struct ipcb_run_config *c = &items[i];
		const struct ipcb_config_key *k = &c->key;
		struct ipcb_need need = { 0 };
		unsigned nchan = channels_of(k);
		bool shared = k->topology == IPCB_SHARED;
		struct ipcb_chan_config cc = {
			.max_msg = k->size,
			.producers = shared ? k->producers : 1,
			.consumers = shared ? k->consumers : 1,
			.threads = k->workers == IPCB_THREAD,
			.run_tag = c->run_tag,
		};
		if (k->workers == IPCB_SEQUENTIAL)
			continue;
		if (c->t->need)
			c->t->need(&cc, &need);
#define MAX_OF(field, v)                  \
	if ((unsigned long)(v) > w.field) \
	w.field = (unsigned long)(v)
		/* Thread workers hold their own duplicates of each fd. */
		MAX_OF(fds, BASE_FDS + need.fds * nchan * 2);
		MAX_OF(procs, k->procs + 1);
		MAX_OF(mq_bytes, need.mq_bytes * nchan);
		MAX_OF(sigpending, need.sigpending * nchan);
		MAX_OF(shm_bytes, need.shm_bytes * nchan);
#undef MAX_OF
	}
	if (ensure(RLIMIT_NOFILE, w.fds)) {
		snprintf(
			err, errlen,
			"the run needs about %lu file descriptors "
			"but RLIMIT_NOFILE is %lu; raise it with ulimit -n %lu",
			w.fds, current(RLIMIT_NOFILE), w.fds);
		return -E2BIG;
	}
	if (ensure(RLIMIT_NPROC, w.procs + 64)) {
		snprintf(err, errlen,
			 "the run needs %lu processes but "
			 "RLIMIT_NPROC is %lu; raise it with ulimit -u",
			 w.procs, current(RLIMIT_NPROC));
		return -E2BIG;
	}
	if (w.mq_bytes && ensure(RLIMIT_MSGQUEUE, w.mq_bytes)) {
		snprintf(err, errlen,
			 "POSIX message queues need %lu bytes but "
			 "RLIMIT_MSGQUEUE is %lu; raise it with ulimit -q %lu",
			 w.mq_bytes, current(RLIMIT_MSGQUEUE), w.mq_bytes);
		return -E2BIG;
	}
	if (w.sigpending && ensure(RLIMIT_SIGPENDING, w.sigpending + 64)) {
		snprintf(err, errlen,
			 "the signal transport queues up to %lu "
			 "signals but RLIMIT_SIGPENDING is %lu; raise it with "
			 "ulimit -i",
			 w.sigpending, current(RLIMIT_SIGPENDING));
		return -E2BIG;
	}
	if (w.shm_bytes && statvfs("/dev/shm", &vfs) == 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize < w.shm_bytes) {
		snprintf(err, errlen,
			 "shared memory needs %lu bytes but "
			 "/dev/shm has %llu free; remount it larger (mount -o "
			 "remount,size=... /dev/shm) or use smaller --size",
			 w.shm_bytes,
			 (unsigned long long)vfs.f_bavail * vfs.f_frsize);
		return -E2BIG;
	}
	return 0;
}
