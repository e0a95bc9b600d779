/*
 * exporter.c - the background thread that batches ended spans, encodes
 * them as an OTLP ExportTraceServiceRequest and sends them to
 * tracecollector over NNG REQ/REP.
 *
 * One REQ socket dials every endpoint of TRACE_ENDPOINT (comma-separated;
 * tls+tcp:// ones with the TRACE_TLS_* settings, see tls.c):
 * NNG hands each request to one connected collector, which spreads batches
 * over the collectors that are up. The collector answers each batch with a
 * tracequery.v1.IngestReply (decoded here by hand). A batch is resent, with
 * exponential backoff and full jitter, until a reply settles it: OK,
 * PARTIAL or INVALID. Timeouts, transport errors, undecodable replies,
 * RETRY_LATER (honouring retry_after_ms) and INTERNAL all mean "resend".
 * TOO_LARGE splits the batch in two. Records go back to the pool once
 * their batch is settled; while a collector is down the pool fills, and
 * span starts beyond it are dropped and counted.
 *
 * Wake-ups: every OTEL_BSP_SCHEDULE_DELAY, when a thread has ended a batch
 * worth of spans or found the pool empty (trace__kick), on trace_flush and
 * on trace_shutdown.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace_impl.h"

#include <nng/protocol/reqrep0/req.h>

enum {
	REPLY_OK = 0,
	REPLY_PARTIAL = 1,
	REPLY_INVALID = 2,
	REPLY_RETRY_LATER = 3,
	REPLY_INTERNAL = 4,
	REPLY_TOO_LARGE = 5,
};

/* ------------------------------------------------------------------ */
/* IngestReply                                                        */
/* ------------------------------------------------------------------ */

static int
get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (*pos >= len)
			return -1;
		c = p[(*pos)++];
		v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Skips a field of wire type wt. */
