/*
 * tracer.c - the process-wide tracer: init, shutdown, flush, statistics,
 * thread states, fork and exit.
 *
 * Lock order: lifecycle -> reg_mu -> mu. Only the fork handler holds all
 * three; elsewhere reg_mu and mu are never held together. Span calls take
 * no lock at all; a thread takes reg_mu once, when it first makes a span
 * under a tracer, and once more when it exits.
 *
 * fork(): the child keeps the tracer, its thread's current span and every
 * span context, so it can go on propagating the trace (trace_inject, or an
 * exec'ed program that reads the context from its environment). It does not
 * export: NNG's threads do not survive fork(), so the child never touches
 * the parent's socket. Spans the child samples are counted as
 * spans_dropped_shutdown, its trace_flush() returns TRACE_ETIMEDOUT, and its
 * trace_shutdown() only retires the tracer (TRACE_OK: nothing to flush).
 * The child's ID generator is reseeded, so parent and child never share
 * IDs.
 *
 * Exit: an atexit handler runs trace_shutdown(TRACE_EXIT_FLUSH_MS, default
 * 1000 ms), so spans ended before exit() are delivered when a collector is
 * reachable.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

struct trace__globals trace__glob;
TRACE_TLS struct trace__tstate *trace__tls;

static pthread_mutex_t lifecycle = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
/* Stopped tracers stay allocated (see trace_impl.h); the newest one still
 * answers trace_stats(). Guarded by lifecycle. */
static struct trace__tracer *retired;
static _Atomic(struct trace__tracer *) last;
/* The tracer seen by the fork handlers (lifecycle held across fork). */
static struct trace__tracer *forking;

void
trace__log(const struct trace__tracer *tr, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (tr == NULL || tr->log_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tr->log_fn(level, msg, tr->log_arg);
}

void
trace__kick(struct trace__tracer *tr)
{
	/* The flag keeps this to one sem_post per exporter cycle; sem_post
	 * enters the kernel only when the exporter is waiting. */
	if (atomic_load_explicit(&tr->kicked, memory_order_relaxed))
		return;
	if (!atomic_exchange(&tr->kicked, 1))
		sem_post(&tr->kick);
}

/* Waking a sleeping exporter costs the span thread a futex syscall and,
 * with the exporter on another CPU, an IPI: about 10 us in this VM
 * (docs/LIBTRACE.md, "Where the exporter runs"). A pacing exporter wakes
 * by itself before a quarter of the queue waits, so the kick is spared
 * until its wake-up is overdue, or until half the queue waits in this
 * thread's ring (spans came faster than the exporter measured). */
void
trace__kick_unless_paced(struct trace__tstate *ts, uint64_t head)
{
	struct trace__tracer *tr = ts->tr;
	uint64_t until = atomic_load_explicit(&tr->pace_until,
	    memory_order_relaxed);

	if (until == 0 || head - atomic_load_explicit(&ts->tail,
	    memory_order_relaxed) >= 2 * (uint64_t)tr->kick_every ||
	    trace__mono_ns() >= until)
		trace__kick(tr);
}

/* ------------------------------------------------------------------ */
/* Thread states                                                      */
/* ------------------------------------------------------------------ */

#define COUNT_ADD(f) atomic_fetch_add(&dst->f, atomic_load(&src->f))
/* Adds what happened to spans (ended, dropped) from src into dst. */
static void
count_add_outcomes(struct trace__tcount *dst, struct trace__tcount *src)
{
	COUNT_ADD(ended);
	COUNT_ADD(dropped_full);
	COUNT_ADD(dropped_nomem);
	COUNT_ADD(dropped_off);
}

/* Adds how spans began (started, sampled out) from src into dst. */
static void
count_add_starts(struct trace__tcount *dst, struct trace__tcount *src)
{
	COUNT_ADD(started_sampled);
	COUNT_ADD(sampled_out);
}
#undef COUNT_ADD

/* Adds ts's outcomes into dst: its counters, and the records it queued
 * on its ring (its pub_head; each one is an ended span). */
static void
count_add_state_outcomes(struct trace__tcount *dst, struct trace__tstate *ts)
{
	count_add_outcomes(dst, &ts->c);
	atomic_fetch_add(&dst->ended, atomic_load(&ts->pub_head));
}

/* Adds every count of ts into dst (a state leaving the registry). */
static void
count_add_state(struct trace__tcount *dst, struct trace__tstate *ts)
{
	count_add_state_outcomes(dst, ts);
	count_add_starts(dst, &ts->c);
}

/* Frees a thread state that is off the registry. */
static void
tstate_free(struct trace__tstate *ts)
{
	struct trace__light *l;

	free(ts->spare);
	ts->spare = NULL;
	while ((l = ts->light) != NULL) {
		ts->light = l->next;
		free(l);
	}
	free(ts->ring);
	free(ts);
}

/* Unlinks ts from its tracer's registry (reg_mu held). */
static void
tstate_unlink(struct trace__tracer *tr, struct trace__tstate *ts)
{
	struct trace__tstate **pp;

	for (pp = &tr->threads; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ts) {
			*pp = ts->next;
			break;
		}
	}
	count_add_state(&tr->dead_c, ts);
}

