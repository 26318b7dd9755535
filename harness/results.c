/*
 * results.c - result sets: names of enums, keys, and the table, CSV and
 * JSON writers and readers. The formats are documented in results/SCHEMA.md
 * and are a stable interface. JSON goes through jansson, never by hand.
 */
#define _GNU_SOURCE
#include "harness/results.h"
#include "harness/units.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ipcb_results_init(struct ipcb_results *r)
{
	memset(r, 0, sizeof(*r));
	r->ctx.cpu_work_iters_per_us = NAN;
	r->ctx.limit_pingpong_ns = NAN;
	r->ctx.limit_memcpy_64k_bps = NAN;
}

void ipcb_results_free(struct ipcb_results *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].reps);
	free(r->v);
	free(r->ctx.command_line);
	ipcb_results_init(r);
}

int ipcb_results_add(struct ipcb_results *r, struct ipcb_result *res)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ipcb_result *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *res;
	res->reps = NULL;
	return 0;
}

static const char *const pattern_names[] = { "latency", "throughput" };
static const char *const topology_names[] = { "pairs", "shared" };
static const char *const workers_names[] = { "process", "thread",
					     "sequential" };
static const char *const status_names[] = { "ok", "not_applicable", "failed" };

const char *ipcb_pattern_name(enum ipcb_pattern p)
{
	return pattern_names[p];
}

const char *ipcb_topology_name(enum ipcb_topology t)
{
	return topology_names[t];
}

const char *ipcb_workers_name(enum ipcb_workers w)
{
	return workers_names[w];
}

const char *ipcb_status_name(enum ipcb_status s)
{
	return status_names[s];
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (s && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}
#define NAME_INDEX(names, s) \
	name_index(names, sizeof(names) / sizeof(names[0]), s)

bool ipcb_key_equal(const struct ipcb_config_key *a,
		    const struct ipcb_config_key *b)
{
	return strcmp(a->transport, b->transport) == 0 &&
	       a->pattern == b->pattern && a->procs == b->procs &&
	       a->size == b->size && a->topology == b->topology &&
	       a->producers == b->producers && a->consumers == b->consumers &&
	       strcmp(a->work, b->work) == 0 && a->workers == b->workers;
}

void ipcb_key_name(const struct ipcb_config_key *k, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s/%s/procs:%u/size:%llu", k->transport,
			   ipcb_pattern_name(k->pattern), k->procs,
			   (unsigned long long)k->size);

	if (k->topology != IPCB_PAIRS && len >= 0 && (size_t)len < n)
		len += snprintf(buf + len, n - (size_t)len,
				"/topology:%s/producers:%u/consumers:%u",
				ipcb_topology_name(k->topology), k->producers,
				k->consumers);
	if (strcmp(k->work, "none") != 0 && len >= 0 && (size_t)len < n)
		len += snprintf(buf + len, n - (size_t)len, "/work:%s",
				k->work);
	if (k->workers != IPCB_PROCESS && len >= 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, "/workers:%s",
			 ipcb_workers_name(k->workers));
}

/* A result as a ratio to the machine's limit (context.limits): a round trip
 * over the cache-line ping-pong, or bytes/s over memcpy of 64 KiB. NaN
 * without limits or without the measurement. */
static double limit_ratio(const struct ipcb_context *c,
			  const struct ipcb_result *x)
{
	if (!c->has_limits || x->status == IPCB_NOT_APPLICABLE ||
	    !(c->limit_pingpong_ns > 0) || !(c->limit_memcpy_64k_bps > 0))
		return NAN;
	if (x->key.pattern == IPCB_LATENCY)
		return x->has_latency ? x->lat.p50 / c->limit_pingpong_ns : NAN;
	return x->bytes_per_s / c->limit_memcpy_64k_bps;
}

/* ---- table ---- */

