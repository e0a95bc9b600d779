/*
 * spangen.h - deterministic synthetic spans for the collector's tests and
 * benchmarks (header-only, static functions). Traces of SPANGEN_PER_TRACE
 * spans over 5 services and 50 operations, 8 attributes each (~300 bytes
 * encoded), durations log-uniform from 50 us to ~1 s, 1% errors.
 */
#ifndef TESTS_TOOLS_SPANGEN_H
#define TESTS_TOOLS_SPANGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define SPANGEN_SERVICES 5
#define SPANGEN_OPS 50
#define SPANGEN_PER_TRACE 8
#define SPANGEN_ATTRS 8

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    sg_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans sg_rs;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans sg_ss;
typedef Opentelemetry__Proto__Trace__V1__Span sg_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue sg_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue sg_any;

static inline uint64_t
sg_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* What one generated span looks like, before encoding. */
typedef struct sg_info {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_id[8]; /* all zero for the root */
	int service;          /* 0..4 */
	int op;               /* 0..49, op % 5 == service */
	uint64_t start_ns, end_ns;
	int error;
	int user;             /* user.id attribute value */
} sg_info;

/* Describes span j of trace t (seed separates producers). */
static inline void
sg_describe(uint64_t seed, uint64_t t, int j, uint64_t base_ns,
    uint64_t step_ns, sg_info *out)
{
	uint64_t h = sg_mix(seed * 1000003ULL + t);
	uint64_t hj = sg_mix(h + (uint64_t)j * 7919);
	uint64_t tstart = base_ns + t * step_ns;
	double u = (double)(hj >> 11) / 9007199254740992.0;
	uint64_t dur;

	for (int i = 0; i < 8; i++) {
		out->trace_id[i] = (uint8_t)(h >> (i * 8));
		out->trace_id[8 + i] = (uint8_t)(sg_mix(h) >> (i * 8));
		out->span_id[i] = (uint8_t)((hj | 1) >> (i * 8));
	}
	memset(out->parent_id, 0, 8);
	if (j > 0) {
		uint64_t hp = sg_mix(h + (uint64_t)((j - 1) / 2) * 7919);

		for (int i = 0; i < 8; i++)
			out->parent_id[i] = (uint8_t)((hp | 1) >> (i * 8));
	}
	out->op = (int)((h % 10) * 5 + (uint64_t)(j + (int)(h >> 20)) % 5);
	out->op %= SPANGEN_OPS;
	out->service = out->op % SPANGEN_SERVICES;
	/* 50 us .. ~1.1 s, log-uniform; children are shorter. */
	dur = (uint64_t)(50000.0 * __builtin_exp(u * 10.0));
	dur >>= (j > 0);
	out->start_ns = tstart + (uint64_t)j * 1000;
	out->end_ns = out->start_ns + dur;
	out->error = (hj % 100) == 7;
	out->user = (int)(hj % 10000);
}

static inline char *
sg_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	memcpy(p, s, n);
	return p;
}

static inline sg_kv *
sg_kv_str(const char *k, const char *v)
{
	sg_kv *kv = malloc(sizeof *kv);
	sg_any *a = malloc(sizeof *a);

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(a);
	kv->key = sg_strdup(k);
	a->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = sg_strdup(v);
	kv->value = a;
	return kv;
}

static inline sg_kv *
sg_kv_int(const char *k, int64_t v)
{
	sg_kv *kv = malloc(sizeof *kv);
	sg_any *a = malloc(sizeof *a);

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(a);
	kv->key = sg_strdup(k);
	a->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	a->int_value = v;
	kv->value = a;
	return kv;
}

static inline void
sg_bytes(ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
	b->data = malloc(n);
	memcpy(b->data, p, n);
	b->len = n;
}

