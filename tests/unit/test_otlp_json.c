/* Unit tests for common/otlp_json_{encode,decode}.c: every OTLP JSON rule, every malformed
 * case, and a lossless protobuf -> JSON -> protobuf round trip. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "otlp_json.h"
#include "otlp_types.h"


#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

#define TID "5B8EFFF798038103D269B633813FC60C"
#define SID "EEE19B7EC3C1B174"

/* ------------------------------------------------------------ helpers */

/* Decoded document: the unpacked request plus the decoder's verdict. */
struct result {
	int rv;
	size_t rejected;
	char *cause;
	ExportRequest *req;
};

static void
decode(const char *json, struct result *r)
{
	uint8_t *pb = NULL;
	size_t len = 0;

	memset(r, 0, sizeof *r);
	r->rv = otlp_json_decode(
	    json, strlen(json), &pb, &len, &r->rejected, &r->cause);
	if (r->rv == 0) {
		r->req =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		        NULL, len, pb);
		assert_non_null(r->req);
	} else {
		assert_null(pb);
	}
	free(pb);
}

static void
result_free(struct result *r)
{
	free(r->cause);
	if (r->req != NULL)
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		    r->req, NULL);
}

static size_t
span_count(const ExportRequest *req)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_resource_spans; i++)
		for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans;
		     j++)
			n += req->resource_spans[i]->scope_spans[j]->n_spans;
	return n;
}

static Span *
first_span(const ExportRequest *req)
{
	assert_true(req->n_resource_spans > 0);
	assert_true(req->resource_spans[0]->n_scope_spans > 0);
	assert_true(req->resource_spans[0]->scope_spans[0]->n_spans > 0);
	return req->resource_spans[0]->scope_spans[0]->spans[0];
}

/* Wraps span fields (JSON text without braces) in a whole document. */
static char *
doc_with_span(const char *fields)
{
	char *s;

	xasprintf(&s,
	    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
	    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]},"
	    "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},\"spans\":[{"
	    "\"traceId\":\"" TID "\",\"spanId\":\"" SID
	    "\",\"name\":\"op\"%s%s"
	    "}]}]}]}",
	    *fields ? "," : "", fields);
	return s;
}

/* Decodes a one-span document; expects it kept (ok) or rejected. */
static void
span_case(const char *fields, bool ok, const char *cause_has)
{
	struct result r;
	char *doc = doc_with_span(fields);

	decode(doc, &r);
	if (r.rv != 0 || (ok && r.rejected != 0) || (!ok && r.rejected != 1))
		fail_msg("case {%s}: rv=%d rejected=%zu cause=%s", fields,
		    r.rv, r.rejected, r.cause ? r.cause : "(none)");
	assert_int_equal(span_count(r.req), ok ? 1 : 0);
	if (ok) {
		assert_null(r.cause);
	} else {
		assert_non_null(r.cause);
		if (cause_has != NULL && strstr(r.cause, cause_has) == NULL)
			fail_msg("case {%s}: cause \"%s\" lacks \"%s\"",
			    fields, r.cause, cause_has);
	}
	result_free(&r);
	free(doc);
}

/* Decodes a one-span document whose span must be kept, and returns it. */
static Span *
span_ok(const char *fields, struct result *r)
{
	char *doc = doc_with_span(fields);

	decode(doc, r);
	free(doc);
	if (r->rv != 0 || r->rejected != 0)
		fail_msg("case {%s}: rv=%d rejected=%zu cause=%s", fields,
		    r->rv, r->rejected, r->cause ? r->cause : "(none)");
	return first_span(r->req);
}

/* Returns the value of the span's only attribute. */
static AnyValue *
attr_value(const char *value_json, struct result *r)
{
	char *f;
	Span *s;

	xasprintf(
	    &f, "\"attributes\":[{\"key\":\"k\",\"value\":%s}]", value_json);
	s = span_ok(f, r);
	free(f);
	assert_int_equal(s->n_attributes, 1);
	assert_non_null(s->attributes[0]->value);
	return s->attributes[0]->value;
}

static void
attr_rejected(const char *value_json, const char *cause_has)
{
	char *f;

	xasprintf(
	    &f, "\"attributes\":[{\"key\":\"k\",\"value\":%s}]", value_json);
	span_case(f, false, cause_has);
	free(f);
}

/* ------------------------------------------------------------ round trip */

/* The hand-built request is freed as a list of allocations, since its
 * nodes are not laid out the way protobuf-c's free_unpacked expects. */
static void *tracked[512];
static size_t ntracked;

static void *
track(void *p)
{
	assert_true(ntracked < ARRAY_LEN(tracked));
	tracked[ntracked++] = p;
	return p;
}

static void *
tcalloc(size_t n, size_t size)
{
	return track(xcalloc(n, size));
}

static void *
tmalloc(size_t size)
{
	return track(xmalloc(size));
}

static char *
tstrdup(const char *s)
{
	return track(xstrdup(s));
}

static void
free_tracked(void)
{
	while (ntracked > 0)
		free(tracked[--ntracked]);
}

static KeyValue *
kv(const char *key, AnyValue *v)
{
	KeyValue *k = tcalloc(1, sizeof *k);

	opentelemetry__proto__common__v1__key_value__init(k);
	k->key = tstrdup(key);
	k->value = v;
	return k;
}

static AnyValue *
any_new(void)
{
	AnyValue *v = tcalloc(1, sizeof *v);

	opentelemetry__proto__common__v1__any_value__init(v);
	return v;
}

