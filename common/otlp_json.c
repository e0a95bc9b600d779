/*
 * otlp_json.c - OTLP JSON <-> OTLP protobuf on jansson.
 *
 * The rules are those of protocol-facts.md section 3 (the proto3 JSON
 * mapping plus OTLP's own): IDs are hex (either case), enums are integers,
 * keys are lowerCamelCase and unknown keys are ignored, 64-bit integers are
 * decimal strings (numbers accepted), bytesValue is base64, doubles may be
 * "NaN"/"Infinity"/"-Infinity", null means the default value.
 *
 * Decoding builds protobuf-c structs in an arena and packs them once, so the
 * collector sees exactly what a protobuf client would have sent and the one
 * validator in collector/pipeline.c judges both. This file only rejects
 * what cannot be represented (wrong JSON types, bad hex, out-of-range
 * numbers, AnyValue nesting beyond OTLP_JSON_MAX_ANY_DEPTH); semantic checks
 * (all-zero IDs, end before start, ...) are the pipeline's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "common.h"
#include "otlp_json.h"
#include "otlp_types.h"

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

#define TRACE_ID_LEN 16
#define SPAN_ID_LEN 8

/* ------------------------------------------------------------ encode */

/* Valid UTF-8 passes through; otherwise each bad byte becomes U+FFFD, because
 * a JSON string cannot carry it (the protobuf string could). */
static json_t *
enc_string(const char *s)
{
	json_t *j = json_string(s);
	size_t len, i, o = 0;
	char *buf;

	if (j != NULL)
		return j;
	len = strlen(s);
	buf = xmalloc(len * 3 + 1);
	for (i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t n = 0;
		if (p[0] < 0x80)
			n = 1;
		else if (p[0] >= 0xc2 && p[0] <= 0xdf)
			n = 2;
		else if (p[0] >= 0xe0 && p[0] <= 0xef)
			n = 3;
		else if (p[0] >= 0xf0 && p[0] <= 0xf4)
			n = 4;
		if (n > 0 && i + n <= len) {
			json_t *t = json_stringn(s + i, n);
			if (t != NULL) {
				json_decref(t);
				memcpy(buf + o, s + i, n);
				o += n;
				i += n;
				continue;
			}
		}
		memcpy(buf + o, "\xef\xbf\xbd", 3);
		o += 3;
		i++;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

static void
put(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, key, v);
}

static void
put_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		put(o, key, enc_string(s));
}

static void
put_u64(json_t *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	put(o, key, json_string(buf));
}

static void
put_u32(json_t *o, const char *key, uint32_t v)
{
	if (v != 0)
		put(o, key, json_integer((json_int_t)v));
}

static void
put_id(json_t *o, const char *key, const ProtobufCBinaryData *id)
{
	char *hex;

	if (id->len == 0)
		return;
	hex = xmalloc(id->len * 2 + 1);
	hex_encode(id->data, id->len, hex);
	put(o, key, json_string(hex));
	free(hex);
}

static json_t *enc_any(const AnyValue *v);

/* Encodes a repeated KeyValue as a JSON array. */
static json_t *
enc_kvs(KeyValue *const *kv, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		put(o, "key", enc_string(kv[i]->key ? kv[i]->key : ""));
		if (kv[i]->value != NULL)
			put(o, "value", enc_any(kv[i]->value));
		if (kv[i]->key_strindex != 0)
			put(o, "keyStrindex",
			    json_integer(kv[i]->key_strindex));
		json_array_append_new(a, o);
	}
	return a;
}

static void
put_kvs(json_t *o, const char *key, KeyValue *const *kv, size_t n)
{
	if (n > 0)
		put(o, key, enc_kvs(kv, n));
}

