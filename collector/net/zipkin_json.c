/*
 * zipkin_json.c - Zipkin v2 JSON spans to OTLP protobuf (see
 * zipkin_json.h and docs/ZIPKIN.md for the mapping).
 *
 * Two passes: the first checks every span and reads what the output
 * needs up front (IDs, times, kind, status, service), so that a bad span
 * refuses the request before anything is written; the second writes one
 * ResourceSpans per service, the spans of a service in input order
 * (indices sorted by service, then position).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "net/zipkin_json.h"
#include "pb_write.h"

/* OTLP protobuf field numbers (opentelemetry-proto v1.11.0). */
enum {
	F_REQ_RESOURCE_SPANS = 1,
	F_RS_RESOURCE = 1,
	F_RS_SCOPE_SPANS = 2,
	F_RESOURCE_ATTRIBUTES = 1,
	F_SS_SPANS = 2,
	F_KV_KEY = 1,
	F_KV_VALUE = 2,
	F_ANY_STRING = 1,
	F_ANY_BOOL = 2,
	F_ANY_INT = 3,
	F_SPAN_TRACE_ID = 1,
	F_SPAN_ID = 2,
	F_SPAN_PARENT = 4,
	F_SPAN_NAME = 5,
	F_SPAN_KIND = 6,
	F_SPAN_START = 7,
	F_SPAN_END = 8,
	F_SPAN_ATTRIBUTES = 9,
	F_SPAN_DROPPED_ATTRS = 10,
	F_SPAN_EVENTS = 11,
	F_SPAN_DROPPED_EVENTS = 12,
	F_SPAN_DROPPED_LINKS = 14,
	F_SPAN_STATUS = 15,
	F_EVENT_TIME = 1,
	F_EVENT_NAME = 2,
	F_STATUS_MESSAGE = 2,
	F_STATUS_CODE = 3,
};

enum { KIND_INTERNAL = 1, KIND_SERVER, KIND_CLIENT, KIND_PRODUCER,
	KIND_CONSUMER };
enum { STATUS_UNSET, STATUS_OK, STATUS_ERROR };

#define UNKNOWN_SERVICE "unknown_service"
#define TAG_STATUS_CODE "otel.status_code"
#define TAG_ERROR "error"

/* One checked span, before it is written. */
struct zspan {
	json_t *obj;
	const char *service;
	size_t index;
	uint8_t trace_id[16], span_id[8], parent_id[8];
	bool has_parent;
	bool shared;
	int kind;
	uint64_t start_ns, end_ns;
	int status;
	const char *status_msg;
	size_t status_msg_len;
};

/* The tags that become fields rather than attributes. */
static const char *const dropped_tags[] = {
	"otel.dropped_attributes_count",
	"otel.dropped_events_count",
	"otel.dropped_links_count",
};
static const int dropped_fields[] = {
	F_SPAN_DROPPED_ATTRS,
	F_SPAN_DROPPED_EVENTS,
	F_SPAN_DROPPED_LINKS,
};

/* ------------------------------------------------------------ checks */

/* Sets *cause to "spans[i].field: why". Returns -1. */
static int PRINTFLIKE(4, 5)
bad(char **cause, size_t i, const char *field, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	xasprintf(cause, "spans[%zu]%s%s: %s", i, *field ? "." : "", field,
	    why);
	return -1;
}

/* Reads a hex ID of 16 digits, or for a trace ID also 32 (a 64-bit trace
 * ID is the low half of a 128-bit one, high half zero, as in Zipkin). */
static int
read_id(json_t *v, size_t i, const char *field, uint8_t *out, bool trace,
    char **cause)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? json_string_length(v) : 0;

	if (s == NULL)
		return bad(cause, i, field, "expected a hex string");
	if (n != 16 && !(trace && n == 32))
		return bad(cause, i, field, "expected %s hex digits, got %zu",
		    trace ? "16 or 32" : "16", n);
	if (trace && n == 16) {
		memset(out, 0, 8);
		out += 8;
	}
	if (hex_decode(s, out, n / 2) != 0)
		return bad(cause, i, field, "not a hex string");
	return 0;
}

/* Reads epoch microseconds (an integer, or a number with a fraction, as
 * the OpenTelemetry exporter sends) as nanoseconds. The fraction of a
 * double that large is a multiple of 1/4 µs and exact, so the result is
 * the exact value of the double, to the nanosecond. */
