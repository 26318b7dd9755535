/*
 * conformance.c - the one suite every transport in the registry passes.
 *
 * It walks ipcb_transports[], so a new transport is tested without new test
 * code. Every case runs in its own forked child with a timeout (a hang is a
 * failure, not a stuck CI job); inside it the producers are further forked
 * processes (or threads, for the thread case), as in a real run. A case the
 * transport's capabilities rule out, or that the kernel cannot do, is
 * reported as skipped.
 *
 * Usage: conformance [TRANSPORT...] [--case CASE]  (default: all)
 */
#define _GNU_SOURCE
#include "check.h"
#include "ipc/ipc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#define CASE_TIMEOUT_S 60
#define MANY_MESSAGES 100000
#define SMALL 64

static char run_tag[64];
static unsigned next_index;

static struct ipcb_chan_config config(size_t max_msg, unsigned producers,
				      unsigned consumers, bool threads)
{
	struct ipcb_chan_config cfg = {
		.max_msg = max_msg,
		.producers = producers,
		.consumers = consumers,
		.threads = threads,
		.run_tag = run_tag,
		.index = next_index++,
	};
	return cfg;
}

/* Fills a message whose first 8 bytes are its number, the rest a pattern
 * derived from number and offset, so any misplaced byte is caught. */
static void fill(unsigned char *buf, size_t len, uint64_t n)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(n * 131 + i * 7 + 1);
	memcpy(buf, &n, len < 8 ? len : 8);
}

static bool intact(const unsigned char *buf, size_t len, uint64_t n)
{
	unsigned char want[8];
	for (size_t i = 8; i < len; i++)
		if (buf[i] != (unsigned char)(n * 131 + i * 7 + 1))
			return false;
	for (size_t i = 0; i < 8 && i < len; i++)
		want[i] = (unsigned char)(n * 131 + i * 7 + 1);
	memcpy(want, &n, len < 8 ? len : 8);
	return memcmp(buf, want, len < 8 ? len : 8) == 0;
}

/* Transports without payload (null) deliver counts, not bytes: only
 * counts, lengths and end of stream are checked for them. */
static bool payload(const struct ipcb_transport *t)
{
	return t->caps & IPCB_CAP_PAYLOAD;
}

static uint64_t number_of(const unsigned char *buf, size_t len)
{
	uint64_t n = 0;
	memcpy(&n, buf, len < 8 ? len : 8);
	return n;
}

/* Setup with the checks a real run does first. Returns false (and the case
 * is skipped) when the transport declares it cannot do cfg. */
static bool try_setup(const struct ipcb_transport *t,
		      const struct ipcb_chan_config *cfg, void **chan)
{
	const char *why = NULL;
	struct ipcb_chan_info info;
	int rc = ipcb_transport_validate(t, cfg, &why);

	if (rc)
		return false;
	rc = t->setup(cfg, chan, &info);
	if (rc == -ENOSYS || rc == -EOPNOTSUPP)
		_exit(CHECK_SKIP_STATUS);
	CHECK_OK(rc);
	return true;
}

struct producer_job {
	const struct ipcb_transport *t;
	void *chan;
	size_t size; /* 0: the sizes[] list instead */
	const size_t *sizes;
	size_t nsizes;
	uint64_t count; /* messages to send */
	uint64_t first; /* number of the first message */
	bool detach;	/* false: exit without detaching, as if killed */
};

static int produce(const struct producer_job *j, void *ep)
{
	size_t cap = j->size;
	unsigned char *buf;

	for (size_t i = 0; i < j->nsizes; i++)
		if (j->sizes[i] > cap)
			cap = j->sizes[i];
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < j->count; i++) {
		size_t len = j->nsizes ? j->sizes[i] : j->size;
		int rc;
		fill(buf, len, j->first + i);
		rc = j->t->send(ep, buf, len);
		if (rc) {
			free(buf);
			return rc;
		}
	}
	free(buf);
	return 0;
}

/* Forks a producer process; it attaches, drops the creator's handles and
 * sends. Returns once the producer has attached, so the caller may seal
 * the channel (the lifecycle of ipc.h: seal after every attach). */
static pid_t spawn_producer(const struct producer_job *j)
{
	int sync[2];
	char c = 0;
	pid_t pid;
	void *ep;

	CHECK(pipe2(sync, O_CLOEXEC) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid > 0) {
		close(sync[1]);
		CHECK(read(sync[0], &c, 1) == 1);
		close(sync[0]);
		return pid;
	}
	close(sync[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_OK(j->t->attach(j->chan, IPCB_PRODUCER, &ep));
	j->t->drop(j->chan);
	CHECK(write(sync[1], &c, 1) == 1);
	close(sync[1]);
	CHECK_OK(produce(j, ep));
	if (j->detach)
		j->t->detach(ep);
	_exit(0);
}

static void reap_ok(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	CHECK(d);
	while ((de = readdir(d)))
		n++;
	closedir(d);
	return n;
}

/* Entries in dir whose name contains run_tag. */
static int count_named(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, run_tag))
			n++;
	closedir(d);
	return n;
}