static AnyValue *
any_str(const char *s)
{
	AnyValue *v = any_new();

	v->value_case = AV(STRING_VALUE);
	v->string_value = tstrdup(s);
	return v;
}

static AnyValue *
any_int(int64_t i)
{
	AnyValue *v = any_new();

	v->value_case = AV(INT_VALUE);
	v->int_value = i;
	return v;
}

static AnyValue *
any_double(double d)
{
	AnyValue *v = any_new();

	v->value_case = AV(DOUBLE_VALUE);
	v->double_value = d;
	return v;
}

static ProtobufCBinaryData
bin(const char *hex)
{
	ProtobufCBinaryData b;

	b.len = strlen(hex) / 2;
	b.data = tmalloc(b.len);
	assert_int_equal(hex_decode(hex, b.data, b.len), 0);
	return b;
}

static KeyValue **
kvs(size_t n, ...)
{
	KeyValue **a = tcalloc(n, sizeof *a);
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		a[i] = va_arg(ap, KeyValue *);
	va_end(ap);
	return a;
}

/* Builds a request that uses every field of the schema. */
static ExportRequest *
build_rich_request(void)
{
	ExportRequest *req = tcalloc(1, sizeof *req);
	ResourceSpans *rs = tcalloc(1, sizeof *rs);
	Resource *res = tcalloc(1, sizeof *res);
	EntityRef *er = tcalloc(1, sizeof *er);
	ScopeSpans *ss = tcalloc(2, sizeof *ss);
	Scope *sc = tcalloc(1, sizeof *sc);
	Span *sp = tcalloc(2, sizeof *sp);
	Event *ev = tcalloc(1, sizeof *ev);
	Link *ln = tcalloc(1, sizeof *ln);
	Status *st = tcalloc(1, sizeof *st);
	AnyValue *arr = any_new(), *kvl = any_new(), *b = any_new(),
	         *bo = any_new(), *deep = any_new(), *empty = any_new(),
	         *idx = any_new();
	uint8_t *all = tmalloc(256);

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(
	    req);
	opentelemetry__proto__trace__v1__resource_spans__init(rs);
	opentelemetry__proto__resource__v1__resource__init(res);
	opentelemetry__proto__common__v1__entity_ref__init(er);
	opentelemetry__proto__trace__v1__scope_spans__init(&ss[0]);
	opentelemetry__proto__trace__v1__scope_spans__init(&ss[1]);
	opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
	opentelemetry__proto__trace__v1__span__init(&sp[0]);
	opentelemetry__proto__trace__v1__span__init(&sp[1]);
	opentelemetry__proto__trace__v1__span__event__init(ev);
	opentelemetry__proto__trace__v1__span__link__init(ln);
	opentelemetry__proto__trace__v1__status__init(st);

	/* AnyValue of every kind, nested. */
	arr->value_case = AV(ARRAY_VALUE);
	arr->array_value = tcalloc(1, sizeof(ArrayValue));
	opentelemetry__proto__common__v1__array_value__init(arr->array_value);
	arr->array_value->n_values = 4;
	arr->array_value->values = tcalloc(4, sizeof(AnyValue *));
	arr->array_value->values[0] = any_str("x");
	arr->array_value->values[1] = any_int(-1);
	arr->array_value->values[2] = any_double(0.1);
	arr->array_value->values[3] = any_new(); /* empty AnyValue */
	kvl->value_case = AV(KVLIST_VALUE);
	kvl->kvlist_value = tcalloc(1, sizeof(KeyValueList));
	opentelemetry__proto__common__v1__key_value_list__init(
	    kvl->kvlist_value);
	deep->value_case = AV(KVLIST_VALUE);
	deep->kvlist_value = tcalloc(1, sizeof(KeyValueList));
	opentelemetry__proto__common__v1__key_value_list__init(
	    deep->kvlist_value);
	deep->kvlist_value->n_values = 1;
	deep->kvlist_value->values = kvs(1, kv("inner", any_str("v")));
	kvl->kvlist_value->n_values = 3;
	kvl->kvlist_value->values =
	    kvs(3, kv("a", arr), kv("b", deep), kv("nil", NULL));
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	b->value_case = AV(BYTES_VALUE);
	b->bytes_value.data = all;
	b->bytes_value.len = 256;
	bo->value_case = AV(BOOL_VALUE);
	bo->bool_value = 1;
	idx->value_case = AV(STRING_VALUE_STRINDEX);
	idx->string_value_strindex = 7;

	res->n_attributes = 2;
	res->attributes = kvs(2, kv("service.name", any_str("checkout")),
	    kv("host.cores", any_int(INT64_MIN)));
	res->dropped_attributes_count = 3;
	er->schema_url = tstrdup("https://s/1");
	er->type = tstrdup("host");
	er->n_id_keys = 1;
	er->id_keys = tcalloc(1, sizeof(char *));
	er->id_keys[0] = tstrdup("host.id");
	res->n_entity_refs = 1;
	res->entity_refs = tcalloc(1, sizeof(EntityRef *));
	res->entity_refs[0] = er;
	rs->resource = res;
	rs->schema_url = tstrdup("https://opentelemetry.io/schemas/1.44.0");

	sc->name = tstrdup("lib");
	sc->version = tstrdup("1.2.3");
	sc->n_attributes = 1;
	sc->attributes = kvs(1, kv("scope.attr", any_str("s")));
	sc->dropped_attributes_count = 1;
	ss[0].scope = sc;
	ss[0].schema_url = tstrdup("https://scope/schema");

	sp[0].trace_id = bin("5b8efff798038103d269b633813fc60c");
	sp[0].span_id = bin("eee19b7ec3c1b174");
	sp[0].parent_span_id = bin("eee19b7ec3c1b173");
	sp[0].trace_state = tstrdup("vendor=x,other=y");
	sp[0].flags = 0x301;
	sp[0].name = tstrdup("GET /cart \xe2\x9c\x93 \"quoted\"\n");
	sp[0].kind = 2;
	sp[0].start_time_unix_nano = 1700000000000000000ULL;
	sp[0].end_time_unix_nano = UINT64_MAX;
	sp[0].n_attributes = 10;
	sp[0].attributes = kvs(10, kv("s", any_str("")),
	    kv("i", any_int(INT64_MAX)), kv("d", any_double(-0.0)),
	    kv("nan", any_double(NAN)), kv("inf", any_double(INFINITY)),
	    kv("ninf", any_double(-INFINITY)),
	    kv("tiny", any_double(4.9e-324)), kv("kv", kvl), kv("bytes", b),
	    kv("bool", bo));
	sp[0].dropped_attributes_count = 4;
	ev->time_unix_nano = 1700000000000000001ULL;
	ev->name = tstrdup("exception");
	ev->n_attributes = 1;
	ev->attributes = kvs(1, kv("exception.message", any_str("boom")));
	ev->dropped_attributes_count = 2;
	sp[0].n_events = 1;
	sp[0].events = tcalloc(1, sizeof(Event *));
	sp[0].events[0] = ev;
	sp[0].dropped_events_count = 5;
	ln->trace_id = bin("0102030405060708090a0b0c0d0e0f10");
	ln->span_id = bin("0102030405060708");
	ln->trace_state = tstrdup("a=b");
	ln->n_attributes = 1;
	ln->attributes = kvs(1, kv("idx", idx));
	ln->dropped_attributes_count = 6;
	ln->flags = 0x201;
	sp[0].n_links = 1;
	sp[0].links = tcalloc(1, sizeof(Link *));
	sp[0].links[0] = ln;
	sp[0].dropped_links_count = 7;
	st->code = 2;
	st->message = tstrdup("boom");
	sp[0].status = st;

	/* A minimal second span: empty status present, empty AnyValue,
	 * a key_strindex. */
	sp[1].trace_id = bin("5b8efff798038103d269b633813fc60c");
	sp[1].span_id = bin("00000000000000ff");
	sp[1].status = tcalloc(1, sizeof(Status));
	opentelemetry__proto__trace__v1__status__init(sp[1].status);
	sp[1].n_attributes = 1;
	sp[1].attributes = kvs(1, kv("", empty));
	sp[1].attributes[0]->key_strindex = 9;

	ss[0].n_spans = 2;
	ss[0].spans = tcalloc(2, sizeof(Span *));
	ss[0].spans[0] = &sp[0];
	ss[0].spans[1] = &sp[1];
	/* ss[1]: no scope, no spans. */
	rs->n_scope_spans = 2;
	rs->scope_spans = tcalloc(2, sizeof(ScopeSpans *));
	rs->scope_spans[0] = &ss[0];
	rs->scope_spans[1] = &ss[1];
	req->n_resource_spans = 1;
	req->resource_spans = tcalloc(1, sizeof(ResourceSpans *));
	req->resource_spans[0] = rs;
	return req;
}

