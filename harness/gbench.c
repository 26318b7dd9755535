/*
 * gbench.c - ipcbench results written in Google Benchmark's JSON shape
 * (as libbenchmark 1.7 writes it with --benchmark_format=json), so that
 * compare.py, github-action-benchmark (googlecpp) and bencher (cpp_google)
 * read them.
 *
 * Mapping:
 *  - one benchmark per measured configuration, named by ipcb_key_name()
 *    ("pipe/latency/procs:2/size:64"): stable across runs, since trackers
 *    and compare.py match runs by name. run_name is the same name. The
 *    family is transport/pattern (the part before the arguments), numbered
 *    in order of first appearance; per_family_instance_index counts within
 *    it. threads is 1: ipcbench's workers are in the name (procs:N).
 *  - real_time, in ns (time_unit "ns"), is the time of one message:
 *      latency pattern: the mean round trip (latency_ns.mean);
 *      throughput pattern: 1e9 / msgs_per_s (delivered messages, summed
 *      over consumers), the inverse of throughput.
 *    cpu_time is set equal to real_time: ipcbench measures wall-clock time
 *    across processes and has no per-benchmark CPU time, and compare.py
 *    and the trackers require the field.
 *  - iterations: verified messages (round trips for latency). With
 *    repetitions, each repetition's is msgs_per_s * duration_s of that
 *    repetition (the results keep no per-repetition count).
 *  - counters, as extra numeric fields (Google Benchmark writes counters
 *    in name order; so do we): bytes_per_s, bytes_per_second (Google
 *    Benchmark's own name for SetBytesProcessed), corrupt, duplicated,
 *    items_per_second (= msgs_per_s), lost, max_ns, mean_ns, min_ns,
 *    msgs_per_s, p50_ns, p90_ns, p999_ns, p99_ns. Latency counters are
 *    round trips for the latency pattern and one-way for throughput; a
 *    counter that was not measured is left out, never written as 0.
 *  - with repeat > 1: one run_type "iteration" entry per repetition
 *    (repetition_index 0..N-1, repetitions N) from the per-repetition
 *    numbers, then "aggregate" entries named NAME_mean, NAME_median,
 *    NAME_stddev (aggregate_unit "time") and NAME_cv ("percentage", as a
 *    fraction), computed over the repetitions like Google Benchmark does
 *    (sample stddev), for real_time, cpu_time and every counter;
 *    iterations of an aggregate is the number of repetitions.
 *  - a configuration that failed is one entry with error_occurred true and
 *    error_message, zero times (as Google Benchmark writes SkipWithError);
 *    one that is not applicable is left out (nothing was run).
 *  - context: date (start time), host_name, executable (first word of the
 *    command line), num_cpus and the rest of Google Benchmark's keys.
 *    mhz_per_cpu, cpu_scaling_enabled, caches and load_avg describe a
 *    machine, not a result: they are read from this machine when the
 *    results were measured on it (same host name), else left null/empty.
 *    library_build_type is ipcbench's own ("release" with NDEBUG). Then
 *    ipcbench's fields: ipcbench_version, git_revision, command_line,
 *    kernel, cpu_model, placement, start_time, end_time, partial.
 */
#define _GNU_SOURCE
#include "harness/gbench.h"
#include "harness/stats.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- context ---- */

/* Reads the first line of a file into buf. */
static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)n, f))
		rc = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return rc;
}

/* Number of CPUs in a cpulist such as "0-3,8,10-11". */
static long cpulist_count(const char *s)
{
	long count = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		count += b - a + 1;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return count;
}

/* Caches of cpu0 as Google Benchmark lists them. */
static json_t *caches_json(void)
{
	json_t *a = json_array();

	for (int i = 0; a; i++) {
		char path[96], type[32], level[16], size[32], shared[256];
		char dir[64];
		double bytes;
		char *end;

		snprintf(dir, sizeof(dir),
			 "/sys/devices/system/cpu/cpu0/cache/index%d", i);
		snprintf(path, sizeof(path), "%s/type", dir);
		if (read_line(path, type, sizeof(type)))
			break;
		snprintf(path, sizeof(path), "%s/level", dir);
		if (read_line(path, level, sizeof(level)))
			break;
		snprintf(path, sizeof(path), "%s/size", dir);
		if (read_line(path, size, sizeof(size)))
			break;
		snprintf(path, sizeof(path), "%s/shared_cpu_list", dir);
		if (read_line(path, shared, sizeof(shared)))
			break;
		bytes = strtod(size, &end);
		if (toupper((unsigned char)*end) == 'K')
			bytes *= 1024;
		else if (toupper((unsigned char)*end) == 'M')
			bytes *= 1024 * 1024;
		json_array_append_new(
			a, json_pack("{s:s,s:i,s:I,s:I}", "type", type, "level",
				     atoi(level), "size", (json_int_t)bytes,
				     "num_sharing",
				     (json_int_t)cpulist_count(shared)));
	}
	return a;
}