static int count_sysv(void)
{
	static const char *const tables[] = { "/proc/sysvipc/shm",
					      "/proc/sysvipc/sem",
					      "/proc/sysvipc/msg" };
	int n = 0;

	for (size_t i = 0; i < 3; i++) {
		FILE *f = fopen(tables[i], "re");
		int c;
		if (!f)
			continue;
		while ((c = fgetc(f)) != EOF)
			n += c == '\n';
		fclose(f);
	}
	return n;
}

static void check_nothing_named(void)
{
	CHECK_EQ(count_named("/dev/shm"), 0);
	CHECK_EQ(count_named("/dev/mqueue"), 0);
	CHECK_EQ(count_named("/tmp"), 0);
}

/* ---- the cases; each runs in a fresh child of the test process ---- */

static void case_lifecycle(const struct ipcb_transport *t)
{
	struct ipcb_chan_config cfg = config(SMALL, 1, 1, false);
	int fds = count_fds(), sysv = count_sysv();
	void *chan, *prod, *cons;

	CHECK(try_setup(t, &cfg, &chan));
	CHECK_OK(t->attach(chan, IPCB_CONSUMER, &cons));
	CHECK_OK(t->attach(chan, IPCB_PRODUCER, &prod));
	t->seal(chan);
	check_nothing_named();
	t->detach(prod);
	t->detach(cons);
	t->teardown(chan);
	CHECK_EQ(count_fds(), fds);
	CHECK_EQ(count_sysv(), sysv);
}

/* Consumer side shared by the stream cases: receive count messages of the
 * expected sizes in order, then end of stream. */
static void consume_in_order(const struct ipcb_transport *t, void *ep,
			     const struct producer_job *j)
{
	size_t cap = j->size;
	unsigned char *buf;
	size_t len;

	for (size_t i = 0; i < j->nsizes; i++)
		if (j->sizes[i] > cap)
			cap = j->sizes[i];
	buf = malloc(cap);
	CHECK(buf);
	for (uint64_t i = 0; i < j->count; i++) {
		size_t want = j->nsizes ? j->sizes[i] : j->size;
		CHECK_OK(t->recv(ep, buf, cap, &len));
		CHECK_EQ(len, want);
		CHECK(!payload(t) || intact(buf, len, j->first + i));
	}
	CHECK_EQ(t->recv(ep, buf, cap, &len), -EPIPE);
	free(buf);
}

static void run_stream(const struct ipcb_transport *t, size_t max_msg,
		       struct producer_job *j)
{
	struct ipcb_chan_config cfg = config(max_msg, 1, 1, false);
	int fds = count_fds();
	void *chan, *ep;
	pid_t pid;

	if (!try_setup(t, &cfg, &chan))
		_exit(CHECK_SKIP_STATUS);
	CHECK_OK(t->attach(chan, IPCB_CONSUMER, &ep));
	j->t = t;
	j->chan = chan;
	j->detach = true;
	pid = spawn_producer(j);
	t->seal(chan);
	check_nothing_named();
	consume_in_order(t, ep, j);
	reap_ok(pid);
	t->detach(ep);
	t->teardown(chan);
	CHECK_EQ(count_fds(), fds);
}

static void case_one_message(const struct ipcb_transport *t)
{
	struct producer_job j = { .size = SMALL, .count = 1, .first = 42 };
	run_stream(t, SMALL, &j);
}

