/*
 * run.c - one run of one configuration (see run.h).
 *
 * Roles: a latency run has ping-pong pairs (ping sends and times the round
 * trip, pong echoes); a throughput run has producers streaming to consumers,
 * pairwise (one channel per pair) or through one shared channel. Workers
 * are laid out in a fixed order (ping0, pong0, ping1, ...; or producer0,
 * consumer0, ...; shared: all producers, then all consumers). With n CPUs
 * in the list, producer (ping) i runs on cpus[i % n] and consumer (pong) i
 * on cpus[(i + n/2) % n]: the two ends of a pair sit on different CPUs and
 * the consumers, who do the per-message work, spread over all of them.
 *
 * Shared state lives in one MAP_SHARED control block: the start barrier
 * (a futex word), the measurement window, and per worker a result slot
 * with its counts and histogram, which the parent merges once every worker
 * has ended. Fork, attach and setup stay out of the timing: the clock that
 * matters starts at the barrier, plus --warmup (measured, discarded).
 *
 * Every message is checked: the consumer tracks, per producer, the count,
 * the sum of sequence numbers and monotonicity; the parent compares them
 * with what each producer says it sent, so a lost, duplicated, reordered or
 * corrupt message fails the run whatever the topology.
 */
#define _GNU_SOURCE
#include "harness/run.h"
#include "harness/hist.h"
#include "harness/msg.h"

#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum role { ROLE_PING, ROLE_PONG, ROLE_PRODUCER, ROLE_CONSUMER };
static const char *const role_names[] = { "ping", "pong", "producer",
					  "consumer" };

/* The parent's plan for one worker, fixed before anything starts. */
struct plan {
	enum role role;
	unsigned index;	   /* within its role */
	int cpu;	   /* -1: not pinned */
	int tx, rx;	   /* channel numbers, -1 for none */
	unsigned producer; /* producer id (ping/producer) */
	unsigned consumer; /* consumer number (pong/consumer) */
};

/* Per consumer and producer: what arrived. */
struct tally {
	uint64_t count, sum, next;
};

/* Written by one worker, read by the parent after the worker ended. */
struct slot {
	pid_t pid;
	int rc;
	char err[160];
	uint64_t sent;	   /* messages sent, end markers excluded */
	uint64_t measured; /* messages (round trips) in the window */
	uint64_t duplicated, corrupt;
	uint64_t t_last; /* ping: end of its last timed round trip */
	struct ipcb_hist hist;
};

struct control {
	_Atomic uint32_t ready; /* workers attached; futex word */
	_Atomic uint32_t go;	/* 0 wait, 1 run, 2 abort; futex word */
	_Atomic uint32_t stop;	/* ask workers to end early */
	_Atomic uint32_t producers_done;
	uint64_t t_measure, t_end;
};

struct run {
	const struct ipcb_run_config *cfg;
	unsigned nworkers, nchan, nproducers, nconsumers;
	struct plan *plan;
	void **chan;
	struct ipcb_chan_info *info;
	size_t map_len;
	struct control *ctl;
	struct slot *slot;
	struct tally *tally; /* [nconsumers][nproducers] */
	pid_t *pid;
	pthread_t *thread;
	bool *started;
	pid_t janitor;	/* 0: none */
	int janitor_fd; /* the parent's end of the janitor's socket, or -1 */
};