static int
skip_field(const uint8_t *p, size_t len, size_t *pos, unsigned wt)
{
	uint64_t n;

	switch (wt) {
	case 0:
		return get_varint(p, len, pos, &n);
	case 1:
		n = 8;
		break;
	case 5:
		n = 4;
		break;
	case 2:
		if (get_varint(p, len, pos, &n) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (n > len - *pos)
		return -1;
	*pos += n;
	return 0;
}

int
trace__ingest_reply_decode(const uint8_t *p, size_t len,
    struct trace__reply *out)
{
	size_t pos = 0;
	uint64_t key, v;

	memset(out, 0, sizeof *out);
	while (pos < len) {
		if (get_varint(p, len, &pos, &key) != 0 || key >> 3 == 0)
			return -1;
		if ((key >> 3) > 5 || (key >> 3) == 4) {
			if (skip_field(p, len, &pos, key & 7) != 0)
				return -1;
			continue;
		}
		if ((key & 7) != 0 || get_varint(p, len, &pos, &v) != 0)
			return -1;
		switch (key >> 3) {
		case 1: out->code = (uint32_t)v; break;
		case 2: out->accepted = (int64_t)v; break;
		case 3: out->rejected = (int64_t)v; break;
		case 5: out->retry_after_ms = (uint32_t)v; break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Timing                                                             */
/* ------------------------------------------------------------------ */

static struct timespec
abs_ts(uint64_t mono_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(mono_ns / 1000000000u);
	ts.tv_nsec = (long)(mono_ns % 1000000000u);
	return ts;
}

/* True once the exporter must stop trying: aborted, or past the
 * shutdown deadline. */
static bool
give_up(struct trace__tracer *tr)
{
	if (atomic_load(&tr->aborting))
		return true;
	return atomic_load(&tr->stopping) &&
	    trace__mono_ns() >= atomic_load(&tr->deadline_ns);
}

/* Sleeps ms, cut short by shutdown; never past the shutdown deadline. */
static void
nap(struct trace__tracer *tr, uint32_t ms)
{
	uint64_t until = trace__mono_ns() + (uint64_t)ms * 1000000u;
	struct timespec ts;

	pthread_mutex_lock(&tr->mu);
	while (!give_up(tr) && trace__mono_ns() < until) {
		uint64_t stop = until;

		if (atomic_load(&tr->stopping) &&
		    atomic_load(&tr->deadline_ns) < stop)
			stop = atomic_load(&tr->deadline_ns);
		ts = abs_ts(stop);
		if (pthread_cond_timedwait(&tr->cond, &tr->mu, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&tr->mu);
}

/* Exponential backoff with full jitter: uniform in [base/2, base). */
static uint32_t
backoff_ms(struct trace__tracer *tr, unsigned attempt)
{
	uint64_t base = TRACE_BACKOFF_MIN_MS;

	while (attempt-- > 0 && base < TRACE_BACKOFF_MAX_MS)
		base *= 2;
	if (base > TRACE_BACKOFF_MAX_MS)
		base = TRACE_BACKOFF_MAX_MS;
	tr->rng ^= tr->rng << 13;
	tr->rng ^= tr->rng >> 7;
	tr->rng ^= tr->rng << 17;
	return (uint32_t)(base / 2 + tr->rng % (base / 2));
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

/*
 * Runs the operation started on tr->aio to completion. A shutdown past
 * its deadline sets `aborting`, then cancels the aio; checking the flag
 * after starting closes the window where the cancel came first. (Closing
 * the socket under a blocked call instead races inside NNG 1.5.)
 */
static int
aio_finish(struct trace__tracer *tr)
{
	if (atomic_load(&tr->aborting))
		nng_aio_cancel(tr->aio);
	nng_aio_wait(tr->aio);
	return nng_aio_result(tr->aio);
}

/* How long to wait for a reply: the export timeout, cut to the shutdown
 * deadline while stopping. */
static nng_duration
reply_wait(struct trace__tracer *tr)
{
	nng_duration wait = tr->export_timeout_ms ?
	    (nng_duration)tr->export_timeout_ms : NNG_DURATION_INFINITE;
	uint64_t now, dl, left;

	if (!atomic_load(&tr->stopping))
		return wait;
	now = trace__mono_ns();
	dl = atomic_load(&tr->deadline_ns);
	left = dl > now ? (dl - now) / 1000000u + 1 : 1;
	if (dl != UINT64_MAX &&
	    (wait == NNG_DURATION_INFINITE || left < (uint64_t)wait))
		wait = (nng_duration)left;
	return wait;
}

/* Sends one request and waits for its reply. Returns 0 with *rep filled,
 * or -1 on a transport error, a timeout or an undecodable reply. */
static int
exchange(struct trace__tracer *tr, const struct trace__buf *b,
    struct trace__reply *rep)
{
	nng_msg *m;
	int rv;

	if (nng_msg_alloc(&m, b->len) != 0)
		return -1;
	memcpy(nng_msg_body(m), b->p, b->len);
	nng_aio_set_msg(tr->aio, m);
	nng_aio_set_timeout(tr->aio, TRACE_SEND_TIMEOUT_MS);
	nng_send_aio(tr->sock, tr->aio);
	if ((rv = aio_finish(tr)) != 0) {
		nng_msg_free(m);    /* still ours when the send failed */
		trace__log(tr, 7, "export send: %s", nng_strerror(rv));
		return -1;
	}
	nng_aio_set_timeout(tr->aio, reply_wait(tr));
	nng_recv_aio(tr->sock, tr->aio);
	if ((rv = aio_finish(tr)) != 0) {
		trace__log(tr, 7, "export reply: %s", nng_strerror(rv));
		return -1;
	}
	m = nng_aio_get_msg(tr->aio);
	rv = trace__ingest_reply_decode(nng_msg_body(m), nng_msg_len(m), rep);
	nng_msg_free(m);
	if (rv != 0)
		trace__log(tr, 4, "export: undecodable reply from collector");
	return rv;
}

/* Applies a settling reply to the counters; false when it asks for a
 * resend. */
static bool
settle(struct trace__tracer *tr, const struct trace__reply *rep, size_t n)
{
	uint64_t rej;

	switch (rep->code) {
	case REPLY_OK:
		atomic_fetch_add(&tr->exported, n);
		break;
	case REPLY_PARTIAL:
		rej = rep->rejected < 0 ? 0 : (uint64_t)rep->rejected;
		if (rej > n)
			rej = n;
		atomic_fetch_add(&tr->exported, n - rej);
		atomic_fetch_add(&tr->dropped_rejected, rej);
		break;
	case REPLY_INVALID:
		atomic_fetch_add(&tr->dropped_rejected, n);
		trace__log(tr, 4, "export: collector rejected a batch of %zu "
		    "spans as invalid", n);
		break;
	default:
		return false;
	}
	atomic_fetch_add(&tr->batches_acked, 1);
	return true;
}

struct exp {
	struct trace__rec **recs;
	size_t *sizes;
	struct trace__buf buf;
};

/*
 * Delivers n records, resending until a reply settles them. A batch the
 * collector finds too large is split in two and each half delivered (one
 * span too large for the collector is counted as rejected).
 */
static void
deliver(struct trace__tracer *tr, struct exp *x, struct trace__rec **recs,
    size_t n)
{
	struct trace__reply rep;
	unsigned attempt = 0;
	uint32_t wait;

	if (atomic_load(&tr->no_route)) {
		/* Every endpoint's TLS setup failed (logged by trace_init):
		 * nothing can be delivered, so do not hold the spans. */
		atomic_fetch_add(&tr->dropped_rejected, n);
		return;
	}
	if (trace__otlp_encode(&x->buf, tr, recs, n, x->sizes) != TRACE_OK) {
		atomic_fetch_add(&tr->no_memory, n);
		trace__log(tr, 3, "export: out of memory encoding %zu spans",
		    n);
		return;
	}
	atomic_fetch_add(&tr->batches_sent, 1);
	for (;;) {
		if (give_up(tr)) {
			atomic_fetch_add(&tr->dropped_shutdown, n);
			return;
		}
		if (exchange(tr, &x->buf, &rep) == 0) {
			if (rep.code == REPLY_TOO_LARGE && n > 1) {
				deliver(tr, x, recs, n / 2);
				deliver(tr, x, recs + n / 2, n - n / 2);
				return;
			}
			if (rep.code == REPLY_TOO_LARGE)
				rep.code = REPLY_INVALID;
			if (settle(tr, &rep, n))
				return;
			wait = backoff_ms(tr, attempt);
			if (rep.code == REPLY_RETRY_LATER && rep.retry_after_ms)
				wait = rep.retry_after_ms;
			if (wait > TRACE_RETRY_AFTER_MAX_MS)
				wait = TRACE_RETRY_AFTER_MAX_MS;
		} else {
			wait = backoff_ms(tr, attempt);
		}
		attempt++;
		atomic_fetch_add(&tr->batches_retried, 1);
		nap(tr, wait);
	}
}

/* ------------------------------------------------------------------ */
/* The thread                                                         */
/* ------------------------------------------------------------------ */

static size_t
total_depth(struct trace__tracer *tr)
{
	struct trace__tstate *ts;
	size_t n = 0;

	pthread_mutex_lock(&tr->reg_mu);
	for (ts = tr->threads; ts != NULL; ts = ts->next)
		n += trace__ring_depth(ts);
	pthread_mutex_unlock(&tr->reg_mu);
	return n;
}

/* Completes pending flushes whose marks are all drained (the batches
 * taken so far are settled when this runs). */
static void
check_flush(struct trace__tracer *tr)
{
	uint64_t req = atomic_load(&tr->flush_req);
	struct trace__tstate *ts;
	bool done = true;

	if (atomic_load(&tr->flush_done) >= req)
		return;
	pthread_mutex_lock(&tr->reg_mu);
	for (ts = tr->threads; ts != NULL && done; ts = ts->next)
		done = atomic_load(&ts->tail) >= ts->flush_mark;
	pthread_mutex_unlock(&tr->reg_mu);
	if (!done)
		return;
	atomic_store(&tr->flush_done, req);
	pthread_mutex_lock(&tr->mu);
	pthread_cond_broadcast(&tr->cond);
	pthread_mutex_unlock(&tr->mu);
}

/* Takes one batch from the rings and delivers it; the records go back
 * to the pool once settled. Returns the number of spans taken. */
static size_t
export_once(struct trace__tracer *tr, struct exp *x)
{
	size_t n = trace__collect(tr, x->recs, tr->batch_size);

	if (n == 0)
		return 0;
	deliver(tr, x, x->recs, n);
	trace__pool_release(tr, x->recs, n);
	return n;
}

/* Waits until the next export is due, a kick or a stop. Returns true
 * when woken by a kick (or a flush or stop, which also post). */
static bool
idle(struct trace__tracer *tr, uint64_t due)
{
	struct timespec ts = abs_ts(due);

	if (atomic_load(&tr->stopping) ||
	    atomic_load(&tr->flush_done) < atomic_load(&tr->flush_req) ||
	    total_depth(tr) >= tr->batch_size)
		return true;
	for (;;) {
		if (sem_clockwait(&tr->kick, CLOCK_MONOTONIC, &ts) == 0)
			return true;
		if (trace__mono_ns() >= due || atomic_load(&tr->stopping))
			return false;
	}
}

/* Drops (and counts) whatever is still queued when the exporter quits. */
static void
drop_rest(struct trace__tracer *tr, struct exp *x)
{
	size_t n;

	while ((n = trace__collect(tr, x->recs, tr->batch_size)) > 0) {
		trace__pool_release(tr, x->recs, n);
		atomic_fetch_add(&tr->dropped_shutdown, n);
	}
}

/* A pacing exporter wakes when the spans ended since this cycle should
 * fill this share of a thread's kick_every (a little before the thread
 * would kick), and at least this far apart. */
#define PACE_NUM 3
#define PACE_DEN 4
#define PACE_MIN_NS 100000u

/*
 * When the next cycle is due. Under load (this cycle took at least a
 * quarter of kick_every spans, and at that rate kick_every fill before
 * the schedule delay) the exporter paces itself: it wakes when, at the
 * rate this cycle measured, 3/4 of kick_every spans will have ended, and
 * publishes that time in pace_until so that span threads spare their
 * kick (a syscall and an IPI in the span thread, see
 * trace__kick_unless_paced). A thread kicks anyway once that time has
 * passed or half the queue waits in its ring; an empty pool always kicks.
 * *last is the previous cycle's end, updated here.
 */
static uint64_t
next_due(struct trace__tracer *tr, size_t total, uint64_t *last)
{
	uint64_t now = trace__mono_ns(), gap = now - *last;
	uint64_t delay = (uint64_t)tr->delay_ms * 1000000u, wait = delay;

	*last = now;
	if (total >= tr->kick_every / 4 && total > 0 && gap < delay)
		wait = gap * tr->kick_every / PACE_DEN * PACE_NUM / total;
	if (wait < PACE_MIN_NS)
		wait = PACE_MIN_NS;
	if (wait >= delay) {
		atomic_store_explicit(&tr->pace_until, 0, memory_order_relaxed);
		return now + delay;
	}
	atomic_store_explicit(&tr->pace_until, now + wait,
	    memory_order_relaxed);
	return now + wait;
}

/*
 * The exporter's cycle. A kick re-arms (kicked = 0) only after a cycle
 * that freed records, or on the schedule tick: when every record is held
 * by open spans, threads that find the pool empty cannot wake the exporter
 * (a syscall) more than once per schedule delay.
 */
static void
exporter_loop(struct trace__tracer *tr, struct exp *x)
{
	uint64_t last = trace__mono_ns();
	uint64_t due = last + (uint64_t)tr->delay_ms * 1000000u;
	size_t n, total;
	bool woke = false, timer;

	for (;;) {
		if (trace__mono_ns() < due)
			woke = idle(tr, due);
		if (give_up(tr))
			break;
		timer = trace__mono_ns() >= due;
		if (woke || timer) {
			total = 0;
			do {
				n = export_once(tr, x);
				total += n;
				check_flush(tr);
			} while (n == tr->batch_size && !give_up(tr));
			if (total > 0 || timer)
				atomic_store(&tr->kicked, 0);
			trace__clock_resync();
			due = next_due(tr, total, &last);
			woke = false;
		}
		if (atomic_load(&tr->stopping) && total_depth(tr) == 0)
			break;
	}
}

static void *
exporter_main(void *arg)
{
	struct trace__tracer *tr = arg;
	/* Kept in the tracer, not on this stack, so a forked child (which
	 * has no exporter thread) still reaches this memory. */
	struct exp *x = tr->exp;

	x->recs = calloc(tr->batch_size, sizeof *x->recs);
	x->sizes = calloc(tr->batch_size, sizeof *x->sizes);
	if (x->recs != NULL && x->sizes != NULL)
		exporter_loop(tr, x);
	else
		trace__log(tr, 3, "exporter: out of memory; not exporting");
	if (x->recs != NULL)
		drop_rest(tr, x);
	free(x->recs);
	free(x->sizes);
	x->recs = NULL;
	x->sizes = NULL;
	trace__buf_free(&x->buf);
	pthread_mutex_lock(&tr->mu);
	tr->exporter_done = true;
	/* Wake flushes: nothing more will be delivered. */
	atomic_store(&tr->flush_done, atomic_load(&tr->flush_req));
	pthread_cond_broadcast(&tr->cond);
	pthread_mutex_unlock(&tr->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                     */
/* ------------------------------------------------------------------ */

/* Dials every URL of the comma-separated list. A tls+tcp:// URL whose
 * TLS files are unusable is skipped (logged); when that leaves none, the
 * tracer runs with no route and drops what it exports (counted). */
static int
dial_all(struct trace__tracer *tr, const struct trace_config *cfg)
{
	char *list, *url, *save = NULL;
	int rv = TRACE_OK, ndial = 0, nbad = 0;

	if ((list = strdup(tr->endpoint)) == NULL)
		return TRACE_ENOMEM;
	for (url = strtok_r(list, ",", &save); url != NULL;
	    url = strtok_r(NULL, ",", &save)) {
		char *end;
		int err;

		while (*url == ' ' || *url == '\t')
			url++;
		end = url + strlen(url);
		while (end > url && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*url == '\0')
			continue;
		/* Non-blocking: NNG connects and reconnects in the
		 * background, so a collector that is down is no error. */
		if ((err = trace__tls_dial(tr, cfg, tr->sock, url)) < 0) {
			nbad++;
			continue;
		}
		if (err != 0) {
			trace__log(tr, 3, "endpoint %s: %s", url,
			    nng_strerror(err));
			rv = TRACE_EINVAL;
			break;
		}
		ndial++;
	}
	free(list);
	if (rv == TRACE_OK && ndial == 0 && nbad > 0) {
		trace__log(tr, 3, "no usable endpoint in %s: spans will be "
		    "counted as dropped (rejected)", tr->endpoint);
		atomic_store(&tr->no_route, true);
		return TRACE_OK;
	}
	return rv == TRACE_OK && ndial == 0 ? TRACE_EINVAL : rv;
}

static int
socket_open(struct trace__tracer *tr, const struct trace_config *cfg)
{
	int rv;

	if (nng_req0_open(&tr->sock) != 0)
		return TRACE_ETRANSPORT;
	tr->sock_open = true;
	/* Replies come from the network: bound them. */
	nng_socket_set_size(tr->sock, NNG_OPT_RECVMAXSZ, TRACE_REPLY_MAX_BYTES);
	/* Send and receive timeouts are set on the exporter's aio. */
	/* The exporter resends on its own schedule, with backoff. */
	nng_socket_set_ms(tr->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_ms(tr->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(tr->sock, NNG_OPT_RECONNMAXT, 2000);
	if ((rv = dial_all(tr, cfg)) != TRACE_OK) {
		nng_close(tr->sock);
		tr->sock_open = false;
	}
	return rv;
}

int
trace__exporter_start(struct trace__tracer *tr,
    const struct trace_config *cfg)
{
	sigset_t all, old;
	int rv;

	if ((tr->exp = calloc(1, sizeof *tr->exp)) == NULL ||
	    nng_aio_alloc(&tr->aio, NULL, NULL) != 0)
		return TRACE_ENOMEM;
	if ((rv = socket_open(tr, cfg)) != TRACE_OK)
		return rv;
	atomic_store(&tr->exporter_alive, true);
	/* Signals belong to the application's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&tr->thread, NULL, exporter_main, tr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		atomic_store(&tr->exporter_alive, false);
		nng_close(tr->sock);
		tr->sock_open = false;
		return TRACE_ENOMEM;
	}
	pthread_setname_np(tr->thread, "trace-export");
	tr->thread_started = true;
	return TRACE_OK;
}

void
trace__exporter_stop(struct trace__tracer *tr, uint64_t deadline_ns)
{
	struct timespec ts = abs_ts(deadline_ns);
	bool done;

	atomic_store(&tr->deadline_ns, deadline_ns);
	atomic_store(&tr->stopping, true);
	sem_post(&tr->kick);
	pthread_mutex_lock(&tr->mu);
	pthread_cond_broadcast(&tr->cond);
	while (!tr->exporter_done) {
		if (deadline_ns == UINT64_MAX)
			pthread_cond_wait(&tr->cond, &tr->mu);
		else if (pthread_cond_timedwait(&tr->cond, &tr->mu, &ts) != 0)
			break;
	}
	done = tr->exporter_done;
	pthread_mutex_unlock(&tr->mu);
	if (!done) {
		/* Past the deadline: end a blocked send or receive now. */
		atomic_store(&tr->aborting, true);
		pthread_mutex_lock(&tr->mu);
		pthread_cond_broadcast(&tr->cond);
		pthread_mutex_unlock(&tr->mu);
		nng_aio_cancel(tr->aio);
	}
	if (tr->thread_started)
		pthread_join(tr->thread, NULL);
	tr->thread_started = false;
	pthread_mutex_lock(&tr->reg_mu);
	atomic_store(&tr->exporter_alive, false);
	pthread_mutex_unlock(&tr->reg_mu);
	/* Only now, with no call in flight, close the socket. */
	if (tr->sock_open)
		nng_close(tr->sock);
	tr->sock_open = false;
	nng_aio_free(tr->aio);
	tr->aio = NULL;
}
