/*
 * micro.c - ipcbench-micro: Google Benchmark microbenchmarks of every
 * transport's primitive operations, written in C over bench/gbench_shim.h.
 *
 * For every transport in ipcb_transports[] and every size in sizes[]:
 *
 *   <transport>/roundtrip/size:<bytes>  one message to a forked echo peer
 *                                       and its reply, over two channels;
 *   <transport>/stream/size:<bytes>     one send while a forked peer drains
 *                                       the channel.
 *
 * Google Benchmark appends "/manual_time" to these names. Both operations
 * span two processes, so each iteration is timed here with CLOCK_MONOTONIC
 * (the clock ipcbench uses) and handed over as manual time: a round trip
 * from before the send to after the reply; a stream iteration is the send
 * call alone (it blocks while the channel is full, so over many sends it
 * runs at the pace of the slower end; messages still buffered when the
 * loop ends are not waited for). Google Benchmark's statistics are over
 * repetitions, so every iteration also goes into an ipcb_hist whose
 * p50/p99/p999 are exported as the counters p50_ns, p99_ns and p999_ns.
 *
 * Google Benchmark calls a benchmark function several times (to size the
 * iteration count, then once per repetition). Each call creates its
 * channels, forks its peer and waits for it to attach before the timed
 * loop, and after the loop detaches, reaps the peer (killing it if it does
 * not exit) and tears the channels down, also when the run fails. A failed
 * run (a transport error, a peer that failed) is reported through
 * SkipWithError with what failed; so is a configuration the transport
 * cannot do (ipcb_transport_validate(), or a spinning transport with both
 * ends on one CPU), with a message starting "skipped:". Either way the
 * process exits 0, as Google Benchmark does: check error_occurred in the
 * JSON output.
 *
 * The benchmark runs pinned to one CPU and its peer to another: by default
 * the first two CPUs this process may use; --cpus=BENCH,PEER or --cpus=none.
 */
#define _GNU_SOURCE
#include "bench/gbench_shim.h"
#include "harness/hist.h"
#include "ipc/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a peer may take to exit once told to, before it is killed. */
#define REAP_TIMEOUT_MS 5000

static const size_t sizes[] = { 64, 1024, 4096, 16384, 65536 };

enum op { OP_ROUNDTRIP, OP_STREAM, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "roundtrip", "stream" };

/* One registered benchmark: the argument of bench_fn(). */
struct micro {
	const struct ipcb_transport *t;
	enum op op;
	size_t size;
};

/* Placement: CPU numbers, -1 when not pinned. */
static int bench_cpu = -1, peer_cpu = -1;
/* The two ends run on different CPUs (or may, unpinned). */
static bool two_cpus;
static char run_tag[64];
static unsigned next_index;

/* Shared by a benchmark call and its peer (anonymous shared memory). */
struct shared {
	atomic_int stop; /* set by the benchmark: stop echoing or draining */
	int peer_rc;	 /* set by the peer before it exits 1: -errno */
};

/* One call of a benchmark function. Channel 0 carries messages to the
 * peer; in a round trip channel 1 carries the replies back. The peer runs
 * under a reaper, this process's child, which waits for it and exits with
 * its status (128 + signal if it was killed). A dead peer is thus reaped
 * at once, so a transport that checks liveness with kill(pid, 0) sees it
 * gone instead of a zombie of ours; the reaper stays our zombie until we
 * wait for it, so signalling it by pid is always safe. Every field is
 * valid when zero or NULL (reaper: -1), so session_end() can unwind any
 * partial start. */
struct session {
	const struct ipcb_transport *t;
	unsigned nchan;
	void *chan[2];
	void *ep[2]; /* this process's endpoints */
	pid_t reaper;
	struct shared *sh;
	char err[160]; /* why start or end failed */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Records what failed in s->err and returns rc. */
static int fail(struct session *s, int rc, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, strerror(-rc));
	return rc;
}

/* Gets sig when the parent dies, even if the parent is killed. */
static void die_with(pid_t parent, int sig)
{
	if (prctl(PR_SET_PDEATHSIG, sig) || getppid() != parent)
		_exit(1);
}

