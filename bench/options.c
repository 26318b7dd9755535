/*
 * options.c - parsing and checking ipcbench's run options (see options.h).
 * Every message names the option, the bad value and what is allowed.
 */
#define _GNU_SOURCE
#include "bench/options.h"
#include "harness/msg.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_TRANSPORT = 256,
	OPT_PROCS,
	OPT_SIZE,
	OPT_PATTERN,
	OPT_TOPOLOGY,
	OPT_PRODUCERS,
	OPT_CONSUMERS,
	OPT_WORK,
	OPT_WORKERS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_TIMEOUT,
	OPT_REPEAT,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_CPUS,
	OPT_NO_PIN,
	OPT_VERIFY,
	OPT_LIMITS,
	OPT_SWEEP,
	OPT_PLOT,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "procs", required_argument, NULL, OPT_PROCS },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "producers", required_argument, NULL, OPT_PRODUCERS },
	{ "consumers", required_argument, NULL, OPT_CONSUMERS },
	{ "work", required_argument, NULL, OPT_WORK },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "no-pin", no_argument, NULL, OPT_NO_PIN },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "limits", no_argument, NULL, OPT_LIMITS },
	{ "sweep", no_argument, NULL, OPT_SWEEP },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void ipcb_usage(FILE *f)
{
	fputs("usage: ipcbench [OPTIONS]            run benchmarks (default: every transport,\n"
	      "                                     2 processes, 64 B and 4 KiB, both patterns)\n"
	      "       ipcbench list                 transports and their capabilities\n"
	      "       ipcbench limits               measure the machine's limits\n"
	      "       ipcbench plot RESULTS [-o DIR] [--format png|svg]\n"
	      "       ipcbench compare BASE NEW [--threshold PCT] [--metric LIST]\n"
	      "                                     [--format table|markdown|json]\n"
	      "\n"
	      "What to run (a LIST is comma-separated; every combination runs):\n"
	      "  --transport LIST|all   transports (see `ipcbench list`); default all\n"
	      "  --procs LIST           worker processes, 2..1024; default 2\n"
	      "  --size LIST            message sizes in bytes, suffix K or M (1K = 1024),\n"
	      "                         16 B (the header) .. 1G; default 64,4096\n"
	      "  --pattern P            latency, throughput or both; default both\n"
	      "  --topology T           pairs (a channel per producer/consumer pair) or\n"
	      "                         shared (one channel for all); default pairs\n"
	      "  --producers N, --consumers M\n"
	      "                         shared topology: fan-in/fan-out (procs = N + M)\n"
	      "  --work LIST            per-message work by the consumer: none, cpu:USEC\n"
	      "                         (computation), io:USEC (blocking wait); default none\n"
	      "  --workers LIST         process, thread or sequential (one process, no IPC:\n"
	      "                         the baseline); default process\n"
	      "  --sweep                the standard sweep: every transport, procs 2,4,8,\n"
	      "                         sizes 64,4K,64K, work none/cpu:50/io:50, both patterns\n"
	      "\n"
	      "How:\n"
	      "  --duration SEC         measured time per configuration; default 0.2\n"
	      "  --warmup SEC           run but discarded before measuring; default 0.05\n"
	      "  --repeat N             repetitions; reports the median and the spread\n"
	      "  --cpus LIST            pin to the CPUs of LIST (n of them; repeats allowed):\n"
	      "                         producer/ping i on the (i mod n)-th, consumer/pong i\n"
	      "                         on the ((i + n/2) mod n)-th, so pairs straddle CPUs\n"
	      "                         and consumers spread; --cpus 0,0 puts a pair on\n"
	      "                         CPU 0; default: every allowed CPU, in order\n"
	      "  --no-pin               let the scheduler place workers\n"
	      "  --verify               fill and check every payload byte\n"
	      "  --timeout SEC          watchdog per run; default 10 + 3 x (warmup+duration)\n"
	      "  --limits               measure the machine's limits first and show ratios\n"
	      "\n"
	      "Output (results to stdout, progress and warnings to stderr):\n"
	      "  --format F             table, csv, json or gbench (Google Benchmark JSON)\n"
	      "  --output FILE          write results to FILE ('-': stdout); the table\n"
	      "                         still goes to stdout\n"
	      "  --plot DIR             draw the standard figures into DIR after the run\n"
	      "  --quiet                no table on stdout when --output names a file\n"
	      "  --help, --version\n"
	      "\n"
	      "Exit status: 0 ok, 1 a run failed (lost/corrupt messages, a worker died),\n"
	      "2 bad input or a limit too low, 130/143 interrupted.\n",
	      f);
}

static enum ipcb_parse bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line, whatever the user typed. */
	for (char *c = err; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return IPCB_PARSE_ERROR;
}