static int
read_micros(json_t *v, size_t i, const char *field, uint64_t *ns,
    char **cause)
{
	double d, whole;

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) <= UINT64_MAX / 1000) {
		*ns = (uint64_t)json_integer_value(v) * 1000;
		return 0;
	}
	d = json_is_real(v) ? json_real_value(v) : -1;
	if (!(d >= 0 && d < 1.8e16)) /* NaN fails too */
		return bad(cause, i, field, "expected microseconds since the "
		    "epoch as a non-negative number");
	whole = floor(d);
	*ns = (uint64_t)whole * 1000 + (uint64_t)llround((d - whole) * 1000);
	return 0;
}

static int
read_kind(json_t *v, size_t i, int *kind, char **cause)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
		{ "CLIENT", KIND_CLIENT },
		{ "SERVER", KIND_SERVER },
		{ "PRODUCER", KIND_PRODUCER },
		{ "CONSUMER", KIND_CONSUMER },
	};
	const char *s = json_string_value(v);

	*kind = KIND_INTERNAL; /* absent: a local span */
	if (v == NULL || json_is_null(v))
		return 0;
	for (size_t k = 0; s != NULL && k < ARRAY_LEN(kinds); k++)
		if (strcmp(s, kinds[k].name) == 0) {
			*kind = kinds[k].kind;
			return 0;
		}
	return bad(cause, i, "kind",
	    "expected CLIENT, SERVER, PRODUCER or CONSUMER");
}

/* True when v is absent or JSON null. */
static bool
absent(const json_t *v)
{
	return v == NULL || json_is_null(v);
}

static int
check_string(json_t *v, size_t i, const char *field, char **cause)
{
	if (!absent(v) && !json_is_string(v))
		return bad(cause, i, field, "expected a string");
	return 0;
}

static int
check_bool(json_t *v, size_t i, const char *field, char **cause)
{
	if (!absent(v) && !json_is_boolean(v))
		return bad(cause, i, field, "expected true or false");
	return 0;
}

/* Checks an endpoint: {serviceName, ipv4, ipv6, port}. */
static int
check_endpoint(json_t *v, size_t i, const char *field, char **cause)
{
	static const char *const strs[] = { "serviceName", "ipv4", "ipv6" };
	json_t *port;
	char f[48];

	if (absent(v))
		return 0;
	if (!json_is_object(v))
		return bad(cause, i, field, "expected an object");
	for (size_t k = 0; k < ARRAY_LEN(strs); k++) {
		snprintf(f, sizeof f, "%s.%s", field, strs[k]);
		if (check_string(json_object_get(v, strs[k]), i, f, cause))
			return -1;
	}
	port = json_object_get(v, "port");
	if (!absent(port) && (!json_is_integer(port) ||
	    json_integer_value(port) < 0 || json_integer_value(port) > 65535))
		return bad(cause, i, field, "port: expected 0 to 65535");
	return 0;
}

/* Checks tags: an object of strings (numbers and booleans are taken as
 * their text, as Zipkin's own server does). */
static int
check_tags(json_t *tags, size_t i, char **cause)
{
	const char *key;
	json_t *v;

	if (absent(tags))
		return 0;
	if (!json_is_object(tags))
		return bad(cause, i, "tags", "expected an object of strings");
	json_object_foreach(tags, key, v) {
		if (!json_is_string(v) && !json_is_number(v) &&
		    !json_is_boolean(v)) {
			char f[80];
			snprintf(f, sizeof f, "tags.%.60s", key);
			return bad(cause, i, f, "expected a string");
		}
	}
	return 0;
}

/* Checks annotations: an array of {timestamp, value}. */
static int
check_annotations(json_t *list, size_t i, char **cause)
{
	size_t k;
	json_t *a;
	uint64_t ns;
	char f[48];

	if (absent(list))
		return 0;
	if (!json_is_array(list))
		return bad(cause, i, "annotations", "expected an array");
	json_array_foreach(list, k, a) {
		snprintf(f, sizeof f, "annotations[%zu]", k);
		if (!json_is_object(a))
			return bad(cause, i, f, "expected an object");
		snprintf(f, sizeof f, "annotations[%zu].timestamp", k);
		if (read_micros(json_object_get(a, "timestamp"), i, f, &ns,
		    cause) != 0)
			return -1;
		snprintf(f, sizeof f, "annotations[%zu].value", k);
		if (!json_is_string(json_object_get(a, "value")))
			return bad(cause, i, f, "expected a string");
	}
	return 0;
}

/* Reads the status from otel.status_code and error (the exporter's
 * tags); a lone error tag (Zipkin's own convention) is an error too. */
