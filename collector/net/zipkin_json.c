/*
 * zipkin_json.c - Zipkin v2 JSON spans to OTLP protobuf (see
 * zipkin_json.h and docs/ZIPKIN.md for the mapping).
 *
 * Two passes over the document common/json_read.h parses (simdjson, as
 * OTLP JSON: jansson's tree cost 70% of a Zipkin request; BENCHMARKS.md):
 * the first checks every span, keeps its members by name (one walk of
 * each object, no lookups by key) and reads what the output needs up
 * front (IDs, times, kind, status, service), so that a bad span refuses
 * the request before anything is written; the second writes one
 * ResourceSpans per service, the spans of a service in input order
 * (indices sorted by service, then position). Strings are used with
 * their lengths: they may hold NUL bytes.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json_read.h"
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

/* A member name with its length. */
struct zkey {
	const char *name;
	size_t len;
};
#define ZKEY(s) { s, sizeof(s) - 1 }

/* The members of a span, an endpoint and an annotation that are read. */
enum { SF_TRACE_ID, SF_ID, SF_PARENT, SF_TIMESTAMP, SF_DURATION, SF_KIND,
	SF_NAME, SF_SHARED, SF_DEBUG, SF_LOCAL, SF_REMOTE, SF_TAGS,
	SF_ANNOTATIONS, SF_COUNT };
static const struct zkey span_keys[SF_COUNT] = {
	[SF_TRACE_ID] = ZKEY("traceId"),
	[SF_ID] = ZKEY("id"),
	[SF_PARENT] = ZKEY("parentId"),
	[SF_TIMESTAMP] = ZKEY("timestamp"),
	[SF_DURATION] = ZKEY("duration"),
	[SF_KIND] = ZKEY("kind"),
	[SF_NAME] = ZKEY("name"),
	[SF_SHARED] = ZKEY("shared"),
	[SF_DEBUG] = ZKEY("debug"),
	[SF_LOCAL] = ZKEY("localEndpoint"),
	[SF_REMOTE] = ZKEY("remoteEndpoint"),
	[SF_TAGS] = ZKEY("tags"),
	[SF_ANNOTATIONS] = ZKEY("annotations"),
};
enum { EP_SERVICE, EP_IPV4, EP_IPV6, EP_PORT, EP_COUNT };
static const struct zkey endpoint_keys[EP_COUNT] = {
	[EP_SERVICE] = ZKEY("serviceName"),
	[EP_IPV4] = ZKEY("ipv4"),
	[EP_IPV6] = ZKEY("ipv6"),
	[EP_PORT] = ZKEY("port"),
};
enum { AN_TIMESTAMP, AN_VALUE, AN_COUNT };
static const struct zkey annotation_keys[AN_COUNT] = {
	[AN_TIMESTAMP] = ZKEY("timestamp"),
	[AN_VALUE] = ZKEY("value"),
};

/* One checked span, before it is written: its members (JSON null when
 * absent) and what was read from them. */