static uint8_t *
pack_request(const ExportRequest *req, size_t *len)
{
	uint8_t *buf;

	*len =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	        req);
	buf = xmalloc(*len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    req, buf);
	return buf;
}

/* pb -> JSON -> pb gives the same bytes, compact and pretty; and the
 * re-encoded JSON is identical (a fixed point). */
static void
test_round_trip_lossless(void **state)
{
	size_t len, len2, len3, rejected;
	uint8_t *orig, *pb2, *pb3;
	ExportRequest *req, *unpacked;
	char *json, *json2, *cause;

	(void)state;
	/* Compare against an unpacked copy, as the store would hand it. */
	req = build_rich_request();
	orig = pack_request(req, &len);
	unpacked =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	        NULL, len, orig);
	assert_non_null(unpacked);

	for (int pretty = 0; pretty <= 1; pretty++) {
		json = otlp_json_encode(unpacked->resource_spans,
		    unpacked->n_resource_spans, pretty, &cause);
		assert_non_null(json);
		assert_null(cause);
		assert_int_equal(otlp_json_decode(json, strlen(json), &pb2,
		                     &len2, &rejected, &cause),
		    0);
		assert_int_equal(rejected, 0);
		assert_null(cause);
		assert_int_equal(len2, len);
		assert_memory_equal(pb2, orig, len);

		/* Encoding the decoded copy again gives the same text. */
		ExportRequest *again =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		        NULL, len2, pb2);
		assert_non_null(again);
		json2 = otlp_json_encode(again->resource_spans,
		    again->n_resource_spans, pretty, &cause);
		assert_string_equal(json, json2);
		assert_int_equal(otlp_json_decode(json2, strlen(json2), &pb3,
		                     &len3, &rejected, &cause),
		    0);
		assert_memory_equal(pb3, orig, len);
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		    again, NULL);
		free(json);
		free(json2);
		free(pb2);
		free(pb3);
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    unpacked, NULL);
	free(orig);
	(void)req;
	free_tracked();
}

/* Encoder output follows the OTLP rules: hex IDs, integer enums, 64-bit
 * as strings, base64 bytes, special doubles as strings. */