/*
 * Lets go of a thread state: its cached records go back to the pool, and
 * the state is freed now when no exporter reads it, else marked dead for
 * the exporter to free once its ring is drained.
 */
static void
tstate_release(struct trace__tstate *ts)
{
	struct trace__tracer *tr = ts->tr;
	struct trace__light *l;

	if (ts->cache_end != ts->cache_pos) {
		trace__pool_release(tr, ts->cache + ts->cache_pos,
		    ts->cache_end - ts->cache_pos);
		ts->cache_pos = ts->cache_end = 0;
	}
	free(ts->spare);
	ts->spare = NULL;
	while ((l = ts->light) != NULL) {
		ts->light = l->next;
		free(l);
	}
	pthread_mutex_lock(&tr->reg_mu);
	if (atomic_load(&tr->exporter_alive)) {
		atomic_store(&ts->dead, 1);
		ts = NULL;
	} else {
		tstate_unlink(tr, ts);
	}
	pthread_mutex_unlock(&tr->reg_mu);
	if (ts != NULL)
		tstate_free(ts);
}

static void
thread_exit(void *arg)
{
	struct trace__tstate *ts = arg;

	if (trace__tls == ts)
		trace__tls = NULL;
	if (ts != NULL)
		tstate_release(ts);
}

/* A zeroed thread state with a ring of cap slots, or NULL. Aligned: its
 * fields are grouped by the cache line of the thread that writes them. */
static struct trace__tstate *
tstate_alloc(size_t cap)
{
	struct trace__tstate *ts;

	if ((ts = aligned_alloc(64, (sizeof *ts + 63) & ~(size_t)63)) == NULL)
		return NULL;
	memset(ts, 0, sizeof *ts);
	if ((ts->ring = calloc(cap, sizeof *ts->ring)) == NULL) {
		free(ts);
		return NULL;
	}
	return ts;
}

struct trace__tstate *
trace__tstate_slow(void)
{
	struct trace__tracer *tr;
	struct trace__tstate *ts = trace__tls;
	size_t cap = 1;

	if (ts != NULL) {
		trace__tls = NULL;
		tstate_release(ts);
	}
	tr = atomic_load_explicit(&trace__g_tracer, memory_order_acquire);
	if (tr == NULL)
		return NULL;
	while (cap < tr->nrec)
		cap <<= 1;
	if ((ts = tstate_alloc(cap)) == NULL) {
		atomic_fetch_add(&tr->no_memory, 1);
		return NULL;
	}
	ts->tr = tr;
	ts->mask = cap - 1;
	ts->kick_at = tr->kick_every;
	ts->prefetchw = trace__has_prefetchw; /* detected before any tracer */
	memcpy(ts->presample, tr->presample, sizeof ts->presample);
	/* A start prefetches the cache entry some spans ahead even past the
	 * cache's end: let every entry point at a record, never NULL. */
	for (size_t i = 0; i < TRACE_ARRAY_LEN(ts->cache); i++)
		ts->cache[i] = (struct trace__rec *)tr->pool;
	if (!trace__rng_seeded)
		trace__ids_reseed(); /* the span path draws IDs unchecked */
	pthread_mutex_lock(&tr->reg_mu);
	ts->next = tr->threads;
	tr->threads = ts;
	pthread_mutex_unlock(&tr->reg_mu);
	trace__tls = ts;
	pthread_setspecific(tls_key, ts);
	return ts;
}

/* ------------------------------------------------------------------ */
/* Fork and exit                                                      */
/* ------------------------------------------------------------------ */

