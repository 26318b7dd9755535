/*
 * cmd_limits.c - `ipcbench limits [--cpus A,B] [--format table|json]`:
 * measures the machine's limits (harness/hwlimits.c) on CPUs A and B and
 * prints them, as a table for people or as one JSON object whose keys
 * carry their units.
 *
 * Exit codes: 0 measured; 1 a measurement failed; 2 usage error.
 */
#define _GNU_SOURCE
#include "bench/commands.h"
#include "harness/hwlimits.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fputs("usage: ipcbench limits [--cpus A,B] [--format table|json]\n"
	      "Measures what no IPC mechanism can beat on CPUs A and B (about\n"
	      "2.5 s): cache-line ping-pong between two processes spinning\n"
	      "on CPU A and CPU B, and both on CPU A; a futex wake/wait round\n"
	      "trip from A to B; a trivial system call; a clock read; memcpy\n"
	      "bandwidth on CPU A for 4 KiB, 64 KiB, 1 MiB and 64 MiB blocks.\n"
	      "Each figure is the best of many 0.2 ms batches over 0.25 s.\n"
	      "  --cpus A,B     the two CPUs (default: the first two this\n"
	      "                 process may use; A,A on a 1-CPU machine)\n"
	      "  --format F     table (default) or json\n",
	      f);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr,
		"ipcbench limits: %s '%s'; see ipcbench limits --help\n", what,
		arg);
	return EXIT_USAGE;
}

static int parse_cpu(const char *s, char **end, int *cpu)
{
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, end, 10);
	if (errno || v >= CPU_SETSIZE)
		return -EINVAL;
	*cpu = (int)v;
	return 0;
}

/* "A,B": two CPU numbers. */
static int parse_cpus(const char *s, int *a, int *b)
{
	char *end;

	if (parse_cpu(s, &end, a) || *end != ',' ||
	    parse_cpu(end + 1, &end, b) || *end)
		return -EINVAL;
	return 0;
}

static void default_cpus(int *a, int *b)
{
	cpu_set_t set;
	int found = 0;

	*a = *b = 0;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (found++ == 0)
			*a = *b = cpu;
		else
			*b = cpu;
	}
}

/* One line: label, a number right-aligned, its unit. Times are scaled to
 * ns, us or ms. */
static void print_time(const char *label, double ns, const char *per)
{
	const char *unit = "ns";

	if (ns >= 1e6) {
		ns /= 1e6;
		unit = "ms";
	} else if (ns >= 1e3) {
		ns /= 1e3;
		unit = "us";
	}
	printf("  %-42s %10.*f %s%s\n", label, ns < 1e3 && *unit != 'n' ? 2 : 1,
	       ns, unit, per);
}

static void print_table(const struct ipcb_hwlimits *l)
{
	char label[64];

	printf("machine limits on CPUs %d and %d (best 0.2 ms batch)\n",
	       l->cpu_a, l->cpu_b);
	snprintf(label, sizeof(label), "cache-line ping-pong, CPU %d <-> %d",
		 l->cpu_a, l->cpu_b);
	print_time(label, l->pingpong_ns, " per round trip");
	snprintf(label, sizeof(label), "cache-line ping-pong, both on CPU %d",
		 l->cpu_a);
	print_time(label, l->pingpong_same_cpu_ns, " per round trip");
	snprintf(label, sizeof(label), "futex wake/wait, CPU %d <-> %d",
		 l->cpu_a, l->cpu_b);
	print_time(label, l->futex_rtt_ns, " per round trip");
	print_time("system call (getppid)", l->syscall_ns, "");
	print_time("clock read (clock_gettime MONOTONIC)", l->clock_ns, "");
	for (size_t i = 0; i < IPCB_HWLIMITS_NSIZES; i++) {
		size_t n = ipcb_hwlimits_sizes[i];
		snprintf(label, sizeof(label), "memcpy, %zu %s blocks, CPU %d",
			 n >= (1u << 20) ? n >> 20 : n >> 10,
			 n >= (1u << 20) ? "MiB" : "KiB", l->cpu_a);
		printf("  %-42s %10.1f GB/s\n", label, l->memcpy_bps[i] / 1e9);
	}
}

static int print_json(const struct ipcb_hwlimits *l)
{
	json_t *root = json_object(), *bw = json_object();
	char key[32];
	int rc = -ENOMEM;

	if (!root || !bw)
		goto out;
	for (size_t i = 0; i < IPCB_HWLIMITS_NSIZES; i++) {
		snprintf(key, sizeof(key), "%zu", ipcb_hwlimits_sizes[i]);
		if (json_object_set_new(bw, key, json_real(l->memcpy_bps[i])))
			goto out;
	}
	if (json_object_set_new(root, "cpu_a", json_integer(l->cpu_a)) ||
	    json_object_set_new(root, "cpu_b", json_integer(l->cpu_b)) ||
	    json_object_set_new(root, "pingpong_ns",
				json_real(l->pingpong_ns)) ||
	    json_object_set_new(root, "pingpong_same_cpu_ns",
				json_real(l->pingpong_same_cpu_ns)) ||
	    json_object_set_new(root, "futex_rtt_ns",
				json_real(l->futex_rtt_ns)) ||
	    json_object_set_new(root, "syscall_ns", json_real(l->syscall_ns)) ||
	    json_object_set_new(root, "clock_ns", json_real(l->clock_ns)) ||
	    json_object_set(root, "memcpy_bytes_per_s", bw))
		goto out;
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
	    putchar('\n') == EOF)
		rc = -EIO;
	else
		rc = 0;
out:
	json_decref(bw);
	json_decref(root);
	return rc;
}

int ipcb_cmd_limits(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipcb_hwlimits l;
	bool json = false;
	char err[256];
	int a, b, c, rc;

	default_cpus(&a, &b);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_cpus(optarg, &a, &b))
				return usage_error("--cpus wants two CPU "
						   "numbers A,B, not",
						   optarg);
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") == 0)
				json = false;
			else
				return usage_error("--format is table or json, "
						   "not",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option or missing value",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	rc = ipcb_hwlimits_measure(&l, a, b, err, sizeof(err));
	if (rc == -EINVAL) {
		fprintf(stderr, "ipcbench limits: %s\n", err);
		return EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "ipcbench limits: %s\n", err);
		return 1;
	}
	if (json) {
		if (print_json(&l)) {
			fprintf(stderr, "ipcbench limits: writing JSON to "
					"stdout failed\n");
			return 1;
		}
	} else {
		print_table(&l);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
