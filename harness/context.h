/*
 * context.h - where a run happens: machine, kernel, limits, placement,
 * version; recorded in every result file. Also the run's unguessable tag
 * that names its IPC objects, and the removal of objects left by dead runs.
 */
#ifndef IPCB_CONTEXT_H
#define IPCB_CONTEXT_H

#include "harness/results.h"

#include <stdio.h>

/* Fills everything but the end time, placement and calibration. */
void ipcb_context_fill(struct ipcb_context *c, int argc, char **argv);
/* ISO 8601 UTC now. */
void ipcb_context_now(char *buf, size_t n);

/* "ipcb-<pid>-<16 hex random>": the prefix of every object this run names. */
int ipcb_run_tag(char *buf, size_t n);

/* Removes ipcbench objects (in /dev/shm, /dev/mqueue and /tmp) whose owner
 * pid no longer exists, saying what was removed on `report`. Objects of
 * live runs are never touched. Returns how many were removed. */
int ipcb_remove_stale(FILE *report);

#endif