static void
fork_prepare(void)
{
	pthread_mutex_lock(&lifecycle);
	forking = atomic_load(&trace__g_tracer);
	if (forking != NULL) {
		pthread_mutex_lock(&forking->reg_mu);
		pthread_mutex_lock(&forking->mu);
		pthread_mutex_lock(&forking->free_mu);
	}
}

static void
fork_parent(void)
{
	if (forking != NULL) {
		pthread_mutex_unlock(&forking->free_mu);
		pthread_mutex_unlock(&forking->mu);
		pthread_mutex_unlock(&forking->reg_mu);
	}
	pthread_mutex_unlock(&lifecycle);
}

static void
fork_child(void)
{
	struct trace__tracer *tr = forking;

	trace__ids_reseed();
	if (tr != NULL) {
		/* Only this thread exists now; no exporter, no NNG. */
		tr->record_ok = false;
		/* The span path takes records from the thread's cache
		 * without looking at record_ok: empty it, so that the
		 * child's sampled starts reach the check (the records are
		 * simply left unused in the child). */
		if (trace__tls != NULL && trace__tls->tr == tr)
			trace__tls->cache_pos = trace__tls->cache_end = 0;
		atomic_store(&tr->exporter_alive, false);
		tr->thread_started = false;
		tr->sock_open = false;
		pthread_mutex_unlock(&tr->free_mu);
		pthread_mutex_unlock(&tr->mu);
		pthread_mutex_unlock(&tr->reg_mu);
	}
	pthread_mutex_unlock(&lifecycle);
}

static void
at_exit(void)
{
	struct trace__tracer *tr = atomic_load(&trace__g_tracer);

	if (tr != NULL)
		trace_shutdown((int)tr->exit_flush_ms);
}

static void
global_setup(void)
{
	trace__cpu_detect();
	pthread_key_create(&tls_key, thread_exit);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atexit(at_exit);
}

/* ------------------------------------------------------------------ */
/* Init and shutdown                                                  */
/* ------------------------------------------------------------------ */

/* Frees a tracer that never ran (no span can point into it). */
static void
tracer_free(struct trace__tracer *tr)
{
	if (tr == NULL)
		return;
	trace__pool_free(tr);
	free(tr->exp);
	if (tr->aio != NULL)
		nng_aio_free(tr->aio);
	free(tr->resource_pb);
	free(tr->scope_pb);
	free(tr->endpoint);
	free(tr->propagators);
	free(tr->service_name);
	free(tr);
}

static int
tracer_sync_init(struct trace__tracer *tr)
{
	pthread_condattr_t ca;

	if (sem_init(&tr->kick, 0, 0) != 0)
		return TRACE_ENOMEM;
	pthread_mutex_init(&tr->reg_mu, NULL);
	pthread_mutex_init(&tr->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tr->cond, &ca);
	pthread_condattr_destroy(&ca);
	return TRACE_OK;
}

static int
tracer_new(const struct trace_config *cfg, struct trace__tracer **out)
{
	struct trace__tracer *tr;
	size_t queue = cfg->queue_size, batch = cfg->batch_size;

	if ((tr = aligned_alloc(64, (sizeof *tr + 63) & ~(size_t)63)) == NULL)
		return TRACE_ENOMEM;
	memset(tr, 0, sizeof *tr);
	trace__sampler_setup(tr, cfg->sampler, cfg->ratio);
	tr->record_ok = true;
	tr->limits = cfg->limits;
	tr->batch_size = (uint32_t)(batch < queue ? batch : queue);
	/* A wake-up costs the span thread a futex syscall: wake the
	 * exporter when a quarter of the buffer waits in one thread's
	 * ring (or the pool runs dry), not every batch. */
	tr->kick_every = tr->batch_size > queue / 4 ? tr->batch_size :
	    (uint32_t)(queue / 4);
	tr->delay_ms = cfg->delay_ms;
	tr->export_timeout_ms = cfg->export_timeout_ms;
	tr->exit_flush_ms = cfg->exit_flush_ms;
	tr->span_bytes = cfg->span_bytes;
	tr->log_fn = cfg->log_fn;
	tr->log_arg = cfg->log_arg;
	tr->rng = trace__rand64();
	if ((tr->endpoint = strdup(cfg->endpoint ? cfg->endpoint :
	    TRACE_DEFAULT_ENDPOINT)) == NULL ||
	    (tr->propagators = strdup(cfg->propagators ? cfg->propagators :
	    "tracecontext,baggage")) == NULL ||
	    trace__pool_init(tr, queue, cfg->span_bytes) != TRACE_OK ||
	    trace__resource_encode(tr, cfg) != TRACE_OK ||
	    tracer_sync_init(tr) != TRACE_OK) {
		tracer_free(tr);
		return TRACE_ENOMEM;
	}
	*out = tr;
	return TRACE_OK;
}