static void case_many_messages(const struct ipcb_transport *t)
{
	struct producer_job j = { .size = SMALL, .count = MANY_MESSAGES };
	run_stream(t, SMALL, &j);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Every size from 1 byte to the transport's maximum (capped at 4 MiB),
 * with the boundaries where transports change behaviour: sigval (8),
 * PIPE_BUF and page (4096), mq's msgsize_max, pipe and socket buffers. */
static void case_sizes(const struct ipcb_transport *t)
{
	static const size_t edges[] = { 8,     16,     64,	4096,	8192,
					65536, 212992, 1 << 20, 4 << 20 };
	size_t sizes[128], n = 0, max = t->max_msg();
	unsigned long mq_max;

	if (!payload(t))
		_exit(CHECK_SKIP_STATUS); /* lengths are not carried */

	if (max > (4u << 20))
		max = 4u << 20;
	for (size_t s = 1; s <= 32 && s <= max; s++)
		sizes[n++] = s;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (size_t d = 0; d < 3; d++) {
			size_t s = edges[i] - 1 + d;
			if (s > 32 && s <= max)
				sizes[n++] = s;
		}
	if (ipcb_read_proc_ulong("/proc/sys/fs/mqueue/msgsize_max", &mq_max) ==
	    0)
		for (size_t d = 0; d < 3; d++)
			if (mq_max - 1 + d > 32 && mq_max - 1 + d <= max)
				sizes[n++] = mq_max - 1 + d;
	if (max > 32)
		sizes[n++] = max;
	qsort(sizes, n, sizeof(sizes[0]), cmp_size);

	struct producer_job j = { .sizes = sizes, .nsizes = n, .count = n };
	run_stream(t, sizes[n - 1], &j);
}

static void case_many_producers(const struct ipcb_transport *t)
{
	enum { P = 3, N = 10000 };
	struct ipcb_chan_config cfg = config(SMALL, P, 1, false);
	uint64_t next[P] = { 0 };
	unsigned char buf[SMALL];
	pid_t pids[P];
	void *chan, *ep;
	size_t len;

	if (!try_setup(t, &cfg, &chan))
		_exit(CHECK_SKIP_STATUS);
	CHECK_OK(t->attach(chan, IPCB_CONSUMER, &ep));
	for (unsigned p = 0; p < P; p++) {
		struct producer_job j = { .t = t,
					  .chan = chan,
					  .size = SMALL,
					  .count = N,
					  .first = (uint64_t)p << 32,
					  .detach = true };
		pids[p] = spawn_producer(&j);
	}
	t->seal(chan);
	for (unsigned i = 0; i < P * N; i++) {
		uint64_t n;
		unsigned p;
		CHECK_OK(t->recv(ep, buf, sizeof(buf), &len));
		CHECK_EQ(len, SMALL);
		n = number_of(buf, len);
		p = (unsigned)(n >> 32);
		CHECK(p < P);
		CHECK_EQ(n & 0xffffffffu, next[p]);
		CHECK(intact(buf, len, n));
		next[p]++;
	}
	CHECK_EQ(t->recv(ep, buf, sizeof(buf), &len), -EPIPE);
	for (unsigned p = 0; p < P; p++) {
		CHECK_EQ(next[p], N);
		reap_ok(pids[p]);
	}
	t->detach(ep);
	t->teardown(chan);
	check_nothing_named();
}

/* A producer that exits without detaching: the consumer gets what was sent,
 * then end of stream or an error, not a hang. */
static void case_producer_exits(const struct ipcb_transport *t)
{
	struct ipcb_chan_config cfg = config(SMALL, 1, 1, false);
	struct producer_job j = {
		.t = t, .size = SMALL, .count = 5, .detach = false
	};
	unsigned char buf[SMALL];
	void *chan, *ep;
	size_t len;
	int rc;
	pid_t pid;

	if (!try_setup(t, &cfg, &chan))
		_exit(CHECK_SKIP_STATUS);
	CHECK_OK(t->attach(chan, IPCB_CONSUMER, &ep));
	j.chan = chan;
	pid = spawn_producer(&j);
	t->seal(chan);
	reap_ok(pid);
	for (int i = 0; i < 5; i++) {
		CHECK_OK(t->recv(ep, buf, sizeof(buf), &len));
		CHECK(!payload(t) || intact(buf, len, (uint64_t)i));
	}
	rc = t->recv(ep, buf, sizeof(buf), &len);
	CHECK(rc < 0);
	t->detach(ep);
	t->teardown(chan);
}

/* A consumer that exits: the producer, once the channel is full, gets an
 * error, not a hang. */
static void case_consumer_exits(const struct ipcb_transport *t)
{
	struct ipcb_chan_config cfg = config(SMALL, 1, 1, false);
	struct producer_job j = { .t = t, .size = SMALL, .count = 1 };
	void *chan, *ep;
	pid_t pid;
	int rc = 0;

	if (!try_setup(t, &cfg, &chan))
		_exit(CHECK_SKIP_STATUS);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK_OK(t->attach(chan, IPCB_CONSUMER, &ep));
		_exit(0);
	}
	CHECK_OK(t->attach(chan, IPCB_PRODUCER, &ep));
	reap_ok(pid);
	t->seal(chan);
	j.chan = chan;
	/* Far more than any channel buffers. */
	for (uint64_t i = 0; i < 10000000 && rc == 0; i++) {
		j.first = i;
		rc = produce(&j, ep);
	}
	CHECK(rc < 0);
	t->detach(ep);
	t->teardown(chan);
}

struct thread_job {
	struct producer_job j;
	void *ep;
	int rc;
};

