/*
 * hwlimits.h - the machine's limits, measured: what no IPC mechanism can
 * beat on the CPUs a run uses.
 *
 *   pingpong_ns          round trip of one cache line between two processes
 *                        spinning on it, one pinned on cpu_a, one on cpu_b
 *                        (the floor for any shared-memory round trip)
 *   pingpong_same_cpu_ns the same with both on cpu_a: each hand-over waits
 *                        for the scheduler to preempt the spinner, which is
 *                        why spinning transports refuse that placement
 *   syscall_ns           a trivial system call (getppid)
 *   clock_ns             one clock_gettime(CLOCK_MONOTONIC)
 *   futex_rtt_ns         round trip of a futex wake/wait between two
 *                        processes on cpu_a and cpu_b that never spin, each
 *                        woken from sleep (the floor for a blocking round
 *                        trip)
 *   memcpy_bps[i]        bytes copied per second by memcpy on cpu_a, for
 *                        blocks of ipcb_hwlimits_sizes[i] bytes
 *
 * Each figure is the best (lowest time per operation) of many batches of
 * about 0.2 ms over a quarter of a second, so other work on the machine
 * can only make it look slower, and only if it never left the CPUs alone
 * for 0.2 ms. Measuring takes about two and a half
 * seconds; the calling thread's CPU affinity is restored afterwards.
 */
#ifndef IPCB_HWLIMITS_H
#define IPCB_HWLIMITS_H

#include <stddef.h>

#define IPCB_HWLIMITS_NSIZES 4

/* 4 KiB, 64 KiB, 1 MiB, 64 MiB. */
extern const size_t ipcb_hwlimits_sizes[IPCB_HWLIMITS_NSIZES];

struct ipcb_hwlimits {
	int cpu_a, cpu_b;
	double pingpong_ns;
	double pingpong_same_cpu_ns;
	double syscall_ns;
	double clock_ns;
	double futex_rtt_ns;
	double memcpy_bps[IPCB_HWLIMITS_NSIZES];
};

/* Measures everything above with the given CPUs (equal CPUs are allowed:
 * then pingpong_ns is a same-CPU figure too). 0, or -errno with err
 * saying what failed; -EINVAL means a CPU this process may not run on. */
int ipcb_hwlimits_measure(struct ipcb_hwlimits *out, int cpu_a, int cpu_b,
			  char *err, size_t errlen);

#endif
