/*
 * sweep.h - runs a list of configurations, each --repeat times, and turns
 * the repetitions into results: medians, spread, speedups. Progress goes to
 * stderr only when stderr is a terminal.
 */
#ifndef IPCB_SWEEP_H
#define IPCB_SWEEP_H

#include "harness/results.h"
#include "harness/run.h"

enum ipcb_sweep_end {
	IPCB_SWEEP_DONE,	/* every configuration ran (some may be n/a) */
	IPCB_SWEEP_FAILED,	/* a run failed: err says which and why */
	IPCB_SWEEP_INTERRUPTED, /* SIGINT/SIGTERM: results hold what finished */
};

/* Runs items[0..n) in order, appending one result per item to out.
 * Not-applicable configurations are recorded with their reason. A failed
 * run (a worker died, setup failed) stops the sweep; lost, duplicated or
 * corrupt messages do not stop it but are counted in the result. *sig is
 * the interrupting signal. */
enum ipcb_sweep_end ipcb_sweep_run(const struct ipcb_run_config *items,
				   size_t n, unsigned repeat,
				   struct ipcb_results *out, int *sig,
				   char *err, size_t errlen);

/* Fills each result's speedup: msgs/s over that of the same transport,
 * pattern, size, topology, work and workers with one consumer. */
void ipcb_sweep_speedups(struct ipcb_results *r);

#endif