/* The peer: pin, attach the far end of every channel, drop the creator's
 * handles, report 0 or the error on ready_fd, then echo (two channels) or
 * drain (one) until end of stream or stop. Exits 0, or 1 with peer_rc. */
static void peer_main(struct session *s, size_t size, int ready_fd)
{
	const struct ipcb_transport *t = s->t;
	void *in = NULL, *out = NULL, *buf = malloc(size);
	size_t len;
	int rc = buf ? 0 : -ENOMEM;

	if (!rc && peer_cpu >= 0)
		rc = pin(peer_cpu);
	if (!rc)
		rc = t->attach(s->chan[0], IPCB_CONSUMER, &in);
	if (!rc && s->nchan == 2)
		rc = t->attach(s->chan[1], IPCB_PRODUCER, &out);
	for (unsigned i = 0; i < s->nchan; i++)
		t->drop(s->chan[i]);
	if (write(ready_fd, &rc, sizeof(rc)) != sizeof(rc) || rc)
		_exit(1);
	close(ready_fd);
	while (!atomic_load_explicit(&s->sh->stop, memory_order_relaxed)) {
		rc = t->recv(in, buf, size, &len);
		if (!rc && out)
			rc = t->send(out, buf, len);
		if (rc)
			break;
	}
	if (out)
		t->detach(out);
	t->detach(in);
	if (rc == 0 || rc == -EPIPE)
		_exit(0);
	s->sh->peer_rc = rc;
	_exit(1);
}

/* The reaper: forks the peer, lets go of everything the peer needs, waits
 * for it and exits with its status. SIGTERM (also sent when the benchmark
 * dies) makes it kill the peer; it handles both signals synchronously, so
 * the peer it kills is never one it has already reaped. */