int ipcb_write_table(FILE *f, const struct ipcb_results *r)
{
	fprintf(f,
		"%-13s %-4s %5s %6s %-9s %-9s %-10s %8s %8s %8s %8s %9s "
		"%9s %7s %s\n",
		"transport", "pat", "procs", "size", "topo", "work", "workers",
		"p50", "p99", "p99.9", "max", "msgs/s", "bytes/s", "speedup",
		r->ctx.has_limits ? "vs-limit verified" : "verified");
	for (size_t i = 0; i < r->n; i++) {
		const struct ipcb_result *x = &r->v[i];
		const struct ipcb_config_key *k = &x->key;
		char size[24], topo[24], p50[16], p99[16], p999[16], max[16];
		char mps[16], bps[16], speed[16];
		const struct ipcb_latency *l = &x->lat;
		bool lat = x->has_latency;

		ipcb_fmt_size(size, sizeof(size), k->size, false);
		if (k->topology == IPCB_SHARED)
			snprintf(topo, sizeof(topo), "%u>%u", k->producers,
				 k->consumers);
		else
			snprintf(topo, sizeof(topo), "pairs");
		fprintf(f, "%-13s %-4s %5u %6s %-9s %-9s %-10s ", k->transport,
			k->pattern == IPCB_LATENCY ? "lat" : "tput", k->procs,
			size, topo, k->work, ipcb_workers_name(k->workers));
		if (x->status != IPCB_OK) {
			fprintf(f, "%s: %s\n",
				x->status == IPCB_FAILED ? "FAILED"
							 : "not applicable",
				x->reason);
			continue;
		}
		ipcb_fmt_ns(p50, sizeof(p50), lat ? l->p50 : NAN);
		ipcb_fmt_ns(p99, sizeof(p99), lat ? l->p99 : NAN);
		ipcb_fmt_ns(p999, sizeof(p999), lat ? l->p999 : NAN);
		ipcb_fmt_ns(max, sizeof(max), lat ? l->max : NAN);
		ipcb_fmt_rate(mps, sizeof(mps), x->msgs_per_s, "");
		ipcb_fmt_rate(bps, sizeof(bps), x->bytes_per_s, "B");
		if (isnan(x->speedup))
			snprintf(speed, sizeof(speed), "-");
		else
			snprintf(speed, sizeof(speed), "%.2fx", x->speedup);
		fprintf(f, "%8s %8s %8s %8s %9s %9s %7s ", p50, p99, p999, max,
			mps, bps, speed);
		if (r->ctx.has_limits) {
			double lr = limit_ratio(&r->ctx, x);
			if (isnan(lr))
				fprintf(f, "%8s ", "-");
			else if (k->pattern == IPCB_LATENCY)
				fprintf(f, "%7.1fx ", lr);
			else
				fprintf(f, "%7.2f%% ", lr * 100);
		}
		if (x->lost || x->duplicated || x->corrupt)
			fprintf(f, "LOST %llu DUP %llu CORRUPT %llu\n",
				(unsigned long long)x->lost,
				(unsigned long long)x->duplicated,
				(unsigned long long)x->corrupt);
		else
			fprintf(f, "%llu ok\n",
				(unsigned long long)x->messages);
	}
	fprintf(f, "latency: %s; %u CPUs, %s, %s%s\n",
		"round trip (lat) or one way under load (tput)",
		r->ctx.cpu_count, r->ctx.cpu_model, r->ctx.placement,
		r->ctx.partial ? "; PARTIAL: interrupted" : "");
	if (r->ctx.has_limits)
		fprintf(f,
			"vs-limit: lat p50 / cache-line ping-pong (%.0fns); "
			"tput bytes/s / memcpy 64K (%.2fGB/s)\n",
			r->ctx.limit_pingpong_ns,
			r->ctx.limit_memcpy_64k_bps / 1e9);
	return ferror(f) ? -EIO : 0;
}

/* ---- CSV ---- */

/* ---- CSV ---- */

static const char *const csv_columns[] = {
	"transport",   "pattern",	 "procs",	   "size",
	"messages",    "lost",		 "duplicated",	   "corrupt",
	"duration_s",  "lat_kind",	 "lat_min_ns",	   "lat_mean_ns",
	"lat_p50_ns",  "lat_p90_ns",	 "lat_p99_ns",	   "lat_p999_ns",
	"lat_max_ns",  "msgs_per_s",	 "bytes_per_s",	   "topology",
	"producers",   "consumers",	 "work",	   "workers",
	"repeat",      "msgs_per_s_min", "msgs_per_s_max", "msgs_per_s_cv",
	"lat_p50_cv",  "speedup",	 "status",	   "reason",
	"chunk",       "detail",	 "cpus",	   "speedup_vs",
	"limit_ratio",
};
#define NCSV (sizeof(csv_columns) / sizeof(csv_columns[0]))
#define NCSV_REQUIRED 19