static json_t *mhz_json(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	json_t *v = NULL;

	if (!f)
		return json_null();
	while (!v && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "cpu MHz", 7) == 0 && colon)
			v = json_integer((json_int_t)strtod(colon + 1, NULL));
	}
	fclose(f);
	return v ? v : json_null();
}

/* As Google Benchmark decides it: some CPU has a cpufreq governor other
 * than "performance". */
static bool cpu_scaling_enabled(unsigned cpus)
{
	for (unsigned i = 0; i < cpus; i++) {
		char path[96], gov[64];
		snprintf(
			path, sizeof(path),
			"/sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor",
			i);
		if (read_line(path, gov, sizeof(gov)) == 0 &&
		    strcmp(gov, "performance") != 0)
			return true;
	}
	return false;
}

static json_t *load_json(void)
{
	double load[3];
	int n = getloadavg(load, 3);
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_real(load[i]));
	return a;
}

static json_t *context_json(const struct ipcb_context *ctx)
{
	char host[256] = "", date[48], exe[256] = "ipcbench";
	size_t len = strlen(ctx->start_time);
	bool here;
	json_t *o;

	/* Google Benchmark writes "+00:00" where ipcbench writes "Z". */
	if (len && ctx->start_time[len - 1] == 'Z')
		snprintf(date, sizeof(date), "%.*s+00:00", (int)(len - 1),
			 ctx->start_time);
	else
		snprintf(date, sizeof(date), "%s", ctx->start_time);
	if (ctx->command_line && ctx->command_line[0])
		snprintf(exe, sizeof(exe), "%.*s",
			 (int)strcspn(ctx->command_line, " "),
			 ctx->command_line);
	gethostname(host, sizeof(host) - 1);
	here = ctx->hostname[0] && strcmp(host, ctx->hostname) == 0;

	o = json_pack("{s:s,s:s,s:s,s:i}", "date", date, "host_name",
		      ctx->hostname, "executable", exe, "num_cpus",
		      (int)ctx->cpu_count);
	if (!o)
		return NULL;
	json_object_set_new(o, "mhz_per_cpu", here ? mhz_json() : json_null());
	json_object_set_new(
		o, "cpu_scaling_enabled",
		here ? json_boolean(cpu_scaling_enabled(ctx->cpu_count))
		     : json_null());
	json_object_set_new(o, "caches", here ? caches_json() : json_array());
	json_object_set_new(o, "load_avg", here ? load_json() : json_array());
#ifdef NDEBUG
	json_object_set_new(o, "library_build_type", json_string("release"));
#else
	json_object_set_new(o, "library_build_type", json_string("debug"));
#endif
	json_object_update_new(
		o,
		json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}",
			  "ipcbench_version", ctx->version, "git_revision",
			  ctx->git_revision, "command_line",
			  ctx->command_line ? ctx->command_line : "", "kernel",
			  ctx->kernel, "cpu_model", ctx->cpu_model, "placement",
			  ctx->placement, "start_time", ctx->start_time,
			  "end_time", ctx->end_time, "partial", ctx->partial));
	return o;
}

/* ---- benchmarks ---- */