static void
test_encode_shape(void **state)
{
	ExportRequest *req = build_rich_request();
	size_t len;
	uint8_t *pb = pack_request(req, &len);
	ExportRequest *u =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	        NULL, len, pb);
	char *cause, *json = otlp_json_encode(
	                 u->resource_spans, u->n_resource_spans, 0, &cause);

	(void)state;
	assert_non_null(
	    strstr(json, "\"traceId\":\"5b8efff798038103d269b633813fc60c\""));
	assert_non_null(strstr(json, "\"parentSpanId\":\"eee19b7ec3c1b173\""));
	assert_non_null(strstr(json, "\"kind\":2"));
	assert_non_null(strstr(json, "\"code\":2"));
	assert_non_null(
	    strstr(json, "\"startTimeUnixNano\":\"1700000000000000000\""));
	assert_non_null(
	    strstr(json, "\"endTimeUnixNano\":\"18446744073709551615\""));
	assert_non_null(strstr(json, "\"intValue\":\"9223372036854775807\""));
	assert_non_null(strstr(json, "\"intValue\":\"-9223372036854775808\""));
	assert_non_null(strstr(json, "\"doubleValue\":\"NaN\""));
	assert_non_null(strstr(json, "\"doubleValue\":\"-Infinity\""));
	assert_non_null(strstr(json, "\"bytesValue\":\"AAECAwQFBgcICQ"));
	assert_non_null(strstr(json, "\"flags\":769"));
	assert_null(strstr(json, "trace_id"));
	assert_null(strstr(json, "SPAN_KIND"));
	free(json);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    u, NULL);
	free(pb);
	(void)req;
	free_tracked();
}

/* Invalid UTF-8 from the wire becomes U+FFFD instead of failing. */
static void
test_encode_invalid_utf8(void **state)
{
	ResourceSpans rs;
	ScopeSpans ss, *ssp = &ss;
	Span sp, *spp = &sp;
	ResourceSpans *rsp = &rs;
	char name[] = "a\xff"
	              "b\xc3";
	char *cause, *json;

	(void)state;
	opentelemetry__proto__trace__v1__resource_spans__init(&rs);
	opentelemetry__proto__trace__v1__scope_spans__init(&ss);
	opentelemetry__proto__trace__v1__span__init(&sp);
	sp.name = name;
	ss.n_spans = 1;
	ss.spans = &spp;
	rs.n_scope_spans = 1;
	rs.scope_spans = &ssp;
	json = otlp_json_encode(&rsp, 1, 0, &cause);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"name\":\"a\xef\xbf\xbd"
	                             "b\xef\xbf\xbd\""));
	free(json);
	json = otlp_json_encode(NULL, 0, 1, &cause);
	assert_non_null(json);
	free(json);
}

/* ------------------------------------------------------------ decode rules */

/* The example of docs/PROTOCOL.md §3, upper-case hex included. */
static void
test_decode_spec_example(void **state)
{
	struct result r;
	Span *s;
	uint8_t tid[16];

	(void)state;
	decode(
	    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
	    "\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]},"
	    "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1\"},"
	    "\"spans\":[{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\","
	    "\"name\":\"GET /x\",\"kind\":2,"
	    "\"startTimeUnixNano\":\"1700000000000000000\","
	    "\"endTimeUnixNano\":\"1700000000100000000\","
	    "\"status\":{\"code\":2,\"message\":\"boom\"}}]}]}]}",
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.rejected, 0);
	s = first_span(r.req);
	hex_decode(TID, tid, 16);
	assert_int_equal(s->trace_id.len, 16);
	assert_memory_equal(s->trace_id.data, tid, 16);
	assert_int_equal(s->span_id.len, 8);
	assert_int_equal(s->parent_span_id.len, 0);
	assert_string_equal(s->name, "GET /x");
	assert_int_equal(s->kind, 2);
	assert_true(s->start_time_unix_nano == 1700000000000000000ULL);
	assert_true(s->end_time_unix_nano == 1700000000100000000ULL);
	assert_non_null(s->status);
	assert_int_equal(s->status->code, 2);
	assert_string_equal(s->status->message, "boom");
	assert_string_equal(
	    r.req->resource_spans[0]->scope_spans[0]->scope->version, "1");
	result_free(&r);
}

/* Hex IDs: either case; exact lengths; empty means absent. */
static void
test_decode_hex_ids(void **state)
{
	struct result r;
	Span *s;

	(void)state;
	s = span_ok("\"parentSpanId\":\"aBcDeF0123456789\"", &r);
	assert_int_equal(s->parent_span_id.len, 8);
	assert_int_equal(s->parent_span_id.data[0], 0xab);
	result_free(&r);
	s = span_ok("\"parentSpanId\":\"\"", &r); /* root span */
	assert_int_equal(s->parent_span_id.len, 0);
	result_free(&r);
	/* An empty trace ID decodes to zero bytes; the pipeline rejects it. */
	s = span_ok("\"traceId\":\"\"", &r);
	assert_int_equal(s->trace_id.len, 0);
	result_free(&r);

	span_case("\"traceId\":\"5B8EFFF798038103D269B633813FC60\"", false,
	    "traceId: expected 32 hex digits");
	span_case("\"traceId\":\"5B8EFFF798038103D269B633813FC60C00\"", false,
	    "traceId");
	span_case("\"traceId\":\"5B8EFFF798038103D269B633813FC60G\"", false,
	    "is not hex");
	span_case("\"spanId\":\"EEE19B7EC3C1B17\"", false, "spanId");
	span_case("\"spanId\":\"EEE19B7EC3C1B17Z\"", false, "spanId");
	span_case("\"parentSpanId\":\"abc\"", false, "parentSpanId");
	span_case("\"traceId\":12345", false, "expected a hex string");
	/* base64 (the proto3 default for bytes) is not what OTLP uses. */
	span_case(
	    "\"traceId\":\"W47/95gDgQPSabYzgT/GDA==\"", false, "traceId");
	span_case("\"spanId\":\" EEE19B7EC3C1B17\"", false, "spanId");
	span_case("\"links\":[{\"traceId\":\"abcd\",\"spanId\":\"" SID "\"}]",
	    false, "links[0].traceId");
	span_case("\"links\":[{\"traceId\":\"" TID "\",\"spanId\":\"zz\"}]",
	    false, "links[0].spanId");
}