static int
init_locked(const trace_config *ucfg)
{
	struct trace_config *cfg = NULL;
	struct trace__tracer *tr;
	int rv;

	if (atomic_load(&trace__g_tracer) != NULL)
		return TRACE_EBUSY;
	if (ucfg == NULL)
		rv = trace_config_new(&cfg);
	else
		rv = (cfg = trace__config_copy(ucfg)) ? TRACE_OK : TRACE_ENOMEM;
	if (rv != TRACE_OK)
		return rv;
	if (cfg->disabled) {
		trace_config_free(cfg);
		return TRACE_EDISABLED;
	}
	if ((rv = tracer_new(cfg, &tr)) != TRACE_OK) {
		trace_config_free(cfg);
		return rv;
	}
	for (int i = 0; i < cfg->nwarn; i++)
		trace__log(tr, 4, "%s", cfg->warn[i]);
	trace__clock_resync();
	rv = trace__exporter_start(tr, cfg);	/* reads the TLS files */
	trace_config_free(cfg);
	if (rv != TRACE_OK) {
		tracer_free(tr);
		return rv;
	}
	atomic_store(&last, tr);
	atomic_store_explicit(&trace__g_tracer, tr, memory_order_release);
	return TRACE_OK;
}

int
trace_init(const trace_config *cfg)
{
	int rv;

	pthread_once(&once, global_setup);
	pthread_mutex_lock(&lifecycle);
	rv = init_locked(cfg);
	pthread_mutex_unlock(&lifecycle);
	return rv;
}

int
trace_shutdown(int timeout_ms)
{
	struct trace__tracer *tr;
	uint64_t before, deadline;

	pthread_mutex_lock(&lifecycle);
	if ((tr = atomic_load(&trace__g_tracer)) == NULL) {
		pthread_mutex_unlock(&lifecycle);
		return TRACE_ECLOSED;
	}
	/* From here new spans are NULL and late ends are counted drops. */
	atomic_store(&trace__g_tracer, NULL);
	before = atomic_load(&tr->dropped_shutdown);
	deadline = timeout_ms < 0 ? UINT64_MAX :
	    trace__mono_ns() + (uint64_t)timeout_ms * 1000000u;
	if (tr->record_ok)
		trace__exporter_stop(tr, deadline);
	tr->retired_next = retired;
	retired = tr;
	pthread_mutex_unlock(&lifecycle);
	return atomic_load(&tr->dropped_shutdown) != before ?
	    TRACE_ETIMEDOUT : TRACE_OK;
}

bool
trace_is_running(void)
{
	return atomic_load(&trace__g_tracer) != NULL;
}