static void *producer_thread(void *arg)
{
	struct thread_job *tj = arg;
	tj->rc = produce(&tj->j, tj->ep);
	tj->j.t->detach(tj->ep);
	return NULL;
}

static void case_threads(const struct ipcb_transport *t)
{
	struct ipcb_chan_config cfg = config(SMALL, 1, 1, true);
	struct thread_job tj = {
		.j = { .t = t, .size = SMALL, .count = 10000 }
	};
	void *chan, *ep;
	pthread_t th;

	if (!try_setup(t, &cfg, &chan))
		_exit(CHECK_SKIP_STATUS);
	CHECK_OK(t->attach(chan, IPCB_CONSUMER, &ep));
	CHECK_OK(t->attach(chan, IPCB_PRODUCER, &tj.ep));
	t->seal(chan);
	tj.j.chan = NULL;
	CHECK_EQ(pthread_create(&th, NULL, producer_thread, &tj), 0);
	consume_in_order(t, ep, &tj.j);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_OK(tj.rc);
	t->detach(ep);
	t->teardown(chan);
	check_nothing_named();
}

/* ---- running each case in a child with a timeout, under cmocka ---- */

struct test_case {
	const char *name;
	void (*fn)(const struct ipcb_transport *t);
};

static const struct test_case cases[] = {
	{ "lifecycle", case_lifecycle },
	{ "one_message", case_one_message },
	{ "many_messages", case_many_messages },
	{ "sizes", case_sizes },
	{ "many_producers", case_many_producers },
	{ "producer_exits", case_producer_exits },
	{ "consumer_exits", case_consumer_exits },
	{ "threads", case_threads },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct test_state {
	const struct ipcb_transport *t;
	const struct test_case *c;
};

static void run_in_child(void **state)
{
	const struct test_state *s = *state;
	struct timespec deadline, now;
	int sysv = count_sysv();
	pid_t pid = fork();
	int st = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_IGN);
		s->c->fn(s->t);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += CASE_TIMEOUT_S;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec &&
		     now.tv_nsec >= deadline.tv_nsec)) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("%s/%s: timed out after %d s", s->t->name,
				 s->c->name, CASE_TIMEOUT_S);
		}
		usleep(2000);
	}
	/* Reap any grandchild the case left behind. */
	kill(-pid, SIGKILL);
	if (WIFEXITED(st) && WEXITSTATUS(st) == CHECK_SKIP_STATUS)
		skip();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s/%s: child %s %d", s->t->name, s->c->name,
			 WIFSIGNALED(st) ? "killed by signal" : "exited",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	/* Whatever the case did, nothing named may be left. */
	assert_int_equal(count_named("/dev/shm"), 0);
	assert_int_equal(count_named("/dev/mqueue"), 0);
	assert_int_equal(count_named("/tmp"), 0);
	assert_int_equal(count_sysv(), sysv);
}

/* Arguments: transport names to test (default all), and "--case NAME" to
 * run one case only (tests/tsan.sh runs the thread cases). */
static bool wanted(const char *transport, const char *c, int argc, char **argv)
{
	bool any_transport = false, transport_ok = false, case_ok = true;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
			case_ok = strcmp(argv[++i], c) == 0;
			continue;
		}
		any_transport = true;
		transport_ok |= strcmp(argv[i], transport) == 0;
	}
	return case_ok && (transport_ok || !any_transport);
}

int main(int argc, char **argv)
{
	size_t n = ipcb_transport_count * NCASES, k = 0;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	struct test_state *states = calloc(n, sizeof(*states));
	char(*names)[64] = calloc(n, sizeof(*names));
	int failed;

	if (!tests || !states || !names)
		return 1;
	snprintf(run_tag, sizeof(run_tag), "ipcb-%d-conformance",
		 (int)getpid());
	for (size_t i = 0; i < ipcb_transport_count; i++) {
		const struct ipcb_transport *t = ipcb_transports[i];
		const char *why;
		if (ipcb_transport_check(t, &why)) {
			fprintf(stderr, "transport %s: %s\n", t->name, why);
			return 1;
		}
		for (size_t c = 0; c < NCASES; c++) {
			if (!wanted(t->name, cases[c].name, argc, argv))
				continue;
			snprintf(names[k], sizeof(names[k]), "%s/%s", t->name,
				 cases[c].name);
			states[k] = (struct test_state){ t, &cases[c] };
			tests[k] = (struct CMUnitTest){
				.name = names[k],
				.test_func = run_in_child,
				.initial_state = &states[k],
			};
			k++;
		}
	}
	failed = _cmocka_run_group_tests("conformance", tests, k, NULL, NULL);
	free(tests);
	free(states);
	free(names);
	return failed ? 1 : 0;
}
