/*
 * tracecli_fixture.h - hand-built OTLP protobuf-c traces for the tracecli
 * unit tests and benchmarks. Everything is heap-allocated the way
 * protobuf-c's unpack does it, so fx_free() can use free_unpacked.
 */
#ifndef TESTS_TRACECLI_FIXTURE_H
#define TESTS_TRACECLI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define FX_T0 1763800000000000000ull	/* 2025-11-22T08:26:40Z */
#define FX_MS 1000000ull

typedef struct fx {
	pb_resource_spans **rs;
	size_t n;
} fx;

static inline void
fx_id8(uint64_t v, ProtobufCBinaryData *b)
{
	b->len = 8;
	b->data = malloc(8);
	for (int i = 0; i < 8; i++)
		b->data[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline pb_kv *
fx_kv_str(const char *key, const char *val)
{
	pb_kv *kv = malloc(sizeof *kv);
	pb_any *v = malloc(sizeof *v);

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = strdup(key);
	v->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = strdup(val);
	kv->value = v;
	return kv;
}

static inline pb_kv *
fx_kv_int(const char *key, int64_t val)
{
	pb_kv *kv = fx_kv_str(key, "");

	free(kv->value->string_value);
	kv->value->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	kv->value->int_value = val;
	return kv;
}

/* A resource with service.name = service, one scope, no spans yet. */
static inline pb_resource_spans *
fx_resource(fx *f, const char *service)
{
	pb_resource_spans *rs = malloc(sizeof *rs);
	pb_resource *r = malloc(sizeof *r);
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = malloc(sizeof *ss);

	opentelemetry__proto__trace__v1__resource_spans__init(rs);
	opentelemetry__proto__resource__v1__resource__init(r);
	opentelemetry__proto__trace__v1__scope_spans__init(ss);
	r->n_attributes = 1;
	r->attributes = malloc(sizeof *r->attributes);
	r->attributes[0] = fx_kv_str("service.name", service);
	rs->resource = r;
	rs->n_scope_spans = 1;
	rs->scope_spans = malloc(sizeof *rs->scope_spans);
	rs->scope_spans[0] = ss;
	f->rs = realloc(f->rs, (f->n + 1) * sizeof *f->rs);
	f->rs[f->n++] = rs;
	return rs;
}

/* A span of trace 0x4bf9...36 under rs; parent 0 = root. Times in ns
 * from FX_T0. */
static inline pb_span *
fx_span(pb_resource_spans *rs, uint64_t id, uint64_t parent,
    const char *name, uint64_t start, uint64_t dur)
{
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3,
		0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];
	pb_span *s = malloc(sizeof *s);

	opentelemetry__proto__trace__v1__span__init(s);
	s->trace_id.len = 16;
	s->trace_id.data = malloc(16);
	memcpy(s->trace_id.data, tid, 16);
	fx_id8(id, &s->span_id);
	if (parent)
		fx_id8(parent, &s->parent_span_id);
	s->name = strdup(name);
	s->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
	s->start_time_unix_nano = FX_T0 + start;
	s->end_time_unix_nano = FX_T0 + start + dur;
	ss->spans = realloc(ss->spans, (ss->n_spans + 1) * sizeof *ss->spans);
	ss->spans[ss->n_spans++] = s;
	return s;
}

static inline void
fx_attr(pb_span *s, pb_kv *kv)
{
	s->attributes = realloc(s->attributes,
	    (s->n_attributes + 1) * sizeof *s->attributes);
	s->attributes[s->n_attributes++] = kv;
}

static inline void
fx_error(pb_span *s, const char *msg)
{
	Opentelemetry__Proto__Trace__V1__Status *st = malloc(sizeof *st);

	opentelemetry__proto__trace__v1__status__init(st);
	st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
	st->message = strdup(msg);
	s->status = st;
}

static inline void
fx_event(pb_span *s, const char *name, uint64_t at)
{
	Opentelemetry__Proto__Trace__V1__Span__Event *e = malloc(sizeof *e);

	opentelemetry__proto__trace__v1__span__event__init(e);
	e->name = strdup(name);
	e->time_unix_nano = FX_T0 + at;
	s->events = realloc(s->events, (s->n_events + 1) * sizeof *s->events);
	s->events[s->n_events++] = e;
}

static inline void
fx_free(fx *f)
{
	for (size_t i = 0; i < f->n; i++)
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    f->rs[i], NULL);
	free(f->rs);
	f->rs = NULL;
	f->n = 0;
}