int
trace_flush(int timeout_ms)
{
	struct trace__tracer *tr;
	struct trace__tstate *ts;
	struct timespec until;
	uint64_t req, deadline;
	int rv = TRACE_OK;

	/* The lifecycle lock only pins tr while the marks are set; a
	 * shutdown during the wait ends it (the exporter completes every
	 * flush as it exits). */
	pthread_mutex_lock(&lifecycle);
	tr = atomic_load(&trace__g_tracer);
	if (tr == NULL || !tr->record_ok) {
		pthread_mutex_unlock(&lifecycle);
		return tr == NULL ? TRACE_ECLOSED : TRACE_ETIMEDOUT;
	}
	pthread_mutex_lock(&tr->reg_mu);
	for (ts = tr->threads; ts != NULL; ts = ts->next)
		ts->flush_mark = atomic_load(&ts->pub_head);
	req = atomic_fetch_add(&tr->flush_req, 1) + 1;
	pthread_mutex_unlock(&tr->reg_mu);
	pthread_mutex_unlock(&lifecycle);
	sem_post(&tr->kick);
	deadline = timeout_ms < 0 ? UINT64_MAX :
	    trace__mono_ns() + (uint64_t)timeout_ms * 1000000u;
	until.tv_sec = (time_t)(deadline / 1000000000u);
	until.tv_nsec = (long)(deadline % 1000000000u);
	pthread_mutex_lock(&tr->mu);
	while (atomic_load(&tr->flush_done) < req && rv == TRACE_OK) {
		if (deadline == UINT64_MAX)
			pthread_cond_wait(&tr->cond, &tr->mu);
		else if (pthread_cond_timedwait(&tr->cond, &tr->mu,
		    &until) != 0 && atomic_load(&tr->flush_done) < req)
			rv = TRACE_ETIMEDOUT;
	}
	pthread_mutex_unlock(&tr->mu);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Statistics and hooks                                               */
/* ------------------------------------------------------------------ */

/*
 * Reads the counters in the reverse of the order a span moves through them
 * (exported, then dropped and ended, then started) so that a snapshot taken
 * while spans flow never shows more exported than ended, nor more ended than
 * started.
 */
static void
stats_from(struct trace__tracer *tr, trace_stats_t *out)
{
	struct trace__tcount c;
	struct trace__tstate *ts;

	memset(&c, 0, sizeof c);
	out->spans_exported = atomic_load(&tr->exported);
	out->spans_dropped_rejected = atomic_load(&tr->dropped_rejected);
	out->spans_dropped_shutdown = atomic_load(&tr->dropped_shutdown);
	out->spans_dropped_no_memory = atomic_load(&tr->no_memory);
	out->spans_ended = atomic_load(&tr->late_ended);
	pthread_mutex_lock(&tr->reg_mu);
	count_add_outcomes(&c, &tr->dead_c);
	for (ts = tr->threads; ts != NULL; ts = ts->next) {
		count_add_state_outcomes(&c, ts);
		out->queue_depth += trace__ring_depth(ts);
	}
	count_add_starts(&c, &tr->dead_c);
	for (ts = tr->threads; ts != NULL; ts = ts->next)
		count_add_starts(&c, &ts->c);
	pthread_mutex_unlock(&tr->reg_mu);
	out->spans_started = c.started_sampled + c.sampled_out;
	out->spans_ended += c.ended;
	out->spans_sampled_out = c.sampled_out;
	out->spans_dropped_queue_full = c.dropped_full;
	out->spans_dropped_no_memory += c.dropped_nomem;
	out->spans_dropped_shutdown += c.dropped_off;
	out->batches_sent = atomic_load(&tr->batches_sent);
	out->batches_acked = atomic_load(&tr->batches_acked);
	out->batches_retried = atomic_load(&tr->batches_retried);
}

void
trace_stats(trace_stats_t *out)
{
	struct trace__tracer *tr;

	if (out == NULL)
		return;
	memset(out, 0, sizeof *out);
	/* No lifecycle lock: tracers are never freed once they ran, and
	 * stats must not wait for a shutdown in progress. */
	if ((tr = atomic_load(&trace__g_tracer)) == NULL)
		tr = atomic_load(&last);
	if (tr != NULL)
		stats_from(tr, out);
}

const char *
trace__propagators(void)
{
	struct trace__tracer *tr = atomic_load(&trace__g_tracer);
	const char *v;

	if (tr != NULL)
		return tr->propagators;
	v = getenv("OTEL_PROPAGATORS");
	return v != NULL && *v != '\0' ? v : "tracecontext,baggage";
}

/* ------------------------------------------------------------------ */
/* Exporter side of the registry                                      */
/* ------------------------------------------------------------------ */

size_t
trace__collect(struct trace__tracer *tr, struct trace__rec **out, size_t max)
{
	struct trace__tstate **pp = &tr->threads, *ts;
	size_t n = 0;

	pthread_mutex_lock(&tr->reg_mu);
	while ((ts = *pp) != NULL) {
		uint64_t h = atomic_load_explicit(&ts->pub_head,
		    memory_order_acquire);
		uint64_t t = atomic_load_explicit(&ts->tail,
		    memory_order_relaxed);

		while (t < h && n < max)
			out[n++] = ts->ring[t++ & ts->mask];
		atomic_store_explicit(&ts->tail, t, memory_order_release);
		if (t == h && atomic_load(&ts->dead)) {
			/* Its thread is gone and its ring is empty. */
			*pp = ts->next;
			count_add_state(&tr->dead_c, ts);
			tstate_free(ts);
			continue;
		}
		pp = &ts->next;
	}
	pthread_mutex_unlock(&tr->reg_mu);
	return n;
}
