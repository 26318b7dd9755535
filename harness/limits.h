/*
 * limits.h - checks that a sweep fits the system's limits before anything
 * is created: file descriptors, processes, POSIX mq bytes, pending signals
 * and free space in /dev/shm. Soft limits are raised up to the hard limit
 * when that is enough.
 */
#ifndef IPCB_LIMITS_H
#define IPCB_LIMITS_H

#include "harness/run.h"

/* 0, or -E2BIG with err naming the limit, its value, what the sweep needs
 * and the ulimit/sysctl that raises it. */
int ipcb_check_limits(const struct ipcb_run_config *items, size_t n, char *err,
		      size_t errlen);

#endif