static json_t *
enc_double(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

static json_t *
enc_any(const AnyValue *v)
{
	json_t *o = json_object(), *inner;
	char buf[24], *b64;

	switch (v->value_case) {
	case AV(STRING_VALUE):
		put(o, "stringValue", enc_string(v->string_value));
		break;
	case AV(BOOL_VALUE):
		put(o, "boolValue", json_boolean(v->bool_value));
		break;
	case AV(INT_VALUE):
		snprintf(buf, sizeof buf, "%" PRId64, v->int_value);
		put(o, "intValue", json_string(buf));
		break;
	case AV(DOUBLE_VALUE):
		put(o, "doubleValue", enc_double(v->double_value));
		break;
	case AV(ARRAY_VALUE):
		inner = json_object();
		if (v->array_value != NULL && v->array_value->n_values > 0) {
			json_t *a = json_array();
			for (size_t i = 0; i < v->array_value->n_values; i++)
				json_array_append_new(
				    a, enc_any(v->array_value->values[i]));
			put(inner, "values", a);
		}
		put(o, "arrayValue", inner);
		break;
	case AV(KVLIST_VALUE):
		inner = json_object();
		if (v->kvlist_value != NULL)
			put_kvs(inner, "values", v->kvlist_value->values,
			    v->kvlist_value->n_values);
		put(o, "kvlistValue", inner);
		break;
	case AV(BYTES_VALUE):
		b64 = base64_encode(v->bytes_value.data, v->bytes_value.len);
		put(o, "bytesValue", json_string(b64));
		free(b64);
		break;
	case AV(STRING_VALUE_STRINDEX):
		put(o, "stringValueStrindex",
		    json_integer(v->string_value_strindex));
		break;
	default:
		break; /* empty AnyValue: {} */
	}
	return o;
}

static json_t *
enc_span(const Span *s)
{
	json_t *o = json_object();

	put_id(o, "traceId", &s->trace_id);
	put_id(o, "spanId", &s->span_id);
	put_str(o, "traceState", s->trace_state);
	put_id(o, "parentSpanId", &s->parent_span_id);
	put_u32(o, "flags", s->flags);
	put(o, "name", enc_string(s->name ? s->name : ""));
	/* Enums are int32 on the wire; protobuf-c stores them unsigned. */
	put(o, "kind", json_integer((json_int_t)(int32_t)s->kind));
	put_u64(o, "startTimeUnixNano", s->start_time_unix_nano);
	put_u64(o, "endTimeUnixNano", s->end_time_unix_nano);
	put_kvs(o, "attributes", s->attributes, s->n_attributes);
	put_u32(o, "droppedAttributesCount", s->dropped_attributes_count);
	if (s->n_events > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->n_events; i++) {
			const Event *e = s->events[i];
			json_t *eo = json_object();
			put_u64(eo, "timeUnixNano", e->time_unix_nano);
			put_str(eo, "name", e->name);
			put_kvs(
			    eo, "attributes", e->attributes, e->n_attributes);
			put_u32(eo, "droppedAttributesCount",
			    e->dropped_attributes_count);
			json_array_append_new(a, eo);
		}
		put(o, "events", a);
	}
	put_u32(o, "droppedEventsCount", s->dropped_events_count);
	if (s->n_links > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->n_links; i++) {
			const Link *l = s->links[i];
			json_t *lo = json_object();
			put_id(lo, "traceId", &l->trace_id);
			put_id(lo, "spanId", &l->span_id);
			put_str(lo, "traceState", l->trace_state);
			put_kvs(
			    lo, "attributes", l->attributes, l->n_attributes);
			put_u32(lo, "droppedAttributesCount",
			    l->dropped_attributes_count);
			put_u32(lo, "flags", l->flags);
			json_array_append_new(a, lo);
		}
		put(o, "links", a);
	}
	put_u32(o, "droppedLinksCount", s->dropped_links_count);
	if (s->status != NULL) {
		json_t *so = json_object();
		put_str(so, "message", s->status->message);
		if (s->status->code != 0)
			put(so, "code", json_integer(
			    (json_int_t)(int32_t)s->status->code));
		put(o, "status", so);
	}
	return o;
}

static json_t *
enc_strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, enc_string(v[i] ? v[i] : ""));
	return a;
}

static json_t *
enc_resource(const Resource *r)
{
	json_t *o = json_object();

	put_kvs(o, "attributes", r->attributes, r->n_attributes);
	put_u32(o, "droppedAttributesCount", r->dropped_attributes_count);
	if (r->n_entity_refs > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_entity_refs; i++) {
			const EntityRef *e = r->entity_refs[i];
			json_t *eo = json_object();
			put_str(eo, "schemaUrl", e->schema_url);
			put_str(eo, "type", e->type);
			if (e->n_id_keys > 0)
				put(eo, "idKeys",
				    enc_strings(e->id_keys, e->n_id_keys));
			if (e->n_description_keys > 0)
				put(eo, "descriptionKeys",
				    enc_strings(e->description_keys,
				        e->n_description_keys));
			json_array_append_new(a, eo);
		}
		put(o, "entityRefs", a);
	}
	return o;
}

static json_t *
enc_resource_spans(const ResourceSpans *rs)
{
	json_t *o = json_object(), *sa = json_array();

	if (rs->resource != NULL)
		put(o, "resource", enc_resource(rs->resource));
	for (size_t i = 0; i < rs->n_scope_spans; i++) {
		const ScopeSpans *ss = rs->scope_spans[i];
		json_t *so = json_object(), *spans = json_array();
		if (ss->scope != NULL) {
			json_t *sc = json_object();
			put_str(sc, "name", ss->scope->name);
			put_str(sc, "version", ss->scope->version);
			put_kvs(sc, "attributes", ss->scope->attributes,
			    ss->scope->n_attributes);
			put_u32(sc, "droppedAttributesCount",
			    ss->scope->dropped_attributes_count);
			put(so, "scope", sc);
		}
		for (size_t j = 0; j < ss->n_spans; j++)
			json_array_append_new(spans, enc_span(ss->spans[j]));
		put(so, "spans", spans);
		put_str(so, "schemaUrl", ss->schema_url);
		json_array_append_new(sa, so);
	}
	put(o, "scopeSpans", sa);
	put_str(o, "schemaUrl", rs->schema_url);
	return o;
}

