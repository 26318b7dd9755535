/*
 * sweep.c - running a list of configurations with repetitions (see
 * sweep.h).
 */
#define _GNU_SOURCE
#include "harness/sweep.h"
#include "harness/msg.h"
#include "harness/stats.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Repetitions whose throughput varies more than this (cv) get a warning. */
#define NOISY_CV 0.10

static void progress(size_t i, size_t n, const struct ipcb_config_key *k,
		     uint64_t t0)
{
	double elapsed = (double)(ipcb_now_ns() - t0) / 1e9;
	char name[160];

	ipcb_key_name(k, name, sizeof(name));
	fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.0fs elapsed", i + 1, n, name,
		elapsed);
	if (i > 0)
		fprintf(stderr, ", ~%.0fs left",
			elapsed / (double)i * (double)(n - i));
	fflush(stderr);
}

/* Medians and spread over the repetitions in res->reps. */
static void summarize(struct ipcb_result *res)
{
	unsigned n = res->repeat;
	double *v = malloc(n * sizeof(double));
	struct ipcb_rep *rp = res->reps;

	if (!v)
		return;
#define MEDIAN_OF(field)                         \
	({                                       \
		for (unsigned i = 0; i < n; i++) \
			v[i] = rp[i].field;      \
		ipcb_median(v, n);               \
	})
	res->msgs_per_s = MEDIAN_OF(msgs_per_s);
	res->bytes_per_s = MEDIAN_OF(bytes_per_s);
	res->lat.min = MEDIAN_OF(lat.min);
	res->lat.mean = MEDIAN_OF(lat.mean);
	res->lat.p50 = MEDIAN_OF(lat.p50);
	res->lat.p90 = MEDIAN_OF(lat.p90);
	res->lat.p99 = MEDIAN_OF(lat.p99);
	res->lat.p999 = MEDIAN_OF(lat.p999);
	res->lat.max = MEDIAN_OF(lat.max);
#undef MEDIAN_OF
	res->tput_min = res->tput_max = res->tput_cv = res->p50_cv = NAN;
	if (n > 1) {
		for (unsigned i = 0; i < n; i++)
			v[i] = rp[i].msgs_per_s;
		res->tput_cv = ipcb_cv(v, n);
		ipcb_median(v, n); /* sorts */
		res->tput_min = v[0];
		res->tput_max = v[n - 1];
		if (res->has_latency) {
			for (unsigned i = 0; i < n; i++)
				v[i] = rp[i].lat.p50;
			res->p50_cv = ipcb_cv(v, n);
		}
	}
	free(v);
}

/* Consumes a SIGINT or SIGTERM that arrived while no run was waiting for
 * signals (between runs, or during the sequential baseline, which only
 * polls) and returns it; 0 if none is pending. */
static int take_stop_signal(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sig = sigtimedwait(&set, NULL, &zero);
	return sig < 0 ? 0 : sig;
}

static void warn_if_noisy(const struct ipcb_result *res)
{
	char name[160];
	double cv = fmax(isnan(res->tput_cv) ? 0 : res->tput_cv,
			 isnan(res->p50_cv) ? 0 : res->p50_cv);

	if (cv <= NOISY_CV)
		return;
	ipcb_key_name(&res->key, name, sizeof(name));
	fprintf(stderr,
		"warning: %s varies %.0f%% between repetitions; "
		"pinning (--cpus), a longer --duration or a quiet machine "
		"usually help\n",
		name, cv * 100);
}

