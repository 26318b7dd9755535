/*
 * ipc.h - the one interface every ipcbench transport implements.
 *
 * A transport moves opaque messages over a one-way *channel*: producers
 * send, consumers receive. A ping-pong pair is two channels. The life of
 * a channel, in the order the harness drives it:
 *
 *   setup     once, in the creating process, before any worker exists:
 *             create every kernel object the channel needs.
 *   attach    in each worker (forked process or thread), once per role it
 *             plays: open or duplicate what that role needs into an
 *             endpoint that owns its own handles.
 *   drop      in a forked worker after attach: close the copies of the
 *             creator's handles it inherited (never unlinks anything).
 *   seal      in the creator once every worker has attached: unlink every
 *             name and close the creator's handles no worker needs. After
 *             it nothing named is left, so even a SIGKILL of the whole run
 *             leaks nothing. Endpoints never depend on the channel again.
 *   send/recv in the workers, on endpoints.
 *   detach    in the worker, when done with an endpoint.
 *   teardown  in the creator once every worker has ended, or on any failure
 *             (whether or not seal ran): remove what could not be removed
 *             earlier (SysV message queues and semaphores die on IPC_RMID,
 *             so they are removed here) and free the channel.
 *
 * Contract for every function here: 0 (or a count) on success, -errno on
 * failure; nothing in ipc/ prints, exits or raises a signal at anyone but
 * its own peers.
 */
#ifndef IPCB_IPC_H
#define IPCB_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPCB_OPS_VERSION 1

/* Capability bits of a transport. */
enum ipcb_cap {
	/* Messages carry payload bytes (the null transport moves nothing). */
	IPCB_CAP_PAYLOAD = 1u << 0,
	/* Several producers may send on one channel (see validate() for
	 * size limits, e.g. pipes only up to PIPE_BUF). */
	IPCB_CAP_MULTI_PRODUCER = 1u << 1,
	/* Several consumers may receive from one channel. */
	IPCB_CAP_MULTI_CONSUMER = 1u << 2,
	/* Endpoints may live in threads of one process. */
	IPCB_CAP_THREADS = 1u << 3,
	/* Waits by busy-polling: two ends on one CPU make no progress until
	 * the scheduler preempts the spinner. */
	IPCB_CAP_SPINS = 1u << 4,
};

enum ipcb_role { IPCB_PRODUCER, IPCB_CONSUMER };

/* What the harness asks of one channel. */
struct ipcb_chan_config {
	size_t max_msg;	     /* largest message that will be sent, in bytes */
	unsigned producers;  /* endpoints that will attach as producer */
	unsigned consumers;  /* endpoints that will attach as consumer */
	bool threads;	     /* endpoints are threads of the creating process */
	const char *run_tag; /* "ipcb-<pid>-<token>": prefix of every name */
	unsigned index;	     /* channel number in this run, unique per run */
};

/* What setup reports back about how the channel really works. */
struct ipcb_chan_info {
	size_t chunk;	 /* bytes per kernel message when a message is
			    * split (mq); 0 when messages are never split */
	char detail[96]; /* short human note, e.g. "maxmsg=10 msgsize=8192" */
};

/* Limited resources one channel uses (fields a transport does not use stay
 * 0). The harness adds them up over a run and compares with the limits. */
struct ipcb_need {
	unsigned fds;		/* file descriptors the creator holds */
	unsigned long mq_bytes; /* bytes charged to RLIMIT_MSGQUEUE */
	unsigned long
		sigpending; /* queued signals charged to RLIMIT_SIGPENDING */
	unsigned long shm_bytes; /* bytes of /dev/shm */
};