struct zspan {
	json_read_value f[SF_COUNT];
	json_read_value local[EP_COUNT], remote[EP_COUNT];
	const char *service;
	size_t service_len;
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

/* ------------------------------------------------------------ reading */

static bool
absent(const json_read_value *v)
{
	return json_read_type_of(v) == JSON_READ_NULL;
}

static bool
is_string(const json_read_value *v)
{
	return json_read_type_of(v) == JSON_READ_STRING;
}

/* True when the string v is exactly s[0..n). */
static bool
string_is(const json_read_value *v, const char *s, size_t n)
{
	size_t len;
	const char *p = json_read_string(v, &len);

	return is_string(v) && len == n && memcmp(p, s, n) == 0;
}

#define STRING_IS(v, lit) string_is(v, lit, sizeof(lit) - 1)

/* Sets vals[k] to object obj's member keys[k], JSON null when absent (a
 * zeroed value); other members are ignored. */
static void
pick(const json_read_value *obj, const struct zkey *keys, size_t n,
    json_read_value *vals)
{
	json_read_iter it;
	json_read_value v;
	const char *key;
	size_t len;

	memset(vals, 0, n * sizeof *vals);
	json_read_members(obj, &it);
	while (json_read_next_member(&it, &key, &len, &v))
		for (size_t k = 0; k < n; k++)
			if (keys[k].len == len &&
			    memcmp(keys[k].name, key, len) == 0) {
				vals[k] = v;
				break;
			}
}

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

/* Checks that obj is an object without a repeated key (Zipkin's own
 * server refuses those, as jansson did here), then picks its members. */
static int
read_object(const json_read_value *obj, size_t i, const char *field,
    const struct zkey *keys, size_t n, json_read_value *vals,
    char **cause)
{
	const char *key;
	size_t len;

	if (json_read_type_of(obj) != JSON_READ_OBJECT)
		return bad(cause, i, field, "expected %s",
		    *field ? "an object" : "a span object");
	if (json_read_duplicate_key(obj, &key, &len))
		return bad(cause, i, field, "duplicate key \"%.*s\"",
		    (int)(len < 60 ? len : 60), key);
	if (n > 0)
		pick(obj, keys, n, vals);
	return 0;
}

/* Reads a hex ID of 16 digits, or for a trace ID also 32 (a 64-bit trace
 * ID is the low half of a 128-bit one, high half zero, as in Zipkin). */
static int
read_id(const json_read_value *v, size_t i, const char *field,
    uint8_t *out, bool trace, char **cause)
{
	size_t n;
	const char *s = json_read_string(v, &n);

	if (!is_string(v))
		return bad(cause, i, field, "expected a hex string");
	if (n != 16 && !(trace && n == 32))
		return bad(cause, i, field, "expected %s hex digits, got %zu",
		    trace ? "16 or 32" : "16", n);
	if (trace && n == 16) {
		memset(out, 0, 8);
		out += 8;
	}
	/* (The reader's strings end in a NUL, which hex_decode wants.) */
	if (hex_decode(s, out, n / 2) != 0)
		return bad(cause, i, field, "not a hex string");
	return 0;
}

/* Reads epoch microseconds (an integer, or a number with a fraction, as
 * the OpenTelemetry exporter sends) as nanoseconds. The fraction of a
 * double that large is a multiple of 1/4 µs and exact, so the result is
 * the exact value of the double, to the nanosecond. */
static int
read_micros(const json_read_value *v, size_t i, const char *field,
    uint64_t *ns, char **cause)
{
	double d, whole;

	if (json_read_type_of(v) == JSON_READ_INT64 &&
	    json_read_int64(v) >= 0 &&
	    (uint64_t)json_read_int64(v) <= UINT64_MAX / 1000) {
		*ns = (uint64_t)json_read_int64(v) * 1000;
		return 0;
	}
	d = json_read_type_of(v) == JSON_READ_DOUBLE ? json_read_double(v)
	                                              : -1;
	if (!(d >= 0 && d < 1.8e16)) /* NaN fails too */
		return bad(cause, i, field, "expected microseconds since the "
		    "epoch as a non-negative number");
	whole = floor(d);
	*ns = (uint64_t)whole * 1000 + (uint64_t)llround((d - whole) * 1000);
	return 0;
}

static int
read_kind(const json_read_value *v, size_t i, int *kind, char **cause)
{
	*kind = KIND_INTERNAL; /* absent: a local span */
	if (absent(v))
		return 0;
	if (STRING_IS(v, "CLIENT"))
		*kind = KIND_CLIENT;
	else if (STRING_IS(v, "SERVER"))
		*kind = KIND_SERVER;
	else if (STRING_IS(v, "PRODUCER"))
		*kind = KIND_PRODUCER;
	else if (STRING_IS(v, "CONSUMER"))
		*kind = KIND_CONSUMER;
	else
		return bad(cause, i, "kind",
		    "expected CLIENT, SERVER, PRODUCER or CONSUMER");
	return 0;
}

static int
check_string(const json_read_value *v, size_t i, const char *field,
    char **cause)
{
	if (!absent(v) && !is_string(v))
		return bad(cause, i, field, "expected a string");
	return 0;
}

static int
check_bool(const json_read_value *v, size_t i, const char *field,
    char **cause)
{
	if (!absent(v) && json_read_type_of(v) != JSON_READ_BOOL)
		return bad(cause, i, field, "expected true or false");
	return 0;
}

/* Checks an endpoint, {serviceName, ipv4, ipv6, port}, into ep. */
static int
read_endpoint(const json_read_value *v, size_t i, const char *field,
    json_read_value *ep, char **cause)
{
	const json_read_value *port = &ep[EP_PORT];
	char f[48];

	memset(ep, 0, EP_COUNT * sizeof *ep);
	if (absent(v))
		return 0;
	if (read_object(v, i, field, endpoint_keys, EP_COUNT, ep, cause))
		return -1;
	for (size_t k = EP_SERVICE; k <= EP_IPV6; k++) {
		snprintf(f, sizeof f, "%s.%s", field, endpoint_keys[k].name);
		if (check_string(&ep[k], i, f, cause))
			return -1;
	}
	if (!absent(port) && (json_read_type_of(port) != JSON_READ_INT64 ||
	    json_read_int64(port) < 0 || json_read_int64(port) > 65535))
		return bad(cause, i, field, "port: expected 0 to 65535");
	return 0;
}

/* Sets the status from otel.status_code (code) and error (err), the
 * exporter's tags; a lone error tag (Zipkin's own convention) is an
 * error too. */
static void
read_status(struct zspan *z, const json_read_value *code,
    const json_read_value *err)
{
	z->status = STATUS_UNSET;
	if (STRING_IS(code, "OK"))
		z->status = STATUS_OK;
	if (!absent(err) || STRING_IS(code, "ERROR"))
		z->status = STATUS_ERROR;
	if (is_string(err))
		z->status_msg = json_read_string(err, &z->status_msg_len);
}

/* Checks tags, an object of strings (numbers and booleans are taken as
 * their text, as Zipkin's own server does), and reads the status. */
static int
read_tags(const json_read_value *tags, size_t i, struct zspan *z,
    char **cause)
{
	json_read_value code = { 0 }, err = { 0 }, v;
	json_read_type t;
	json_read_iter it;
	const char *key;
	size_t len;
	char f[80];

	if (absent(tags)) {
		read_status(z, &code, &err);
		return 0;
	}
	if (json_read_type_of(tags) != JSON_READ_OBJECT)
		return bad(cause, i, "tags", "expected an object of strings");
	if (read_object(tags, i, "tags", NULL, 0, NULL, cause))
		return -1;
	json_read_members(tags, &it);
	while (json_read_next_member(&it, &key, &len, &v)) {
		t = json_read_type_of(&v);
		if (t == JSON_READ_NULL || t == JSON_READ_ARRAY ||
		    t == JSON_READ_OBJECT) {
			snprintf(f, sizeof f, "tags.%.*s",
			    (int)(len < 60 ? len : 60), key);
			return bad(cause, i, f, "expected a string");
		}
		if (len == sizeof TAG_STATUS_CODE - 1 &&
		    memcmp(key, TAG_STATUS_CODE, len) == 0)
			code = v;
		else if (len == sizeof TAG_ERROR - 1 &&
		    memcmp(key, TAG_ERROR, len) == 0)
			err = v;
	}
	read_status(z, &code, &err);
	return 0;
}

/* Checks annotations: an array of {timestamp, value}. */
static int
check_annotations(const json_read_value *list, size_t i, char **cause)
{
	json_read_value a, an[AN_COUNT];
	json_read_iter it;
	uint64_t ns;
	char f[48];

	if (absent(list))
		return 0;
	if (json_read_type_of(list) != JSON_READ_ARRAY)
		return bad(cause, i, "annotations", "expected an array");
	json_read_elements(list, &it);
	for (size_t k = 0; json_read_next_element(&it, &a); k++) {
		snprintf(f, sizeof f, "annotations[%zu]", k);
		if (read_object(&a, i, f, annotation_keys, AN_COUNT, an,
		    cause))
			return -1;
		snprintf(f, sizeof f, "annotations[%zu].timestamp", k);
		if (read_micros(&an[AN_TIMESTAMP], i, f, &ns, cause) != 0)
			return -1;
		snprintf(f, sizeof f, "annotations[%zu].value", k);
		if (!is_string(&an[AN_VALUE]))
			return bad(cause, i, f, "expected a string");
	}
	return 0;
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

/* Reads the IDs and times of span z (members picked). */
static int
read_ids_times(struct zspan *z, size_t i, char **cause)
{
	const json_read_value *f = z->f;
	uint64_t dur_ns = 0;

	if (read_id(&f[SF_TRACE_ID], i, "traceId", z->trace_id, true,
	    cause) != 0 ||
	    read_id(&f[SF_ID], i, "id", z->span_id, false, cause) != 0)
		return -1;
	if (!absent(&f[SF_PARENT])) {
		if (read_id(&f[SF_PARENT], i, "parentId", z->parent_id, false,
		    cause) != 0)
			return -1;
		z->has_parent = true;
	}
	if ((!absent(&f[SF_TIMESTAMP]) && read_micros(&f[SF_TIMESTAMP], i,
	    "timestamp", &z->start_ns, cause) != 0) ||
	    (!absent(&f[SF_DURATION]) && read_micros(&f[SF_DURATION], i,
	    "duration", &dur_ns, cause) != 0))
		return -1;
	if (dur_ns > UINT64_MAX - z->start_ns)
		return bad(cause, i, "duration", "too large");
	z->end_ns = z->start_ns + dur_ns;
	return 0;
}

/* Checks span i (obj) and fills z. */
static int
read_span(const json_read_value *obj, size_t i, struct zspan *z,
    char **cause)
{
	const json_read_value *f = z->f;

	memset(z, 0, sizeof *z);
	z->index = i;
	if (read_object(obj, i, "", span_keys, SF_COUNT, z->f, cause) ||
	    read_ids_times(z, i, cause) ||
	    read_kind(&f[SF_KIND], i, &z->kind, cause) ||
	    check_string(&f[SF_NAME], i, "name", cause) ||
	    check_bool(&f[SF_SHARED], i, "shared", cause) ||
	    check_bool(&f[SF_DEBUG], i, "debug", cause) ||
	    read_endpoint(&f[SF_LOCAL], i, "localEndpoint", z->local, cause) ||
	    read_endpoint(&f[SF_REMOTE], i, "remoteEndpoint", z->remote,
	        cause) ||
	    read_tags(&f[SF_TAGS], i, z, cause) ||
	    check_annotations(&f[SF_ANNOTATIONS], i, cause))
		return -1;
	z->service = json_read_string(&z->local[EP_SERVICE], &z->service_len);
	if (z->service_len == 0) {
		z->service = UNKNOWN_SERVICE;
		z->service_len = sizeof UNKNOWN_SERVICE - 1;
	}
	z->shared = json_read_bool(&f[SF_SHARED]);
	if (z->shared) {
		memcpy(z->parent_id, z->span_id, 8);
		z->has_parent = true;
		shared_id(z->parent_id, z->span_id);
	}
	return 0;
}

/* ------------------------------------------------------------ writing */

static void
attr_string(pb_write *w, uint32_t field, const char *key, size_t key_len,
    const char *v, size_t len)
{
	pb_mark kv = pb_write_begin(w, field), any;

	pb_write_bytes_field(w, F_KV_KEY, key, key_len);
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_bytes_field(w, F_ANY_STRING, v, len);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

static void
attr_int(pb_write *w, const char *key, int64_t v)
{
	pb_mark kv = pb_write_begin(w, F_SPAN_ATTRIBUTES), any;

	pb_write_bytes_field(w, F_KV_KEY, key, strlen(key));
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_varint_field(w, F_ANY_INT, (uint64_t)v);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

static void
attr_true(pb_write *w, const char *key)
{
	pb_mark kv = pb_write_begin(w, F_SPAN_ATTRIBUTES), any;

	pb_write_bytes_field(w, F_KV_KEY, key, strlen(key));
	any = pb_write_begin(w, F_KV_VALUE);
	pb_write_varint_field(w, F_ANY_BOOL, 1);
	pb_write_end(w, any);
	pb_write_end(w, kv);
}

/* A tag's text: strings as they are, numbers and booleans as JSON. */
static void
tag_text(const json_read_value *v, char *buf, size_t len, const char **s,
    size_t *n)
{
	switch (json_read_type_of(v)) {
	case JSON_READ_STRING:
		*s = json_read_string(v, n);
		return;
	case JSON_READ_INT64:
		snprintf(buf, len, "%" PRId64, json_read_int64(v));
		break;
	case JSON_READ_UINT64:
		snprintf(buf, len, "%" PRIu64, json_read_uint64(v));
		break;
	case JSON_READ_DOUBLE:
		snprintf(buf, len, "%.17g", json_read_double(v));
		break;
	default:
		snprintf(buf, len, "%s", json_read_bool(v) ? "true" : "false");
		break;
	}
	*s = buf;
	*n = strlen(buf);
}

/* Writes the dropped-count tags as fields; true when key was one. */
static bool
dropped_count(pb_write *w, const char *key, size_t key_len, const char *s,
    size_t n)
{
	char digits[24], *end;
	unsigned long long count;

	for (size_t k = 0; k < ARRAY_LEN(dropped_tags); k++) {
		if (strlen(dropped_tags[k]) != key_len ||
		    memcmp(key, dropped_tags[k], key_len) != 0)
			continue;
		if (n == 0 || n >= sizeof digits || memchr(s, '\0', n))
			return false; /* not a count: keep it as a tag */
		memcpy(digits, s, n);
		digits[n] = '\0';
		count = strtoull(digits, &end, 10);
		if (*end != '\0' || count > UINT32_MAX)
			return false;
		pb_write_varint_field(w, (uint32_t)dropped_fields[k], count);
		return true;
	}
	return false;
}

/* True when key[0..len) is the tag named lit. */
#define KEY_IS(key, len, lit) \
	((len) == sizeof(lit) - 1 && memcmp(key, lit, len) == 0)

/* Writes tags as string attributes, less those that are fields. */
static void
write_tags(pb_write *w, const struct zspan *z)
{
	json_read_value v;
	json_read_iter it;
	const char *key, *s;
	size_t key_len, n;
	char buf[40];

	if (absent(&z->f[SF_TAGS]))
		return;
	json_read_members(&z->f[SF_TAGS], &it);
	while (json_read_next_member(&it, &key, &key_len, &v)) {
		if (KEY_IS(key, key_len, TAG_STATUS_CODE) ||
		    KEY_IS(key, key_len, TAG_ERROR))
			continue;
		tag_text(&v, buf, sizeof buf, &s, &n);
		if (KEY_IS(key, key_len, "service.name") &&
		    n == z->service_len && memcmp(s, z->service, n) == 0)
			continue; /* the resource's, sent on every span */
		if (!dropped_count(w, key, key_len, s, n))
			attr_string(w, F_SPAN_ATTRIBUTES, key, key_len, s, n);
	}
}

/* Writes an endpoint's address and port as attributes prefix.address and
 * prefix.port. */
static void
write_endpoint(pb_write *w, const json_read_value *ep, const char *prefix)
{
	const json_read_value *ip = &ep[EP_IPV6];
	const char *s;
	char key[40];
	size_t n;

	if (!is_string(ip))
		ip = &ep[EP_IPV4];
	if (is_string(ip)) {
		snprintf(key, sizeof key, "%s.address", prefix);
		s = json_read_string(ip, &n);
		attr_string(w, F_SPAN_ATTRIBUTES, key, strlen(key), s, n);
	}
	if (json_read_int64(&ep[EP_PORT]) > 0) {
		snprintf(key, sizeof key, "%s.port", prefix);
		attr_int(w, key, json_read_int64(&ep[EP_PORT]));
	}
}

/* Writes every attribute of a span: tags, endpoints, shared, debug. */
static void
write_attributes(pb_write *w, const struct zspan *z)
{
	size_t n;
	const char *peer = json_read_string(&z->remote[EP_SERVICE], &n);

	write_tags(w, z);
	if (n > 0)
		attr_string(w, F_SPAN_ATTRIBUTES, "peer.service",
		    sizeof "peer.service" - 1, peer, n);
	write_endpoint(w, z->remote, "network.peer");
	write_endpoint(w, z->local, "network.local");
	if (z->shared)
		attr_true(w, "zipkin.shared");
	if (json_read_bool(&z->f[SF_DEBUG]))
		attr_true(w, "zipkin.debug");
}

static void
write_events(pb_write *w, const struct zspan *z)
{
	json_read_value a, an[AN_COUNT];
	json_read_iter it;
	uint64_t ns = 0;
	const char *s;
	size_t n;
	pb_mark m;

	if (absent(&z->f[SF_ANNOTATIONS]))
		return;
	json_read_elements(&z->f[SF_ANNOTATIONS], &it);
	while (json_read_next_element(&it, &a)) {
		pick(&a, annotation_keys, AN_COUNT, an); /* checked already */
		(void)read_micros(&an[AN_TIMESTAMP], 0, "", &ns, NULL);
		s = json_read_string(&an[AN_VALUE], &n);
		m = pb_write_begin(w, F_SPAN_EVENTS);
		pb_write_fixed64_field(w, F_EVENT_TIME, ns);
		pb_write_bytes_field(w, F_EVENT_NAME, s, n);
		pb_write_end(w, m);
	}
}

static void
write_span(pb_write *w, const struct zspan *z)
{
	pb_mark m = pb_write_begin(w, F_SS_SPANS), st;
	const char *name;
	size_t n;

	pb_write_bytes_field(w, F_SPAN_TRACE_ID, z->trace_id, 16);
	pb_write_bytes_field(w, F_SPAN_ID, z->span_id, 8);
	if (z->has_parent)
		pb_write_bytes_field(w, F_SPAN_PARENT, z->parent_id, 8);
	name = json_read_string(&z->f[SF_NAME], &n);
	if (is_string(&z->f[SF_NAME]))
		pb_write_bytes_field(w, F_SPAN_NAME, name, n);
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
	pb_mark rs = pb_write_begin(w, F_REQ_RESOURCE_SPANS), res, ss;

	res = pb_write_begin(w, F_RS_RESOURCE);
	attr_string(w, F_RESOURCE_ATTRIBUTES, "service.name",
	    sizeof "service.name" - 1, spans[0]->service,
	    spans[0]->service_len);
	pb_write_end(w, res);
	ss = pb_write_begin(w, F_RS_SCOPE_SPANS);
	for (size_t k = 0; k < n; k++)
		write_span(w, spans[k]);
	pb_write_end(w, ss);
	pb_write_end(w, rs);
}

/* Orders services by their bytes. */
static int
service_cmp(const struct zspan *x, const struct zspan *y)
{
	size_t n = x->service_len < y->service_len ? x->service_len
	                                           : y->service_len;
	int c = memcmp(x->service, y->service, n);

	if (c != 0)
		return c;
	return (x->service_len > y->service_len) -
	    (x->service_len < y->service_len);
}

/* Orders spans by service, then by position in the input. */
static int
by_service(const void *a, const void *b)
{
	const struct zspan *x = *(struct zspan *const *)a;
	const struct zspan *y = *(struct zspan *const *)b;
	int c = service_cmp(x, y);

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
		if (k == 0 || service_cmp(order[k], order[k - 1]) != 0)
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
	json_read_doc *doc;
	json_read_value root, v;
	json_read_iter it;
	struct zspan *spans = NULL;
	pb_write w = { NULL, 0, 0 };
	size_t n, i;
	int rv = -1;

	*out = NULL;
	*out_len = 0;
	*n_spans = 0;
	*cause = NULL;
	if (json_read_parse(&doc, json, len, &root, cause) != 0)
		return -1;
	if (json_read_type_of(&root) != JSON_READ_ARRAY) {
		xasprintf(cause, "expected a JSON array of spans");
		goto out;
	}
	n = json_read_array_size(&root);
	spans = xmalloc((n ? n : 1) * sizeof *spans);
	json_read_elements(&root, &it);
	for (i = 0; i < n && json_read_next_element(&it, &v); i++)
		if (read_span(&v, i, &spans[i], cause) != 0)
			goto out;
	n = i;
	write_request(&w, spans, n);
	*out = w.buf;
	*out_len = w.len;
	*n_spans = n;
	rv = 0;
out:
	free(spans);
	json_read_free(doc);
	return rv;
}