char *
otlp_json_encode(Opentelemetry__Proto__Trace__V1__ResourceSpans *const *rs,
    size_t n, int pretty, char **cause)
{
	json_t *root = json_object(), *a = json_array();
	size_t flags = JSON_REAL_PRECISION(17);
	char *out;

	if (cause != NULL)
		*cause = NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, enc_resource_spans(rs[i]));
	put(root, "resourceSpans", a);
	flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
	out = json_dumps(root, flags);
	json_decref(root);
	if (out == NULL && cause != NULL)
		*cause = xstrdup("otlp json: cannot serialise");
	return out;
}

/* ------------------------------------------------------------ decode */

/*
 * Everything decoded lives in one arena freed after packing, so an error
 * half-way through a span leaks nothing and needs no unwinding.
 */
struct dec {
	arena mem;
	char *err;       /* first error of the item being decoded */
	int depth;       /* current AnyValue nesting */
	size_t path_len; /* "resourceSpans[0].scopeSpans[1]..." */
	char path[256];
};

static void *
dec_alloc(struct dec *d, size_t size)
{
	return arena_alloc(&d->mem, size);
}

static char *
dec_strdup(struct dec *d, const char *s, size_t len)
{
	return arena_strndup(&d->mem, s, len);
}

/* Appends to the error path; returns the length to restore. */
static size_t PRINTFLIKE(2, 3) path_push(struct dec *d, const char *fmt, ...)
{
	size_t old = d->path_len;
	va_list ap;
	int n;

	if (d->path_len < sizeof d->path - 1) {
		va_start(ap, fmt);
		n = vsnprintf(d->path + d->path_len,
		    sizeof d->path - d->path_len, fmt, ap);
		va_end(ap);
		if (n > 0)
			d->path_len += (size_t)n;
		if (d->path_len > sizeof d->path - 1)
			d->path_len = sizeof d->path - 1;
	}
	return old;
}

static void
path_pop(struct dec *d, size_t old)
{
	d->path_len = old;
	d->path[old] = '\0';
}

