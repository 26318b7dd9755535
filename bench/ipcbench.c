/*
 * ipcbench.c - the command line: subcommand dispatch, and the default
 * command that runs benchmarks. Reads top to bottom: subcommands, building
 * the list of configurations, checks, the run, output, exit status.
 *
 * Exit status: 0 ok; 1 a run failed (a worker died, setup failed, a message
 * was lost, duplicated or corrupt); 2 bad input or a limit too low;
 * 128 + signal when interrupted (130 SIGINT, 143 SIGTERM).
 */
#define _GNU_SOURCE
#include "bench/commands.h"
#include "bench/options.h"
#include "harness/context.h"
#include "harness/gbench.h"
#include "harness/hwlimits.h"
#include "harness/limits.h"
#include "harness/plot.h"
#include "harness/sweep.h"
#include "harness/units.h"
#include "ipc/ipc.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct subcommand {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static int cmd_list(int argc, char **argv);

/* `ipcbench --help` lists them in this order. */
static const struct subcommand subcommands[] = {
	{ "list", "transports with their capabilities", cmd_list },
	{ "compare", "compare two results files; exit 3 on a regression",
	  ipcb_cmd_compare },
	{ "plot", "draw comparison figures from a results file",
	  ipcb_cmd_plot },
	{ "limits",
	  "measure the machine's limits (cache-line ping-pong, syscall, clock, futex, memcpy)",
	  ipcb_cmd_limits },
};

static int cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%-14s %-10s %-7s %-6s %-6s %-7s %s\n", "transport", "max msg",
	       "payload", "multi-", "multi-", "threads", "summary");
	printf("%-14s %-10s %-7s %-6s %-6s %-7s\n", "", "", "", "prod", "cons",
	       "");
	for (size_t i = 0; i < ipcb_transport_count; i++) {
		const struct ipcb_transport *t = ipcb_transports[i];
		size_t max = t->max_msg();
		char maxs[24];
		if (max >= (1ull << 30))
			snprintf(maxs, sizeof(maxs), "unbounded");
		else
			ipcb_fmt_size(maxs, sizeof(maxs), max, false);
		printf("%-14s %-10s %-7s %-6s %-6s %-7s %s\n", t->name, maxs,
		       t->caps & IPCB_CAP_PAYLOAD ? "yes" : "no",
		       t->caps & IPCB_CAP_MULTI_PRODUCER ? "yes" : "no",
		       t->caps & IPCB_CAP_MULTI_CONSUMER ? "yes" : "no",
		       t->caps & IPCB_CAP_THREADS ? "yes" : "no", t->summary);
	}
	return 0;
}

/* ---- the list of configurations ---- */

struct plan {
	struct ipcb_run_config *v;
	size_t n, cap;
	const struct ipcb_options *o;
	const char *run_tag;
	unsigned next_chan;
};

static int add_config(struct plan *p, const struct ipcb_transport *t,
		      enum ipcb_pattern pat, unsigned procs, uint64_t size,
		      const struct ipcb_work *work, enum ipcb_workers workers)
{
	const struct ipcb_options *o = p->o;
	struct ipcb_run_config *c;
	bool shared = o->topology == IPCB_SHARED && pat == IPCB_THROUGHPUT;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct ipcb_run_config *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->t = t;
	snprintf(c->key.transport, sizeof(c->key.transport), "%s",
		 workers == IPCB_SEQUENTIAL ? "none" : t->name);
	c->key.pattern = pat;
	c->key.procs = workers == IPCB_SEQUENTIAL ? 1 : procs;
	c->key.size = size;
	c->key.topology = shared ? IPCB_SHARED : IPCB_PAIRS;
	c->key.producers = shared && o->producers	? o->producers
			   : workers == IPCB_SEQUENTIAL ? 1
							: procs / 2;
	c->key.consumers = shared && o->consumers	? o->consumers
			   : workers == IPCB_SEQUENTIAL ? 1
							: procs - procs / 2;
	if (!shared && workers != IPCB_SEQUENTIAL)
		c->key.consumers = procs / 2;
	ipcb_work_name(work, c->key.work, sizeof(c->key.work));
	c->key.workers = workers;
	c->work = *work;
	c->verify = o->verify;
	c->duration_s = o->duration_s;
	c->warmup_s = o->warmup_s;
	c->timeout_s = o->timeout_s > 0
			       ? o->timeout_s
			       : 10 + 3 * (o->warmup_s + o->duration_s);
	c->pin = o->pin;
	c->cpus = o->cpus;
	c->ncpus = (unsigned)o->ncpus;
	c->run_tag = p->run_tag;
	c->next_chan = &p->next_chan;
	return 0;
}