/* In the order Google Benchmark writes counters: by name. */
static const char *const counter_names[] = {
	"bytes_per_s", "bytes_per_second", "corrupt",
	"duplicated",  "items_per_second", "lost",
	"max_ns",      "mean_ns",	   "min_ns",
	"msgs_per_s",  "p50_ns",	   "p90_ns",
	"p999_ns",     "p99_ns",
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

/* The numbers of one entry: one repetition, or the whole result. */
struct sample {
	double time; /* real_time = cpu_time, ns; NaN: not measured */
	double iterations;
	double counters[NCOUNTERS]; /* NaN: not measured, left out */
};

static void sample_of(const struct ipcb_result *x, const struct ipcb_latency *l,
		      double mps, double bps, double iterations,
		      struct sample *s)
{
	const double c[NCOUNTERS] = {
		bps,
		bps,
		(double)x->corrupt,
		(double)x->duplicated,
		mps,
		(double)x->lost,
		l->max,
		l->mean,
		l->min,
		mps,
		l->p50,
		l->p90,
		l->p999,
		l->p99,
	};

	memcpy(s->counters, c, sizeof(c));
	s->time = x->key.pattern == IPCB_LATENCY ? l->mean
		  : mps > 0			 ? 1e9 / mps
						 : NAN;
	s->iterations = iterations;
}

static json_t *entry(const char *name, const char *run_name, int family,
		     int instance, const char *run_type, unsigned reps)
{
	return json_pack("{s:s,s:i,s:i,s:s,s:s,s:i}", "name", name,
			 "family_index", family, "per_family_instance_index",
			 instance, "run_name", run_name, "run_type", run_type,
			 "repetitions", (int)reps);
}

/* Adds the timing and counter fields of s to o. */
static int add_numbers(json_t *o, const struct sample *s)
{
	int rc = json_object_set_new(
		o, "iterations",
		json_integer((json_int_t)llround(s->iterations)));

	rc |= json_object_set_new(o, "real_time", json_real(s->time));
	rc |= json_object_set_new(o, "cpu_time", json_real(s->time));
	rc |= json_object_set_new(o, "time_unit", json_string("ns"));
	for (size_t i = 0; i < NCOUNTERS; i++)
		if (isfinite(s->counters[i]))
			rc |= json_object_set_new(o, counter_names[i],
						  json_real(s->counters[i]));
	return rc ? -ENOMEM : 0;
}

static int append(json_t *a, json_t *o)
{
	return o && json_array_append_new(a, o) == 0 ? 0 : -ENOMEM;
}

static int error_entry(json_t *a, const char *name, int family, int instance,
		       const char *msg)
{
	json_t *o = entry(name, name, family, instance, "iteration", 1);
	struct sample s = { .time = 0, .iterations = 0 };

	for (size_t i = 0; i < NCOUNTERS; i++)
		s.counters[i] = NAN;
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "repetition_index", json_integer(0));
	json_object_set_new(o, "threads", json_integer(1));
	json_object_set_new(o, "error_occurred", json_true());
	json_object_set_new(o, "error_message", json_string(msg));
	if (add_numbers(o, &s)) {
		json_decref(o);
		return -ENOMEM;
	}
	return append(a, o);
}

/* Statistic of aggregate k over the finite values of v[0..n), as Google
 * Benchmark computes it. Sorts v. */
static double aggregate(int k, double *v, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[m++] = v[i];
	switch (k) {
	case 0:
		return ipcb_mean(v, m);
	case 1:
		return ipcb_median(v, m);
	case 2:
		return ipcb_stddev(v, m);
	default:
		return ipcb_cv(v, m);
	}
}