struct ipcb_transport {
	unsigned version; /* IPCB_OPS_VERSION */
	const char *name; /* CLI name; part of the interface */
	const char *summary;
	unsigned caps; /* enum ipcb_cap bits */
	/* Largest message in bytes (SIZE_MAX: bounded only by memory). */
	size_t (*max_msg)(void);
	/* Optional: reject a configuration the transport cannot run as asked,
	 * before anything is created. On failure *why names the reason. */
	int (*validate)(const struct ipcb_chan_config *cfg, const char **why);
	int (*setup)(const struct ipcb_chan_config *cfg, void **chan,
		     struct ipcb_chan_info *info);
	int (*attach)(void *chan, enum ipcb_role role, void **ep);
	/* Optional: what one channel costs in limited resources, so the
	 * harness can check limits before anything is created. */
	void (*need)(const struct ipcb_chan_config *cfg,
		     struct ipcb_need *need);
	void (*drop)(void *chan);
	void (*seal)(void *chan);
	void (*teardown)(void *chan);
	/* Send exactly len bytes as one message. Blocks while the channel is
	 * full. -EPIPE when no consumer is left. */
	int (*send)(void *ep, const void *buf, size_t len);
	/* Receive one whole message into buf (capacity cap) and store its
	 * length in *len. Blocks while the channel is empty. -EPIPE at end
	 * of stream (every producer gone and nothing left to read), never a
	 * hang on a dead peer. -EMSGSIZE if the message exceeds cap. */
	int (*recv)(void *ep, void *buf, size_t cap, size_t *len);
	void (*detach)(void *ep);
};

/* The registry: every transport, in `ipcbench list` order. */
extern const struct ipcb_transport *const ipcb_transports[];
extern const size_t ipcb_transport_count;

const struct ipcb_transport *ipcb_transport_find(const char *name);

/* Checks one ops table: version and required hooks. 0 or -EINVAL with
 * *why set. */
int ipcb_transport_check(const struct ipcb_transport *t, const char **why);

/* Every check a transport needs before setup: size range, sharing
 * capabilities, threads, then the transport's own validate(). */
int ipcb_transport_validate(const struct ipcb_transport *t,
			    const struct ipcb_chan_config *cfg,
			    const char **why);

/* Helpers shared by transports (ipc/common.c). */

/* Writes "<prefix><run_tag>-<index><suffix>" into buf; -ENAMETOOLONG if it
 * does not fit. */
int ipcb_name(char *buf, size_t n, const char *prefix,
	      const struct ipcb_chan_config *cfg, const char *suffix);
/* Reads a whole message of len bytes from / to a stream fd, retrying on
 * EINTR and short transfers. read_full: -EPIPE on EOF before the first
 * byte, -EPROTO on EOF in the middle. */
int ipcb_read_full(int fd, void *buf, size_t len);
int ipcb_write_full(int fd, const void *buf, size_t len);
/* Shared anonymous memory that survives fork (MAP_SHARED|MAP_ANONYMOUS). */
void *ipcb_map_shared(size_t len);

/*
 * A shared region: memory that every endpoint maps for itself, so that the
 * creator's view can go (drop, seal) while endpoints use theirs. It lives
 * in a memfd, which has no name in any namespace: nothing can leak, and
 * the pages go with the last fd and mapping. Use:
 *
 *   setup     ipcb_region_create(): the fd (held until release, so need()
 *             counts one fd) and the creator's view at base, zero-filled.
 *   attach    ipcb_region_map(): a view of the endpoint's own, from the
 *             fd; in the creator's process (threads) or in a forked child,
 *             which inherited the fd.
 *   drop/seal ipcb_region_release(): closes the fd and unmaps the
 *             creator's view (the inherited copies, in a forked child).
 *             Idempotent, so teardown may call it again.
 *   detach    ipcb_region_unmap() of the endpoint's view.
 */
struct ipcb_region {
	void *base; /* the creator's view; NULL once released */
	size_t len; /* bytes of the region and of every view */
	int fd;	    /* the memfd (close-on-exec); -1 once released */
};

/* Creates a zero-filled region of len bytes. 0 or -errno (r is then
 * released: base NULL, fd -1). */
int ipcb_region_create(struct ipcb_region *r, size_t len);
/* Maps a new view of r into *view; -EBADF once r is released. */
int ipcb_region_map(const struct ipcb_region *r, void **view);
/* Closes r's fd and unmaps the creator's view; views made by
 * ipcb_region_map() stay valid. */
void ipcb_region_release(struct ipcb_region *r);
/* Unmaps a view made by ipcb_region_map() of a region of len bytes. */
void ipcb_region_unmap(void *view, size_t len);

/* True while process pid exists and is not a zombie (slow path only: it
 * reads /proc). */
bool ipcb_pid_alive(pid_t pid);
/* Reads one unsigned number from a /proc file; -errno on failure. */
int ipcb_read_proc_ulong(const char *path, unsigned long *out);

#endif