/* Records the first error ("path.key: why") and returns -1. */
static int PRINTFLIKE(3, 4)
    fail(struct dec *d, const char *key, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (d->err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	xasprintf(&d->err, "%s%s%s: %s", d->path,
	    key != NULL && d->path_len > 0 ? "." : "", key ? key : "", why);
	return -1;
}

/* Returns obj[key], or NULL when absent or null (null means default). */
static json_t *
field(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v == NULL || json_is_null(v) ? NULL : v;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int
get_string(struct dec *d, const json_t *obj, const char *key, char **out)
{
	json_t *v = field(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(d, key, "expected a string, got %s", type_name(v));
	*out = dec_strdup(d, json_string_value(v), json_string_length(v));
	return 0;
}

/* Parses a decimal integer string: optional '-' when signed, digits only. */
static int
parse_dec(const char *s, bool is_signed, int64_t *i, uint64_t *u)
{
	const char *p = s;
	char *end;

	if (*p == '-' && is_signed)
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	if (is_signed)
		*i = strtoll(s, &end, 10);
	else
		*u = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/*
 * Reads an integer field given as a JSON integer, an integral number
 * ("1e3", "5.0") or a decimal string, as proto3 JSON allows for every
 * integer type. Signed values land in *i within [lo, hi]; unsigned 64-bit
 * values (fixed64) in *u.
 */
static int
get_integer(struct dec *d, const json_t *obj, const char *key, bool is_signed,
    int64_t lo, int64_t hi, int64_t *i, uint64_t *u, bool *present)
{
	json_t *v = field(obj, key);
	int64_t si = 0;
	uint64_t ui = 0;

	*present = false;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (!is_signed && n < 0)
			return fail(
			    d, key, "negative value %" JSON_INTEGER_FORMAT, n);
		si = n;
		ui = (uint64_t)n;
	} else if (json_is_real(v)) {
		double x = json_real_value(v);
		if (!isfinite(x) || trunc(x) != x)
			return fail(d, key, "not an integer");
		if (is_signed) {
			if (x < -9223372036854775808.0 ||
			    x >= 9223372036854775808.0)
				return fail(d, key, "out of range");
			si = (int64_t)x;
		} else {
			if (x < 0 || x >= 18446744073709551616.0)
				return fail(d, key, "out of range");
			ui = (uint64_t)x;
		}
	} else if (json_is_string(v)) {
		if (parse_dec(json_string_value(v), is_signed, &si, &ui) != 0)
			return fail(d, key, "\"%.32s\" is not a decimal %s",
			    json_string_value(v),
			    is_signed ? "integer" : "unsigned integer");
	} else {
		return fail(
		    d, key, "expected an integer, got %s", type_name(v));
	}
	if (is_signed && (si < lo || si > hi))
		return fail(d, key, "%" PRId64 " out of range", si);
	*i = si;
	*u = ui;
	*present = true;
	return 0;
}

static int
get_u32(struct dec *d, const json_t *obj, const char *key, uint32_t *out)
{
	int64_t i;
	uint64_t u;
	bool present;

	if (get_integer(d, obj, key, true, 0, UINT32_MAX, &i, &u, &present) !=
	    0)
		return -1;
	if (present)
		*out = (uint32_t)i;
	return 0;
}

static int
get_i32(struct dec *d, const json_t *obj, const char *key, int32_t *out)
{
	int64_t i;
	uint64_t u;
	bool present;

	if (get_integer(d, obj, key, true, INT32_MIN, INT32_MAX, &i, &u,
	        &present) != 0)
		return -1;
	if (present)
		*out = (int32_t)i;
	return 0;
}

static int
get_fixed64(struct dec *d, const json_t *obj, const char *key, uint64_t *out)
{
	int64_t i;
	uint64_t u;
	bool present;

	if (get_integer(d, obj, key, false, 0, 0, &i, &u, &present) != 0)
		return -1;
	if (present)
		*out = u;
	return 0;
}

/* Enums must be JSON integers (OTLP rule 2: no names, no strings). */
static int
get_enum(struct dec *d, const json_t *obj, const char *key, int *out)
{
	json_t *v = field(obj, key);
	json_int_t n;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return fail(
		    d, key, "enum must be an integer, got %s", type_name(v));
	n = json_integer_value(v);
	if (n < INT32_MIN || n > INT32_MAX)
		return fail(
		    d, key, "enum %" JSON_INTEGER_FORMAT " out of range", n);
	*out = (int)n;
	return 0;
}

/* Reads a hex ID of exactly len bytes; "" (or absent) is zero-length. */
static int
get_id(struct dec *d, const json_t *obj, const char *key, size_t len,
    ProtobufCBinaryData *out)
{
	json_t *v = field(obj, key);
	const char *s;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(
		    d, key, "expected a hex string, got %s", type_name(v));
	s = json_string_value(v);
	if (*s == '\0')
		return 0;
	if (json_string_length(v) != len * 2)
		return fail(d, key, "expected %zu hex digits, got %zu",
		    len * 2, json_string_length(v));
	out->data = dec_alloc(d, len);
	if (hex_decode(s, out->data, len) != 0)
		return fail(d, key, "\"%s\" is not hex", s);
	out->len = len;
	return 0;
}

static int
parse_double(const json_t *v, double *out)
{
	const char *s, *p;
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (strcmp(s, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(s, "Infinity") == 0) {
		*out = INFINITY;
		return 0;
	}
	if (strcmp(s, "-Infinity") == 0) {
		*out = -INFINITY;
		return 0;
	}
	/* A decimal number in a string; strtod alone would also take
	 * "inf", "nan" and hex floats. */
	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++)
		if (strchr("0123456789+-.eE", *p) == NULL)
			return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

static int dec_any(struct dec *d, const json_t *v, AnyValue **out);

/* Decodes one KeyValue object. */
static int
dec_kv(struct dec *d, const json_t *o, KeyValue **out)
{
	KeyValue *kv;
	json_t *v;

	if (!json_is_object(o))
		return fail(
		    d, NULL, "expected an object, got %s", type_name(o));
	kv = dec_alloc(d, sizeof *kv);
	opentelemetry__proto__common__v1__key_value__init(kv);
	if (get_string(d, o, "key", &kv->key) != 0 ||
	    get_i32(d, o, "keyStrindex", &kv->key_strindex) != 0)
		return -1;
	if ((v = field(o, "value")) != NULL) {
		size_t old = path_push(d, ".value");
		int rv = dec_any(d, v, &kv->value);
		path_pop(d, old);
		if (rv != 0)
			return -1;
	}
	*out = kv;
	return 0;
}

/* Decodes obj[key], an array of KeyValue, into *out / *n. */
static int
get_kvs(struct dec *d, const json_t *obj, const char *key, KeyValue ***out,
    size_t *n)
{
	json_t *a = field(obj, key);
	size_t len, i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return fail(d, key, "expected an array, got %s", type_name(a));
	len = json_array_size(a);
	*out = dec_alloc(d, (len ? len : 1) * sizeof **out);
	for (i = 0; i < len; i++) {
		size_t old =
		    path_push(d, "%s%s[%zu]", d->path_len ? "." : "", key, i);
		int rv = dec_kv(d, json_array_get(a, i), &(*out)[i]);
		path_pop(d, old);
		if (rv != 0)
			return -1;
	}
	*n = len;
	return 0;
}

static const char *const any_keys[] = {
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
    "stringValueStrindex",
};

/* Decodes an AnyValue object: at most one member set; {} is empty. */
static int
dec_any_body(struct dec *d, const json_t *o, AnyValue *av)
{
	const char *key = NULL;
	json_t *v = NULL, *vals;
	size_t n = 0, i, len;
	int64_t si;
	uint64_t ui;
	bool present;

	for (i = 0; i < ARRAY_LEN(any_keys); i++) {
		if (field(o, any_keys[i]) != NULL) {
			key = any_keys[i];
			v = field(o, key);
			n++;
		}
	}
	if (n == 0)
		return 0;
	if (n > 1)
		return fail(d, NULL, "AnyValue has %zu values, want one", n);
	if (strcmp(key, "stringValue") == 0) {
		av->value_case = AV(STRING_VALUE);
		return get_string(d, o, key, &av->string_value);
	}
	if (strcmp(key, "boolValue") == 0) {
		if (!json_is_boolean(v))
			return fail(d, key, "expected a boolean, got %s",
			    type_name(v));
		av->value_case = AV(BOOL_VALUE);
		av->bool_value = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "intValue") == 0) {
		if (get_integer(d, o, key, true, INT64_MIN, INT64_MAX, &si,
		        &ui, &present) != 0)
			return -1;
		av->value_case = AV(INT_VALUE);
		av->int_value = si;
		return 0;
	}
	if (strcmp(key, "doubleValue") == 0) {
		if (parse_double(v, &av->double_value) != 0)
			return fail(
			    d, key, "expected a number, got %s", type_name(v));
		av->value_case = AV(DOUBLE_VALUE);
		return 0;
	}
	if (strcmp(key, "bytesValue") == 0) {
		long blen;
		if (!json_is_string(v))
			return fail(
			    d, key, "expected base64, got %s", type_name(v));
		len = json_string_length(v);
		av->bytes_value.data = dec_alloc(d, len * 3 / 4 + 3);
		blen = base64_decode(
		    json_string_value(v), len, av->bytes_value.data);
		if (blen < 0)
			return fail(d, key, "invalid base64");
		av->bytes_value.len = (size_t)blen;
		av->value_case = AV(BYTES_VALUE);
		return 0;
	}
	if (strcmp(key, "stringValueStrindex") == 0) {
		av->value_case = AV(STRING_VALUE_STRINDEX);
		return get_i32(d, o, key, &av->string_value_strindex);
	}
	if (!json_is_object(v))
		return fail(
		    d, key, "expected an object, got %s", type_name(v));
	vals = field(v, "values");
	if (vals != NULL && !json_is_array(vals))
		return fail(d, key, "values: expected an array, got %s",
		    type_name(vals));
	len = vals != NULL ? json_array_size(vals) : 0;
	if (strcmp(key, "kvlistValue") == 0) {
		KeyValueList *kl = dec_alloc(d, sizeof *kl);
		size_t old = path_push(d, ".kvlistValue");
		int rv;
		opentelemetry__proto__common__v1__key_value_list__init(kl);
		av->value_case = AV(KVLIST_VALUE);
		av->kvlist_value = kl;
		rv = get_kvs(d, v, "values", &kl->values, &kl->n_values);
		path_pop(d, old);
		return rv;
	}
	ArrayValue *arr = dec_alloc(d, sizeof *arr);
	opentelemetry__proto__common__v1__array_value__init(arr);
	av->value_case = AV(ARRAY_VALUE);
	av->array_value = arr;
	arr->values = dec_alloc(d, (len ? len : 1) * sizeof *arr->values);
	for (i = 0; i < len; i++) {
		size_t old = path_push(d, ".arrayValue.values[%zu]", i);
		int rv = dec_any(d, json_array_get(vals, i), &arr->values[i]);
		path_pop(d, old);
		if (rv != 0)
			return -1;
	}
	arr->n_values = len;
	return 0;
}

static int
dec_any(struct dec *d, const json_t *v, AnyValue **out)
{
	AnyValue *av;
	int rv;

	if (!json_is_object(v))
		return fail(d, NULL, "AnyValue: expected an object, got %s",
		    type_name(v));
	if (d->depth >= OTLP_JSON_MAX_ANY_DEPTH)
		return fail(d, NULL, "AnyValue nested deeper than %d levels",
		    OTLP_JSON_MAX_ANY_DEPTH);
	av = dec_alloc(d, sizeof *av);
	opentelemetry__proto__common__v1__any_value__init(av);
	d->depth++;
	rv = dec_any_body(d, v, av);
	d->depth--;
	if (rv != 0)
		return -1;
	*out = av;
	return 0;
}

/* Decodes obj[key], an array of objects, by calling fn on each element. */
static int
get_list(struct dec *d, const json_t *obj, const char *key, size_t elem_size,
    int (*fn)(struct dec *, const json_t *, void *), void ***out, size_t *n)
{
	json_t *a = field(obj, key);
	size_t len, i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return fail(d, key, "expected an array, got %s", type_name(a));
	len = json_array_size(a);
	*out = dec_alloc(d, (len ? len : 1) * sizeof **out);
	for (i = 0; i < len; i++) {
		json_t *e = json_array_get(a, i);
		size_t old = path_push(d, ".%s[%zu]", key, i);
		int rv;
		if (!json_is_object(e)) {
			rv = fail(d, NULL, "expected an object, got %s",
			    type_name(e));
		} else {
			(*out)[i] = dec_alloc(d, elem_size);
			rv = fn(d, e, (*out)[i]);
		}
		path_pop(d, old);
		if (rv != 0)
			return -1;
	}
	*n = len;
	return 0;
}

static int
dec_event(struct dec *d, const json_t *o, void *p)
{
	Event *e = p;

	opentelemetry__proto__trace__v1__span__event__init(e);
	if (get_fixed64(d, o, "timeUnixNano", &e->time_unix_nano) != 0 ||
	    get_string(d, o, "name", &e->name) != 0 ||
	    get_kvs(d, o, "attributes", &e->attributes, &e->n_attributes) !=
	        0 ||
	    get_u32(d, o, "droppedAttributesCount",
	        &e->dropped_attributes_count) != 0)
		return -1;
	return 0;
}

static int
dec_link(struct dec *d, const json_t *o, void *p)
{
	Link *l = p;

	opentelemetry__proto__trace__v1__span__link__init(l);
	if (get_id(d, o, "traceId", TRACE_ID_LEN, &l->trace_id) != 0 ||
	    get_id(d, o, "spanId", SPAN_ID_LEN, &l->span_id) != 0 ||
	    get_string(d, o, "traceState", &l->trace_state) != 0 ||
	    get_kvs(d, o, "attributes", &l->attributes, &l->n_attributes) !=
	        0 ||
	    get_u32(d, o, "droppedAttributesCount",
	        &l->dropped_attributes_count) != 0 ||
	    get_u32(d, o, "flags", &l->flags) != 0)
		return -1;
	return 0;
}

static int
dec_status(struct dec *d, const json_t *o, Status **out)
{
	Status *st;
	int code = 0;

	if (!json_is_object(o))
		return fail(
		    d, "status", "expected an object, got %s", type_name(o));
	st = dec_alloc(d, sizeof *st);
	opentelemetry__proto__trace__v1__status__init(st);
	size_t old = path_push(d, "%sstatus", d->path_len ? "." : "");
	int rv = get_string(d, o, "message", &st->message) != 0 ||
	                 get_enum(d, o, "code", &code) != 0
	             ? -1
	             : 0;
	path_pop(d, old);
	st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)code;
	*out = st;
	return rv;
}

static int
dec_span(struct dec *d, const json_t *o, Span *s)
{
	json_t *v;
	int kind = 0;

	opentelemetry__proto__trace__v1__span__init(s);
	if (get_id(d, o, "traceId", TRACE_ID_LEN, &s->trace_id) != 0 ||
	    get_id(d, o, "spanId", SPAN_ID_LEN, &s->span_id) != 0 ||
	    get_string(d, o, "traceState", &s->trace_state) != 0 ||
	    get_id(d, o, "parentSpanId", SPAN_ID_LEN, &s->parent_span_id) !=
	        0 ||
	    get_u32(d, o, "flags", &s->flags) != 0 ||
	    get_string(d, o, "name", &s->name) != 0 ||
	    get_enum(d, o, "kind", &kind) != 0 ||
	    get_fixed64(d, o, "startTimeUnixNano", &s->start_time_unix_nano) !=
	        0 ||
	    get_fixed64(d, o, "endTimeUnixNano", &s->end_time_unix_nano) !=
	        0 ||
	    get_kvs(d, o, "attributes", &s->attributes, &s->n_attributes) !=
	        0 ||
	    get_u32(d, o, "droppedAttributesCount",
	        &s->dropped_attributes_count) != 0 ||
	    get_list(d, o, "events", sizeof(Event), dec_event,
	        (void ***)&s->events, &s->n_events) != 0 ||
	    get_u32(d, o, "droppedEventsCount", &s->dropped_events_count) !=
	        0 ||
	    get_list(d, o, "links", sizeof(Link), dec_link,
	        (void ***)&s->links, &s->n_links) != 0 ||
	    get_u32(d, o, "droppedLinksCount", &s->dropped_links_count) != 0)
		return -1;
	s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)kind;
	if ((v = field(o, "status")) != NULL &&
	    dec_status(d, v, &s->status) != 0)
		return -1;
	return 0;
}

static int
get_strings(
    struct dec *d, const json_t *obj, const char *key, char ***out, size_t *n)
{
	json_t *a = field(obj, key);
	size_t len, i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return fail(d, key, "expected an array, got %s", type_name(a));
	len = json_array_size(a);
	*out = dec_alloc(d, (len ? len : 1) * sizeof **out);
	for (i = 0; i < len; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_string(e))
			return fail(
			    d, key, "element %zu: expected a string", i);
		(*out)[i] = dec_strdup(
		    d, json_string_value(e), json_string_length(e));
	}
	*n = len;
	return 0;
}

