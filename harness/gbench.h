/*
 * gbench.h - ipcbench results in Google Benchmark's JSON shape
 * (`--format gbench`), for the tools that read it: Google Benchmark's
 * tools/compare.py, github-action-benchmark (tool googlecpp) and bencher
 * (adapter cpp_google). gbench.c documents the mapping.
 */
#ifndef IPCB_GBENCH_H
#define IPCB_GBENCH_H

#include "harness/results.h"

#include <stdio.h>

/* Writes r as one Google Benchmark JSON document. Returns 0 or -errno. */
int ipcb_write_gbench(FILE *f, const struct ipcb_results *r);

#endif
