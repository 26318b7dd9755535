/*
 * hwlimits.c - measures the machine's limits (see hwlimits.h).
 *
 * Every figure comes from best_ns_per_op(): for MEASURE_NS, an operation
 * is repeated in batches that grow to about BATCH_NS (0.2 ms) each, and
 * the lowest time per operation of any batch wins. Short batches make it likely that
 * some batch ran with nothing else on either CPU (other processes, and the
 * host's other guests in a virtual machine, only ever make a batch
 * slower). The two-process figures fork a partner that pins itself to cpu_b
 * (or cpu_a) and answers on a shared page; the calling thread runs on
 * cpu_a throughout and gets its old affinity back at the end.
 */
#define _GNU_SOURCE
#include "harness/hwlimits.h"

#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEASURE_NS 250000000ull
#define BATCH_NS 200000ull
/* The partner's answer to a start, and how long to wait for it. */
#define READY_TIMEOUT_NS 5000000000ull
/* Spins between two looks at whether the other process still exists. */
#define SPINS_PER_CHECK (1u << 20)
/* Longest futex sleep before that look. */
#define FUTEX_SLEEP_NS 100000000L
/* Time the futex partner gets to fall asleep between two round trips. */
#define FUTEX_SETTLE_NS 20000u
/* The word's value that ends the partner. */
#define PP_STOP UINT32_MAX