static void
read_status(struct zspan *z)
{
	json_t *tags = json_object_get(z->obj, "tags");
	json_t *code = json_object_get(tags, TAG_STATUS_CODE);
	json_t *err = json_object_get(tags, TAG_ERROR);
	const char *c = json_string_value(code);

	z->status = STATUS_UNSET;
	if (c != NULL && strcmp(c, "OK") == 0)
		z->status = STATUS_OK;
	if (err != NULL || (c != NULL && strcmp(c, "ERROR") == 0))
		z->status = STATUS_ERROR;
	if (json_is_string(err)) {
		z->status_msg = json_string_value(err);
		z->status_msg_len = json_string_length(err);
	}
}

/* Derives the ID of the server half of a shared span: Zipkin gives both
 * halves one ID, but a span here is keyed by its ID. FNV-1a over the
 * client's ID, so a resend derives the same one. */
static void
shared_id(const uint8_t *id, uint8_t *out)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ 0x5a;

	for (int k = 0; k < 8; k++)
		h = (h ^ id[k]) * 0x100000001b3ULL;
	for (int k = 0; k < 8; k++)
		out[k] = (uint8_t)(h >> (56 - 8 * k));
	if (memcmp(out, id, 8) == 0 || h == 0)
		out[7] ^= 1;
}

/* Checks span i and fills z. */
static int
read_span(json_t *obj, size_t i, struct zspan *z, char **cause)
{
	json_t *local, *ts, *dur, *parent;
	uint64_t dur_ns = 0;

	memset(z, 0, sizeof *z);
	z->obj = obj;
	z->index = i;
	if (!json_is_object(obj))
		return bad(cause, i, "", "expected a span object");
	if (read_id(json_object_get(obj, "traceId"), i, "traceId",
	    z->trace_id, true, cause) != 0 ||
	    read_id(json_object_get(obj, "id"), i, "id", z->span_id, false,
	    cause) != 0)
		return -1;
	parent = json_object_get(obj, "parentId");
	if (!absent(parent)) {
		if (read_id(parent, i, "parentId", z->parent_id, false,
		    cause) != 0)
			return -1;
		z->has_parent = true;
	}
	ts = json_object_get(obj, "timestamp");
	dur = json_object_get(obj, "duration");
	if ((!absent(ts) &&
	    read_micros(ts, i, "timestamp", &z->start_ns, cause) != 0) ||
	    (!absent(dur) &&
	    read_micros(dur, i, "duration", &dur_ns, cause) != 0))
		return -1;
	if (dur_ns > UINT64_MAX - z->start_ns)
		return bad(cause, i, "duration", "too large");
	z->end_ns = z->start_ns + dur_ns;
	local = json_object_get(obj, "localEndpoint");
	if (read_kind(json_object_get(obj, "kind"), i, &z->kind, cause) ||
	    check_string(json_object_get(obj, "name"), i, "name", cause) ||
	    check_bool(json_object_get(obj, "shared"), i, "shared", cause) ||
	    check_bool(json_object_get(obj, "debug"), i, "debug", cause) ||
	    check_endpoint(local, i, "localEndpoint", cause) ||
	    check_endpoint(json_object_get(obj, "remoteEndpoint"), i,
	        "remoteEndpoint", cause) ||
	    check_tags(json_object_get(obj, "tags"), i, cause) ||
	    check_annotations(json_object_get(obj, "annotations"), i, cause))
		return -1;
	z->service = json_string_value(json_object_get(local, "serviceName"));
	if (z->service == NULL || *z->service == '\0')
		z->service = UNKNOWN_SERVICE;
	z->shared = json_is_true(json_object_get(obj, "shared"));
	if (z->shared) {
		memcpy(z->parent_id, z->span_id, 8);
		z->has_parent = true;
		shared_id(z->parent_id, z->span_id);
	}
	read_status(z);
	return 0;
}

/* ------------------------------------------------------------ writing */

static void
write_key(pb_write *w, const char *key)
{
	pb_write_bytes_field(w, F_KV_KEY, key, strlen(key));
}