static void reaper_main(struct session *s, size_t size, pid_t parent,
			int ready[2])
{
	pid_t self = getpid(), peer;
	sigset_t sigs;
	int status;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	die_with(parent, SIGTERM);
	close(ready[0]);
	peer = fork();
	if (peer == 0) {
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		die_with(self, SIGKILL);
		peer_main(s, size, ready[1]);
	}
	close(ready[1]);
	for (unsigned i = 0; i < s->nchan; i++)
		s->t->drop(s->chan[i]);
	if (peer < 0)
		_exit(1);
	while (waitpid(peer, &status, WNOHANG) != peer)
		if (sigwaitinfo(&sigs, NULL) == SIGTERM)
			kill(peer, SIGKILL);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Creates the channels, starts the peer, attaches this end and seals once
 * the peer has attached. 0, or -errno with s->err set; either way
 * session_end() must follow. */
static int session_start(struct session *s, size_t size)
{
	struct ipcb_chan_config cfg = {
		.max_msg = size,
		.producers = 1,
		.consumers = 1,
		.run_tag = run_tag,
	};
	struct ipcb_chan_info info;
	const struct ipcb_transport *t = s->t;
	const char *why = "";
	pid_t self = getpid();
	int ready[2], peer_rc, rc;
	ssize_t got;

	rc = ipcb_transport_validate(t, &cfg, &why);
	if (rc) {
		snprintf(s->err, sizeof(s->err), "skipped: %s", why);
		return rc;
	}
	if ((t->caps & IPCB_CAP_SPINS) && !two_cpus) {
		snprintf(s->err, sizeof(s->err),
			 "skipped: a spinning transport needs its two ends on "
			 "different CPUs (see --cpus)");
		return -EOPNOTSUPP;
	}
	for (unsigned i = 0; i < s->nchan; i++) {
		cfg.index = next_index++;
		rc = t->setup(&cfg, &s->chan[i], &info);
		if (rc) {
			s->chan[i] = NULL;
			return fail(s, rc, "setup");
		}
	}
	s->sh = ipcb_map_shared(sizeof(*s->sh));
	if (!s->sh)
		return fail(s, -errno, "mmap");
	atomic_init(&s->sh->stop, 0);
	s->sh->peer_rc = 0;
	if (pipe2(ready, O_CLOEXEC))
		return fail(s, -errno, "pipe2");
	s->reaper = fork();
	if (s->reaper == 0)
		reaper_main(s, size, self, ready);
	close(ready[1]);
	if (s->reaper < 0) {
		close(ready[0]);
		return fail(s, -errno, "fork");
	}
	rc = t->attach(s->chan[0], IPCB_PRODUCER, &s->ep[0]);
	if (!rc && s->nchan == 2)
		rc = t->attach(s->chan[1], IPCB_CONSUMER, &s->ep[1]);
	if (rc) {
		close(ready[0]);
		return fail(s, rc, "attach");
	}
	do
		got = read(ready[0], &peer_rc, sizeof(peer_rc));
	while (got < 0 && errno == EINTR);
	close(ready[0]);
	if (got != sizeof(peer_rc))
		return fail(s, -ECHILD, "peer died before attaching");
	if (peer_rc)
		return fail(s, peer_rc, "peer attach");
	for (unsigned i = 0; i < s->nchan; i++)
		t->seal(s->chan[i]);
	return 0;
}

/* Waits for the reaper, so for the peer, asking it to kill the peer at
 * once (kill_now) or after REAP_TIMEOUT_MS. 0 if the peer exited 0, else
 * -ECHILD with s->err set. */
static int reap(struct session *s, bool kill_now)
{
	struct timespec tick = { 0, 1000000 };
	bool late = false;
	int status, code;
	pid_t r;

	if (kill_now)
		kill(s->reaper, SIGTERM);
	for (int ms = 0; (r = waitpid(s->reaper, &status, WNOHANG)) == 0;
	     ms++) {
		if (ms == REAP_TIMEOUT_MS && !kill_now)
			late = !kill(s->reaper, SIGTERM);
		else if (ms == 2 * REAP_TIMEOUT_MS)
			kill(s->reaper, SIGKILL);
		nanosleep(&tick, NULL);
	}
	s->reaper = -1;
	if (r < 0)
		return fail(s, -errno, "waitpid");
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == 0)
		return 0;
	if (code == 1 && s->sh->peer_rc)
		return fail(s, s->sh->peer_rc, "peer");
	if (code > 128)
		snprintf(s->err, sizeof(s->err), "peer killed by signal %d%s",
			 code - 128,
			 late ? " (did not exit when told to)" : "");
	else if (code > 0)
		snprintf(s->err, sizeof(s->err), "peer exited with status %d",
			 code);
	else
		snprintf(s->err, sizeof(s->err), "peer's reaper was killed");
	return -ECHILD;
}

/* Stops and reaps the peer (killing it at once if failed), detaches this
 * end and tears the channels down. 0, or -errno with s->err set when the
 * peer did not end cleanly. */
static int session_end(struct session *s, bool failed)
{
	int rc = 0;

	if (s->sh)
		atomic_store(&s->sh->stop, 1);
	for (unsigned i = 0; i < 2; i++)
		if (s->ep[i])
			s->t->detach(s->ep[i]);
	if (s->reaper > 0)
		rc = reap(s, failed);
	for (unsigned i = 0; i < 2; i++)
		if (s->chan[i])
			s->t->teardown(s->chan[i]);
	if (s->sh)
		munmap(s->sh, sizeof(*s->sh));
	return rc;
}

/* The timed loops; false (with the run marked failed) on an error. */
static bool loop_roundtrip(struct ipcb_gb_state *st, struct session *s,
			   size_t size, struct ipcb_hist *h, void *buf)
{
	const struct ipcb_transport *t = s->t;
	bool payload = t->caps & IPCB_CAP_PAYLOAD;
	char *reply = (char *)buf + size;
	uint64_t t0, ns;
	size_t len;
	int rc;

	while (ipcb_gb_keep_running(st)) {
		t0 = now_ns();
		rc = t->send(s->ep[0], buf, size);
		if (!rc)
			rc = t->recv(s->ep[1], reply, size, &len);
		ns = now_ns() - t0;
		if (!rc && payload && len != size)
			rc = -EPROTO;
		if (rc) {
			fail(s, rc, "round trip");
			ipcb_gb_skip_with_error(st, s->err);
			return false;
		}
		ipcb_gb_set_iteration_time(st, (double)ns * 1e-9);
		ipcb_hist_record(h, ns);
	}
	ipcb_gb_set_items_processed(st, ipcb_gb_iterations(st));
	return true;
}