static int
dec_entity_ref(struct dec *d, const json_t *o, void *p)
{
	EntityRef *e = p;

	opentelemetry__proto__common__v1__entity_ref__init(e);
	if (get_string(d, o, "schemaUrl", &e->schema_url) != 0 ||
	    get_string(d, o, "type", &e->type) != 0 ||
	    get_strings(d, o, "idKeys", &e->id_keys, &e->n_id_keys) != 0 ||
	    get_strings(d, o, "descriptionKeys", &e->description_keys,
	        &e->n_description_keys) != 0)
		return -1;
	return 0;
}

static int
dec_resource(struct dec *d, const json_t *o, Resource **out)
{
	Resource *r;
	size_t old;
	int rv;

	if (!json_is_object(o))
		return fail(
		    d, "resource", "expected an object, got %s", type_name(o));
	r = dec_alloc(d, sizeof *r);
	opentelemetry__proto__resource__v1__resource__init(r);
	old = path_push(d, ".resource");
	rv = get_kvs(d, o, "attributes", &r->attributes, &r->n_attributes) ||
	             get_u32(d, o, "droppedAttributesCount",
	                 &r->dropped_attributes_count) ||
	             get_list(d, o, "entityRefs", sizeof(EntityRef),
	                 dec_entity_ref, (void ***)&r->entity_refs,
	                 &r->n_entity_refs)
	         ? -1
	         : 0;
	path_pop(d, old);
	*out = r;
	return rv;
}