/* Splits a comma list in place; empty or repeated items are an error (a
 * repeat would run the same configuration twice). */
static int split_list(char *s, char **items, size_t max, size_t *n)
{
	char *save = NULL, *tok;

	*n = 0;
	if (!*s || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	for (tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == max)
			return -E2BIG;
		items[(*n)++] = tok;
	}
	return 0;
}

static bool repeated(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				return true;
	return false;
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int ipcb_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return -EINVAL;
	if (shift && end[1])
		return -EINVAL;
	if (v > (IPCB_MAX_SIZE >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_seconds(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!*s || s[strspn(s, "0123456789.")] != '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -EINVAL;
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static void defaults(struct ipcb_options *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ipcb_transport_count && i < IPCB_MAX_LIST; i++)
		o->transports[o->ntransports++] = ipcb_transports[i];
	o->procs[o->nprocs++] = 2;
	o->sizes[o->nsizes++] = 64;
	o->sizes[o->nsizes++] = 4096;
	o->latency = o->throughput = true;
	o->topology = IPCB_PAIRS;
	o->nwork = 1; /* none */
	o->workers[o->nworkers++] = IPCB_PROCESS;
	o->duration_s = 0.2;
	o->warmup_s = 0.05;
	o->repeat = 1;
	o->format = IPCB_FMT_TABLE;
	o->pin = true;
}

/* The CPUs this process may run on, in order. */
static size_t allowed_cpus(int *cpus, size_t max)
{
	cpu_set_t set;
	size_t n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static enum ipcb_parse check_output(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash;

	struct stat st;

	if (!path || strcmp(path, "-") == 0)
		return IPCB_PARSE_RUN;
	if (!*path)
		return bad(err, errlen,
			   "--output needs a file name ('-' for "
			   "stdout)");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return bad(err, errlen,
			   "--output %s: is a directory; name a "
			   "file",
			   path);
	if (access(path, F_OK) == 0)
		return access(path, W_OK) == 0
			       ? IPCB_PARSE_RUN
			       : bad(err, errlen,
				     "--output %s: not writable "
				     "(%s); choose another path",
				     path, strerror(errno));
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	if (!dir[0])
		strcpy(dir, "/");
	if (access(dir, W_OK) != 0)
		return bad(err, errlen,
			   "--output %s: cannot create a file in "
			   "%s (%s); choose another path",
			   path, dir, strerror(errno));
	return IPCB_PARSE_RUN;
}

enum ipcb_parse ipcb_parse_options(int argc, char **argv,
				   struct ipcb_options *o, char *err,
				   size_t errlen)
{
	char *items[IPCB_MAX_PROCS];
	size_t n;
	int opt, allowed[IPCB_MAX_PROCS];
	size_t nallowed = allowed_cpus(allowed, IPCB_MAX_PROCS);
	bool procs_given = false, topology_given = false;
	unsigned long v;
	int rc;

	defaults(o);
	optind =
		0; /* 0, not 1: also resets getopt's place in a short-option cluster */
	opterr = 0;
	for (;;) {
		char buf[4096];
		optopt = 0;
		opt = getopt_long(argc, argv, ":h", long_options, NULL);
		if (opt == -1)
			break;
		if (optarg) {
			snprintf(buf, sizeof(buf), "%s", optarg);
			if (strlen(optarg) >= sizeof(buf))
				return bad(err, errlen, "%s: value too long",
					   argv[optind - 1]);
		}
		switch (opt) {
		case OPT_TRANSPORT:
			if (split_list(buf, items, IPCB_MAX_LIST, &n) ||
			    repeated(items, n))
				return bad(err, errlen,
					   "--transport %s: expected "
					   "a comma-separated list of distinct "
					   "transports or 'all'",
					   optarg);
			if (n == 1 && strcmp(items[0], "all") == 0) {
				struct ipcb_options d;
				defaults(&d);
				memcpy(o->transports, d.transports,
				       sizeof(o->transports));
				o->ntransports = d.ntransports;
				o->explicit_transports = false;
				break;
			}
			o->explicit_transports = true;
			o->ntransports = 0;
			for (size_t i = 0; i < n; i++) {
				const struct ipcb_transport *t =
					ipcb_transport_find(items[i]);
				if (!t)
					return bad(err, errlen,
						   "--transport: "
						   "unknown transport '%s'; "
						   "`ipcbench list` shows them",
						   items[i]);
				o->transports[o->ntransports++] = t;
			}
			break;
		case OPT_PROCS:
			if (split_list(buf, items, IPCB_MAX_LIST, &n) ||
			    repeated(items, n))
				return bad(err, errlen,
					   "--procs %s: expected a "
					   "comma-separated list of distinct "
					   "counts like 2,4,8",
					   optarg);
			o->nprocs = 0;
			for (size_t i = 0; i < n; i++) {
				rc = parse_uint(items[i], 2, IPCB_MAX_PROCS,
						&v);
				if (rc)
					return bad(err, errlen,
						   "--procs: '%s' "
						   "is not a process count "
						   "from 2 to %d",
						   items[i], IPCB_MAX_PROCS);
				o->procs[o->nprocs++] = (unsigned)v;
			}
			procs_given = true;
			break;
		case OPT_SIZE:
			if (split_list(buf, items, IPCB_MAX_LIST, &n) ||
			    repeated(items, n))
				return bad(err, errlen,
					   "--size %s: expected a "
					   "comma-separated list of distinct "
					   "sizes like 64,4K",
					   optarg);
			o->nsizes = 0;
			for (size_t i = 0; i < n; i++) {
				uint64_t s;
				rc = ipcb_parse_size(items[i], &s);
				if (rc || s < IPCB_MSG_HDR)
					return bad(
						err, errlen,
						"--size: '%s' "
						"is not a size from %u bytes "
						"(the message header) to 1G; "
						"suffixes K, M, G",
						items[i], IPCB_MSG_HDR);
				o->sizes[o->nsizes++] = s;
			}
			break;
		case OPT_PATTERN:
			o->latency = strcmp(optarg, "latency") == 0 ||
				     strcmp(optarg, "both") == 0;
			o->throughput = strcmp(optarg, "throughput") == 0 ||
					strcmp(optarg, "both") == 0;
			if (!o->latency && !o->throughput)
				return bad(err, errlen,
					   "--pattern '%s': "
					   "expected latency, throughput or "
					   "both",
					   optarg);
			break;
		case OPT_TOPOLOGY:
			if (strcmp(optarg, "pairs") == 0)
				o->topology = IPCB_PAIRS;
			else if (strcmp(optarg, "shared") == 0)
				o->topology = IPCB_SHARED;
			else
				return bad(err, errlen,
					   "--topology '%s': "
					   "expected pairs or shared",
					   optarg);
			topology_given = true;
			break;
		case OPT_PRODUCERS:
		case OPT_CONSUMERS:
			if (parse_uint(optarg, 1, IPCB_MAX_PROCS - 1, &v))
				return bad(err, errlen,
					   "--%s '%s': expected a "
					   "number from 1 to %d",
					   opt == OPT_PRODUCERS ? "producers"
								: "consumers",
					   optarg, IPCB_MAX_PROCS - 1);
			*(opt == OPT_PRODUCERS ? &o->producers
					       : &o->consumers) = (unsigned)v;
			break;
		case OPT_WORK:
			if (split_list(buf, items, IPCB_MAX_LIST, &n) ||
			    repeated(items, n))
				return bad(err, errlen,
					   "--work %s: expected a "
					   "list of distinct kinds like "
					   "none,cpu:50,io:50",
					   optarg);
			o->nwork = 0;
			for (size_t i = 0; i < n; i++)
				if (ipcb_work_parse(items[i],
						    &o->work[o->nwork++]))
					return bad(err, errlen,
						   "--work: '%s' is "
						   "not none, cpu:USEC or "
						   "io:USEC (USEC 1..1000000)",
						   items[i]);
			break;
		case OPT_WORKERS:
			if (split_list(buf, items, 3, &n) || repeated(items, n))
				return bad(err, errlen,
					   "--workers %s: expected "
					   "a list of distinct kinds: process, "
					   "thread, sequential",
					   optarg);
			o->nworkers = 0;
			for (size_t i = 0; i < n; i++) {
				if (strcmp(items[i], "process") == 0)
					o->workers[o->nworkers++] =
						IPCB_PROCESS;
				else if (strcmp(items[i], "thread") == 0)
					o->workers[o->nworkers++] = IPCB_THREAD;
				else if (strcmp(items[i], "sequential") == 0)
					o->workers[o->nworkers++] =
						IPCB_SEQUENTIAL;
				else
					return bad(err, errlen,
						   "--workers: '%s' "
						   "is not process, thread or "
						   "sequential",
						   items[i]);
			}
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, 0.001, 3600, &o->duration_s))
				return bad(
					err, errlen,
					"--duration '%s': "
					"expected seconds from 0.001 to 3600",
					optarg);
			break;
		case OPT_WARMUP:
			if (parse_seconds(optarg, 0, 3600, &o->warmup_s))
				return bad(err, errlen,
					   "--warmup '%s': expected "
					   "seconds from 0 to 3600",
					   optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, 1, 86400, &o->timeout_s))
				return bad(err, errlen,
					   "--timeout '%s': "
					   "expected seconds from 1 to 86400",
					   optarg);
			break;
		case OPT_REPEAT:
			if (parse_uint(optarg, 1, IPCB_MAX_REPEAT, &v))
				return bad(err, errlen,
					   "--repeat '%s': expected "
					   "a number from 1 to %d",
					   optarg, IPCB_MAX_REPEAT);
			o->repeat = (unsigned)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				o->format = IPCB_FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				o->format = IPCB_FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				o->format = IPCB_FMT_JSON;
			else if (strcmp(optarg, "gbench") == 0)
				o->format = IPCB_FMT_GBENCH;
			else
				return bad(err, errlen,
					   "--format '%s': expected "
					   "table, csv, json or gbench",
					   optarg);
			break;
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_CPUS:
			if (split_list(buf, items, IPCB_MAX_PROCS, &n))
				return bad(
					err, errlen,
					"--cpus %s: expected a "
					"comma-separated list of CPU numbers",
					optarg);
			o->ncpus = 0;
			for (size_t i = 0; i < n; i++) {
				bool ok = false;
				if (parse_uint(items[i], 0, CPU_SETSIZE - 1,
					       &v) == 0)
					for (size_t a = 0; a < nallowed; a++)
						ok |= allowed[a] == (int)v;
				if (!ok)
					return bad(
						err, errlen,
						"--cpus: CPU '%s' "
						"does not exist or is not "
						"allowed here (allowed: %d..%d)",
						items[i],
						nallowed ? allowed[0] : -1,
						nallowed ? allowed[nallowed - 1]
							 : -1);
				o->cpus[o->ncpus++] = (int)v;
			}
			break;
		case OPT_NO_PIN:
			o->pin = false;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_LIMITS:
			o->limits = true;
			break;
		case OPT_SWEEP:
			o->sweep = true;
			break;
		case OPT_PLOT:
			o->plot_dir = optarg;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case 'h':
		case OPT_HELP:
			return IPCB_PARSE_HELP;
		case OPT_VERSION:
			return IPCB_PARSE_VERSION;
		case ':':
			if (optopt && optopt < 256)
				return bad(err, errlen,
					   "-%c needs a value; see "
					   "ipcbench --help",
					   optopt);
			return bad(err, errlen,
				   "%s needs a value; see "
				   "ipcbench --help",
				   argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return bad(err, errlen,
					   "unknown option '-%c'; "
					   "see ipcbench --help",
					   optopt);
			return bad(err, errlen,
				   "unknown option '%s'; see "
				   "ipcbench --help",
				   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, errlen,
			   "unexpected argument '%s'; see "
			   "ipcbench --help",
			   argv[optind]);
	if (!o->pin && o->ncpus)
		return bad(err, errlen,
			   "--cpus and --no-pin contradict each "
			   "other: choose one");
	if ((o->producers || o->consumers) && o->topology != IPCB_SHARED)
		return bad(err, errlen,
			   "--producers/--consumers need "
			   "--topology shared");
	if (o->topology == IPCB_SHARED && (o->producers || o->consumers)) {
		if (!o->producers || !o->consumers)
			return bad(err, errlen,
				   "--topology shared: give both "
				   "--producers and --consumers, or neither");
		if (o->producers + o->consumers > IPCB_MAX_PROCS)
			return bad(err, errlen,
				   "--producers + --consumers "
				   "exceeds %d processes",
				   IPCB_MAX_PROCS);
		if (procs_given && (o->nprocs != 1 ||
				    o->procs[0] != o->producers + o->consumers))
			return bad(err, errlen,
				   "--procs contradicts "
				   "--producers %u --consumers %u (that is "
				   "%u processes)",
				   o->producers, o->consumers,
				   o->producers + o->consumers);
		o->nprocs = 1;
		o->procs[0] = o->producers + o->consumers;
	}
	if (o->topology == IPCB_PAIRS)
		for (size_t i = 0; i < o->nprocs; i++)
			if (o->procs[i] % 2)
				return bad(err, errlen,
					   "--procs %u: the pairs "
					   "topology needs an even count (one "
					   "producer per consumer); use "
					   "--topology shared for others",
					   o->procs[i]);
	if (o->topology == IPCB_SHARED && topology_given && o->latency &&
	    !o->throughput)
		return bad(err, errlen,
			   "--pattern latency uses ping-pong "
			   "pairs; --topology shared applies to throughput");
	if (o->sweep && (procs_given || topology_given))
		return bad(err, errlen,
			   "--sweep sets its own process counts "
			   "and topology; drop --procs/--topology or --sweep");
	if (o->pin && !o->ncpus) {
		o->ncpus = nallowed;
		memcpy(o->cpus, allowed, nallowed * sizeof(int));
	}
	if (o->pin && !o->ncpus)
		return bad(err, errlen,
			   "cannot read this process's CPU set "
			   "to pin workers; use --no-pin");
	return check_output(o->output, err, errlen);
}