static long futex(_Atomic uint32_t *addr, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

static bool threads_mode(const struct run *r)
{
	return r->cfg->key.workers == IPCB_THREAD;
}

/* ---- the plan ---- */

static int make_plan(struct run *r)
{
	const struct ipcb_config_key *k = &r->cfg->key;
	unsigned n = k->procs;

	r->nworkers = n;
	r->plan = calloc(n, sizeof(*r->plan));
	if (!r->plan)
		return -ENOMEM;
	if (k->topology == IPCB_SHARED) {
		r->nchan = 1;
		r->nproducers = k->producers;
		r->nconsumers = k->consumers;
		for (unsigned i = 0; i < n; i++) {
			bool prod = i < k->producers;
			r->plan[i] = (struct plan){
				.role = prod ? ROLE_PRODUCER : ROLE_CONSUMER,
				.index = prod ? i : i - k->producers,
				.tx = prod ? 0 : -1,
				.rx = prod ? -1 : 0,
				.producer = i,
				.consumer = prod ? 0 : i - k->producers,
			};
		}
	} else {
		bool lat = k->pattern == IPCB_LATENCY;
		unsigned pairs = n / 2;
		r->nchan = lat ? 2 * pairs : pairs;
		r->nproducers = r->nconsumers = pairs;
		for (unsigned p = 0; p < pairs; p++) {
			r->plan[2 * p] = (struct plan){
				.role = lat ? ROLE_PING : ROLE_PRODUCER,
				.index = p,
				.tx = lat ? (int)(2 * p) : (int)p,
				.rx = lat ? (int)(2 * p + 1) : -1,
				.producer = p,
			};
			r->plan[2 * p + 1] = (struct plan){
				.role = lat ? ROLE_PONG : ROLE_CONSUMER,
				.index = p,
				.tx = lat ? (int)(2 * p + 1) : -1,
				.rx = lat ? (int)(2 * p) : (int)p,
				.consumer = p,
			};
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const struct plan *p = &r->plan[i];
		unsigned ncpus = r->cfg->ncpus;
		bool cons = p->role == ROLE_PONG || p->role == ROLE_CONSUMER;
		unsigned slot = cons ? (p->index + ncpus / 2) % ncpus
				     : p->index % ncpus;
		r->plan[i].cpu = r->cfg->pin ? r->cfg->cpus[slot] : -1;
	}
	return 0;
}

static struct ipcb_chan_config chan_config(const struct run *r)
{
	const struct ipcb_config_key *k = &r->cfg->key;
	bool shared = k->topology == IPCB_SHARED;

	return (struct ipcb_chan_config){
		.max_msg = k->size,
		.producers = shared ? k->producers : 1,
		.consumers = shared ? k->consumers : 1,
		.threads = threads_mode(r),
		.run_tag = r->cfg->run_tag,
		.index = *r->cfg->next_chan,
	};
}

/* True when every worker of cfg is pinned to a CPU of its own. */
static bool spinners_placed(const struct ipcb_run_config *cfg)
{
	struct run r = { .cfg = cfg };
	bool distinct = cfg->pin && make_plan(&r) == 0;

	for (unsigned i = 0; distinct && i < r.nworkers; i++)
		for (unsigned j = 0; j < i; j++)
			if (r.plan[i].cpu == r.plan[j].cpu)
				distinct = false;
	free(r.plan);
	return distinct;
}

enum ipcb_run_fail ipcb_run_check(const struct ipcb_run_config *cfg, char *err,
				  size_t errlen)
{
	struct run r = { .cfg = cfg };
	struct ipcb_chan_config cc;
	const char *why = NULL;
	int rc;

	if (cfg->key.pattern == IPCB_LATENCY &&
	    cfg->key.topology == IPCB_SHARED) {
		snprintf(err, errlen,
			 "latency uses ping-pong pairs; the "
			 "shared topology applies to throughput only");
		return IPCB_RUN_NOT_APPLICABLE;
	}
	cc = chan_config(&r);
	if (cc.max_msg > cfg->t->max_msg()) {
		snprintf(err, errlen,
			 "a %llu-byte message is larger than %s "
			 "can carry (at most %zu bytes)",
			 (unsigned long long)cc.max_msg, cfg->t->name,
			 cfg->t->max_msg());
		return IPCB_RUN_NOT_APPLICABLE;
	}
	rc = ipcb_transport_validate(cfg->t, &cc, &why);
	if (rc) {
		snprintf(err, errlen, "%s", why);
		return IPCB_RUN_NOT_APPLICABLE;
	}
	if ((cfg->t->caps & IPCB_CAP_SPINS) && !spinners_placed(cfg)) {
		snprintf(
			err, errlen,
			"%s busy-polls: every worker needs a CPU of its own (a "
			"spinner sharing a CPU waits for the scheduler tick); "
			"pin %u workers to distinct CPUs with --cpus",
			cfg->t->name, cfg->key.procs);
		return IPCB_RUN_NOT_APPLICABLE;
	}
	return IPCB_RUN_OK;
}

/* ---- the workers ---- */

struct worker {
	struct run *r;
	unsigned w;
	void *tx, *rx;
	unsigned char *txbuf, *rxbuf;
	size_t size;
	bool payload, verify;
	uint64_t sink; /* keeps the cpu work alive */
};

static void fail(struct worker *k, int rc, const char *what, int chan)
{
	struct slot *s = &k->r->slot[k->w];

	if (s->rc)
		return;
	s->rc = rc ? rc : -EPROTO;
	snprintf(s->err, sizeof(s->err), "%s on channel %d: %s", what, chan,
		 strerror(rc < 0 ? -rc : EPROTO));
}

/* Checks one received message against what its producer sent before.
 * Returns false for the end marker. */
static bool account(struct worker *k, size_t len, uint64_t now)
{
	struct run *r = k->r;
	const struct plan *p = &r->plan[k->w];
	struct slot *s = &r->slot[k->w];
	struct ipcb_msg_hdr h = ipcb_msg_get(k->rxbuf);
	uint64_t id = h.seq >> IPCB_SEQ_BITS, n = h.seq & IPCB_SEQ_MASK;
	struct tally *t;

	if (h.seq == IPCB_MSG_PILL)
		return false;
	if (len != k->size || id >= r->nproducers) {
		s->corrupt++;
		return true;
	}
	t = &r->tally[(size_t)p->consumer * r->nproducers + id];
	if (n < t->next)
		s->duplicated++;
	else
		t->next = n + 1;
	t->count++;
	t->sum += n;
	if (k->verify && !ipcb_msg_check(k->rxbuf, len, h.seq))
		s->corrupt++;
	/* now is 0 where nothing is timed here (a pong); a transport without
	 * payload carries no send time, so it is counted but not timed. */
	if (now >= r->ctl->t_measure && now < r->ctl->t_end) {
		if (k->payload)
			ipcb_hist_record(&s->hist, now - h.send_ns);
		s->measured++;
	}
	return true;
}

/* For transports that carry no payload: write the message the channel
 * stands for, so the same checks run (and cost) as for the others. */
static void synthesize(struct worker *k, uint64_t seq)
{
	if (!k->payload)
		ipcb_msg_put(k->rxbuf, seq, 0);
}

static void send_pills(struct worker *k, unsigned count)
{
	const struct plan *p = &k->r->plan[k->w];

	if (!k->payload)
		return; /* no payload, no marker: end of stream is detach */
	ipcb_msg_put(k->txbuf, IPCB_MSG_PILL, 0);
	for (unsigned i = 0; i < count; i++) {
		int rc = k->r->cfg->t->send(k->tx, k->txbuf, k->size);
		if (rc) {
			fail(k, rc, "sending the end marker", p->tx);
			return;
		}
	}
}

static void run_producer(struct worker *k)
{
	struct run *r = k->r;
	const struct plan *p = &r->plan[k->w];
	struct slot *s = &r->slot[k->w];
	uint64_t base = (uint64_t)p->producer << IPCB_SEQ_BITS, n = 0;
	uint64_t t_end = r->ctl->t_end;

	for (;;) {
		uint64_t now = ipcb_now_ns();
		int rc;
		if (now >= t_end ||
		    atomic_load_explicit(&r->ctl->stop, memory_order_relaxed))
			break;
		ipcb_msg_put(k->txbuf, base | n, now);
		if (k->verify)
			ipcb_msg_fill(k->txbuf, k->size, base | n);
		rc = r->cfg->t->send(k->tx, k->txbuf, k->size);
		if (rc) {
			fail(k, rc, "send", p->tx);
			break;
		}
		n++;
	}
	s->sent = n;
	if (r->cfg->key.topology == IPCB_SHARED) {
		/* The last producer to finish ends every consumer. */
		if (atomic_fetch_add(&r->ctl->producers_done, 1) + 1 ==
		    r->nproducers)
			send_pills(k, r->nconsumers);
	} else {
		send_pills(k, 1);
	}
}

static void run_consumer(struct worker *k)
{
	struct run *r = k->r;
	const struct plan *p = &r->plan[k->w];
	const struct ipcb_transport *t = r->cfg->t;
	uint64_t base = (uint64_t)p->consumer << IPCB_SEQ_BITS, n = 0;

	for (;;) {
		size_t len;
		uint64_t now;
		int rc;
		synthesize(k, base | n++);
		rc = t->recv(k->rx, k->rxbuf, k->size, &len);
		/* A pong's round trip is timed by its ping. */
		now = p->role == ROLE_CONSUMER ? ipcb_now_ns() : 0;
		if (rc == -EPIPE && !k->payload)
			return;
		if (rc) {
			fail(k, rc,
			     rc == -EPIPE ? "end of stream before the "
					    "end marker (a producer vanished)"
					  : "receive",
			     p->rx);
			return;
		}
		if (!account(k, len, now))
			return;
		k->sink += ipcb_work_do(&r->cfg->work, k->rxbuf, len);
		if (p->role == ROLE_PONG) {
			rc = t->send(k->tx, k->rxbuf, len);
			if (rc) {
				fail(k, rc, "echo", p->tx);
				return;
			}
		}
	}
}

static void run_ping(struct worker *k)
{
	struct run *r = k->r;
	const struct plan *p = &r->plan[k->w];
	struct slot *s = &r->slot[k->w];
	const struct ipcb_transport *t = r->cfg->t;
	uint64_t base = (uint64_t)p->producer << IPCB_SEQ_BITS, n = 0;
	uint64_t t_measure = r->ctl->t_measure, t_end = r->ctl->t_end;

	for (;;) {
		uint64_t t0 = ipcb_now_ns(), t1;
		size_t len;
		int rc;
		if (t0 >= t_end ||
		    atomic_load_explicit(&r->ctl->stop, memory_order_relaxed))
			break;
		ipcb_msg_put(k->txbuf, base | n, t0);
		if (k->verify)
			ipcb_msg_fill(k->txbuf, k->size, base | n);
		rc = t->send(k->tx, k->txbuf, k->size);
		if (rc) {
			fail(k, rc, "send", p->tx);
			break;
		}
		synthesize(k, base | n);
		rc = t->recv(k->rx, k->rxbuf, k->size, &len);
		t1 = ipcb_now_ns();
		if (rc) {
			fail(k, rc, "receive", p->rx);
			break;
		}
		n++;
		if (len != k->size ||
		    ipcb_msg_get(k->rxbuf).seq != (base | (n - 1)) ||
		    (k->verify &&
		     !ipcb_msg_check(k->rxbuf, len, base | (n - 1)))) {
			s->corrupt++;
			continue;
		}
		if (t0 >= t_measure) {
			ipcb_hist_record(&s->hist, t1 - t0);
			s->measured++;
			s->t_last = t1;
		}
	}
	s->sent = n;
	send_pills(k, 1);
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The body of every worker, process or thread. */
static int worker_main(struct run *r, unsigned w)
{
	const struct plan *p = &r->plan[w];
	const struct ipcb_transport *t = r->cfg->t;
	struct worker k = {
		.r = r,
		.w = w,
		.size = r->cfg->key.size,
		.payload = t->caps & IPCB_CAP_PAYLOAD,
		.verify = r->cfg->verify && (t->caps & IPCB_CAP_PAYLOAD),
	};
	struct slot *s = &r->slot[w];
	int rc;

	s->pid = getpid();
	ipcb_hist_reset(&s->hist);
	ipcb_work_prepare(&r->cfg->work);
	rc = pin_self(p->cpu);
	if (rc) {
		fail(&k, rc, "pinning to a CPU", -1);
		return rc;
	}
	/* calloc: large buffers come as untouched zero pages, so a 1 GiB
	 * message does not cost seconds before the barrier. */
	k.txbuf = calloc(1, k.size);
	k.rxbuf = calloc(1, k.size);
	if (!k.txbuf || !k.rxbuf) {
		fail(&k, -ENOMEM, "allocating buffers", -1);
		goto out;
	}
	if (p->tx >= 0 &&
	    (rc = t->attach(r->chan[p->tx], IPCB_PRODUCER, &k.tx))) {
		fail(&k, rc, "attach as producer", p->tx);
		goto out;
	}
	if (p->rx >= 0 &&
	    (rc = t->attach(r->chan[p->rx], IPCB_CONSUMER, &k.rx))) {
		fail(&k, rc, "attach as consumer", p->rx);
		goto out;
	}
	if (!threads_mode(r))
		for (unsigned c = 0; c < r->nchan; c++)
			t->drop(r->chan[c]);
	atomic_fetch_add(&r->ctl->ready, 1);
	futex(&r->ctl->ready, FUTEX_WAKE, 1, NULL);
	while (atomic_load(&r->ctl->go) == 0)
		futex(&r->ctl->go, FUTEX_WAIT, 0, NULL);
	if (atomic_load(&r->ctl->go) == 1) {
		switch (p->role) {
		case ROLE_PING:
			run_ping(&k);
			break;
		case ROLE_PRODUCER:
			run_producer(&k);
			break;
		case ROLE_PONG:
		case ROLE_CONSUMER:
			run_consumer(&k);
			break;
		}
	}
out:
	if (k.tx)
		t->detach(k.tx);
	if (k.rx)
		t->detach(k.rx);
	free(k.txbuf);
	free(k.rxbuf);
	__asm__ volatile("" : : "r"(k.sink));
	return s->rc;
}

static void *thread_main(void *arg)
{
	struct run *r = ((void **)arg)[0];
	unsigned w = (unsigned)(uintptr_t)((void **)arg)[1];

	free(arg);
	worker_main(r, w);
	return NULL;
}

/* ---- the parent ---- */

void ipcb_run_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

static void describe_worker(const struct run *r, unsigned w, char *buf,
			    size_t n)
{
	const struct plan *p = &r->plan[w];
	snprintf(buf, n, "%s %u (%s %d)", role_names[p->role], p->index,
		 threads_mode(r) ? "thread" : "pid", (int)r->slot[w].pid);
}

static void kill_all(struct run *r)
{
	for (unsigned w = 0; w < r->nworkers; w++)
		if (r->pid[w] > 0)
			kill(r->pid[w], SIGKILL);
}

static void reap_all(struct run *r)
{
	for (unsigned w = 0; w < r->nworkers; w++)
		if (r->pid[w] > 0) {
			waitpid(r->pid[w], NULL, 0);
			r->pid[w] = 0;
		}
}

static int worker_of(const struct run *r, pid_t pid)
{
	for (unsigned w = 0; w < r->nworkers; w++)
		if (r->pid[w] == pid)
			return (int)w;
	return -1;
}

/* How much a worker's end explains a failure: a worker that died by a
 * signal or exited without saying why takes its peers down with it (they
 * see end of stream or a broken pipe and report that), never the other way
 * round. */
enum blame { BLAME_NONE, BLAME_REPORTED, BLAME_DIED };

/* A worker that reported an error may have been a dead peer's victim: wait
 * this long for the peer's death to show before blaming the reporter. */
#define BLAME_GRACE_NS 200000000ull

/* Reaps what has ended. Returns the number still running, or -1 with err
 * set when a worker failed, naming the worker that most likely caused it. */
static int reap_some(struct run *r, char *err, size_t errlen)
{
	enum blame worst = BLAME_NONE;
	uint64_t grace_end = 0;
	int running = 0, st;
	pid_t pid;

	for (;;) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			int w = worker_of(r, pid);
			enum blame b = BLAME_DIED;
			char who[64];
			if (pid == r->janitor) {
				/* Not a worker, but a run without it could
				 * leak on a SIGKILL: as bad as a dead one. */
				r->janitor = 0;
				snprintf(who, sizeof(who), "janitor (pid %d)",
					 (int)pid);
			} else if (w >= 0) {
				r->pid[w] = 0;
				if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
					continue;
				if (r->slot[w].rc && !WIFSIGNALED(st))
					b = BLAME_REPORTED;
				describe_worker(r, (unsigned)w, who,
						sizeof(who));
			} else {
				continue;
			}
			if (b <= worst)
				continue;
			worst = b;
			if (b == BLAME_REPORTED)
				snprintf(err, errlen, "%s: %s: %s",
					 r->cfg->t->name, who, r->slot[w].err);
			else if (WIFSIGNALED(st))
				snprintf(err, errlen,
					 "%s: %s killed by signal "
					 "%d (%s)",
					 r->cfg->t->name, who, WTERMSIG(st),
					 strsignal(WTERMSIG(st)));
			else
				snprintf(err, errlen,
					 "%s: %s exited with "
					 "status %d",
					 r->cfg->t->name, who, WEXITSTATUS(st));
		}
		running = 0;
		for (unsigned w = 0; w < r->nworkers; w++)
			running += r->pid[w] > 0;
		if (worst != BLAME_REPORTED || !running)
			break;
		if (!grace_end)
			grace_end = ipcb_now_ns() + BLAME_GRACE_NS;
		if (ipcb_now_ns() >= grace_end)
			break;
		nanosleep(&(struct timespec){ 0, 5000000L }, NULL);
	}
	return worst != BLAME_NONE ? -1 : running;
}

static void deadline_after(struct timespec *ts, double s)
{
	uint64_t t = ipcb_now_ns() + (uint64_t)(s * 1e9);
	ts->tv_sec = (time_t)(t / 1000000000ull);
	ts->tv_nsec = (long)(t % 1000000000ull);
}

static bool past(const struct timespec *deadline)
{
	uint64_t t = (uint64_t)deadline->tv_sec * 1000000000ull +
		     (uint64_t)deadline->tv_nsec;
	return ipcb_now_ns() >= t;
}

/* Waits up to max_ms for one of the harness signals. Returns the signal, 0
 * on timeout. */
static int wait_signal(long max_ms)
{
	sigset_t set;
	struct timespec ts = { max_ms / 1000, (max_ms % 1000) * 1000000L };
	int sig;

	ipcb_run_sigset(&set);
	sig = sigtimedwait(&set, NULL, &ts);
	return sig < 0 ? 0 : sig;
}

/*
 * The janitor. SysV message queues and semaphores live until IPC_RMID, and
 * only teardown in the parent removes them, so a SIGKILLed parent would
 * leak them (and, before seal, every name). Once the channels exist, a
 * janitor process closes the handles it inherited (drop) and waits on a
 * socket only the parent holds the other end of: at the end of the run the
 * parent tells it to go and tears down itself; if the parent dies first,
 * the socket reports end of file and the janitor tears the channels down.
 * It blocks SIGINT and SIGTERM like the parent, so only SIGKILL ends it
 * early. Returns 0 or -errno.
 */
static int start_janitor(struct run *r, unsigned nchan)
{
	int fds[2], e;
	char c;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	r->janitor = fork();
	if (r->janitor < 0) {
		e = errno;
		r->janitor = 0;
		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (r->janitor > 0) {
		close(fds[0]);
		r->janitor_fd = fds[1];
		return 0;
	}
	prctl(PR_SET_NAME, "ipcb-janitor");
	close(fds[1]);
	for (unsigned i = 0; i < nchan; i++)
		r->cfg->t->drop(r->chan[i]);
	do
		n = read(fds[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		for (unsigned i = 0; i < nchan; i++)
			r->cfg->t->teardown(r->chan[i]);
	_exit(0);
}

/* Tells the janitor the parent cleans up itself, and reaps it. The send
 * fails only when the janitor is gone already (EPIPE, no SIGPIPE). */
static void stop_janitor(struct run *r)
{
	if (r->janitor_fd >= 0) {
		ssize_t n;
		do
			n = send(r->janitor_fd, "q", 1, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		close(r->janitor_fd);
		r->janitor_fd = -1;
	}
	if (r->janitor > 0)
		waitpid(r->janitor, NULL, 0);
	r->janitor = 0;
}

static enum ipcb_run_fail start_workers(struct run *r, char *err, size_t errlen)
{
	pid_t parent = getpid();

	for (unsigned w = 0; w < r->nworkers; w++) {
		if (threads_mode(r)) {
			void **arg = malloc(2 * sizeof(void *));
			int rc;
			if (!arg) {
				snprintf(err, errlen, "out of memory");
				return IPCB_RUN_ERROR;
			}
			arg[0] = r;
			arg[1] = (void *)(uintptr_t)w;
			rc = pthread_create(&r->thread[w], NULL, thread_main,
					    arg);
			if (rc) {
				free(arg);
				snprintf(err, errlen, "starting thread %u: %s",
					 w, strerror(rc));
				return IPCB_RUN_ERROR;
			}
			r->started[w] = true;
			continue;
		}
		r->pid[w] = fork();
		if (r->pid[w] < 0) {
			r->pid[w] = 0;
			snprintf(err, errlen,
				 "fork of worker %u: %s (check "
				 "ulimit -u)",
				 w, strerror(errno));
			return IPCB_RUN_ERROR;
		}
		if (r->pid[w] == 0) {
			/* No child outlives ipcbench, even a SIGKILLed one. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			/* Only the parent may hold the janitor's socket. */
			close(r->janitor_fd);
			_exit(worker_main(r, w) ? 1 : 0);
		}
	}
	return IPCB_RUN_OK;
}

/* Parent side of the barrier: wait until every worker attached. */
static enum ipcb_run_fail wait_ready(struct run *r, int *sig, char *err,
				     size_t errlen)
{
	struct timespec deadline;

	deadline_after(&deadline, r->cfg->timeout_s);
	for (;;) {
		uint32_t ready = atomic_load(&r->ctl->ready);
		struct timespec step = { 0, 20 * 1000000L };
		if (ready == r->nworkers)
			return IPCB_RUN_OK;
		if (reap_some(r, err, errlen) < 0)
			return IPCB_RUN_ERROR;
		if (threads_mode(r))
			for (unsigned w = 0; w < r->nworkers; w++)
				if (r->slot[w].rc) {
					char who[64];
					describe_worker(r, w, who, sizeof(who));
					snprintf(err, errlen, "%s: %s: %s",
						 r->cfg->t->name, who,
						 r->slot[w].err);
					return IPCB_RUN_ERROR;
				}
		*sig = wait_signal(0);
		if (*sig == SIGINT || *sig == SIGTERM)
			return IPCB_RUN_INTERRUPTED;
		if (past(&deadline)) {
			snprintf(err, errlen,
				 "%s: only %u of %u workers "
				 "attached within %.0f s",
				 r->cfg->t->name, ready, r->nworkers,
				 r->cfg->timeout_s);
			return IPCB_RUN_ERROR;
		}
		futex(&r->ctl->ready, FUTEX_WAIT, ready, &step);
	}
}

static enum ipcb_run_fail wait_done(struct run *r, int *sig, char *err,
				    size_t errlen)
{
	struct timespec deadline;
	double limit = r->cfg->timeout_s;

	deadline_after(&deadline, limit);
	if (threads_mode(r)) {
		for (unsigned w = 0; w < r->nworkers; w++) {
			int rc = pthread_timedjoin_np(r->thread[w], NULL,
						      &(struct timespec){ 0 });
			while (rc == ETIMEDOUT) {
				struct timespec rt;
				*sig = wait_signal(50);
				if (*sig == SIGINT || *sig == SIGTERM)
					return IPCB_RUN_INTERRUPTED;
				if (reap_some(r, err, errlen) < 0)
					return IPCB_RUN_ERROR;
				if (past(&deadline)) {
					snprintf(err, errlen,
						 "%s: watchdog: "
						 "workers still running after "
						 "%.0f s (--timeout)",
						 r->cfg->t->name, limit);
					return IPCB_RUN_ERROR;
				}
				clock_gettime(CLOCK_REALTIME, &rt);
				rc = pthread_timedjoin_np(r->thread[w], NULL,
							  &rt);
			}
			r->started[w] = false;
		}
		for (unsigned w = 0; w < r->nworkers; w++)
			if (r->slot[w].rc) {
				char who[64];
				describe_worker(r, w, who, sizeof(who));
				snprintf(err, errlen, "%s: %s: %s",
					 r->cfg->t->name, who, r->slot[w].err);
				return IPCB_RUN_ERROR;
			}
		return IPCB_RUN_OK;
	}
	for (;;) {
		int running = reap_some(r, err, errlen);
		if (running < 0)
			return IPCB_RUN_ERROR;
		if (running == 0)
			return IPCB_RUN_OK;
		if (past(&deadline)) {
			unsigned w = 0;
			char who[64];
			while (r->pid[w] == 0)
				w++;
			describe_worker(r, w, who, sizeof(who));
			snprintf(err, errlen,
				 "%s: watchdog: %s and %d more "
				 "still running after %.0f s (--timeout)",
				 r->cfg->t->name, who, running - 1, limit);
			return IPCB_RUN_ERROR;
		}
		*sig = wait_signal(100);
		if (*sig == SIGINT || *sig == SIGTERM)
			return IPCB_RUN_INTERRUPTED;
	}
}

/* Merges what the workers measured into rep and res. */
static void collect(struct run *r, struct ipcb_rep *rep,
		    struct ipcb_result *res)
{
	const struct ipcb_config_key *k = &r->cfg->key;
	struct ipcb_hist *h = malloc(sizeof(*h));
	uint64_t end = r->ctl->t_end;
	double window;
	uint64_t measured = 0;
	size_t off = 0;

	res->lost = res->duplicated = res->corrupt = 0;
	if (h)
		ipcb_hist_reset(h);
	/* A round trip that began in the window is counted whole: the window
	 * lasts until it ended, so the rate is never overstated. */
	for (unsigned w = 0; w < r->nworkers; w++)
		if (r->slot[w].t_last > end)
			end = r->slot[w].t_last;
	window = (double)(end - r->ctl->t_measure) / 1e9;
	for (unsigned w = 0; w < r->nworkers; w++) {
		const struct plan *p = &r->plan[w];
		const struct slot *s = &r->slot[w];
		bool timer = k->pattern == IPCB_LATENCY
				     ? p->role == ROLE_PING
				     : p->role == ROLE_CONSUMER;
		res->duplicated += s->duplicated;
		res->corrupt += s->corrupt;
		if (timer) {
			measured += s->measured;
			if (h)
				ipcb_hist_merge(h, &s->hist);
		}
		if (p->role == ROLE_PING || p->role == ROLE_PRODUCER) {
			uint64_t got = 0, sum = 0, sent = s->sent;
			for (unsigned c = 0; c < r->nconsumers; c++) {
				const struct tally *t =
					&r->tally[(size_t)c * r->nproducers +
						  p->producer];
				got += t->count;
				sum += t->sum;
			}
			if (got < sent)
				res->lost += sent - got;
			else if (got > sent && got - sent > s->duplicated)
				res->duplicated += got - sent;
			else if (got == sent &&
				 sum != (sent ? sent * (sent - 1) / 2 : 0)) {
				res->lost++;
				res->duplicated++;
			}
		}
		off += (size_t)snprintf(
			res->cpus + off,
			off < sizeof(res->cpus) ? sizeof(res->cpus) - off : 0,
			"%s%s%u:%d", w ? " " : "", role_names[p->role],
			p->index, p->cpu);
	}
	if (off >= sizeof(res->cpus))
		snprintf(res->cpus, sizeof(res->cpus),
			 "%u workers: producer i on cpus[i %% n], consumer i "
			 "on cpus[(i + n/2) %% n] of the context's placement",
			 r->nworkers);
	if (!r->cfg->pin)
		snprintf(res->cpus, sizeof(res->cpus), "-");
	res->messages = measured;
	res->duration_s = window;
	res->has_latency = h && h->count > 0;
	res->latency_rtt = k->pattern == IPCB_LATENCY;
	rep->msgs_per_s = (double)measured / window;
	/* A transport without payload moves no bytes: none are reported. */
	rep->bytes_per_s = r->cfg->t->caps & IPCB_CAP_PAYLOAD
				   ? rep->msgs_per_s * (double)k->size
				   : NAN;
	if (res->has_latency)
		rep->lat = (struct ipcb_latency){
			.min = (double)h->min,
			.mean = ipcb_hist_mean(h),
			.p50 = ipcb_hist_quantile(h, 0.5),
			.p90 = ipcb_hist_quantile(h, 0.9),
			.p99 = ipcb_hist_quantile(h, 0.99),
			.p999 = ipcb_hist_quantile(h, 0.999),
			.max = (double)h->max,
		};
	else
		rep->lat = (struct ipcb_latency){ NAN, NAN, NAN, NAN,
						  NAN, NAN, NAN };
	res->chunk = r->info[0].chunk;
	snprintf(res->detail, sizeof(res->detail), "%s", r->info[0].detail);
	free(h);
}

static void free_run(struct run *r)
{
	free(r->plan);
	free(r->chan);
	free(r->info);
	free(r->pid);
	free(r->thread);
	free(r->started);
	if (r->ctl)
		munmap(r->ctl, r->map_len);
}

enum ipcb_run_fail ipcb_run_once(const struct ipcb_run_config *cfg,
				 struct ipcb_rep *rep, struct ipcb_result *res,
				 int *sig, char *err, size_t errlen)
{
	struct run r = { .cfg = cfg, .janitor_fd = -1 };
	enum ipcb_run_fail rc = IPCB_RUN_ERROR;
	const struct ipcb_transport *t = cfg->t;
	unsigned made = 0;
	bool sealed = false;
	int e;
	size_t ctl_len, slots_len;

	*sig = 0;
	if (make_plan(&r)) {
		snprintf(err, errlen, "out of memory");
		return IPCB_RUN_ERROR;
	}
	ctl_len = (sizeof(struct control) + 63) & ~(size_t)63;
	slots_len = r.nworkers * sizeof(struct slot);
	r.map_len = ctl_len + slots_len +
		    (size_t)r.nconsumers * r.nproducers * sizeof(struct tally);
	r.ctl = ipcb_map_shared(r.map_len);
	r.chan = calloc(r.nchan, sizeof(*r.chan));
	r.info = calloc(r.nchan, sizeof(*r.info));
	r.pid = calloc(r.nworkers, sizeof(*r.pid));
	r.thread = calloc(r.nworkers, sizeof(*r.thread));
	r.started = calloc(r.nworkers, sizeof(*r.started));
	if (!r.ctl || !r.chan || !r.info || !r.pid || !r.thread || !r.started) {
		snprintf(err, errlen, "out of memory for %u workers",
			 r.nworkers);
		goto out;
	}
	r.slot = (struct slot *)((char *)r.ctl + ctl_len);
	r.tally = (struct tally *)((char *)r.slot + slots_len);

	for (made = 0; made < r.nchan; made++) {
		struct ipcb_chan_config cc = chan_config(&r);
		(*cfg->next_chan)++;
		e = t->setup(&cc, &r.chan[made], &r.info[made]);
		if (e) {
			snprintf(err, errlen,
				 "%s: setup of channel %u (%s-%u) "
				 "failed: %s",
				 t->name, made, cfg->run_tag, cc.index,
				 strerror(-e));
			goto out;
		}
	}
	e = start_janitor(&r, made);
	if (e) {
		snprintf(err, errlen, "%s: starting the janitor process: %s",
			 t->name, strerror(-e));
		goto out;
	}
	rc = start_workers(&r, err, errlen);
	if (rc == IPCB_RUN_OK)
		rc = wait_ready(&r, sig, err, errlen);
	if (rc != IPCB_RUN_OK)
		goto abort;
	/* Everyone attached: nothing named needs to exist any more. */
	for (unsigned c = 0; c < r.nchan; c++)
		t->seal(r.chan[c]);
	sealed = true;
	r.ctl->t_measure = ipcb_now_ns() + (uint64_t)(cfg->warmup_s * 1e9);
	r.ctl->t_end = r.ctl->t_measure + (uint64_t)(cfg->duration_s * 1e9);
	atomic_store(&r.ctl->go, 1);
	futex(&r.ctl->go, FUTEX_WAKE, INT32_MAX, NULL);
	rc = wait_done(&r, sig, err, errlen);
	if (rc == IPCB_RUN_OK) {
		collect(&r, rep, res);
		goto out;
	}
abort:
	atomic_store(&r.ctl->stop, 1);
	if (!sealed) {
		atomic_store(&r.ctl->go, 2);
		futex(&r.ctl->go, FUTEX_WAKE, INT32_MAX, NULL);
	}
	kill_all(&r);
	reap_all(&r);
	for (unsigned w = 0; w < r.nworkers; w++)
		if (r.started[w])
			pthread_detach(r.thread[w]);
out:
	stop_janitor(&r);
	for (unsigned c = 0; c < made; c++)
		t->teardown(r.chan[c]);
	/* Threads still running (interrupted or stuck) may use the control
	 * block: leave it mapped, the process is about to exit. */
	for (unsigned w = 0; w < r.nworkers; w++)
		if (r.started[w])
			r.ctl = NULL;
	free_run(&r);
	return rc;
}

/* True when SIGINT or SIGTERM is pending (they are blocked during runs). */
static bool stop_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGINT) == 1 ||
					 sigismember(&set, SIGTERM) == 1);
}

/* Polls for SIGINT/SIGTERM every 10 ms; on one it returns
 * IPCB_RUN_INTERRUPTED and leaves the signal pending for the caller. */
enum ipcb_run_fail ipcb_run_sequential(const struct ipcb_run_config *cfg,
				       struct ipcb_rep *rep,
				       struct ipcb_result *res, char *err,
				       size_t errlen)
{
	size_t size = cfg->key.size;
	unsigned char *buf = malloc(size);
	uint64_t n = 0, measured = 0, sink = 0, t_measure, t_end, t_poll = 0;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return IPCB_RUN_ERROR;
	}
	memset(buf, 0, size);
	ipcb_work_prepare(&cfg->work);
	t_measure = ipcb_now_ns() + (uint64_t)(cfg->warmup_s * 1e9);
	t_end = t_measure + (uint64_t)(cfg->duration_s * 1e9);
	for (;;) {
		uint64_t now = ipcb_now_ns();
		if (now >= t_end)
			break;
		if (now >= t_poll) {
			if (stop_pending()) {
				free(buf);
				return IPCB_RUN_INTERRUPTED;
			}
			t_poll = now + 10000000ull;
		}
		ipcb_msg_put(buf, n, now);
		if (cfg->verify) {
			ipcb_msg_fill(buf, size, n);
			if (!ipcb_msg_check(buf, size, n))
				res->corrupt++;
		}
		sink += ipcb_work_do(&cfg->work, buf, size);
		if (now >= t_measure)
			measured++;
		n++;
	}
	__asm__ volatile("" : : "r"(sink));
	free(buf);
	res->messages = measured;
	res->duration_s = cfg->duration_s;
	res->has_latency = false;
	rep->msgs_per_s = (double)measured / cfg->duration_s;
	rep->bytes_per_s = rep->msgs_per_s * (double)size;
	rep->lat = (struct ipcb_latency){ NAN, NAN, NAN, NAN, NAN, NAN, NAN };
	snprintf(res->detail, sizeof(res->detail), "one process, no IPC");
	snprintf(res->cpus, sizeof(res->cpus), "-");
	return IPCB_RUN_OK;
}