/* Columns that hold text even when they look like numbers. */
static bool csv_text_column(const char *name)
{
	static const char *const text[] = {
		"transport", "pattern", "lat_kind",  "topology",
		"work",	     "workers", "status",    "reason",
		"detail",    "cpus",	"speedup_vs"
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (strcmp(name, text[i]) == 0)
			return true;
	return false;
}

static void csv_num(FILE *f, double v)
{
	if (!isnan(v))
		fprintf(f, "%.10g", v);
	fputc(',', f);
}

/* Quotes a text cell when it holds a comma or quote. Records are lines, so
 * line breaks inside a cell are written as spaces. */
static void csv_str(FILE *f, const char *s, char end)
{
	bool quote = strpbrk(s, ",\"") != NULL;

	if (quote)
		fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	if (quote)
		fputc('"', f);
	fputc(end, f);
}

/* Measured numbers exist for ok and failed runs, not for n/a ones. */
static bool measured(const struct ipcb_result *x)
{
	return x->status != IPCB_NOT_APPLICABLE;
}

int ipcb_write_csv(FILE *f, const struct ipcb_results *r)
{
	for (size_t c = 0; c < NCSV; c++)
		fprintf(f, "%s%c", csv_columns[c], c + 1 < NCSV ? ',' : '\n');
	for (size_t i = 0; i < r->n; i++) {
		const struct ipcb_result *x = &r->v[i];
		const struct ipcb_config_key *k = &x->key;
		bool ok = measured(x), lat = ok && x->has_latency;
		const struct ipcb_latency *l = &x->lat;

		csv_str(f, k->transport, ',');
		fprintf(f, "%s,%u,%llu,", ipcb_pattern_name(k->pattern),
			k->procs, (unsigned long long)k->size);
		if (ok)
			fprintf(f, "%llu,%llu,%llu,%llu,",
				(unsigned long long)x->messages,
				(unsigned long long)x->lost,
				(unsigned long long)x->duplicated,
				(unsigned long long)x->corrupt);
		else
			fputs(",,,,", f);
		csv_num(f, ok ? x->duration_s : NAN);
		fprintf(f, "%s,",
			lat ? (x->latency_rtt ? "rtt" : "one_way") : "");
		csv_num(f, lat ? l->min : NAN);
		csv_num(f, lat ? l->mean : NAN);
		csv_num(f, lat ? l->p50 : NAN);
		csv_num(f, lat ? l->p90 : NAN);
		csv_num(f, lat ? l->p99 : NAN);
		csv_num(f, lat ? l->p999 : NAN);
		csv_num(f, lat ? l->max : NAN);
		csv_num(f, ok ? x->msgs_per_s : NAN);
		csv_num(f, ok ? x->bytes_per_s : NAN);
		fprintf(f, "%s,%u,%u,", ipcb_topology_name(k->topology),
			k->producers, k->consumers);
		csv_str(f, k->work, ',');
		fprintf(f, "%s,%u,", ipcb_workers_name(k->workers), x->repeat);
		csv_num(f, ok ? x->tput_min : NAN);
		csv_num(f, ok ? x->tput_max : NAN);
		csv_num(f, ok ? x->tput_cv : NAN);
		csv_num(f, lat ? x->p50_cv : NAN);
		csv_num(f, ok ? x->speedup : NAN);
		fprintf(f, "%s,", ipcb_status_name(x->status));
		csv_str(f, x->reason, ',');
		fprintf(f, "%llu,", (unsigned long long)x->chunk);
		csv_str(f, x->detail, ',');
		csv_str(f, x->cpus, ',');
		csv_str(f, ok && !isnan(x->speedup) ? x->speedup_vs : "", ',');
		if (!isnan(limit_ratio(&r->ctx, x)))
			fprintf(f, "%.10g", limit_ratio(&r->ctx, x));
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

static json_t *jnum(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

/* A JSON string; bytes that are not valid UTF-8 (a file name typed in
 * another encoding) become '?', so the result is never dropped. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *latency_json(const struct ipcb_latency *l)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "min", jnum(l->min),
			 "mean", jnum(l->mean), "p50", jnum(l->p50), "p90",
			 jnum(l->p90), "p99", jnum(l->p99), "p999",
			 jnum(l->p999), "max", jnum(l->max));
}

static json_t *context_json(const struct ipcb_context *c)
{
	json_t *o = json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:{s:I,s:I},s:o,s:o}",
		"command_line", jstr(c->command_line ? c->command_line : ""),
		"version", jstr(c->version), "git_revision",
		jstr(c->git_revision), "start_time", jstr(c->start_time),
		"end_time", jstr(c->end_time), "hostname", jstr(c->hostname),
		"kernel", jstr(c->kernel), "cpu_model", jstr(c->cpu_model),
		"cpu_count", (json_int_t)c->cpu_count, "mq", "msg_max",
		(json_int_t)c->mq_msg_max, "msgsize_max",
		(json_int_t)c->mq_msgsize_max, "placement", jstr(c->placement),
		"cpu_work_iters_per_us", jnum(c->cpu_work_iters_per_us));

	if (o && c->has_limits)
		json_object_set_new(o, "limits",
				    json_pack("{s:o,s:o}", "pingpong_ns",
					      jnum(c->limit_pingpong_ns),
					      "memcpy_64k_bytes_per_s",
					      jnum(c->limit_memcpy_64k_bps)));
	return o;
}

static json_t *jcount(bool ok, uint64_t v)
{
	return ok ? json_integer((json_int_t)v) : json_null();
}

static json_t *result_json(const struct ipcb_context *c,
			   const struct ipcb_result *x)
{
	const struct ipcb_config_key *k = &x->key;
	bool ok = measured(x), lat = ok && x->has_latency;
	json_t *reps = json_array();

	for (unsigned i = 0; ok && reps && i < x->repeat && x->reps; i++)
		json_array_append_new(
			reps,
			json_pack("{s:o,s:o,s:o}", "msgs_per_s",
				  jnum(x->reps[i].msgs_per_s), "bytes_per_s",
				  jnum(x->reps[i].bytes_per_s), "latency_ns",
				  lat ? latency_json(&x->reps[i].lat)
				      : json_null()));
	if (!reps)
		return NULL;
	return json_pack(
		"{s:o,s:s,s:I,s:I,s:s,s:I,s:I,s:o,s:s,s:s,s:o,s:i,"
		"s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
		"s:{s:o,s:o,s:o,s:o},s:o,s:I,s:o,s:o,s:o,s:o}",
		"transport", jstr(k->transport), "pattern",
		ipcb_pattern_name(k->pattern), "procs", (json_int_t)k->procs,
		"size", (json_int_t)k->size, "topology",
		ipcb_topology_name(k->topology), "producers",
		(json_int_t)k->producers, "consumers", (json_int_t)k->consumers,
		"work", jstr(k->work), "workers", ipcb_workers_name(k->workers),
		"status", ipcb_status_name(x->status), "reason",
		x->status == IPCB_OK ? json_null() : jstr(x->reason), "repeat",
		(int)x->repeat, "messages", jcount(ok, x->messages), "lost",
		jcount(ok, x->lost), "duplicated", jcount(ok, x->duplicated),
		"corrupt", jcount(ok, x->corrupt), "duration_s",
		jnum(ok ? x->duration_s : NAN), "latency_kind",
		lat ? json_string(x->latency_rtt ? "rtt" : "one_way")
		    : json_null(),
		"latency_ns", lat ? latency_json(&x->lat) : json_null(),
		"msgs_per_s", jnum(ok ? x->msgs_per_s : NAN), "bytes_per_s",
		jnum(ok ? x->bytes_per_s : NAN), "speedup",
		jnum(ok ? x->speedup : NAN), "spread", "msgs_per_s_min",
		jnum(ok ? x->tput_min : NAN), "msgs_per_s_max",
		jnum(ok ? x->tput_max : NAN), "msgs_per_s_cv",
		jnum(ok ? x->tput_cv : NAN), "lat_p50_cv",
		jnum(lat ? x->p50_cv : NAN), "speedup_vs",
		ok && !isnan(x->speedup) ? jstr(x->speedup_vs) : json_null(),
		"chunk", (json_int_t)x->chunk, "detail", jstr(x->detail),
		"cpus", jstr(x->cpus), "limit_ratio", jnum(limit_ratio(c, x)),
		"repetitions", reps);
}

int ipcb_write_json(FILE *f, const struct ipcb_results *r)
{
	json_t *results = json_array();
	json_t *root;
	int rc;

	for (size_t i = 0; results && i < r->n; i++) {
		json_t *x = result_json(&r->ctx, &r->v[i]);
		if (!x || json_array_append_new(results, x)) {
			json_decref(results);
			return -ENOMEM;
		}
	}
	root = json_pack("{s:i,s:s,s:b,s:o,s:o}", "schema_version",
			 IPCB_SCHEMA_VERSION, "tool", "ipcbench", "partial",
			 r->ctx.partial, "context", context_json(&r->ctx),
			 "results", results);
	if (!root)
		return -ENOMEM;
	rc = json_dumpf(root, f,
			JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(root);
	return rc || ferror(f) ? -EIO : 0;
}

/* ---- readers ---- */

static double num_of(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A non-negative integer field; absent or null reads as 0. */
static int count_of(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Copies a JSON string into a fixed field, cut at a UTF-8 character
 * boundary so the field is still valid UTF-8 when written back. */
static void copy_str(char *dst, size_t n, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t len = strlen(s);

	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void latency_of(json_t *o, struct ipcb_latency *l)
{
	l->min = num_of(json_object_get(o, "min"));
	l->mean = num_of(json_object_get(o, "mean"));
	l->p50 = num_of(json_object_get(o, "p50"));
	l->p90 = num_of(json_object_get(o, "p90"));
	l->p99 = num_of(json_object_get(o, "p99"));
	l->p999 = num_of(json_object_get(o, "p999"));
	l->max = num_of(json_object_get(o, "max"));
}

/* An enum field: absent means the default (files from before the field
 * existed); present but unknown is an error. */
static int enum_of(json_t *o, const char *key, const char *const *names,
		   size_t n, int dflt)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return dflt;
	return json_is_string(v) ? name_index(names, n, json_string_value(v))
				 : -1;
}
#define ENUM_OF(o, key, names, dflt) \
	enum_of(o, key, names, sizeof(names) / sizeof(names[0]), dflt)

static int key_of(json_t *o, struct ipcb_config_key *k, char *err,
		  size_t errlen, const char *where)
{
	int pat = ENUM_OF(o, "pattern", pattern_names, -1);
	int top = ENUM_OF(o, "topology", topology_names, IPCB_PAIRS);
	int wrk = ENUM_OF(o, "workers", workers_names, IPCB_PROCESS);
	uint64_t procs, size, prod, cons;

	if (!json_is_string(json_object_get(o, "transport")) || pat < 0 ||
	    count_of(o, "procs", &procs) || count_of(o, "size", &size) ||
	    !json_is_integer(json_object_get(o, "procs")) ||
	    !json_is_integer(json_object_get(o, "size"))) {
		snprintf(err, errlen,
			 "%s lacks a valid transport, pattern, "
			 "procs or size",
			 where);
		return -EINVAL;
	}
	if (top < 0 || wrk < 0 || count_of(o, "producers", &prod) ||
	    count_of(o, "consumers", &cons) || procs > UINT32_MAX ||
	    prod > UINT32_MAX || cons > UINT32_MAX) {
		snprintf(err, errlen,
			 "%s has an invalid topology, workers, "
			 "producers or consumers",
			 where);
		return -EINVAL;
	}
	copy_str(k->transport, sizeof(k->transport),
		 json_object_get(o, "transport"));
	k->pattern = (enum ipcb_pattern)pat;
	k->procs = (unsigned)procs;
	k->size = size;
	k->topology = (enum ipcb_topology)top;
	k->workers = (enum ipcb_workers)wrk;
	k->producers = (unsigned)prod;
	k->consumers = (unsigned)cons;
	copy_str(k->work, sizeof(k->work), json_object_get(o, "work"));
	if (!k->work[0])
		strcpy(k->work, "none");
	return 0;
}

static int result_of(json_t *o, struct ipcb_result *x, char *err, size_t errlen,
		     const char *where)
{
	json_t *lat = json_object_get(o, "latency_ns");
	json_t *spread = json_object_get(o, "spread");
	json_t *reps = json_object_get(o, "repetitions");
	int st = ENUM_OF(o, "status", status_names, IPCB_OK);
	uint64_t repeat;
	int rc;

	memset(x, 0, sizeof(*x));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s is not an object", where);
		return -EINVAL;
	}
	rc = key_of(o, &x->key, err, errlen, where);
	if (rc)
		return rc;
	if (st < 0 || count_of(o, "repeat", &repeat) ||
	    count_of(o, "messages", &x->messages) ||
	    count_of(o, "lost", &x->lost) ||
	    count_of(o, "duplicated", &x->duplicated) ||
	    count_of(o, "corrupt", &x->corrupt) ||
	    count_of(o, "chunk", &x->chunk) || repeat > IPCB_MAX_REPEAT ||
	    json_array_size(reps) > IPCB_MAX_REPEAT) {
		snprintf(err, errlen,
			 "%s has an invalid status, count or "
			 "repetition",
			 where);
		return -EINVAL;
	}
	x->status = (enum ipcb_status)st;
	x->repeat = (unsigned)repeat;
	copy_str(x->reason, sizeof(x->reason), json_object_get(o, "reason"));
	x->duration_s = num_of(json_object_get(o, "duration_s"));
	x->has_latency = json_is_object(lat);
	x->latency_rtt =
		json_is_string(json_object_get(o, "latency_kind")) &&
		strcmp(json_string_value(json_object_get(o, "latency_kind")),
		       "rtt") == 0;
	latency_of(x->has_latency ? lat : NULL, &x->lat);
	x->msgs_per_s = num_of(json_object_get(o, "msgs_per_s"));
	x->bytes_per_s = num_of(json_object_get(o, "bytes_per_s"));
	x->speedup = num_of(json_object_get(o, "speedup"));
	x->tput_min = num_of(json_object_get(spread, "msgs_per_s_min"));
	x->tput_max = num_of(json_object_get(spread, "msgs_per_s_max"));
	x->tput_cv = num_of(json_object_get(spread, "msgs_per_s_cv"));
	x->p50_cv = num_of(json_object_get(spread, "lat_p50_cv"));
	copy_str(x->detail, sizeof(x->detail), json_object_get(o, "detail"));
	copy_str(x->cpus, sizeof(x->cpus), json_object_get(o, "cpus"));
	copy_str(x->speedup_vs, sizeof(x->speedup_vs),
		 json_object_get(o, "speedup_vs"));
	if (json_array_size(reps) > 0) {
		x->repeat = (unsigned)json_array_size(reps);
		x->reps = calloc(x->repeat, sizeof(*x->reps));
		if (!x->reps)
			return -ENOMEM;
		for (unsigned j = 0; j < x->repeat; j++) {
			json_t *r = json_array_get(reps, j);
			x->reps[j].msgs_per_s =
				num_of(json_object_get(r, "msgs_per_s"));
			x->reps[j].bytes_per_s =
				num_of(json_object_get(r, "bytes_per_s"));
			latency_of(json_object_get(r, "latency_ns"),
				   &x->reps[j].lat);
		}
	}
	return 0;
}

static void context_of(json_t *c, struct ipcb_context *ctx)
{
	json_t *mq = json_object_get(c, "mq");
	json_t *lim = json_object_get(c, "limits");
	const char *cl = json_string_value(json_object_get(c, "command_line"));
	uint64_t v;

	ctx->command_line = cl ? strdup(cl) : NULL;
	copy_str(ctx->version, sizeof(ctx->version),
		 json_object_get(c, "version"));
	copy_str(ctx->git_revision, sizeof(ctx->git_revision),
		 json_object_get(c, "git_revision"));
	copy_str(ctx->start_time, sizeof(ctx->start_time),
		 json_object_get(c, "start_time"));
	copy_str(ctx->end_time, sizeof(ctx->end_time),
		 json_object_get(c, "end_time"));
	copy_str(ctx->hostname, sizeof(ctx->hostname),
		 json_object_get(c, "hostname"));
	copy_str(ctx->kernel, sizeof(ctx->kernel),
		 json_object_get(c, "kernel"));
	copy_str(ctx->cpu_model, sizeof(ctx->cpu_model),
		 json_object_get(c, "cpu_model"));
	copy_str(ctx->placement, sizeof(ctx->placement),
		 json_object_get(c, "placement"));
	ctx->cpu_count = count_of(c, "cpu_count", &v) || v > UINT32_MAX
				 ? 0
				 : (unsigned)v;
	ctx->mq_msg_max = count_of(mq, "msg_max", &v) ? 0 : (unsigned long)v;
	ctx->mq_msgsize_max =
		count_of(mq, "msgsize_max", &v) ? 0 : (unsigned long)v;
	ctx->cpu_work_iters_per_us =
		num_of(json_object_get(c, "cpu_work_iters_per_us"));
	ctx->has_limits = json_is_object(lim);
	ctx->limit_pingpong_ns = num_of(json_object_get(lim, "pingpong_ns"));
	ctx->limit_memcpy_64k_bps =
		num_of(json_object_get(lim, "memcpy_64k_bytes_per_s"));
}

static int read_json(const char *path, struct ipcb_results *r, char *err,
		     size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	json_t *results;
	int rc = 0;

	if (!root) {
		snprintf(err, errlen, "%s: not valid JSON (line %d: %s)", path,
			 je.line, je.text);
		return -EINVAL;
	}
	results = json_object_get(root, "results");
	if (!json_is_object(root) ||
	    !json_is_integer(json_object_get(root, "schema_version")) ||
	    !json_is_array(results)) {
		snprintf(err, errlen,
			 "%s: not an ipcbench results file (no schema_version "
			 "and results array)",
			 path);
		rc = -EINVAL;
		goto out;
	}
	if (json_integer_value(json_object_get(root, "schema_version")) !=
	    IPCB_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "%s: schema_version %lld, this ipcbench "
			 "reads %d",
			 path,
			 (long long)json_integer_value(
				 json_object_get(root, "schema_version")),
			 IPCB_SCHEMA_VERSION);
		rc = -EINVAL;
		goto out;
	}
	context_of(json_object_get(root, "context"), &r->ctx);
	r->ctx.partial = json_is_true(json_object_get(root, "partial"));
	for (size_t i = 0; i < json_array_size(results); i++) {
		struct ipcb_result x;
		char where[512];
		snprintf(where, sizeof(where), "%s: result %zu", path, i);
		rc = result_of(json_array_get(results, i), &x, err, errlen,
			       where);
		if (!rc)
			rc = ipcb_results_add(r, &x);
		free(x.reps);
		if (rc) {
			if (rc == -ENOMEM)
				snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
out:
	json_decref(root);
	return rc;
}

/* Splits one CSV record (RFC 4180 quoting, no line breaks in cells) into at
 * most max cells, in place. Returns the cell count. */
static size_t csv_split(char *line, char **cells, size_t max)
{
	size_t n = 0;
	char *p = line, *w;

	while (n < max) {
		cells[n++] = w = p;
		if (*p == '"') {
			for (p++; *p; p++) {
				if (*p == '"' && p[1] == '"') {
					*w++ = *++p;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p;
				}
			}
		}
		while (*p && *p != ',' && *p != '\n' && *p != '\r')
			*w++ = *p++;
		if (*p != ',') {
			*w = '\0';
			break;
		}
		*w = '\0';
		p++;
	}
	return n;
}

/* A CSV number cell as JSON: integer when it is all digits, else a finite
 * real, else null (left for the JSON checks to refuse). */
static json_t *csv_number(const char *v)
{
	char *end;
	double d;

	if (v[strspn(v, "0123456789")] == '\0' && strlen(v) < 19)
		return json_integer((json_int_t)strtoll(v, NULL, 10));
	d = strtod(v, &end);
	return *end == '\0' && isfinite(d) ? json_real(d) : json_string(v);
}

/* One CSV record as the JSON object the JSON reader takes, so both formats
 * are checked by the same code. */
static json_t *csv_record(const int *col, char **cells, size_t nc)
{
	json_t *o = json_object(), *lat = json_object(), *sp = json_object();

	for (size_t c = 0; c < NCSV; c++) {
		const char *name = csv_columns[c], *v;
		json_t *val;
		if (col[c] < 0 || (size_t)col[c] >= nc || !*cells[col[c]])
			continue;
		v = cells[col[c]];
		val = csv_text_column(name) ? jstr(v) : csv_number(v);
		if (strcmp(name, "lat_kind") == 0) {
			json_object_set_new(o, "latency_kind", val);
		} else if (strncmp(name, "lat_", 4) == 0 &&
			   strcmp(name, "lat_p50_cv") != 0) {
			char key[16];
			snprintf(key, sizeof(key), "%.*s",
				 (int)(strlen(name) - 7), name + 4);
			json_object_set_new(lat, key, val);
		} else if (strstr(name, "_min") || strstr(name, "_max") ||
			   strstr(name, "_cv")) {
			json_object_set_new(sp, name, val);
		} else {
			json_object_set_new(o, name, val);
		}
	}
	json_object_set_new(o, "latency_ns",
			    json_object_size(lat) ? json_incref(lat)
						  : json_null());
	json_decref(lat);
	json_object_set_new(o, "spread", sp);
	return o;
}

static int read_csv(FILE *f, const char *path, struct ipcb_results *r,
		    char *err, size_t errlen)
{
	char *line = NULL, *hdr[NCSV + 8], *cells[NCSV + 8];
	size_t cap = 0, nh, row = 0;
	int col[NCSV];
	int rc = 0;

	if (getline(&line, &cap, f) < 0) {
		snprintf(err, errlen, "%s: empty file", path);
		free(line);
		return -EINVAL;
	}
	nh = csv_split(line, hdr, NCSV + 8);
	for (size_t c = 0; c < NCSV; c++) {
		col[c] = -1;
		for (size_t h = 0; h < nh; h++)
			if (strcmp(hdr[h], csv_columns[c]) == 0)
				col[c] = (int)h;
	}
	for (size_t c = 0; c < NCSV_REQUIRED; c++)
		if (col[c] < 0) {
			snprintf(err, errlen,
				 "%s: not an ipcbench CSV (no "
				 "column %s)",
				 path, csv_columns[c]);
			free(line);
			return -EINVAL;
		}
	while (getline(&line, &cap, f) > 0) {
		size_t nc = csv_split(line, cells, NCSV + 8);
		struct ipcb_result x;
		char where[512];
		json_t *o;
		row++;
		if (nc == 1 && cells[0][0] == '\0')
			continue;
		o = csv_record(col, cells, nc);
		snprintf(where, sizeof(where), "%s: row %zu", path, row);
		rc = result_of(o, &x, err, errlen, where);
		json_decref(o);
		if (!rc)
			rc = ipcb_results_add(r, &x);
		free(x.reps);
		if (rc)
			break;
	}
	free(line);
	return rc;
}

int ipcb_read_results(const char *path, struct ipcb_results *r, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "re");
	int c, rc;

	ipcb_results_init(r);
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	do
		c = fgetc(f);
	while (c == ' ' || c == '\n' || c == '\t' || c == '\r');
	if (c == '{') {
		fclose(f);
		rc = read_json(path, r, err, errlen);
	} else {
		rewind(f);
		rc = read_csv(f, path, r, err, errlen);
		fclose(f);
	}
	if (rc == 0 && r->n == 0) {
		snprintf(err, errlen, "%s: no results", path);
		rc = -EINVAL;
	}
	if (rc)
		ipcb_results_free(r);
	return rc;
}