/* Every combination of the lists in the options; sequential baselines once
 * per size and work, not per transport and process count. */
static int expand(struct plan *p, const struct ipcb_transport *const *ts,
		  size_t nt, const unsigned *procs, size_t np,
		  const uint64_t *sizes, size_t ns, bool lat, bool tput,
		  const struct ipcb_work *work, size_t nw,
		  const enum ipcb_workers *workers, size_t nk)
{
	for (size_t k = 0; k < nk; k++)
		for (int pat = 0; pat < 2; pat++) {
			if (!(pat == IPCB_LATENCY ? lat : tput))
				continue;
			if (workers[k] == IPCB_SEQUENTIAL) {
				if (pat == IPCB_LATENCY)
					continue;
				for (size_t s = 0; s < ns; s++)
					for (size_t w = 0; w < nw; w++)
						if (add_config(p, ts[0],
							       IPCB_THROUGHPUT,
							       1, sizes[s],
							       &work[w],
							       workers[k]))
							return -ENOMEM;
				continue;
			}
			for (size_t t = 0; t < nt; t++)
				for (size_t n = 0; n < np; n++)
					for (size_t s = 0; s < ns; s++)
						for (size_t w = 0; w < nw;
						     w++) {
							/* Work applies to the
							 * consumer: latency
							 * runs it too. */
							if (add_config(
								    p, ts[t],
								    (enum ipcb_pattern)
									    pat,
								    procs[n],
								    sizes[s],
								    &work[w],
								    workers[k]))
								return -ENOMEM;
						}
		}
	return 0;
}

/* --sweep: the standard sweep of the README's main command. */
static int expand_sweep(struct plan *p)
{
	const struct ipcb_options *o = p->o;
	static const unsigned procs[] = { 2, 4, 8 };
	static const uint64_t sizes[] = { 64, 4096, 65536 };
	static const enum ipcb_workers process[] = { IPCB_PROCESS };
	static const enum ipcb_workers all_workers[] = { IPCB_SEQUENTIAL,
							 IPCB_THREAD,
							 IPCB_PROCESS };
	struct ipcb_work none = { 0 }, work[2];
	const struct ipcb_transport *busy[2];
	size_t nbusy = 0;

	ipcb_work_parse("cpu:50", &work[0]);
	ipcb_work_parse("io:50", &work[1]);
	for (size_t i = 0; i < o->ntransports; i++)
		if (strcmp(o->transports[i]->name, "pipe") == 0 ||
		    strcmp(o->transports[i]->name, "shm") == 0)
			busy[nbusy++] = o->transports[i];
	if (expand(p, o->transports, o->ntransports, procs, 1, sizes, 3, true,
		   false, &none, 1, process, 1) ||
	    expand(p, o->transports, o->ntransports, procs, 3, sizes, 3, false,
		   true, &none, 1, process, 1))
		return -ENOMEM;
	if (nbusy && expand(p, busy, nbusy, procs, 3, sizes, 1, false, true,
			    work, 2, all_workers, 3))
		return -ENOMEM;
	return 0;
}

/* ---- output ---- */