/* Builds the span of info i (malloc'd, freed with the request). */
static inline sg_span *
sg_span_new(const sg_info *i)
{
	static const char *methods[] = { "GET", "POST", "PUT", "DELETE" };
	sg_span *sp = malloc(sizeof *sp);
	char buf[96];
	int a = 0;

	opentelemetry__proto__trace__v1__span__init(sp);
	sg_bytes(&sp->trace_id, i->trace_id, 16);
	sg_bytes(&sp->span_id, i->span_id, 8);
	for (int k = 0; k < 8; k++) {
		if (i->parent_id[k] != 0) {
			sg_bytes(&sp->parent_span_id, i->parent_id, 8);
			break;
		}
	}
	snprintf(buf, sizeof buf, "op-%02d", i->op);
	sp->name = sg_strdup(buf);
	sp->kind = sp->parent_span_id.len ? 3 : 2;
	sp->start_time_unix_nano = i->start_ns;
	sp->end_time_unix_nano = i->end_ns;
	sp->n_attributes = SPANGEN_ATTRS;
	sp->attributes = malloc(SPANGEN_ATTRS * sizeof *sp->attributes);
	sp->attributes[a++] = sg_kv_str("http.method", methods[i->op % 4]);
	snprintf(buf, sizeof buf, "/api/v1/%s/{id}/items", sp->name);
	sp->attributes[a++] = sg_kv_str("http.route", buf);
	sp->attributes[a++] = sg_kv_int("http.status_code",
	    i->error ? 500 : 200);
	snprintf(buf, sizeof buf, "user-%d", i->user);
	sp->attributes[a++] = sg_kv_str("user.id", buf);
	snprintf(buf, sizeof buf, "db-%d.internal", i->op % 7);
	sp->attributes[a++] = sg_kv_str("net.peer.name", buf);
	sp->attributes[a++] = sg_kv_int("http.request_content_length",
	    (int64_t)(i->end_ns % 4096));
	sp->attributes[a++] = sg_kv_str("component", "http");
	snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%04x", i->span_id[0],
	    i->span_id[1], i->span_id[2], i->span_id[3], i->user);
	sp->attributes[a++] = sg_kv_str("request.id", buf);
	if (i->error) {
		sp->status = malloc(sizeof *sp->status);
		opentelemetry__proto__trace__v1__status__init(sp->status);
		sp->status->code = 2;
		sp->status->message = sg_strdup("internal error");
	}
	return sp;
}

/*
 * sg_request_new builds a request holding traces [t0, t0 + n_traces) of
 * producer `seed`, one ResourceSpans per service present. Free with
 * sg_request_free.
 */
static inline sg_request *
sg_request_new(uint64_t seed, uint64_t t0, uint64_t n_traces,
    uint64_t base_ns, uint64_t step_ns)
{
	sg_request *req = malloc(sizeof *req);
	sg_ss *by_svc[SPANGEN_SERVICES] = { 0 };
	char buf[64];

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
	req->resource_spans = calloc(SPANGEN_SERVICES,
	    sizeof *req->resource_spans);
	for (uint64_t t = t0; t < t0 + n_traces; t++) {
		for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
			sg_info in;
			sg_ss *ss;

			sg_describe(seed, t, j, base_ns, step_ns, &in);
			if ((ss = by_svc[in.service]) == NULL) {
				sg_rs *rs = malloc(sizeof *rs);

				opentelemetry__proto__trace__v1__resource_spans__init(rs);
				rs->resource = malloc(sizeof *rs->resource);
				opentelemetry__proto__resource__v1__resource__init(
				    rs->resource);
				rs->resource->n_attributes = 3;
				rs->resource->attributes = malloc(3 *
				    sizeof *rs->resource->attributes);
				snprintf(buf, sizeof buf, "svc-%d", in.service);
				rs->resource->attributes[0] = sg_kv_str(
				    "service.name", buf);
				snprintf(buf, sizeof buf, "host-%d",
				    in.service * 3);
				rs->resource->attributes[1] = sg_kv_str(
				    "host.name", buf);
				rs->resource->attributes[2] = sg_kv_str(
				    "service.version", "1.4.2");
				ss = malloc(sizeof *ss);
				opentelemetry__proto__trace__v1__scope_spans__init(ss);
				ss->scope = malloc(sizeof *ss->scope);
				opentelemetry__proto__common__v1__instrumentation_scope__init(
				    ss->scope);
				ss->scope->name = sg_strdup("spangen");
				ss->scope->version = sg_strdup("1.0");
				rs->n_scope_spans = 1;
				rs->scope_spans = malloc(sizeof *rs->scope_spans);
				rs->scope_spans[0] = ss;
				req->resource_spans[req->n_resource_spans++] = rs;
				by_svc[in.service] = ss;
			}
			ss->spans = realloc(ss->spans,
			    (ss->n_spans + 1) * sizeof *ss->spans);
			ss->spans[ss->n_spans++] = sg_span_new(&in);
		}
	}
	return req;
}

static inline void
sg_request_free(sg_request *req)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

/* Packs req into a malloc'd buffer. */
static inline uint8_t *
sg_pack(const sg_request *req, size_t *len)
{
	uint8_t *buf;

	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
	buf = malloc(*len ? *len : 1);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, buf);
	return buf;
}

#endif /* TESTS_TOOLS_SPANGEN_H */
