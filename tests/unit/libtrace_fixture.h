/*
 * libtrace_fixture.h - a fake collector for libtrace's tests: a real NNG
 * REP socket on an ipc path that decodes every request with the protobuf-c
 * generated code (independently of libtrace's hand-written encoder) and
 * answers with a tracequery.v1.IngestReply chosen by the test.
 */
#ifndef TESTS_LIBTRACE_FIXTURE_H
#define TESTS_LIBTRACE_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

/* protobuf-c's generated INIT macros cast away const. */
#pragma GCC diagnostic ignored "-Wcast-qual"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "tracequery.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    fx_request;
typedef Opentelemetry__Proto__Trace__V1__Span fx_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue fx_kv;

#define FX_MAX_REQS 4096

struct fake {
	char url[128];
	nng_socket sock;
	pthread_t th;
	bool running;
	_Atomic bool stop;
	/* What to answer: an IngestReply code, or garbage bytes. Scripted
	 * answers (script[0..nscript)) come first, then `code`. */
	_Atomic int code;
	_Atomic int garbage;
	int script[16];
	_Atomic int nscript;
	_Atomic int scripted;
	uint32_t retry_after_ms;
	int64_t rejected;
	pthread_mutex_t mu;
	fx_request *reqs[FX_MAX_REQS];
	size_t nreq;
	_Atomic size_t nspans;   /* spans in requests answered OK */
	_Atomic size_t nrecv;    /* requests received */
	_Atomic int npipes;      /* connections made to it */
};

static int fx_seq __attribute__((unused));

/* fx_url makes a fresh ipc URL for this process. */
__attribute__((unused)) static void
fx_url(char *buf, size_t len)
{
	snprintf(buf, len, "ipc:///tmp/libtrace-test-%d-%d.sock", (int)getpid(),
	    ++fx_seq);
}

__attribute__((unused)) static size_t
fx_count_spans(const fx_request *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_resource_spans; i++)
		for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
			n += r->resource_spans[i]->scope_spans[j]->n_spans;
	return n;
}

__attribute__((unused)) static void
fx_on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct fake *f = arg;

	(void)p;
	(void)ev;
	atomic_fetch_add(&f->npipes, 1);
}

/* fx_wait_connected waits (at most ms) until a client has connected:
 * NNG 1.5.2 leaks the pipe of a dial still connecting when the dialing
 * socket closes, which a quick trace_shutdown would show under ASan. */
__attribute__((unused)) static bool
fx_wait_connected(struct fake *f, int ms)
{
	for (int i = 0; i < ms && atomic_load(&f->npipes) == 0; i++)
		usleep(1000);
	return atomic_load(&f->npipes) > 0;
}

__attribute__((unused)) static int
fx_next_code(struct fake *f)
{
	int i = atomic_fetch_add(&f->scripted, 1);

	if (i < atomic_load(&f->nscript))
		return f->script[i];
	return atomic_load(&f->code);
}

__attribute__((unused)) static void
fx_reply(struct fake *f, nng_msg *m, fx_request *req)
{
	Tracequery__V1__IngestReply rep = TRACEQUERY__V1__INGEST_REPLY__INIT;
	int code = fx_next_code(f);
	size_t n = req ? fx_count_spans(req) : 0;
	uint8_t buf[256];

	nng_msg_clear(m);
	if (code < 0 || atomic_load(&f->garbage)) {
		nng_msg_append(m, "\xff\xff\xff garbage", 11);
		nng_sendmsg(f->sock, m, 0);
		return;
	}
	rep.code = (Tracequery__V1__IngestReply__Code)code;
	rep.accepted_spans = code == 0 ? (int64_t)n : 0;
	if (code == 1) {
		rep.rejected_spans = f->rejected;
		rep.accepted_spans = (int64_t)n - f->rejected;
	}
	rep.retry_after_ms = f->retry_after_ms;
	nng_msg_append(m, buf, tracequery__v1__ingest_reply__pack(&rep, buf));
	if (code == 0 || code == 1)
		atomic_fetch_add(&f->nspans, n - (code == 1 ? (size_t)f->rejected : 0));
	nng_sendmsg(f->sock, m, 0);
}

__attribute__((unused)) static void *
fx_main(void *arg)
{
	struct fake *f = arg;
	nng_msg *m;
	fx_request *req;

	while (!atomic_load(&f->stop)) {
		if (nng_recvmsg(f->sock, &m, 0) != 0)
			continue;
		atomic_fetch_add(&f->nrecv, 1);
		req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		    NULL, nng_msg_len(m), nng_msg_body(m));
		/* Keep it before answering: the test looks once acked. */
		pthread_mutex_lock(&f->mu);
		if (req != NULL && f->nreq < FX_MAX_REQS)
			f->reqs[f->nreq++] = req;
		pthread_mutex_unlock(&f->mu);
		fx_reply(f, m, req);
		if (req != NULL && f->reqs[f->nreq - 1] != req)
			opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
			    req, NULL);
	}
	return NULL;
}