/* 64-bit integers: strings or numbers; 32-bit: numbers or strings;
 * enums: integers only. */
static void
test_decode_numbers(void **state)
{
	struct result r;
	Span *s;

	(void)state;
	s = span_ok("\"startTimeUnixNano\":1700000000000000000,"
	            "\"endTimeUnixNano\":\"18446744073709551615\","
	            "\"droppedAttributesCount\":\"3\",\"flags\":257,"
	            "\"droppedEventsCount\":2.0,\"droppedLinksCount\":1e1",
	    &r);
	assert_true(s->start_time_unix_nano == 1700000000000000000ULL);
	assert_true(s->end_time_unix_nano == UINT64_MAX);
	assert_int_equal(s->dropped_attributes_count, 3);
	assert_int_equal(s->flags, 257);
	assert_int_equal(s->dropped_events_count, 2);
	assert_int_equal(s->dropped_links_count, 10);
	result_free(&r);

	span_case("\"startTimeUnixNano\":-1", false, "startTimeUnixNano");
	span_case("\"startTimeUnixNano\":\"-1\"", false, "startTimeUnixNano");
	span_case("\"startTimeUnixNano\":\"18446744073709551616\"", false,
	    "startTimeUnixNano");
	span_case(
	    "\"startTimeUnixNano\":\"12ab\"", false, "startTimeUnixNano");
	span_case("\"startTimeUnixNano\":\" 12\"", false, "startTimeUnixNano");
	span_case("\"startTimeUnixNano\":\"\"", false, "startTimeUnixNano");
	span_case("\"startTimeUnixNano\":1.5", false, "not an integer");
	span_case("\"startTimeUnixNano\":true", false, "expected an integer");
	span_case("\"startTimeUnixNano\":{}", false, "expected an integer");
	span_case(
	    "\"droppedAttributesCount\":4294967296", false, "out of range");
	span_case("\"droppedAttributesCount\":-1", false, "out of range");
	span_case("\"flags\":\"x\"", false, "flags");
	/* Enums: integers or names (proto3 JSON), never numeric strings. */
	s = span_ok("\"kind\":\"SPAN_KIND_SERVER\","
	            "\"status\":{\"code\":\"STATUS_CODE_ERROR\"}",
	    &r);
	assert_int_equal(s->kind, 2);
	assert_int_equal(s->status->code, 2);
	result_free(&r);
	span_case("\"kind\":\"SPAN_KIND_NOPE\"", false,
	    "kind: \"SPAN_KIND_NOPE\" is not a SpanKind name");
	span_case("\"kind\":\"span_kind_server\"", false, "kind");
	span_case("\"kind\":\"2\"", false, "kind");
	span_case("\"kind\":2.5", false, "enum must be an integer or a name");
	span_case("\"kind\":4294967298", false, "kind");
	span_case("\"status\":{\"code\":\"ERROR\"}", false, "status.code");
	span_case("\"kind\":5", true, NULL);
	/* Strings where numbers are expected and the reverse. */
	span_case("\"name\":42", false, "name: expected a string");
	span_case("\"traceState\":[]", false, "traceState");
	span_case("\"status\":\"error\"", false, "status");
	span_case("\"status\":{\"message\":7}", false, "status.message");
}