static int write_results(FILE *f, enum ipcb_format fmt,
			 const struct ipcb_results *r)
{
	switch (fmt) {
	case IPCB_FMT_CSV:
		return ipcb_write_csv(f, r);
	case IPCB_FMT_JSON:
		return ipcb_write_json(f, r);
	case IPCB_FMT_GBENCH:
		return ipcb_write_gbench(f, r);
	case IPCB_FMT_TABLE:
		break;
	}
	return ipcb_write_table(f, r);
}

static int output(const struct ipcb_options *o, const struct ipcb_results *r)
{
	bool to_file = o->output && strcmp(o->output, "-") != 0;
	FILE *f = stdout;
	int rc;

	if (to_file) {
		f = fopen(o->output, "we");
		if (!f) {
			fprintf(stderr,
				"ipcbench: cannot write results to %s: "
				"%s\n",
				o->output, strerror(errno));
			return 1;
		}
	}
	rc = write_results(f, o->format, r);
	if (to_file) {
		if (fclose(f) && !rc)
			rc = -errno;
		if (!rc) {
			fprintf(stderr, "ipcbench: results written to %s\n",
				o->output);
			if (!o->quiet && o->format != IPCB_FMT_TABLE)
				rc = ipcb_write_table(stdout, r);
		}
	}
	if (rc) {
		fprintf(stderr, "ipcbench: writing results to %s failed: %s\n",
			to_file ? o->output : "stdout", strerror(-rc));
		return 1;
	}
	return 0;
}

/* --limits: the machine's limits on the first two CPUs a run uses. */
static int measure_limits(const struct ipcb_options *o, struct ipcb_context *c)
{
	struct ipcb_hwlimits hw;
	char err[256];
	int a = o->pin ? o->cpus[0] : 0;
	int b = o->pin ? o->cpus[1 % o->ncpus] : (int)(c->cpu_count > 1);
	int rc;

	if (isatty(STDERR_FILENO))
		fprintf(stderr,
			"measuring the machine's limits on cpus %d,%d\n", a, b);
	rc = ipcb_hwlimits_measure(&hw, a, b, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ipcbench: --limits: %s\n", err);
		return rc;
	}
	c->has_limits = true;
	c->limit_pingpong_ns = hw.pingpong_ns;
	c->limit_memcpy_64k_bps = hw.memcpy_bps[1];
	return 0;
}

static int plot(const struct ipcb_options *o, const struct ipcb_results *r)
{
	struct ipcb_plot_opts po = { .format = IPCB_PLOT_PNG };
	struct ipcb_plot_report rep;
	char err[1024];
	int rc = ipcb_plot_results(r, o->plot_dir, &po, &rep, err, sizeof(err));

	ipcb_plot_report_print(&rep, stdout, stderr);
	if (rc)
		fprintf(stderr, "ipcbench: plot: %s\n", err);
	ipcb_plot_report_free(&rep);
	return rc ? 1 : 0;
}

static void placement(const struct ipcb_options *o, char *buf, size_t n)
{
	size_t len;

	if (!o->pin) {
		snprintf(buf, n, "unpinned");
		return;
	}
	len = (size_t)snprintf(buf, n, "pinned, pairs split over cpus ");
	for (size_t i = 0; i < o->ncpus && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%d",
					i ? "," : "", o->cpus[i]);
}

/* ---- the run ---- */