static int result_entries(json_t *a, const struct ipcb_result *x, int family,
			  int instance)
{
	static const char *const agg_names[] = { "mean", "median", "stddev",
						 "cv" };
	bool reps = x->reps && x->repeat > 1;
	unsigned n = reps ? x->repeat : 1;
	struct sample *s = calloc(n, sizeof(*s));
	double *v = calloc(n, sizeof(*v));
	char name[256];
	int rc = 0;

	ipcb_key_name(&x->key, name, sizeof(name));
	if (!s || !v) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct ipcb_rep *r = reps ? &x->reps[i] : NULL;
		const struct ipcb_latency none = { NAN, NAN, NAN, NAN,
						   NAN, NAN, NAN };
		const struct ipcb_latency *l = !x->has_latency ? &none
					       : r	       ? &r->lat
							       : &x->lat;
		double mps = r ? r->msgs_per_s : x->msgs_per_s;
		double iters = r && isfinite(mps * x->duration_s)
				       ? mps * x->duration_s
				       : (double)x->messages;

		sample_of(x, l, mps, r ? r->bytes_per_s : x->bytes_per_s, iters,
			  &s[i]);
		if (!isfinite(s[i].time)) {
			rc = error_entry(
				a, name, family, instance,
				x->key.pattern == IPCB_LATENCY
					? "ipcbench measured no mean round trip"
					: "ipcbench measured no throughput");
			goto out;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		json_t *o = entry(name, name, family, instance, "iteration", n);
		if (!o) {
			rc = -ENOMEM;
			goto out;
		}
		json_object_set_new(o, "repetition_index", json_integer(i));
		json_object_set_new(o, "threads", json_integer(1));
		rc = add_numbers(o, &s[i]);
		if (!rc)
			rc = append(a, o);
		else
			json_decref(o);
		if (rc)
			goto out;
	}
	for (int k = 0; reps && k < 4; k++) {
		char agg[300];
		struct sample g;
		json_t *o;

		for (unsigned i = 0; i < n; i++)
			v[i] = s[i].time;
		g.time = aggregate(k, v, n);
		g.iterations = n;
		for (size_t c = 0; c < NCOUNTERS; c++) {
			for (unsigned i = 0; i < n; i++)
				v[i] = s[i].counters[c];
			g.counters[c] = aggregate(k, v, n);
		}
		snprintf(agg, sizeof(agg), "%s_%s", name, agg_names[k]);
		o = entry(agg, name, family, instance, "aggregate", n);
		if (!o) {
			rc = -ENOMEM;
			goto out;
		}
		json_object_set_new(o, "threads", json_integer(1));
		json_object_set_new(o, "aggregate_name",
				    json_string(agg_names[k]));
		json_object_set_new(o, "aggregate_unit",
				    json_string(k == 3 ? "percentage"
						       : "time"));
		if (!isfinite(g.time))
			g.time = 0;
		rc = add_numbers(o, &g);
		if (!rc)
			rc = append(a, o);
		else
			json_decref(o);
		if (rc)
			goto out;
	}
out:
	free(s);
	free(v);
	return rc;
}

static bool same_family(const struct ipcb_result *a,
			const struct ipcb_result *b)
{
	return strcmp(a->key.transport, b->key.transport) == 0 &&
	       a->key.pattern == b->key.pattern;
}

/* Numbers the families (transport/pattern) in order of first appearance
 * and the instances within each, skipping results that are not written. */
static void number_families(const struct ipcb_results *r, int *family,
			    int *instance)
{
	int families = 0;

	for (size_t i = 0; i < r->n; i++) {
		size_t j;

		family[i] = -1;
		if (r->v[i].status == IPCB_NOT_APPLICABLE)
			continue;
		for (j = 0; j < i; j++)
			if (family[j] >= 0 && same_family(&r->v[j], &r->v[i]))
				break;
		if (j == i) {
			family[i] = families++;
			instance[i] = 0;
			continue;
		}
		family[i] = family[j];
		instance[i] = 0;
		for (j = 0; j < i; j++)
			if (family[j] == family[i])
				instance[i]++;
	}
}

int ipcb_write_gbench(FILE *f, const struct ipcb_results *r)
{
	json_t *root, *benchmarks = json_array();
	json_t *ctx = context_json(&r->ctx);
	int *family = calloc(r->n + 1, sizeof(*family));
	int *instance = calloc(r->n + 1, sizeof(*instance));
	int rc = 0;

	if (!benchmarks || !ctx || !family || !instance) {
		rc = -ENOMEM;
		goto out;
	}
	number_families(r, family, instance);
	for (size_t i = 0; i < r->n; i++) {
		const struct ipcb_result *x = &r->v[i];
		char name[256];

		if (x->status == IPCB_NOT_APPLICABLE)
			continue;
		if (x->status == IPCB_FAILED) {
			ipcb_key_name(&x->key, name, sizeof(name));
			rc = error_entry(benchmarks, name, family[i],
					 instance[i],
					 x->reason[0] ? x->reason : "failed");
		} else {
			rc = result_entries(benchmarks, x, family[i],
					    instance[i]);
		}
		if (rc)
			goto out;
	}
	free(family);
	free(instance);
	root = json_pack("{s:o,s:o}", "context", ctx, "benchmarks", benchmarks);
	if (!root)
		return -ENOMEM;
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc || ferror(f) ? -EIO : 0;
out:
	free(family);
	free(instance);
	json_decref(ctx);
	json_decref(benchmarks);
	return rc;
}
