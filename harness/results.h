/*
 * results.h - one measured configuration, a set of them with the run's
 * context, and the writers and readers of the result formats
 * (table, CSV, JSON; see results/SCHEMA.md, a stable interface).
 *
 * A value that was not measured is NaN (doubles) and is written as an
 * empty CSV cell, JSON null or "-" in the table: never as a number.
 */
#ifndef IPCB_RESULTS_H
#define IPCB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IPCB_SCHEMA_VERSION 1
#define IPCB_MAX_REPEAT 1000

enum ipcb_pattern { IPCB_LATENCY, IPCB_THROUGHPUT };
enum ipcb_topology { IPCB_PAIRS, IPCB_SHARED };
enum ipcb_workers { IPCB_PROCESS, IPCB_THREAD, IPCB_SEQUENTIAL };
enum ipcb_status { IPCB_OK, IPCB_NOT_APPLICABLE, IPCB_FAILED };

/* Latency summary in nanoseconds. */
struct ipcb_latency {
	double min, mean, p50, p90, p99, p999, max;
};

/* The identity of a configuration: two results with equal keys measure the
 * same thing (compare matches on it). */
struct ipcb_config_key {
	char transport[32];
	enum ipcb_pattern pattern;
	unsigned procs;
	uint64_t size;
	enum ipcb_topology topology;
	unsigned producers, consumers;
	char work[32]; /* "none", "cpu:50", "io:50" */
	enum ipcb_workers workers;
};

/* One repetition's headline numbers (kept for statistics across runs). */
struct ipcb_rep {
	double msgs_per_s, bytes_per_s;
	struct ipcb_latency lat;
};

struct ipcb_result {
	struct ipcb_config_key key;
	enum ipcb_status status;
	char reason[160];  /* why not applicable / failed */
	unsigned repeat;   /* repetitions measured */
	uint64_t messages; /* verified messages in the measured window */
	uint64_t lost, duplicated, corrupt;
	double duration_s; /* measured window */
	bool has_latency;
	bool latency_rtt;		/* true: round trip; false: one way */
	struct ipcb_latency lat;	/* median over repetitions */
	double msgs_per_s, bytes_per_s; /* median over repetitions */
	double speedup;	     /* msgs/s over a baseline's; NaN: none */
	char speedup_vs[16]; /* the baseline: "sequential" or "1 consumer" */
	/* Spread over repetitions (NaN with one repetition). */
	double tput_min, tput_max, tput_cv, p50_cv;
	uint64_t chunk; /* bytes per kernel message when split; 0 */
	char detail[96];
	char cpus[256];	       /* "ping:0,pong:1" role:cpu list, "-" unpinned */
	struct ipcb_rep *reps; /* repeat entries, owned */
};

/* Where and how a run was made. */
struct ipcb_context {
	char *command_line; /* owned */
	char version[32], git_revision[48];
	char start_time[40], end_time[40]; /* ISO 8601 UTC */
	char hostname[64], kernel[256], cpu_model[128];
	unsigned cpu_count;
	unsigned long mq_msg_max, mq_msgsize_max;
	/* "pinned, pairs split over cpus 0,1" or "unpinned" */
	char placement[96];
	double cpu_work_iters_per_us; /* calibration; NaN if no cpu work */
	bool partial;		      /* interrupted: results are incomplete */
	bool has_limits; /* the machine limits below were measured */
	double limit_pingpong_ns, limit_memcpy_64k_bps;
};

struct ipcb_results {
	struct ipcb_context ctx;
	struct ipcb_result *v;
	size_t n, cap;
};

void ipcb_results_init(struct ipcb_results *r);
void ipcb_results_free(struct ipcb_results *r);
/* Appends a copy of *res (taking ownership of res->reps). -ENOMEM. */
int ipcb_results_add(struct ipcb_results *r, struct ipcb_result *res);

const char *ipcb_pattern_name(enum ipcb_pattern p);
const char *ipcb_topology_name(enum ipcb_topology t);
const char *ipcb_workers_name(enum ipcb_workers w);
const char *ipcb_status_name(enum ipcb_status s);
bool ipcb_key_equal(const struct ipcb_config_key *a,
		    const struct ipcb_config_key *b);
/* "pipe/latency/procs:2/size:64[/topology:shared...]": stable, names only
 * what differs from the defaults. */
void ipcb_key_name(const struct ipcb_config_key *k, char *buf, size_t n);

/* Writers: 0 or -errno. */
int ipcb_write_table(FILE *f, const struct ipcb_results *r);
int ipcb_write_csv(FILE *f, const struct ipcb_results *r);
int ipcb_write_json(FILE *f, const struct ipcb_results *r);

/* Readers: load a results file (JSON or CSV, decided by content). On
 * failure return -errno (-EINVAL for malformed or non-ipcbench input) and
 * write a one-line reason into err. */
int ipcb_read_results(const char *path, struct ipcb_results *r, char *err,
		      size_t errlen);

#endif