static int
dec_scope(struct dec *d, const json_t *o, Scope **out)
{
	Scope *sc;
	size_t old;
	int rv;

	if (!json_is_object(o))
		return fail(
		    d, "scope", "expected an object, got %s", type_name(o));
	sc = dec_alloc(d, sizeof *sc);
	opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
	old = path_push(d, ".scope");
	rv = get_string(d, o, "name", &sc->name) ||
	             get_string(d, o, "version", &sc->version) ||
	             get_kvs(d, o, "attributes", &sc->attributes,
	                 &sc->n_attributes) ||
	             get_u32(d, o, "droppedAttributesCount",
	                 &sc->dropped_attributes_count)
	         ? -1
	         : 0;
	path_pop(d, old);
	*out = sc;
	return rv;
}

/* Per-document decode state: counts and the first rejection reason. */
struct doc {
	struct dec d;
	size_t rejected;
	char *first;
	char *fatal;
};

/* Moves the current error into the document's first reason. */
static void
reject(struct doc *doc, size_t nspans)
{
	doc->rejected += nspans;
	if (doc->first == NULL)
		doc->first = doc->d.err;
	else
		free(doc->d.err);
	doc->d.err = NULL;
}

static int PRINTFLIKE(2, 3) unusable(struct doc *doc, const char *fmt, ...)
{
	va_list ap;
	char why[200];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	xasprintf(&doc->fatal, "%s%s%s", doc->d.path,
	    doc->d.path_len ? ": " : "", why);
	return -1;
}