static int run(int argc, char **argv)
{
	static struct ipcb_options o;
	struct plan p = { .o = &o };
	struct ipcb_results res;
	char err[512], tag[64];
	enum ipcb_sweep_end end;
	sigset_t set;
	int sig = 0, status = 0;
	size_t failed = 0;
	struct ipcb_work_cal cal = { 0 };

	switch (ipcb_parse_options(argc, argv, &o, err, sizeof(err))) {
	case IPCB_PARSE_HELP:
		ipcb_usage(stdout);
		return 0;
	case IPCB_PARSE_VERSION:
		printf("ipcbench %s (git %s)\n", IPCB_VERSION, IPCB_GIT_REV);
		return 0;
	case IPCB_PARSE_ERROR:
		fprintf(stderr, "ipcbench: %s\n", err);
		return 2;
	case IPCB_PARSE_RUN:
		break;
	}
	if (ipcb_run_tag(tag, sizeof(tag))) {
		fprintf(stderr, "ipcbench: no random bytes for object names\n");
		return 1;
	}
	p.run_tag = tag;
	if (o.sweep ? expand_sweep(&p)
		    : expand(&p, o.transports, o.ntransports, o.procs, o.nprocs,
			     o.sizes, o.nsizes, o.latency, o.throughput, o.work,
			     o.nwork, o.workers, o.nworkers)) {
		fprintf(stderr, "ipcbench: out of memory\n");
		return 1;
	}
	/* A transport the user named must do what was asked, or nothing
	 * runs; with every transport, what one cannot do is a table row. */
	for (size_t i = 0; o.explicit_transports && i < p.n; i++) {
		char name[160];
		if (p.v[i].key.workers == IPCB_SEQUENTIAL ||
		    ipcb_run_check(&p.v[i], err, sizeof(err)) == IPCB_RUN_OK)
			continue;
		ipcb_key_name(&p.v[i].key, name, sizeof(name));
		fprintf(stderr, "ipcbench: %s cannot run %s: %s\n",
			p.v[i].t->name, name, err);
		free(p.v);
		return 2;
	}
	if (ipcb_check_limits(p.v, p.n, err, sizeof(err))) {
		fprintf(stderr, "ipcbench: %s\n", err);
		free(p.v);
		return 2;
	}
	ipcb_results_init(&res);
	ipcb_context_fill(&res.ctx, argc, argv);
	placement(&o, res.ctx.placement, sizeof(res.ctx.placement));
	ipcb_remove_stale(stderr);
	if (o.limits && measure_limits(&o, &res.ctx)) {
		ipcb_results_free(&res);
		free(p.v);
		return 1;
	}
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].work.kind == IPCB_WORK_CPU) {
			if (!cal.rounds)
				ipcb_work_calibrate(&cal);
			p.v[i].work.iters = ipcb_work_rounds_for(
				cal.rounds, cal.elapsed_ns, p.v[i].work.usec);
		}
	if (cal.rounds)
		res.ctx.cpu_work_iters_per_us =
			(double)cal.rounds * 1000.0 / (double)cal.elapsed_ns;

	signal(SIGPIPE, SIG_IGN);
	ipcb_run_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	end = ipcb_sweep_run(p.v, p.n, o.repeat, &res, &sig, err, sizeof(err));
	ipcb_context_now(res.ctx.end_time, sizeof(res.ctx.end_time));
	res.ctx.partial = end != IPCB_SWEEP_DONE;
	if (end == IPCB_SWEEP_FAILED) {
		fprintf(stderr, "ipcbench: %s\n", err);
		status = 1;
	} else if (end == IPCB_SWEEP_INTERRUPTED) {
		fprintf(stderr,
			"ipcbench: interrupted by %s; results are "
			"partial\n",
			strsignal(sig));
		status = 128 + sig;
	}
	for (size_t i = 0; i < res.n; i++)
		failed += res.v[i].status == IPCB_FAILED;
	/* Even an empty, interrupted run says so in the asked format. */
	if (output(&o, &res) && !status)
		status = 1;
	if (res.n && o.plot_dir && plot(&o, &res) && !status)
		status = 1;
	if (failed && !status) {
		fprintf(stderr,
			"ipcbench: %zu configuration%s failed (lost, "
			"duplicated or corrupt messages, or nothing measured: "
			"see the table)\n",
			failed, failed > 1 ? "s" : "");
		status = 1;
	}
	ipcb_results_free(&res);
	free(p.v);
	return status;
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]);
	     i++)
		if (argc > 1 && strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	return run(argc, argv);
}