static bool loop_stream(struct ipcb_gb_state *st, struct session *s,
			size_t size, struct ipcb_hist *h, void *buf)
{
	const struct ipcb_transport *t = s->t;
	uint64_t t0, ns;
	int64_t n;
	int rc;

	while (ipcb_gb_keep_running(st)) {
		t0 = now_ns();
		rc = t->send(s->ep[0], buf, size);
		ns = now_ns() - t0;
		if (rc) {
			fail(s, rc, "send");
			ipcb_gb_skip_with_error(st, s->err);
			return false;
		}
		ipcb_gb_set_iteration_time(st, (double)ns * 1e-9);
		ipcb_hist_record(h, ns);
	}
	n = ipcb_gb_iterations(st);
	ipcb_gb_set_items_processed(st, n);
	ipcb_gb_set_bytes_processed(st, n * (int64_t)size);
	return true;
}

static void export_percentiles(struct ipcb_gb_state *st,
			       const struct ipcb_hist *h)
{
	static const struct {
		const char *name;
		double q;
	} pct[] = {
		{ "p50_ns", 0.5 },
		{ "p99_ns", 0.99 },
		{ "p999_ns", 0.999 },
	};

	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		if (ipcb_gb_counter(st, pct[i].name,
				    ipcb_hist_quantile(h, pct[i].q))) {
			ipcb_gb_skip_with_error(st, "out of memory");
			return;
		}
}

static void bench_fn(struct ipcb_gb_state *st, void *arg)
{
	const struct micro *m = arg;
	struct session s = {
		.t = m->t,
		.nchan = m->op == OP_ROUNDTRIP ? 2 : 1,
		.reaper = -1,
	};
	struct ipcb_hist *h = malloc(sizeof(*h));
	/* The message, then (round trip) room for the reply. */
	void *buf = calloc(2, m->size);
	bool ok;

	if (!h || !buf) {
		ipcb_gb_skip_with_error(st, "out of memory");
		goto out;
	}
	ipcb_hist_reset(h);
	memset(buf, 0xa5, m->size);
	if (session_start(&s, m->size)) {
		ipcb_gb_skip_with_error(st, s.err);
		session_end(&s, true);
		goto out;
	}
	if (m->op == OP_ROUNDTRIP)
		ok = loop_roundtrip(st, &s, m->size, h, buf);
	else
		ok = loop_stream(st, &s, m->size, h, buf);
	if (session_end(&s, !ok) && ok) {
		ipcb_gb_skip_with_error(st, s.err);
		ok = false;
	}
	if (ok && h->count)
		export_percentiles(st, h);
out:
	free(buf);
	free(h);
}

/* --cpus=BENCH,PEER or --cpus=none; the default is the first two CPUs this
 * process may run on (one CPU: both ends on it). 0, or -1 after printing
 * why. */