static void
test_decode_any_values(void **state)
{
	struct result r;
	AnyValue *v;
	uint8_t expect[4] = {0xfb, 0xff, 0xbf, 0x00};

	(void)state;
	v = attr_value("{\"intValue\":\"-42\"}", &r);
	assert_int_equal(v->value_case, AV(INT_VALUE));
	assert_true(v->int_value == -42);
	result_free(&r);
	v = attr_value("{\"intValue\":-9007199254740993}", &r);
	assert_true(v->int_value == -9007199254740993LL);
	result_free(&r);
	v = attr_value("{\"intValue\":\"-9223372036854775808\"}", &r);
	assert_true(v->int_value == INT64_MIN);
	result_free(&r);
	v = attr_value("{\"doubleValue\":1}", &r);
	assert_int_equal(v->value_case, AV(DOUBLE_VALUE));
	assert_true(v->double_value == 1.0);
	result_free(&r);
	v = attr_value("{\"doubleValue\":\"2.5e3\"}", &r);
	assert_true(v->double_value == 2500.0);
	result_free(&r);
	v = attr_value("{\"doubleValue\":\"NaN\"}", &r);
	assert_true(isnan(v->double_value));
	result_free(&r);
	v = attr_value("{\"doubleValue\":\"-Infinity\"}", &r);
	assert_true(isinf(v->double_value) && v->double_value < 0);
	result_free(&r);
	v = attr_value("{\"boolValue\":false}", &r);
	assert_int_equal(v->value_case, AV(BOOL_VALUE));
	assert_false(v->bool_value);
	result_free(&r);
	v = attr_value("{\"bytesValue\":\"+/+/AA==\"}", &r);
	assert_int_equal(v->value_case, AV(BYTES_VALUE));
	assert_int_equal(v->bytes_value.len, 4);
	assert_memory_equal(v->bytes_value.data, expect, 4);
	result_free(&r);
	v = attr_value("{\"bytesValue\":\"-_-_AA\"}", &r); /* URL-safe */
	assert_memory_equal(v->bytes_value.data, expect, 4);
	result_free(&r);
	v = attr_value("{}", &r); /* empty AnyValue is valid */
	assert_int_equal(v->value_case, AV(_NOT_SET));
	result_free(&r);
	v = attr_value("{\"stringValue\":null}", &r); /* null = default */
	assert_int_equal(v->value_case, AV(_NOT_SET));
	result_free(&r);
	v = attr_value("{\"arrayValue\":{}}", &r);
	assert_int_equal(v->value_case, AV(ARRAY_VALUE));
	assert_int_equal(v->array_value->n_values, 0);
	result_free(&r);
	v = attr_value(
	    "{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},"
	    "{\"intValue\":1},{\"kvlistValue\":{\"values\":[{\"key\":\"x\","
	    "\"value\":{\"boolValue\":true}}]}}]}}",
	    &r);
	assert_int_equal(v->array_value->n_values, 3);
	assert_int_equal(
	    v->array_value->values[2]->value_case, AV(KVLIST_VALUE));
	assert_string_equal(
	    v->array_value->values[2]->kvlist_value->values[0]->key, "x");
	result_free(&r);
	v = attr_value("{\"stringValue\":\"\\u00e9\\ud83d\\ude00\"}", &r);
	assert_string_equal(v->string_value, "\xc3\xa9\xf0\x9f\x98\x80");
	result_free(&r);

	attr_rejected("{\"stringValue\":5}", "stringValue: expected a string");
	attr_rejected("{\"boolValue\":\"true\"}", "boolValue");
	attr_rejected("{\"boolValue\":1}", "boolValue");
	attr_rejected("{\"intValue\":\"9223372036854775808\"}", "intValue");
	attr_rejected("{\"intValue\":1.25}", "intValue");
	attr_rejected("{\"intValue\":\"0x10\"}", "intValue");
	attr_rejected("{\"intValue\":true}", "intValue");
	attr_rejected("{\"doubleValue\":\"abc\"}", "doubleValue");
	attr_rejected("{\"doubleValue\":\"inf\"}", "doubleValue");
	attr_rejected("{\"doubleValue\":\"0x1p3\"}", "doubleValue");
	attr_rejected("{\"doubleValue\":true}", "doubleValue");
	attr_rejected("{\"bytesValue\":\"***\"}", "bytesValue");
	attr_rejected("{\"bytesValue\":\"A\"}", "bytesValue");
	attr_rejected("{\"bytesValue\":12}", "bytesValue");
	attr_rejected(
	    "{\"stringValue\":\"a\",\"intValue\":\"1\"}", "want one");
	attr_rejected("\"plain string\"", "value: expected an object");
	attr_rejected("{\"arrayValue\":[]}", "arrayValue: expected an object");
	attr_rejected("{\"arrayValue\":{\"values\":{}}}", "values");
	attr_rejected(
	    "{\"arrayValue\":{\"values\":[1]}}", "arrayValue.values[0]");
	attr_rejected("{\"kvlistValue\":{\"values\":[{\"key\":1}]}}", "key");
	attr_rejected("{\"kvlistValue\":{\"values\":[7]}}", "values[0]");
	span_case("\"attributes\":{}", false, "attributes: expected an array");
	span_case("\"attributes\":[null]", false, "attributes[0]");
	span_case("\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":"
	          "\"v\"},\"keyStrindex\":\"x\"}]",
	    false, "keyStrindex");
}

/* Builds {"arrayValue":{"values":[ ... ]}} nested depth times. */
static char *
nested_value(int depth, bool kvlist)
{
	size_t cap = (size_t)depth * 64 + 64, n = 0;
	char *s = xmalloc(cap);

	for (int i = 1; i < depth; i++)
		n += (size_t)sprintf(
		    s + n, kvlist ? "{\"kvlistValue\":{\"values\":[{\"key\":"
		                    "\"k\",\"value\":"
		                  : "{\"arrayValue\":{\"values\":[");
	n += (size_t)sprintf(s + n, "{\"intValue\":\"1\"}");
	for (int i = 1; i < depth; i++)
		n += (size_t)sprintf(s + n, kvlist ? "}]}}" : "]}}");
	return s;
}

static void
test_decode_depth_bound(void **state)
{
	struct result r;
	char *v;

	(void)state;
	for (int kvlist = 0; kvlist <= 1; kvlist++) {
		v = nested_value(OTLP_JSON_MAX_ANY_DEPTH, kvlist);
		attr_value(v, &r);
		result_free(&r);
		free(v);
		v = nested_value(OTLP_JSON_MAX_ANY_DEPTH + 1, kvlist);
		attr_rejected(v, "nested deeper");
		free(v);
		v = nested_value(100000 / 40, kvlist); /* beyond jansson */
		char *f, *doc;
		xasprintf(
		    &f, "\"attributes\":[{\"key\":\"k\",\"value\":%s}]", v);
		doc = doc_with_span(f);
		decode(doc, &r);
		assert_int_equal(r.rv, -1);
		assert_non_null(r.cause);
		result_free(&r);
		free(doc);
		free(f);
		free(v);
	}
}