/* Returns obj[key] when it is an array (or absent: *a = NULL), else -1. */
static int
envelope_array(struct doc *doc, const json_t *obj, const char *key, json_t **a)
{
	*a = field(obj, key);
	if (*a != NULL && !json_is_array(*a))
		return unusable(
		    doc, "%s: expected an array, got %s", key, type_name(*a));
	return 0;
}

static size_t
count_spans_in_scope(const json_t *ss)
{
	json_t *spans = field(ss, "spans");

	return json_is_array(spans) ? json_array_size(spans) : 0;
}

static size_t
count_spans_in_resource(const json_t *rs)
{
	json_t *sa = field(rs, "scopeSpans");
	size_t n = 0;

	if (json_is_array(sa))
		for (size_t i = 0; i < json_array_size(sa); i++)
			n += count_spans_in_scope(json_array_get(sa, i));
	return n;
}

static int
dec_scope_spans(struct doc *doc, const json_t *o, ScopeSpans *ss)
{
	struct dec *d = &doc->d;
	json_t *spans, *v;
	size_t i, n, kept = 0;

	opentelemetry__proto__trace__v1__scope_spans__init(ss);
	if (envelope_array(doc, o, "spans", &spans) != 0)
		return -1;
	n = spans != NULL ? json_array_size(spans) : 0;
	if (((v = field(o, "scope")) != NULL &&
	        dec_scope(d, v, &ss->scope) != 0) ||
	    get_string(d, o, "schemaUrl", &ss->schema_url) != 0) {
		reject(doc, n);
		return 1;
	}
	ss->spans = dec_alloc(d, (n ? n : 1) * sizeof *ss->spans);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(spans, i);
		size_t old = path_push(d, ".spans[%zu]", i);
		Span *s = dec_alloc(d, sizeof *s);
		int rv = json_is_object(e)
		             ? dec_span(d, e, s)
		             : fail(d, NULL, "expected an object, got %s",
		                   type_name(e));
		path_pop(d, old);
		if (rv != 0)
			reject(doc, 1);
		else
			ss->spans[kept++] = s;
	}
	ss->n_spans = kept;
	return 0;
}

