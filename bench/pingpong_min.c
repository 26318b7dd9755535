/*
 * pingpong_min.c - the smallest honest pipe ping-pong: two processes, two
 * pipes, a fixed-size message read and written whole, no framing, no
 * checks, no histogram. It is the yardstick for ipcbench's own overhead:
 * `ipcbench --transport pipe --pattern latency` with the same placement
 * should be within a few percent of it (bench/overhead.sh compares them).
 *
 * usage: ipcbench-pingpong [CPU_A CPU_B [SIZE [SECONDS]]]
 * prints: rtt_p50_ns=... rtt_mean_ns=... round_trips=...
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRIPS (1u << 22)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("ipcbench-pingpong: sched_setaffinity");
		exit(2);
	}
}

static int whole(ssize_t (*io)(int, void *, size_t), int fd, char *buf,
		 size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = io(fd, buf + done, len - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static ssize_t write_io(int fd, void *buf, size_t len)
{
	return write(fd, buf, len);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int a = argc > 2 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
	size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
	double secs = argc > 4 ? atof(argv[4]) : 1.0;
	int ping[2], pong[2];
	uint64_t *rtt = malloc(MAX_TRIPS * sizeof(*rtt)), n = 0, sum = 0, end;
	char *buf = calloc(1, size ? size : 1);
	pid_t child;

	if (!rtt || !buf || size == 0 || pipe(ping) || pipe(pong)) {
		fprintf(stderr, "ipcbench-pingpong: setup failed\n");
		return 2;
	}
	child = fork();
	if (child == 0) {
		close(ping[1]);
		close(pong[0]);
		pin(b);
		while (whole(read, ping[0], buf, size) == 0 &&
		       whole(write_io, pong[1], buf, size) == 0)
			;
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	pin(a);
	/* A tenth of the time as warmup, as ipcbench does. */
	end = now_ns() + (uint64_t)(secs * 0.1e9);
	while (now_ns() < end)
		if (whole(write_io, ping[1], buf, size) ||
		    whole(read, pong[0], buf, size))
			return 1;
	end = now_ns() + (uint64_t)(secs * 1e9);
	while (n < MAX_TRIPS) {
		uint64_t t0 = now_ns(), t1;
		if (t0 >= end)
			break;
		if (whole(write_io, ping[1], buf, size) ||
		    whole(read, pong[0], buf, size))
			return 1;
		t1 = now_ns();
		rtt[n++] = t1 - t0;
		sum += t1 - t0;
	}
	close(ping[1]);
	waitpid(child, NULL, 0);
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("rtt_p50_ns=%llu rtt_mean_ns=%.0f round_trips=%llu\n",
	       (unsigned long long)rtt[n / 2], (double)sum / (double)n,
	       (unsigned long long)n);
	free(rtt);
	free(buf);
	return 0;
}