static int place(const char *spec)
{
	cpu_set_t allowed;
	int n, first = -1, second = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		perror("ipcbench-micro: sched_getaffinity");
		return -1;
	}
	n = CPU_COUNT(&allowed);
	if (spec && strcmp(spec, "none") == 0) {
		two_cpus = n >= 2;
		return 0;
	}
	if (spec) {
		char end;
		if (sscanf(spec, "%d,%d%c", &first, &second, &end) != 2 ||
		    first < 0 || second < 0 || first >= CPU_SETSIZE ||
		    second >= CPU_SETSIZE || !CPU_ISSET(first, &allowed) ||
		    !CPU_ISSET(second, &allowed)) {
			fprintf(stderr,
				"ipcbench-micro: --cpus=%s: expected "
				"BENCH,PEER, two CPUs this process may use, or "
				"none\n",
				spec);
			return -1;
		}
	} else {
		for (int c = 0; c < CPU_SETSIZE && second < 0; c++)
			if (CPU_ISSET(c, &allowed)) {
				if (first < 0)
					first = c;
				else
					second = c;
			}
		if (second < 0)
			second = first;
	}
	bench_cpu = first;
	peer_cpu = second;
	two_cpus = first != second;
	if (pin(bench_cpu)) {
		fprintf(stderr, "ipcbench-micro: cannot pin to CPU %d: %s\n",
			bench_cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static void help(void)
{
	ipcb_gb_print_default_help();
	printf("          [--cpus=BENCH,PEER|none]\n\n"
	       "ipcbench-micro: Google Benchmark microbenchmarks of every "
	       "ipcbench transport:\n"
	       "<transport>/roundtrip/size:<bytes> and "
	       "<transport>/stream/size:<bytes>.\n"
	       "  --cpus=BENCH,PEER  pin the benchmark to CPU BENCH and its "
	       "forked peer to PEER\n"
	       "                     (default: the first two usable CPUs); "
	       "none: do not pin\n");
}

static int add_context(void)
{
	char placement[64];

	if (bench_cpu < 0)
		snprintf(placement, sizeof(placement), "unpinned");
	else
		snprintf(placement, sizeof(placement), "bench=cpu%d peer=cpu%d",
			 bench_cpu, peer_cpu);
	if (ipcb_gb_add_context("ipcbench_version", IPCB_VERSION) ||
	    ipcb_gb_add_context("ipcbench_git_rev", IPCB_GIT_REV) ||
	    ipcb_gb_add_context("ipcbench_placement", placement) ||
	    ipcb_gb_add_context("ipcbench_clock", "CLOCK_MONOTONIC"))
		return -ENOMEM;
	return 0;
}

/* Registers every transport x operation x size into micros[]. */
static int register_all(struct micro *micros)
{
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	struct micro *m = micros;
	char name[128];
	const char *why;

	for (size_t i = 0; i < ipcb_transport_count; i++) {
		const struct ipcb_transport *t = ipcb_transports[i];
		if (ipcb_transport_check(t, &why)) {
			fprintf(stderr, "ipcbench-micro: transport %s: %s\n",
				t->name, why);
			return -EINVAL;
		}
		for (int op = 0; op < OP_COUNT; op++)
			for (size_t k = 0; k < nsizes; k++, m++) {
				*m = (struct micro){ t, (enum op)op, sizes[k] };
				snprintf(name, sizeof(name), "%s/%s/size:%zu",
					 t->name, op_names[op], sizes[k]);
				if (ipcb_gb_register(name, bench_fn, m,
						     IPCB_GB_MANUAL_TIME))
					return -ENOMEM;
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const size_t n = ipcb_transport_count * OP_COUNT *
			 (sizeof(sizes) / sizeof(sizes[0]));
	struct micro *micros = NULL;
	const char *cpus = NULL;
	size_t ran;
	int kept = 1, rc;

	/* A send to a peer that is gone must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (ipcb_gb_init(&argc, argv, help))
		goto nomem;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--cpus=", 7) == 0)
			cpus = argv[i] + 7;
		else
			argv[kept++] = argv[i];
	argc = kept;
	if (ipcb_gb_report_unrecognized(argc, argv) || place(cpus)) {
		ipcb_gb_shutdown();
		return 2;
	}
	snprintf(run_tag, sizeof(run_tag), "ipcb-%d-micro", (int)getpid());
	micros = calloc(n, sizeof(*micros));
	if (!micros || add_context())
		goto nomem;
	rc = register_all(micros);
	if (rc == -ENOMEM || (!rc && ipcb_gb_run(&ran)))
		goto nomem;
	ipcb_gb_shutdown();
	free(micros);
	return rc ? 1 : 0;
nomem:
	fprintf(stderr, "ipcbench-micro: out of memory\n");
	ipcb_gb_shutdown();
	free(micros);
	return 1;
}
