/*
 * run.h - runs one configuration once: creates the channels, starts the
 * workers (forked processes or threads) pinned as asked, holds them at a
 * start barrier, lets them run for warmup + duration, collects and checks
 * what they measured, and removes everything it created.
 */
#ifndef IPCB_RUN_H
#define IPCB_RUN_H

#include "harness/results.h"
#include "harness/work.h"
#include "ipc/ipc.h"

#include <signal.h>

struct ipcb_run_config {
	const struct ipcb_transport *t;
	struct ipcb_config_key key; /* transport name, pattern, procs, ... */
	struct ipcb_work work;
	bool verify;
	double duration_s, warmup_s, timeout_s;
	bool pin;
	const int *cpus; /* producer i: cpus[i % n], consumer i:
			  * cpus[(i + n/2) % n], n = ncpus */
	unsigned ncpus;
	const char *run_tag;
	unsigned *next_chan; /* channel numbering, unique over the run */
};

/* Why a run did not produce a result. */
enum ipcb_run_fail {
	IPCB_RUN_OK,
	IPCB_RUN_NOT_APPLICABLE, /* the transport cannot do it; err says why */
	IPCB_RUN_ERROR,		 /* setup failed, a worker failed or died */
	IPCB_RUN_INTERRUPTED,	 /* SIGINT/SIGTERM arrived; *sig says which */
};

/* Checks that cfg can run with this transport and placement, before
 * anything is created. IPCB_RUN_OK or IPCB_RUN_NOT_APPLICABLE with err. */
enum ipcb_run_fail ipcb_run_check(const struct ipcb_run_config *cfg, char *err,
				  size_t errlen);

/* Runs cfg once. On IPCB_RUN_OK fills *rep and the counts/cpus/detail of
 * *res (res->key is not touched). The caller must have blocked SIGCHLD,
 * SIGINT and SIGTERM; they are waited for here. On failure err holds one
 * line saying what failed, on which transport/object and why. */
enum ipcb_run_fail ipcb_run_once(const struct ipcb_run_config *cfg,
				 struct ipcb_rep *rep, struct ipcb_result *res,
				 int *sig, char *err, size_t errlen);

/* The signals the harness waits for; block them before the first run. */
void ipcb_run_sigset(sigset_t *set);

/* The baseline: the same per-message work in one process, no IPC. */
enum ipcb_run_fail ipcb_run_sequential(const struct ipcb_run_config *cfg,
				       struct ipcb_rep *rep,
				       struct ipcb_result *res, char *err,
				       size_t errlen);

#endif