static void
attr_string(pb_write *w, uint32_t field, const char *key, const char *v,
    size_t len)
{
	pb_mark kv = pb_write_begin(w, field), any;

	write_key(w, key);
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_bytes_field(w, F_ANY_STRING, v, len);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

static void
attr_int(pb_write *w, const char *key, int64_t v)
{
	pb_mark kv = pb_write_begin(w, F_SPAN_ATTRIBUTES), any;

	write_key(w, key);
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_varint_field(w, F_ANY_INT, (uint64_t)v);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

static void
attr_true(pb_write *w, const char *key)
{
	pb_mark kv = pb_write_begin(w, F_SPAN_ATTRIBUTES), any;

	write_key(w, key);
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_varint_field(w, F_ANY_BOOL, 1);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

/* A tag's text: strings as they are, numbers and booleans as JSON. */
static void
tag_text(json_t *v, char *buf, size_t len, const char **s, size_t *n)
{
	if (json_is_string(v)) {
		*s = json_string_value(v);
		*n = json_string_length(v);
		return;
	}
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	*s = buf;
	*n = strlen(buf);
}

/* Writes the dropped-count tags as fields; true when key was one. */
static bool
dropped_count(pb_write *w, const char *key, const char *s)
{
	char *end;
	unsigned long long n;

	for (size_t k = 0; k < ARRAY_LEN(dropped_tags); k++) {
		if (strcmp(key, dropped_tags[k]) != 0)
			continue;
		n = strtoull(s, &end, 10);
		if (end == s || *end != '\0' || n > UINT32_MAX)
			return false; /* not a count: keep it as a tag */
		pb_write_varint_field(w, (uint32_t)dropped_fields[k], n);
		return true;
	}
	return false;
}

/* Writes tags as string attributes, less those that are fields. */
static void
write_tags(pb_write *w, const struct zspan *z)
{
	json_t *tags = json_object_get(z->obj, "tags"), *v;
	const char *key, *s;
	char buf[40];
	size_t n;

	json_object_foreach(tags, key, v) {
		if (strcmp(key, TAG_STATUS_CODE) == 0 ||
		    strcmp(key, TAG_ERROR) == 0)
			continue;
		tag_text(v, buf, sizeof buf, &s, &n);
		if (strcmp(key, "service.name") == 0 &&
		    strcmp(s, z->service) == 0)
			continue; /* the resource's, sent on every span */
		if (!dropped_count(w, key, s))
			attr_string(w, F_SPAN_ATTRIBUTES, key, s, n);
	}
}

/* Writes an endpoint's address and port as attributes prefix.address and
 * prefix.port. */
static void
write_endpoint(pb_write *w, json_t *ep, const char *prefix)
{
	json_t *ip = json_object_get(ep, "ipv6"), *port;
	char key[40];

	if (!json_is_string(ip))
		ip = json_object_get(ep, "ipv4");
	if (json_is_string(ip)) {
		snprintf(key, sizeof key, "%s.address", prefix);
		attr_string(w, F_SPAN_ATTRIBUTES, key, json_string_value(ip),
		    json_string_length(ip));
	}
	port = json_object_get(ep, "port");
	if (json_is_integer(port) && json_integer_value(port) > 0) {
		snprintf(key, sizeof key, "%s.port", prefix);
		attr_int(w, key, json_integer_value(port));
	}
}

/* Writes every attribute of a span: tags, endpoints, shared, debug. */
static void
write_attributes(pb_write *w, const struct zspan *z)
{
	json_t *remote = json_object_get(z->obj, "remoteEndpoint");
	json_t *peer = json_object_get(remote, "serviceName");

	write_tags(w, z);
	if (json_is_string(peer) && json_string_length(peer) > 0)
		attr_string(w, F_SPAN_ATTRIBUTES, "peer.service",
		    json_string_value(peer), json_string_length(peer));
	write_endpoint(w, remote, "network.peer");
	write_endpoint(w, json_object_get(z->obj, "localEndpoint"),
	    "network.local");
	if (z->shared)
		attr_true(w, "zipkin.shared");
	if (json_is_true(json_object_get(z->obj, "debug")))
		attr_true(w, "zipkin.debug");
}

static void
write_events(pb_write *w, const struct zspan *z)
{
	json_t *list = json_object_get(z->obj, "annotations"), *a, *v;
	uint64_t ns = 0;
	size_t k;
	pb_mark m;

	json_array_foreach(list, k, a) {
		v = json_object_get(a, "value");
		(void)read_micros(json_object_get(a, "timestamp"), 0, "", &ns,
		    NULL); /* checked already */
		m = pb_write_begin(w, F_SPAN_EVENTS);
		pb_write_fixed64_field(w, F_EVENT_TIME, ns);
		pb_write_bytes_field(w, F_EVENT_NAME, json_string_value(v),
		    json_string_length(v));
		pb_write_end(w, m);
	}
}

static void
write_span(pb_write *w, const struct zspan *z)
{
	json_t *name = json_object_get(z->obj, "name");
	pb_mark m = pb_write_begin(w, F_SS_SPANS), st;

	pb_write_bytes_field(w, F_SPAN_TRACE_ID, z->trace_id, 16);
	pb_write_bytes_field(w, F_SPAN_ID, z->span_id, 8);
	if (z->has_parent)
		pb_write_bytes_field(w, F_SPAN_PARENT, z->parent_id, 8);
	if (json_is_string(name))
		pb_write_bytes_field(w, F_SPAN_NAME, json_string_value(name),
		    json_string_length(name));
	pb_write_varint_field(w, F_SPAN_KIND, (uint64_t)z->kind);
	pb_write_fixed64_field(w, F_SPAN_START, z->start_ns);
	pb_write_fixed64_field(w, F_SPAN_END, z->end_ns);
	write_attributes(w, z);
	write_events(w, z);
	if (z->status != STATUS_UNSET) {
		st = pb_write_begin(w, F_SPAN_STATUS);
		if (z->status_msg_len > 0)
			pb_write_bytes_field(w, F_STATUS_MESSAGE,
			    z->status_msg, z->status_msg_len);
		pb_write_varint_field(w, F_STATUS_CODE, (uint64_t)z->status);
		pb_write_end(w, st);
	}
	pb_write_end(w, m);
}

/* Writes one ResourceSpans for the n spans of one service. */
static void
write_service(pb_write *w, struct zspan *const *spans, size_t n)
{
	const char *svc = spans[0]->service;
	pb_mark rs = pb_write_begin(w, F_REQ_RESOURCE_SPANS), res, ss;

	res = pb_write_begin(w, F_RS_RESOURCE);
	attr_string(w, F_RESOURCE_ATTRIBUTES, "service.name", svc,
	    strlen(svc));
	pb_write_end(w, res);
	ss = pb_write_begin(w, F_RS_SCOPE_SPANS);
	for (size_t k = 0; k < n; k++)
		write_span(w, spans[k]);
	pb_write_end(w, ss);
	pb_write_end(w, rs);
}

/* Orders spans by service, then by position in the input. */
static int
by_service(const void *a, const void *b)
{
	const struct zspan *x = *(struct zspan *const *)a;
	const struct zspan *y = *(struct zspan *const *)b;
	int c = strcmp(x->service, y->service);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* A run of spans of one service in the sorted order. */
struct group {
	size_t start, n;
	size_t first; /* input position of its first span */
};

static int
by_first(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* Writes the request: services in order of first appearance. */
static void
write_request(pb_write *w, struct zspan *spans, size_t n)
{
	struct zspan **order = xmalloc((n ? n : 1) * sizeof *order);
	struct group *groups = xmalloc((n ? n : 1) * sizeof *groups);
	size_t ngroups = 0;

	for (size_t k = 0; k < n; k++)
		order[k] = &spans[k];
	qsort(order, n, sizeof *order, by_service);
	for (size_t k = 0; k < n; k++) {
		if (k == 0 ||
		    strcmp(order[k]->service, order[k - 1]->service) != 0)
			groups[ngroups++] = (struct group){ k, 0,
			    order[k]->index };
		groups[ngroups - 1].n++;
	}
	qsort(groups, ngroups, sizeof *groups, by_first);
	for (size_t g = 0; g < ngroups; g++)
		write_service(w, order + groups[g].start, groups[g].n);
	free(groups);
	free(order);
}

int
zipkin_json_decode(const char *json, size_t len, uint8_t **out,
    size_t *out_len, size_t *n_spans, char **cause)
{
	json_error_t err;
	json_t *doc;
	struct zspan *spans = NULL;
	pb_write w = { NULL, 0, 0 };
	size_t n, i;
	int rv = -1;

	*out = NULL;
	*out_len = 0;
	*n_spans = 0;
	*cause = NULL;
	doc = json_loadb(json, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	    &err);
	if (doc == NULL) {
		xasprintf(cause, "not JSON: %s at line %d column %d", err.text,
		    err.line, err.column);
		return -1;
	}
	if (!json_is_array(doc)) {
		xasprintf(cause, "expected a JSON array of spans");
		goto out;
	}
	n = json_array_size(doc);
	spans = xcalloc(n ? n : 1, sizeof *spans);
	for (i = 0; i < n; i++)
		if (read_span(json_array_get(doc, i), i, &spans[i], cause) != 0)
			goto out;
	write_request(&w, spans, n);
	*out = w.buf;
	*out_len = w.len;
	*n_spans = n;
	rv = 0;
out:
	free(spans);
	json_decref(doc);
	return rv;
}
