/*
 * pipeline.c - the one decode -> admit -> validate -> hand-over path
 * (pipeline.h). Untrusted bytes are pre-scanned without recursion
 * (pipeline_prescan.c) before protobuf-c unpacks them into a per-thread
 * arena; the unpacked spans are validated (validate.c); the valid ones go
 * to the backend in one batch, with where each span's bytes are in the
 * request (span_wire.h) so a backend can store them as they came rather
 * than pack them again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "common.h"
#include "daemon/stats.h"
#include "format/keys.h"
#include "format/span_block.h"
#include "format/span_wire.h"
#include "pipeline/pipeline_impl.h"

#define POOL_MAX 16

struct pipeline {
	backend *b;
	pipeline_limits lim;
	admission adm;
	pthread_mutex_t mu; /* guards the pool of per-thread work areas */
	struct work *pool[POOL_MAX];
	int n_pool;
};

/* What one submission needs; reused through the pool. */
typedef struct work {
	backend_span *acc;  /* the request's valid spans */
	size_t n_acc, cap_acc;
	arena mem;          /* the unpacked request */
	span_wire_index wire; /* and where its spans are in its bytes */
} work;

void
pipeline_limits_default(pipeline_limits *l)
{
	l->max_message_bytes = 16u << 20;
	l->max_depth = 64;
	l->max_attrs = 1024;
	l->max_events = 1024;
	l->max_links = 1024;
	l->max_string_bytes = 64u << 10;
	l->max_span_bytes = 1u << 20;
	l->max_backlog_bytes = 256u << 20;
	l->max_future_ns = 24 * KEY_HOUR_NS;
}

int
pipeline_new(pipeline **out, backend *b, const pipeline_limits *l,
    char **cause)
{
	pipeline *p = xcalloc(1, sizeof *p);

	(void)cause;
	p->b = b;
	p->lim = *l;
	admission_init(&p->adm, l->max_backlog_bytes);
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

static void
work_free(work *w)
{
	if (w == NULL)
		return;
	free(w->acc);
	arena_free(&w->mem);
	span_wire_index_free(&w->wire);
	free(w);
}

void
pipeline_free(pipeline *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->n_pool; i++)
		work_free(p->pool[i]);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void
pipeline_backlog(pipeline *p, int64_t *requests, int64_t *bytes)
{
	*requests = atomic_load(&p->adm.requests);
	*bytes = atomic_load(&p->adm.bytes);
}

static work *
work_get(pipeline *p)
{
	work *w = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->n_pool > 0)
		w = p->pool[--p->n_pool];
	pthread_mutex_unlock(&p->mu);
	if (w == NULL)
		w = xcalloc(1, sizeof *w);
	w->n_acc = 0;
	return w;
}

static void
work_put(pipeline *p, work *w)
{
	arena_reset(&w->mem);
	pthread_mutex_lock(&p->mu);
	if (p->n_pool < POOL_MAX) {
		p->pool[p->n_pool++] = w;
		w = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	work_free(w);
}

/* Remembers a valid span for the batch. */
static void
accept(work *w, const backend_span *s)
{
	if (w->n_acc == w->cap_acc) {
		w->cap_acc = w->cap_acc ? w->cap_acc * 2 : 256;
		w->acc = xrealloc(w->acc, w->cap_acc * sizeof *w->acc);
	}
	w->acc[w->n_acc++] = *s;
}

static void
count_reject(validate_reject r)
{
	switch (r) {
	case VALIDATE_BAD_ID: STATS_INC(sp_bad_id, 1); break;
	case VALIDATE_BAD_TIME: STATS_INC(sp_bad_time, 1); break;
	case VALIDATE_TOO_BIG: STATS_INC(sp_too_big, 1); break;
	case VALIDATE_BAD_UTF8: STATS_INC(sp_bad_utf8, 1); break;
	default: break;
	}
}

static void
result(pipeline_result *res, pipeline_code code, const char *msg)
{
	res->code = code;
	snprintf(res->message, sizeof res->message, "%s", msg);
}

/* Checks one span (whose origin is usable when origin_ok) and sizes it:
 * its bytes in the request less IDs and times (found by span_wire_scan),
 * or packed. */
static validate_reject
check(pipeline *p, backend_span *s, bool origin_ok, uint64_t now)
{
	validate_reject r = origin_ok ? validate_span(&p->lim, s->sp, now) :
	    VALIDATE_TOO_BIG;

	if (r != VALIDATE_OK)
		return r;
	if (s->wire == NULL)
		s->stripped_len = span_block_packed_len(s->sp);
	return s->stripped_len > p->lim.max_span_bytes ? VALIDATE_TOO_BIG :
	    VALIDATE_OK;
}

/* Validates every span of req into w->acc; counts the rejected ones in
 * res and returns the first reason. wire: the bytes of req's spans in the
 * order visited (span_wire.h), or NULL. */
static validate_reject
validate_request(pipeline *p, work *w, const ExportRequest *req,
    const span_wire *wire, size_t *total, pipeline_result *res)
{
	uint64_t now = now_unix_ns();
	validate_reject first = VALIDATE_OK;

	for (size_t i = 0; i < req->n_resource_spans; i++) {
		const ResourceSpans *rs = req->resource_spans[i];
		const char *svc = otlp_service_name(rs->resource);

		if (svc == NULL)
			svc = OTLP_UNKNOWN_SERVICE;
		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			const ScopeSpans *ss = rs->scope_spans[j];
			bool origin_ok = validate_origin(&p->lim, rs, ss);

			for (size_t k = 0; k < ss->n_spans; k++) {
				backend_span s = { svc, rs, ss, ss->spans[k],
					wire ? wire[*total].p : NULL,
					wire ? wire[*total].len : 0,
					wire ? wire[*total].stripped_len : 0 };
				validate_reject r = check(p, &s, origin_ok,
				    now);

				(*total)++;
				if (r != VALIDATE_OK) {
					res->rejected_spans++;
					count_reject(r);
					if (first == VALIDATE_OK)
						first = r;
					continue;
				}
				accept(w, &s);
				res->accepted_spans++;
			}
		}
	}
	return first;
}