enum ipcb_sweep_end ipcb_sweep_run(const struct ipcb_run_config *items,
				   size_t n, unsigned repeat,
				   struct ipcb_results *out, int *sig,
				   char *err, size_t errlen)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t t0 = ipcb_now_ns();
	enum ipcb_sweep_end end = IPCB_SWEEP_DONE;

	*sig = 0;
	for (size_t i = 0; i < n && end == IPCB_SWEEP_DONE; i++) {
		const struct ipcb_run_config *cfg = &items[i];
		struct ipcb_result res;
		enum ipcb_run_fail f = IPCB_RUN_OK;

		memset(&res, 0, sizeof(res));
		res.key = cfg->key;
		res.speedup = NAN;
		if (tty)
			progress(i, n, &cfg->key, t0);
		if (cfg->key.workers != IPCB_SEQUENTIAL)
			f = ipcb_run_check(cfg, res.reason, sizeof(res.reason));
		if (f == IPCB_RUN_NOT_APPLICABLE) {
			res.status = IPCB_NOT_APPLICABLE;
			if (ipcb_results_add(out, &res))
				end = IPCB_SWEEP_FAILED;
			continue;
		}
		res.reps = calloc(repeat, sizeof(*res.reps));
		if (!res.reps) {
			snprintf(err, errlen, "out of memory");
			end = IPCB_SWEEP_FAILED;
			break;
		}
		for (unsigned rep = 0; rep < repeat && f == IPCB_RUN_OK;
		     rep++) {
			struct ipcb_result one = res;
			if ((*sig = take_stop_signal())) {
				f = IPCB_RUN_INTERRUPTED;
				break;
			}
			if (cfg->key.workers == IPCB_SEQUENTIAL)
				f = ipcb_run_sequential(cfg, &res.reps[rep],
							&one, err, errlen);
			else
				f = ipcb_run_once(cfg, &res.reps[rep], &one,
						  sig, err, errlen);
			if (f == IPCB_RUN_INTERRUPTED && !*sig)
				*sig = take_stop_signal();
			if (f != IPCB_RUN_OK)
				break;
			/* Counts add up over repetitions; the rest is the
			 * same in each. */
			one.messages += res.messages;
			one.lost += res.lost;
			one.duplicated += res.duplicated;
			one.corrupt += res.corrupt;
			res = one;
			res.repeat = rep + 1;
		}
		if (f == IPCB_RUN_INTERRUPTED) {
			end = IPCB_SWEEP_INTERRUPTED;
		} else if (f != IPCB_RUN_OK) {
			end = IPCB_SWEEP_FAILED;
		} else {
			summarize(&res);
			if (repeat > 1)
				warn_if_noisy(&res);
			if (res.messages == 0) {
				res.status = IPCB_FAILED;
				snprintf(res.reason, sizeof(res.reason),
					 "no message completed in the %g s "
					 "window; use a longer --duration",
					 cfg->duration_s);
			} else if (res.lost || res.duplicated || res.corrupt) {
				res.status = IPCB_FAILED;
				snprintf(res.reason, sizeof(res.reason),
					 "%llu lost, %llu duplicated, %llu "
					 "corrupt messages",
					 (unsigned long long)res.lost,
					 (unsigned long long)res.duplicated,
					 (unsigned long long)res.corrupt);
			}
			if (ipcb_results_add(out, &res)) {
				snprintf(err, errlen, "out of memory");
				end = IPCB_SWEEP_FAILED;
			}
		}
		free(res.reps);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	ipcb_sweep_speedups(out);
	return end;
}

static bool same_but_procs(const struct ipcb_config_key *a,
			   const struct ipcb_config_key *b)
{
	return strcmp(a->transport, b->transport) == 0 &&
	       a->pattern == b->pattern && a->size == b->size &&
	       a->topology == b->topology && strcmp(a->work, b->work) == 0 &&
	       a->workers == b->workers;
}

void ipcb_sweep_speedups(struct ipcb_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct ipcb_result *x = &r->v[i];
		x->speedup = NAN;
		if (x->status != IPCB_OK || x->key.workers == IPCB_SEQUENTIAL ||
		    x->key.pattern != IPCB_THROUGHPUT)
			continue;
		for (size_t j = 0; j < r->n; j++) {
			const struct ipcb_result *b = &r->v[j];
			bool seq = b->key.workers == IPCB_SEQUENTIAL &&
				   b->key.size == x->key.size &&
				   strcmp(b->key.work, x->key.work) == 0;
			bool one = same_but_procs(&b->key, &x->key) &&
				   (x->key.topology == IPCB_PAIRS
					    ? b->key.procs == 2
					    : b->key.consumers == 1 &&
						      b->key.producers ==
							      x->key.producers);
			/* A baseline is not compared with itself: 1.00x says
			 * nothing that was measured. */
			if (j == i || b->status != IPCB_OK || !(seq || one) ||
			    !(b->msgs_per_s > 0))
				continue;
			x->speedup = x->msgs_per_s / b->msgs_per_s;
			snprintf(x->speedup_vs, sizeof(x->speedup_vs), "%s",
				 seq ? "sequential" : "1 consumer");
			if (seq)
				break;
		}
	}
}