/* A link from s to span `span` of trace 0x77...77. */
static inline void
fx_link(pb_span *s, uint64_t span)
{
	Opentelemetry__Proto__Trace__V1__Span__Link *l = malloc(sizeof *l);

	opentelemetry__proto__trace__v1__span__link__init(l);
	l->trace_id.len = 16;
	l->trace_id.data = malloc(16);
	memset(l->trace_id.data, 0x77, 16);
	fx_id8(span, &l->span_id);
	s->links = realloc(s->links, (s->n_links + 1) * sizeof *s->links);
	s->links[s->n_links++] = l;
}

/*
 * The checkout trace (ids in parentheses):
 *   frontend GET /checkout (1) 0-120ms
 *     frontend cart.get (2) 5-20ms
 *       cart GET /cart (3) 6-19ms
 *         cart redis GET (4) 8-12ms
 *     frontend charge (5) 25-105ms
 *       payments POST /charge (6) 27-104ms  ERROR
 *         payments db.query (7) 30-90ms
 *         payments fraud.check (8) 20-40ms  starts before its parent: skew
 *     frontend render (9) 105-118ms
 *   payments retry.callback (10) 110-115ms  parent 99 is missing
 */
static inline void
fx_checkout(fx *f)
{
	pb_resource_spans *fe = fx_resource(f, "frontend");
	pb_resource_spans *cart = fx_resource(f, "cart");
	pb_resource_spans *pay = fx_resource(f, "payments");
	pb_span *s;

	s = fx_span(fe, 1, 0, "GET /checkout", 0, 120 * FX_MS);
	s->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
	fx_attr(s, fx_kv_str("http.method", "GET"));
	fx_attr(s, fx_kv_int("http.status_code", 500));
	fx_span(fe, 2, 1, "cart.get", 5 * FX_MS, 15 * FX_MS);
	fx_span(cart, 3, 2, "GET /cart", 6 * FX_MS, 13 * FX_MS);
	s = fx_span(cart, 4, 3, "redis GET", 8 * FX_MS, 4 * FX_MS);
	fx_attr(s, fx_kv_str("db.statement", "GET cart:42"));
	s = fx_span(fe, 5, 1, "charge", 25 * FX_MS, 80 * FX_MS);
	fx_link(s, 7);
	s = fx_span(pay, 6, 5, "POST /charge", 27 * FX_MS, 77 * FX_MS);
	fx_error(s, "card declined");
	fx_event(s, "exception", 90 * FX_MS);
	fx_span(pay, 7, 6, "db.query", 30 * FX_MS, 60 * FX_MS);
	fx_span(pay, 8, 6, "fraud.check", 20 * FX_MS, 20 * FX_MS);
	fx_span(fe, 9, 1, "render", 105 * FX_MS, 13 * FX_MS);
	fx_span(pay, 10, 99, "retry.callback", 110 * FX_MS, 5 * FX_MS);
}

/* A chain of depth spans, each the only child of the one before. */
static inline void
fx_chain(fx *f, int depth)
{
	pb_resource_spans *rs = fx_resource(f, "deep");
	char name[32];

	for (int i = 0; i < depth; i++) {
		snprintf(name, sizeof name, "level-%d", i);
		fx_span(rs, (uint64_t)i + 1, (uint64_t)i, name,
		    (uint64_t)i * FX_MS, (uint64_t)(depth - i) * 2 * FX_MS);
	}
}

/* CAPTURE(text, call) runs call with FILE *f writing into text. */
#define CAPTURE(text, call)                                    \
	do {                                                   \
		size_t cap_len_;                               \
		FILE *f = open_memstream(&(text), &cap_len_);  \
		assert_non_null(f);                            \
		call;                                          \
		fclose(f);                                     \
	} while (0)

#endif /* TESTS_TRACECLI_FIXTURE_H */