const size_t ipcb_hwlimits_sizes[IPCB_HWLIMITS_NSIZES] = {
	4096,
	65536,
	(size_t)1 << 20,
	(size_t)64 << 20,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Runs n operations; adds to *idle_ns any time spent between them that is
 * not part of the operation. 0 or -errno (the measurement cannot go on). */
typedef int (*op_fn)(void *ctx, uint64_t n, uint64_t *idle_ns);

/* Lowest ns per operation of any batch during MEASURE_NS. */
static int best_ns_per_op(op_fn op, void *ctx, double *best)
{
	uint64_t batch = 1, start = now_ns(), t0, elapsed;

	*best = INFINITY;
	do {
		uint64_t idle = 0;
		int rc;

		t0 = now_ns();
		rc = op(ctx, batch, &idle);
		if (rc)
			return rc;
		elapsed = now_ns() - t0 - idle;
		if ((double)elapsed / (double)batch < *best)
			*best = (double)elapsed / (double)batch;
		if (elapsed < BATCH_NS / 2)
			batch *= 2;
	} while (now_ns() - start < MEASURE_NS);
	return 0;
}

static int op_syscall(void *ctx, uint64_t n, uint64_t *idle_ns)
{
	(void)ctx;
	(void)idle_ns;
	for (uint64_t i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

static int op_clock(void *ctx, uint64_t n, uint64_t *idle_ns)
{
	volatile long *sink = ctx;
	struct timespec ts;

	(void)idle_ns;
	for (uint64_t i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		*sink += ts.tv_nsec;
	}
	return 0;
}

struct copy_ctx {
	void *dst;
	const void *src;
	size_t len;
};

static int op_memcpy(void *ctx, uint64_t n, uint64_t *idle_ns)
{
	struct copy_ctx *c = ctx;

	(void)idle_ns;
	for (uint64_t i = 0; i < n; i++) {
		memcpy(c->dst, c->src, c->len);
		/* The copy may be read: the compiler must do every one. */
		__asm__ volatile("" : : "r"(c->dst) : "memory");
	}
	return 0;
}

static int measure_memcpy(size_t len, double *bps)
{
	struct copy_ctx c = { .len = len };
	double ns;
	char *buf;
	int rc;

	buf = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	/* Fault every page in before timing. */
	memset(buf, 1, 2 * len);
	c.src = buf;
	c.dst = buf + len;
	rc = best_ns_per_op(op_memcpy, &c, &ns);
	munmap(buf, 2 * len);
	if (rc == 0)
		*bps = (double)len / ns * 1e9;
	return rc;
}

/* The page two processes share for a ping-pong. word is odd while it is
 * the partner's turn to answer and even while it is the measuring side's;
 * ready is 1 once the partner runs on its CPU, -errno if it cannot. */
struct pp_shared {
	alignas(64) _Atomic uint32_t word;
	alignas(64) _Atomic int ready;
};

static long futex_op(_Atomic uint32_t *word, int op, uint32_t val,
		     const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* The partner: answers every odd value with the next even one, until
 * PP_STOP or until the measuring process is gone. */
static void pp_partner(struct pp_shared *sh, int cpu, bool futex, pid_t parent)
{
	struct timespec ts = { .tv_nsec = FUTEX_SLEEP_NS };
	uint32_t idle = 0;
	int rc = pin(cpu);

	atomic_store(&sh->ready, rc ? rc : 1);
	if (rc)
		_exit(0);
	for (;;) {
		uint32_t v =
			atomic_load_explicit(&sh->word, memory_order_acquire);
		if (v == PP_STOP)
			_exit(0);
		if (v & 1) {
			atomic_store_explicit(&sh->word, v + 1,
					      memory_order_release);
			if (futex)
				futex_op(&sh->word, FUTEX_WAKE, 1, NULL);
			continue;
		}
		if (futex) {
			if (futex_op(&sh->word, FUTEX_WAIT, v, &ts) < 0 &&
			    errno == ETIMEDOUT && getppid() != parent)
				_exit(0);
		} else {
			relax();
			if (++idle % SPINS_PER_CHECK == 0 &&
			    getppid() != parent)
				_exit(0);
		}
	}
}

struct pp_ctx {
	struct pp_shared *sh;
	pid_t partner;
	uint32_t next; /* the even value the partner answered last */
	bool futex;
};

/* Without reaping a live partner. If the caller ignores SIGCHLD, children
 * are never waitable and a dead one has vanished already. */
static bool partner_gone(const struct pp_ctx *c)
{
	pid_t r = waitpid(c->partner, NULL, WNOHANG);

	if (r < 0 && errno == ECHILD)
		return kill(c->partner, 0) < 0 && errno == ESRCH;
	return r != 0;
}

/* n round trips: store an odd value, wait for the partner's answer. With
 * futex, each round trip starts only after the partner had FUTEX_SETTLE_NS
 * to fall asleep (not counted): otherwise the two sides can fall into a
 * lockstep where each one's FUTEX_WAIT finds the answer already there and
 * nobody ever sleeps, which is no wake-up at all. */
static int op_pingpong(void *ctx, uint64_t n, uint64_t *idle_ns)
{
	struct pp_ctx *c = ctx;
	struct timespec ts = { .tv_nsec = FUTEX_SLEEP_NS };

	for (uint64_t i = 0; i < n; i++) {
		uint32_t v = c->next + 1, spins = 0;

		if (c->futex) {
			uint64_t t0 = now_ns(), t;
			while ((t = now_ns()) - t0 < FUTEX_SETTLE_NS)
				relax();
			*idle_ns += t - t0;
		}

		atomic_store_explicit(&c->sh->word, v, memory_order_release);
		if (c->futex)
			futex_op(&c->sh->word, FUTEX_WAKE, 1, NULL);
		while (atomic_load_explicit(&c->sh->word,
					    memory_order_acquire) == v) {
			if (c->futex) {
				long r = futex_op(&c->sh->word, FUTEX_WAIT, v,
						  &ts);
				if (r < 0 && errno == ETIMEDOUT &&
				    partner_gone(c))
					return -ESRCH;
			} else {
				relax();
				if (++spins % SPINS_PER_CHECK == 0 &&
				    partner_gone(c))
					return -ESRCH;
			}
		}
		c->next += 2;
	}
	return 0;
}

/* Round trip between this thread (on its current CPU) and a partner
 * process pinned to cpu. */
static int measure_pingpong(int cpu, bool futex, double *ns, const char **what)
{
	struct pp_ctx c = { .futex = futex };
	pid_t parent = getpid();
	uint64_t start;
	int rc, ready;

	c.sh = mmap(NULL, sizeof(*c.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c.sh == MAP_FAILED) {
		*what = "mmap of the shared page";
		return -errno;
	}
	c.partner = fork();
	if (c.partner < 0) {
		rc = -errno;
		*what = "fork of the partner process";
		goto out_unmap;
	}
	if (c.partner == 0)
		pp_partner(c.sh, cpu, futex, parent);
	start = now_ns();
	while ((ready = atomic_load(&c.sh->ready)) == 0) {
		if (partner_gone(&c) || now_ns() - start > READY_TIMEOUT_NS) {
			rc = -ESRCH;
			*what = "the partner process did not start";
			goto out_kill;
		}
		usleep(1000);
	}
	if (ready < 0) {
		rc = ready;
		*what = "pinning the partner process";
		goto out_reap;
	}
	rc = best_ns_per_op(op_pingpong, &c, ns);
	if (rc) {
		*what = "the partner process died";
		goto out_reap;
	}
	atomic_store(&c.sh->word, PP_STOP);
	if (futex)
		futex_op(&c.sh->word, FUTEX_WAKE, 1, NULL);
	goto out_reap;

out_kill:
	kill(c.partner, SIGKILL);
out_reap:
	waitpid(c.partner, NULL, 0);
out_unmap:
	munmap(c.sh, sizeof(*c.sh));
	return rc;
}

static int run_all(struct ipcb_hwlimits *out, const char **what)
{
	volatile long sink = 0;
	int rc;

	*what = "clock_gettime";
	rc = best_ns_per_op(op_clock, (void *)&sink, &out->clock_ns);
	if (rc)
		return rc;
	*what = "getppid";
	rc = best_ns_per_op(op_syscall, NULL, &out->syscall_ns);
	if (rc)
		return rc;
	*what = "memcpy";
	for (size_t i = 0; i < IPCB_HWLIMITS_NSIZES; i++) {
		rc = measure_memcpy(ipcb_hwlimits_sizes[i],
				    &out->memcpy_bps[i]);
		if (rc)
			return rc;
	}
	rc = measure_pingpong(out->cpu_b, false, &out->pingpong_ns, what);
	if (rc)
		return rc;
	rc = measure_pingpong(out->cpu_b, true, &out->futex_rtt_ns, what);
	if (rc)
		return rc;
	return measure_pingpong(out->cpu_a, false, &out->pingpong_same_cpu_ns,
				what);
}

int ipcb_hwlimits_measure(struct ipcb_hwlimits *out, int cpu_a, int cpu_b,
			  char *err, size_t errlen)
{
	const char *what = "";
	cpu_set_t saved;
	int rc;

	*out = (struct ipcb_hwlimits){
		.cpu_a = cpu_a,
		.cpu_b = cpu_b,
		.pingpong_ns = NAN,
		.pingpong_same_cpu_ns = NAN,
		.syscall_ns = NAN,
		.clock_ns = NAN,
		.futex_rtt_ns = NAN,
	};
	for (size_t i = 0; i < IPCB_HWLIMITS_NSIZES; i++)
		out->memcpy_bps[i] = NAN;
	if (sched_getaffinity(0, sizeof(saved), &saved) < 0) {
		rc = -errno;
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(-rc));
		return rc;
	}
	for (int i = 0; i < 2; i++) {
		int cpu = i ? cpu_b : cpu_a;
		if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &saved)) {
			snprintf(err, errlen,
				 "CPU %d is not available to this process "
				 "(see taskset -p %d)",
				 cpu, (int)getpid());
			return -EINVAL;
		}
	}
	rc = pin(cpu_a);
	if (rc) {
		snprintf(err, errlen, "pinning to CPU %d: %s", cpu_a,
			 strerror(-rc));
		return rc;
	}
	rc = run_all(out, &what);
	if (rc)
		snprintf(err, errlen, "measuring limits: %s: %s", what,
			 strerror(-rc));
	sched_setaffinity(0, sizeof(saved), &saved);
	return rc;
}