static int
dec_resource_spans(struct doc *doc, const json_t *o, ResourceSpans *rs)
{
	struct dec *d = &doc->d;
	json_t *sa, *v;
	size_t i, n, kept = 0;

	opentelemetry__proto__trace__v1__resource_spans__init(rs);
	if (envelope_array(doc, o, "scopeSpans", &sa) != 0)
		return -1;
	n = sa != NULL ? json_array_size(sa) : 0;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(sa, i);
		size_t old = path_push(d, ".scopeSpans[%zu]", i);
		int bad = !json_is_object(e)
		              ? unusable(doc, "expected an object, got %s",
		                    type_name(e))
		              : 0;
		if (bad == 0 && envelope_array(doc, e, "spans", &v) != 0)
			bad = -1;
		path_pop(d, old);
		if (bad != 0)
			return -1;
	}
	if (((v = field(o, "resource")) != NULL &&
	        dec_resource(d, v, &rs->resource) != 0) ||
	    get_string(d, o, "schemaUrl", &rs->schema_url) != 0) {
		reject(doc, count_spans_in_resource(o));
		return 1;
	}
	rs->scope_spans =
	    dec_alloc(d, (n ? n : 1) * sizeof *rs->scope_spans);
	for (i = 0; i < n; i++) {
		ScopeSpans *ss = dec_alloc(d, sizeof *ss);
		size_t old = path_push(d, ".scopeSpans[%zu]", i);
		int rv = dec_scope_spans(doc, json_array_get(sa, i), ss);
		path_pop(d, old);
		if (rv < 0)
			return -1;
		if (rv == 0)
			rs->scope_spans[kept++] = ss;
	}
	rs->n_scope_spans = kept;
	return 0;
}

int
otlp_json_decode(const char *json, size_t len, uint8_t **pb, size_t *pb_len,
    size_t *rejected_spans, char **cause)
{
	ExportRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	struct doc doc;
	json_error_t jerr;
	json_t *root, *ra = NULL;
	size_t i, n = 0, kept = 0;
	int rv = -1;

	memset(&doc, 0, sizeof doc);
	*pb = NULL;
	*pb_len = 0;
	*rejected_spans = 0;
	*cause = NULL;
	root = json_loadb(json, len, 0, &jerr);
	if (root == NULL) {
		xasprintf(cause, "invalid JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		unusable(
		    &doc, "expected a JSON object, got %s", type_name(root));
		goto out;
	}
	if (envelope_array(&doc, root, "resourceSpans", &ra) != 0)
		goto out;
	n = ra != NULL ? json_array_size(ra) : 0;
	req.resource_spans =
	    dec_alloc(&doc.d, (n ? n : 1) * sizeof *req.resource_spans);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(ra, i);
		ResourceSpans *rs = dec_alloc(&doc.d, sizeof *rs);
		size_t old = path_push(&doc.d, "resourceSpans[%zu]", i);
		int r = json_is_object(e)
		            ? dec_resource_spans(&doc, e, rs)
		            : unusable(&doc, "expected an object, got %s",
		                  type_name(e));
		path_pop(&doc.d, old);
		if (r < 0)
			goto out;
		if (r == 0)
			req.resource_spans[kept++] = rs;
	}
	req.n_resource_spans = kept;
	*pb_len =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	        &req);
	*pb = xmalloc(*pb_len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    &req, *pb);
	*rejected_spans = doc.rejected;
	*cause = doc.first;
	doc.first = NULL;
	rv = 0;
out:
	if (rv != 0) {
		*cause = doc.fatal;
		doc.fatal = NULL;
	}
	free(doc.first);
	free(doc.fatal);
	free(doc.d.err);
	arena_free(&doc.d.mem);
	json_decref(root);
	return rv;
}