/* Hands the valid spans to the backend; on a refusal nothing counts as
 * accepted or rejected. */
static void
hand_over(pipeline *p, work *w, const ExportRequest *req, const uint8_t *buf,
    size_t len, pipeline_result *res)
{
	backend_batch batch = { req, w->acc, w->n_acc,
		(size_t)res->rejected_spans, buf, len, now_unix_ns() };
	backend_result br;

	backend_write(p->b, &batch, &br);
	if (br.code == BACKEND_OK)
		return;
	STATS_INC(rej_retry, br.code == BACKEND_RETRY_LATER);
	STATS_INC(rej_internal, br.code != BACKEND_RETRY_LATER);
	res->accepted_spans = 0;
	res->rejected_spans = 0;
	res->retry_after_ms = br.retry_after_ms;
	result(res, br.code == BACKEND_RETRY_LATER ? PIPELINE_RETRY_LATER :
	    PIPELINE_INTERNAL, br.message);
}

/* Validates req with the work area w and hands its valid spans over.
 * buf, len: the bytes req was unpacked from (NULL, 0: none); wire: where
 * its spans are in them, or NULL when they could not be matched. */
static void
submit(pipeline *p, work *w, const ExportRequest *req, const uint8_t *buf,
    size_t len, const span_wire *wire, pipeline_result *res)
{
	size_t total = 0;
	validate_reject first;

	memset(res, 0, sizeof *res);
	STATS_INC(requests, 1);
	first = validate_request(p, w, req, wire, &total, res);
	if (total == 0) {
		STATS_INC(rej_empty, 1);
		result(res, PIPELINE_INVALID, "empty batch: no spans");
		return;
	}
	if (res->accepted_spans == 0) {
		STATS_INC(rej_invalid, 1);
		STATS_INC(spans_rejected, res->rejected_spans);
		result(res, PIPELINE_INVALID, validate_reject_text(first));
		return;
	}
	hand_over(p, w, req, buf, len, res);
	if (res->code != PIPELINE_OK)
		return;
	STATS_INC(spans_accepted, res->accepted_spans);
	STATS_INC(spans_rejected, res->rejected_spans);
	if (res->rejected_spans > 0) {
		STATS_INC(requests_partial, 1);
		result(res, PIPELINE_PARTIAL, validate_reject_text(first));
	} else {
		STATS_INC(requests_ok, 1);
		result(res, PIPELINE_OK, "");
	}
}

/* The bytes of req's spans in buf, the bytes req was unpacked from, in
 * the order submit visits them; NULL (pack them) unless every
 * ResourceSpans, ScopeSpans and Span of buf is where req has it. */
static const span_wire *
spans_in(work *w, const ExportRequest *req, const uint8_t *buf, size_t len)
{
	if (span_wire_scan(&w->wire, buf, len) != 0 ||
	    !span_wire_matches(&w->wire, req))
		return NULL;
	return w->wire.spans;
}

void
pipeline_submit_request(pipeline *p, const ExportRequest *req,
    pipeline_result *res)
{
	work *w = work_get(p);

	submit(p, w, req, NULL, 0, NULL, res);
	work_put(p, w);
}

/* Refuses a request before it is unpacked. */
static void
refuse(pipeline_result *res, pipeline_code code, const char *msg)
{
	STATS_INC(requests, 1);
	result(res, code, msg);
}

/* Prescans, unpacks (into the work area's arena: no malloc per field)
 * and submits an admitted request. */
static void
decode_and_submit(pipeline *p, const uint8_t *buf, size_t len,
    pipeline_result *res)
{
	ExportRequest *req;
	work *w;
	int rv;

	if ((rv = pipeline_prescan(buf, len, p->lim.max_depth)) != 0) {
		STATS_INC(rej_too_deep, rv == -1);
		STATS_INC(rej_invalid, rv != -1);
		refuse(res, PIPELINE_INVALID, rv == -1 ?
		    "values nested too deeply" : "malformed protobuf");
		return;
	}
	w = work_get(p);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    arena_protobuf(&w->mem), len, buf);
	if (req == NULL) {
		STATS_INC(rej_invalid, 1);
		refuse(res, PIPELINE_INVALID,
		    "malformed protobuf: not an ExportTraceServiceRequest");
	} else {
		submit(p, w, req, buf, len, spans_in(w, req, buf, len), res);
	}
	work_put(p, w);
}

void
pipeline_submit_protobuf(pipeline *p, const uint8_t *buf, size_t len,
    pipeline_result *res)
{
	memset(res, 0, sizeof *res);
	STATS_INC(bytes, len);
	if (len > p->lim.max_message_bytes) {
		STATS_INC(rej_too_large, 1);
		refuse(res, PIPELINE_TOO_LARGE, "");
		snprintf(res->message, sizeof res->message,
		    "message of %zu bytes is over the limit of %zu", len,
		    p->lim.max_message_bytes);
		return;
	}
	if (!admission_enter(&p->adm, len)) {
		STATS_INC(rej_retry, 1);
		refuse(res, PIPELINE_RETRY_LATER, "backlog full; retry later");
		res->retry_after_ms = 100;
		return;
	}
	decode_and_submit(p, buf, len, res);
	admission_leave(&p->adm, len);
}