/* Unknown and snake_case keys are ignored; null means the default. */
static void
test_decode_unknown_and_null(void **state)
{
	struct result r;
	Span *s;

	(void)state;
	s = span_ok(
	    "\"futureField\":{\"a\":[1,2]},\"start_time_unix_nano\":"
	    "\"bad\",\"kind\":null,\"status\":null,\"attributes\":null,"
	    "\"events\":null,\"links\":[],\"parentSpanId\":null,"
	    "\"traceState\":null,\"flags\":null",
	    &r);
	assert_true(s->start_time_unix_nano == 0);
	assert_int_equal(s->kind, 0);
	assert_null(s->status);
	assert_int_equal(s->n_attributes, 0);
	assert_int_equal(s->n_links, 0);
	result_free(&r);
	/* A snake_case trace_id is unknown, so the span has no trace ID
	 * (decoded fine; the pipeline will reject it). */
	decode(
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"trace_id\":"
	    "\"" TID "\",\"spanId\":\"" SID "\"}]}]}]}",
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(first_span(r.req)->trace_id.len, 0);
	result_free(&r);
}

/* Per-span isolation: bad spans are counted, good ones kept. */
static void
test_decode_isolation(void **state)
{
	struct result r;

	(void)state;
	decode(
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
	    "{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\",\"name\":\"a\"},"
	    "{\"traceId\":\"" TID "\",\"spanId\":\"xyz\",\"name\":\"bad1\"},"
	    "42,"
	    "{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\",\"name\":\"b\"}"
	    "]},{\"scope\":{\"name\":5},\"spans\":[{},{}]}]},"
	    "{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":"
	    "{\"intValue\":\"x\"}}]},\"scopeSpans\":[{\"spans\":[{},{},{}]}]},"
	    "{\"scopeSpans\":[{\"spans\":[{\"name\":\"c\"}]}]}]}",
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.rejected, 2 + 2 + 3);
	assert_int_equal(span_count(r.req), 3);
	assert_non_null(r.cause);
	assert_string_equal(r.cause, "resourceSpans[0].scopeSpans[0].spans[1]"
	                             ".spanId: expected 16 hex digits, got 3");
	assert_string_equal(
	    r.req->resource_spans[0]->scope_spans[0]->spans[1]->name, "b");
	result_free(&r);
}

/* Documents that cannot be used at all: -1 with a reason. */
static void
test_decode_unusable(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "[]",
	    "42",
	    "null",
	    "\"x\"",
	    "{\"resourceSpans\":{}}",
	    "{\"resourceSpans\":[1]}",
	    "{\"resourceSpans\":[{\"scopeSpans\":{}}]}",
	    "{\"resourceSpans\":[{\"scopeSpans\":[[]]}]}",
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":{}}]}]}",
	    "{\"resourceSpans\":[]} trailing",
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
	    "\"startTimeUnixNano\":99999999999999999999999}]}]}]}",
	};
	struct result r;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		decode(bad[i], &r);
		if (r.rv != -1 || r.cause == NULL)
			fail_msg("document %zu (%s) was accepted", i, bad[i]);
		result_free(&r);
	}
	/* Empty and span-less documents are fine (empty request). */
	decode("{}", &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.req->n_resource_spans, 0);
	result_free(&r);
	decode("{\"resourceSpans\":null}", &r);
	assert_int_equal(r.rv, 0);
	result_free(&r);
	decode("{\"resourceSpans\":[{}]}", &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.req->n_resource_spans, 1);
	result_free(&r);
}

/* Decodes a document to raw protobuf bytes (which keep NUL bytes that
 * protobuf-c's unpacked strings cannot show). */
static uint8_t *
decode_raw(const char *json, size_t *len)
{
	uint8_t *pb = NULL;
	size_t rejected = 0;
	char *cause = NULL;

	if (otlp_json_decode(json, strlen(json), &pb, len, &rejected,
	        &cause) != 0 ||
	    rejected != 0)
		fail_msg("%s: %s", json, cause ? cause : "(rejected)");
	free(cause);
	return pb;
}

/* Every JSON escape, "\u0000" included, and surrogate pairs reach the
 * protobuf string as the bytes they stand for. */
static void
test_decode_escapes_and_nul(void **state)
{
	static const char want[] = "a\0b\"\\/\b\f\n\r\t\x1f\xc3\xa9"
	                           "\xf0\x9f\x98\x80z";
	char *doc;
	uint8_t *pb;
	size_t len;

	(void)state;
	doc = doc_with_span(
	    "\"attributes\":[{\"key\":\"k\\u0000\",\"value\":{\"stringValue\":"
	    "\"a\\u0000b\\\"\\\\\\/\\b\\f\\n\\r\\t\\u001F\\u00e9"
	    "\\uD83D\\uDE00\\u007a\"}}]");
	pb = decode_raw(doc, &len);
	/* The value is a length-prefixed string holding exactly want. */
	assert_non_null(memmem(pb, len, want, sizeof want - 1));
	assert_non_null(memmem(pb, len, "k\0", 2));
	free(pb);
	free(doc);
	/* A lone surrogate is not a character: the document is refused. */
	doc = doc_with_span("\"name\":\"\\ud800x\"");
	{
		struct result r;
		decode(doc, &r);
		assert_int_equal(r.rv, -1);
		assert_non_null(strstr(r.cause, "unpaired surrogate"));
		result_free(&r);
	}
	free(doc);
}