/* fx_start listens on f->url (fx_url() it first, or reuse a URL). */
__attribute__((unused)) static int
fx_start(struct fake *f)
{
	int rv;

	pthread_mutex_init(&f->mu, NULL);
	atomic_store(&f->stop, false);
	if ((rv = nng_rep0_open(&f->sock)) != 0)
		return rv;
	nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, 50);
	nng_socket_set_size(f->sock, NNG_OPT_RECVMAXSZ, 64u << 20);
	nng_pipe_notify(f->sock, NNG_PIPE_EV_ADD_POST, fx_on_pipe, f);
	if ((rv = nng_listen(f->sock, f->url, NULL, 0)) != 0) {
		nng_close(f->sock);
		return rv;
	}
	f->running = true;
	return pthread_create(&f->th, NULL, fx_main, f);
}

/* fx_stop stops listening; decoded requests are kept (fx_free). */
__attribute__((unused)) static void
fx_stop(struct fake *f)
{
	if (!f->running)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->th, NULL);
	nng_close(f->sock);
	f->running = false;
	if (strncmp(f->url, "ipc://", 6) == 0)
		unlink(f->url + 6);
}

__attribute__((unused)) static void
fx_free(struct fake *f)
{
	fx_stop(f);
	for (size_t i = 0; i < f->nreq; i++)
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		    f->reqs[i], NULL);
	f->nreq = 0;
	pthread_mutex_destroy(&f->mu);
}

/* fx_find_span returns the first received span called name, or NULL. */
__attribute__((unused)) static const fx_span *
fx_find_span(struct fake *f, const char *name)
{
	const fx_span *found = NULL;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nreq && !found; i++) {
		fx_request *r = f->reqs[i];

		for (size_t a = 0; a < r->n_resource_spans && !found; a++) {
			Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
			    r->resource_spans[a];

			for (size_t b = 0; b < rs->n_scope_spans && !found; b++)
				for (size_t c = 0; c < rs->scope_spans[b]->n_spans; c++)
					if (strcmp(rs->scope_spans[b]->spans[c]->name, name) == 0) {
						found = rs->scope_spans[b]->spans[c];
						break;
					}
		}
	}
	pthread_mutex_unlock(&f->mu);
	return found;
}

/* fx_find_kv returns the attribute key of kvs, or NULL. */
__attribute__((unused)) static const fx_kv *
fx_find_kv(fx_kv *const *kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kvs[i]->key, key) == 0)
			return kvs[i];
	return NULL;
}

/* fx_config makes a config aimed at url with a short schedule delay. */
__attribute__((unused)) static trace_config *
fx_config(const char *url)
{
	trace_config *cfg = NULL;

	if (trace_config_new(&cfg) != TRACE_OK)
		return NULL;
	trace_config_set_endpoint(cfg, url);
	trace_config_set_schedule_delay_ms(cfg, 20);
	trace_config_set_export_timeout_ms(cfg, 2000);
	trace_config_set_service_name(cfg, "fixture-svc");
	return cfg;
}

/* fx_stats_add_up checks the accounting identity of trace_stats. */
__attribute__((unused)) static bool
fx_stats_add_up(const trace_stats_t *s)
{
	return s->queue_depth == 0 && s->spans_ended == s->spans_exported +
	    s->spans_dropped_queue_full + s->spans_dropped_rejected +
	    s->spans_dropped_shutdown + s->spans_dropped_no_memory;
}

/*
 * FX_SUITE (define it before the include, after cmocka.h and trace.h): the
 * usual test file around one fake collector `fx`: cmocka setup/teardown,
 * begin() to start libtrace from a config, flushed() to flush and find a
 * span by name.
 */
#ifdef FX_SUITE
static struct fake fx;

static void
begin(trace_config *cfg)
{
	assert_non_null(cfg);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	assert_true(fx_wait_connected(&fx, 5000));
}

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	return fx_start(&fx) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	trace_shutdown(2000);
	fx_free(&fx);
	return 0;
}

static const fx_span *
flushed(const char *name)
{
	const fx_span *p;

	assert_int_equal(trace_flush(5000), TRACE_OK);
	p = fx_find_span(&fx, name);
	assert_non_null(p);
	return p;
}
#endif /* FX_SUITE */

#endif /* TESTS_LIBTRACE_FIXTURE_H */
