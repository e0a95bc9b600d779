/*
 * otlp_json_encode.c - OTLP protobuf structs -> OTLP JSON, on jansson
 * (tracecli export). The rules are those of docs/PROTOCOL.md §3,
 * written as otlp_json_decode.c reads them back: hex IDs in lower case,
 * enums as integers, 64-bit integers as decimal strings, bytes as base64,
 * special doubles as "NaN"/"Infinity"/"-Infinity".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "common.h"
#include "otlp_json.h"
#include "otlp_types.h"

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

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

json_t *
otlp_json_string(const char *s)
{
	return enc_string(s);
}