/* 64-bit integers as bare numbers up to their limits. */
static void
test_decode_64bit_numbers(void **state)
{
	struct result r;
	Span *s;
	AnyValue *v;

	(void)state;
	s = span_ok("\"startTimeUnixNano\":18446744073709551615,"
	            "\"endTimeUnixNano\":9223372036854775808",
	    &r);
	assert_true(s->start_time_unix_nano == UINT64_MAX);
	assert_true(s->end_time_unix_nano == 9223372036854775808ULL);
	result_free(&r);
	v = attr_value("{\"intValue\":9223372036854775807}", &r);
	assert_true(v->int_value == INT64_MAX);
	result_free(&r);
	v = attr_value("{\"intValue\":-9223372036854775808}", &r);
	assert_true(v->int_value == INT64_MIN);
	result_free(&r);
	attr_rejected("{\"intValue\":9223372036854775808}", "out of range");
}

/* Empty arrays and objects wherever the mapping allows them. */
static void
test_decode_empty_everywhere(void **state)
{
	struct result r;
	Span *s;

	(void)state;
	decode("{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{"
	       "\"scope\":{},\"spans\":[]},{\"spans\":[{\"traceId\":\"" TID
	       "\",\"spanId\":\"" SID "\",\"attributes\":[],\"events\":[{}],"
	       "\"links\":[],\"status\":{}}]}]},{\"scopeSpans\":[]}]}",
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.rejected, 0);
	assert_int_equal(r.req->n_resource_spans, 2);
	assert_non_null(r.req->resource_spans[0]->resource);
	assert_int_equal(r.req->resource_spans[0]->n_scope_spans, 2);
	assert_int_equal(r.req->resource_spans[0]->scope_spans[0]->n_spans, 0);
	s = r.req->resource_spans[0]->scope_spans[1]->spans[0];
	assert_int_equal(s->n_attributes, 0);
	assert_int_equal(s->n_events, 1);
	assert_non_null(s->status);
	result_free(&r);
	s = span_ok("\"attributes\":[{\"key\":\"k\",\"value\":{\"kvlistValue\":"
	            "{}}},{\"key\":\"e\",\"value\":{}},{\"key\":\"a\","
	            "\"value\":{\"arrayValue\":{\"values\":[]}}}]",
	    &r);
	assert_int_equal(s->n_attributes, 3);
	assert_int_equal(s->attributes[0]->value->value_case, AV(KVLIST_VALUE));
	assert_int_equal(s->attributes[1]->value->value_case, AV(_NOT_SET));
	assert_int_equal(s->attributes[2]->value->value_case, AV(ARRAY_VALUE));
	result_free(&r);
}

/* Unknown keys at every level are skipped, whatever they hold. */
static void
test_decode_unknown_everywhere(void **state)
{
	struct result r;

	(void)state;
	decode("{\"x\":[{\"deep\":[1,{\"y\":null}]}],\"resourceSpans\":[{\"x\":1,"
	       "\"resource\":{\"x\":\"\",\"attributes\":[{\"key\":\"k\",\"x\":{},"
	       "\"value\":{\"x\":1,\"stringValue\":\"v\"}}]},\"scopeSpans\":[{"
	       "\"x\":true,\"scope\":{\"x\":[]},\"spans\":[{\"x\":\"\\u0000\","
	       "\"traceId\":\"" TID "\",\"spanId\":\"" SID "\",\"status\":{"
	       "\"x\":0},\"events\":[{\"x\":1}],\"links\":[{\"x\":1}]}]}]}]}",
	    &r);
	assert_int_equal(r.rv, 0);
	assert_int_equal(r.rejected, 0);
	assert_int_equal(span_count(r.req), 1);
	assert_string_equal(r.req->resource_spans[0]->resource->attributes[0]
	                        ->value->string_value,
	    "v");
	result_free(&r);
}

/* Refusals are in our words: what is wrong (and where, when the JSON is
 * well-formed), never a parser library's option or error-code names. */
static void
test_decode_error_words(void **state)
{
	static const char *const bad[] = {
	    "{\"a\":}", "{\"a\":tru}", "{\"a\":\"x", "{\"a\":\"\t\"}", "[1,]",
	    "{\"a\":01}", "{\"a\":\"\\x\"}", "\xff", "{} {}", "",
	};
	struct result r;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		decode(bad[i], &r);
		assert_int_equal(r.rv, -1);
		if (strncmp(r.cause, "invalid JSON: ", 14) != 0 ||
		    strstr(r.cause, "JSON_") != NULL ||
		    strstr(r.cause, "_ERROR") != NULL ||
		    strstr(r.cause, "simdjson") != NULL)
			fail_msg("%s: cause \"%s\"", bad[i], r.cause);
		result_free(&r);
	}
	decode("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[]},7]}]}", &r);
	assert_int_equal(r.rv, -1);
	assert_string_equal(r.cause, "resourceSpans[0].scopeSpans[1]: expected "
	                             "an object, got a number");
	result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_lossless),
	    cmocka_unit_test(test_encode_shape),
	    cmocka_unit_test(test_encode_invalid_utf8),
	    cmocka_unit_test(test_decode_spec_example),
	    cmocka_unit_test(test_decode_hex_ids),
	    cmocka_unit_test(test_decode_numbers),
	    cmocka_unit_test(test_decode_any_values),
	    cmocka_unit_test(test_decode_depth_bound),
	    cmocka_unit_test(test_decode_unknown_and_null),
	    cmocka_unit_test(test_decode_isolation),
	    cmocka_unit_test(test_decode_unusable),
	    cmocka_unit_test(test_decode_escapes_and_nul),
	    cmocka_unit_test(test_decode_64bit_numbers),
	    cmocka_unit_test(test_decode_empty_everywhere),
	    cmocka_unit_test(test_decode_unknown_everywhere),
	    cmocka_unit_test(test_decode_error_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
