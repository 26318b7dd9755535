/*
 * options.h - ipcbench's run options: parsed and checked in full before
 * anything is created, so bad input costs nothing and leaves nothing.
 */
#ifndef IPCB_OPTIONS_H
#define IPCB_OPTIONS_H

#include "harness/results.h"
#include "harness/work.h"
#include "ipc/ipc.h"

#include <stdbool.h>
#include <stddef.h>

#define IPCB_MAX_LIST 64
#define IPCB_MAX_PROCS 1024
#define IPCB_MAX_SIZE (1ull << 30)

enum ipcb_format {
	IPCB_FMT_TABLE,
	IPCB_FMT_CSV,
	IPCB_FMT_JSON,
	IPCB_FMT_GBENCH
};

struct ipcb_options {
	const struct ipcb_transport *transports[IPCB_MAX_LIST];
	size_t ntransports;
	bool explicit_transports; /* named by the user, not "all" */
	unsigned procs[IPCB_MAX_LIST];
	size_t nprocs;
	uint64_t sizes[IPCB_MAX_LIST];
	size_t nsizes;
	bool latency, throughput;
	enum ipcb_topology topology;
	unsigned producers, consumers; /* shared topology; 0: procs / 2 */
	struct ipcb_work work[IPCB_MAX_LIST];
	size_t nwork;
	enum ipcb_workers workers[3];
	size_t nworkers;
	double duration_s, warmup_s, timeout_s; /* timeout 0: automatic */
	unsigned repeat;
	enum ipcb_format format;
	const char *output; /* NULL or "-": stdout */
	int cpus[IPCB_MAX_PROCS];
	size_t ncpus; /* 0: every CPU this process may use */
	bool pin, verify, limits, sweep, quiet;
	const char *plot_dir; /* NULL: no plots */
};

enum ipcb_parse {
	IPCB_PARSE_RUN,
	IPCB_PARSE_HELP,
	IPCB_PARSE_VERSION,
	IPCB_PARSE_ERROR
};

/* Parses argv (argv[0] is the program). On IPCB_PARSE_ERROR err holds one
 * line: what is wrong and what is allowed. Touches nothing outside *o. */
enum ipcb_parse ipcb_parse_options(int argc, char **argv,
				   struct ipcb_options *o, char *err,
				   size_t errlen);

/* Parses "64", "4K", "1M" (K = 1024). 0 or -EINVAL/-ERANGE. */
int ipcb_parse_size(const char *s, uint64_t *out);

void ipcb_usage(FILE *f);

#endif
