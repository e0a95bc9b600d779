/*
 * jaeger_model.c - OTLP -> Jaeger v1 JSON (jaeger_model.h), following the
 * table in docs/JAEGER.md, which is what Jaeger's own OTLP translator does.
 * The Jaeger UI relies on two of its tags: it draws a span red only with
 * error=true, and pairs client and server spans by span.kind.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "common.h"
#include "jaeger/jaeger_model.h"
#include "otlp_json.h"

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x
#define KIND(x) OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_##x
#define STATUS(x) OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_##x
#define JSON_SAFE_INT 9007199254740991LL /* 2^53 - 1 */

void
jaeger_model_trace_id(const uint8_t id[16], char out[JAEGER_TRACE_ID_HEX])
{
	if (is_all_zero(id, 8))
		hex_encode(id + 8, 8, out);
	else
		hex_encode(id, 16, out);
}

static json_t *
id_json(const ProtobufCBinaryData *id)
{
	char hex[JAEGER_TRACE_ID_HEX];

	if (id->len == 16) {
		jaeger_model_trace_id(id->data, hex);
		return json_string(hex);
	}
	if (id->len != 8)
		return json_string("");
	hex_encode(id->data, 8, hex);
	return json_string(hex);
}

/* A JSON value of an AnyValue, for arrays and maps rendered as text. */
static json_t *
any_json(const AnyValue *v)
{
	json_t *j;
	char *b64;

	if (v == NULL)
		return json_null();
	switch (v->value_case) {
	case AV(STRING_VALUE):
		return otlp_json_string(v->string_value);
	case AV(BOOL_VALUE):
		return json_boolean(v->bool_value);
	case AV(INT_VALUE):
		return json_integer(v->int_value);
	case AV(DOUBLE_VALUE):
		return isfinite(v->double_value) ? json_real(v->double_value) :
		    json_null();
	case AV(BYTES_VALUE):
		b64 = base64_encode(v->bytes_value.data, v->bytes_value.len);
		j = json_string(b64);
		free(b64);
		return j;
	case AV(ARRAY_VALUE):
		j = json_array();
		for (size_t i = 0; v->array_value != NULL &&
		    i < v->array_value->n_values; i++)
			json_array_append_new(j,
			    any_json(v->array_value->values[i]));
		return j;
	case AV(KVLIST_VALUE):
		j = json_object();
		for (size_t i = 0; v->kvlist_value != NULL &&
		    i < v->kvlist_value->n_values; i++) {
			const KeyValue *kv = v->kvlist_value->values[i];

			json_object_set_new(j, kv->key ? kv->key : "",
			    any_json(kv->value));
		}
		return j;
	default:
		return json_null();
	}
}

/* Sets a tag's type and value from text the tag carries as a string. */
static void
tag_text(json_t *tag, json_t *text)
{
	json_object_set_new(tag, "type", json_string("string"));
	json_object_set_new(tag, "value", text ? text : json_string(""));
}

static void
tag_int(json_t *tag, int64_t i)
{
	char buf[24];

	json_object_set_new(tag, "type", json_string("int64"));
	if (i >= -JSON_SAFE_INT && i <= JSON_SAFE_INT) {
		json_object_set_new(tag, "value", json_integer(i));
		return;
	}
	/* Beyond what a JavaScript number holds exactly: keep every digit. */
	snprintf(buf, sizeof buf, "%" PRId64, i);
	json_object_set_new(tag, "value", json_string(buf));
}

static void
tag_double(json_t *tag, double d)
{
	json_object_set_new(tag, "type", json_string("float64"));
	if (isfinite(d))
		json_object_set_new(tag, "value", json_real(d));
	else /* JSON has no NaN or Infinity */
		json_object_set_new(tag, "value", json_string(isnan(d) ? "NaN" :
		    d > 0 ? "+Inf" : "-Inf"));
}

void
jaeger_model_tag_value(json_t *tag, const AnyValue *v)
{
	char *b64;

	switch (v ? v->value_case : AV(_NOT_SET)) {
	case AV(STRING_VALUE):
		tag_text(tag, otlp_json_string(v->string_value));
		break;
	case AV(BOOL_VALUE):
		json_object_set_new(tag, "type", json_string("bool"));
		json_object_set_new(tag, "value", json_boolean(v->bool_value));
		break;
	case AV(INT_VALUE):
		tag_int(tag, v->int_value);
		break;
	case AV(DOUBLE_VALUE):
		tag_double(tag, v->double_value);
		break;
	case AV(BYTES_VALUE):
		b64 = base64_encode(v->bytes_value.data, v->bytes_value.len);
		json_object_set_new(tag, "type", json_string("binary"));
		json_object_set_new(tag, "value", json_string(b64));
		free(b64);
		break;
	case AV(ARRAY_VALUE):
	case AV(KVLIST_VALUE): {
		json_t *j = any_json(v);
		char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

		tag_text(tag, json_string(text ? text : ""));
		free(text);
		json_decref(j);
		break;
	}
	default:
		tag_text(tag, NULL);
		break;
	}
}

static void
push_tag(json_t *tags, const char *key, const AnyValue *v)
{
	json_t *tag = json_object();

	json_object_set_new(tag, "key", otlp_json_string(key ? key : ""));
	jaeger_model_tag_value(tag, v);
	json_array_append_new(tags, tag);
}

static void
push_str_tag(json_t *tags, const char *key, const char *s)
{
	json_t *tag = json_object();

	json_object_set_new(tag, "key", json_string(key));
	tag_text(tag, otlp_json_string(s));
	json_array_append_new(tags, tag);
}

static void
push_kvs(json_t *tags, KeyValue *const *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		push_tag(tags, kv[i]->key, kv[i]->value);
}

static const char *
kind_name(int kind)
{
	switch (kind) {
	case KIND(CLIENT): return "client";
	case KIND(SERVER): return "server";
	case KIND(PRODUCER): return "producer";
	case KIND(CONSUMER): return "consumer";
	case KIND(INTERNAL): return "internal";
	default: return NULL;
	}
}

/* The span's tags in Jaeger's order: scope, attributes, kind, status,
 * error, status message, tracestate. */
static json_t *
span_tags(const Span *sp, const Scope *scope)
{
	json_t *tags = json_array();
	const char *kind = kind_name(sp->kind);
	const Status *st = sp->status;

	if (scope != NULL && scope->name != NULL && *scope->name != '\0')
		push_str_tag(tags, "otel.scope.name", scope->name);
	if (scope != NULL && scope->version != NULL && *scope->version != '\0')
		push_str_tag(tags, "otel.scope.version", scope->version);
	push_kvs(tags, sp->attributes, sp->n_attributes);
	if (kind != NULL)
		push_str_tag(tags, "span.kind", kind);
	if (st != NULL && st->code == STATUS(OK))
		push_str_tag(tags, "otel.status_code", "OK");
	if (st != NULL && st->code == STATUS(ERROR)) {
		json_t *tag = json_pack("{s:s, s:s, s:b}", "key", "error",
		    "type", "bool", "value", 1);

		push_str_tag(tags, "otel.status_code", "ERROR");
		json_array_append_new(tags, tag);
	}
	if (st != NULL && st->message != NULL && *st->message != '\0')
		push_str_tag(tags, "otel.status_description", st->message);
	if (sp->trace_state != NULL && *sp->trace_state != '\0')
		push_str_tag(tags, "w3c.tracestate", sp->trace_state);
	return tags;
}

static json_t *
reference(const char *type, const ProtobufCBinaryData *trace_id,
    const ProtobufCBinaryData *span_id)
{
	json_t *r = json_object();

	json_object_set_new(r, "refType", json_string(type));
	json_object_set_new(r, "traceID", id_json(trace_id));
	json_object_set_new(r, "spanID", id_json(span_id));
	return r;
}

/* A link is FOLLOWS_FROM unless it says opentracing.ref_type=child_of. */
static const char *
link_ref_type(const Link *l)
{
	for (size_t i = 0; i < l->n_attributes; i++) {
		const KeyValue *kv = l->attributes[i];

		if (kv->key != NULL &&
		    strcmp(kv->key, "opentracing.ref_type") == 0 &&
		    kv->value != NULL &&
		    kv->value->value_case == AV(STRING_VALUE) &&
		    strcmp(kv->value->string_value, "child_of") == 0)
			return "CHILD_OF";
	}
	return "FOLLOWS_FROM";
}

static json_t *
span_references(const Span *sp)
{
	json_t *refs = json_array();

	if (sp->parent_span_id.len == 8 &&
	    !is_all_zero(sp->parent_span_id.data, 8))
		json_array_append_new(refs, reference("CHILD_OF",
		    &sp->trace_id, &sp->parent_span_id));
	for (size_t i = 0; i < sp->n_links; i++)
		json_array_append_new(refs, reference(link_ref_type(
		    sp->links[i]), &sp->links[i]->trace_id,
		    &sp->links[i]->span_id));
	return refs;
}

static json_t *
span_logs(const Span *sp)
{
	json_t *logs = json_array();

	for (size_t i = 0; i < sp->n_events; i++) {
		const Event *ev = sp->events[i];
		json_t *fields = json_array();

		push_str_tag(fields, "event", ev->name ? ev->name : "");
		push_kvs(fields, ev->attributes, ev->n_attributes);
		json_array_append_new(logs, json_pack("{s:I, s:o}",
		    "timestamp", (json_int_t)(ev->time_unix_nano / 1000),
		    "fields", fields));
	}
	return logs;
}

static json_t *
span_json(const Span *sp, const Scope *scope, const char *process_id)
{
	uint64_t dur_ns = sp->end_time_unix_nano > sp->start_time_unix_nano ?
	    sp->end_time_unix_nano - sp->start_time_unix_nano : 0;
	json_t *o = json_object();

	json_object_set_new(o, "traceID", id_json(&sp->trace_id));
	json_object_set_new(o, "spanID", id_json(&sp->span_id));
	json_object_set_new(o, "operationName",
	    otlp_json_string(sp->name ? sp->name : ""));
	json_object_set_new(o, "references", span_references(sp));
	json_object_set_new(o, "flags", json_integer(1));
	json_object_set_new(o, "startTime",
	    json_integer((json_int_t)(sp->start_time_unix_nano / 1000)));
	json_object_set_new(o, "duration",
	    json_integer((json_int_t)(dur_ns / 1000)));
	json_object_set_new(o, "tags", span_tags(sp, scope));
	json_object_set_new(o, "logs", span_logs(sp));
	json_object_set_new(o, "processID", json_string(process_id));
	json_object_set_new(o, "warnings", json_null());
	return o;
}

/* The process of a resource: service.name and the other attributes. */
static json_t *
process_json(const Resource *r)
{
	const char *svc = otlp_service_name(r);
	json_t *tags = json_array();

	for (size_t i = 0; r != NULL && i < r->n_attributes; i++) {
		const KeyValue *kv = r->attributes[i];

		if (kv->key != NULL && strcmp(kv->key, "service.name") == 0)
			continue;
		push_tag(tags, kv->key, kv->value);
	}
	return json_pack("{s:o, s:o}", "serviceName",
	    otlp_json_string(svc ? svc : "OTLPResourceNoServiceName"),
	    "tags", tags);
}

/* The ID of process p in processes, adding it as p<N+1> when new. */
static const char *
process_id(json_t *processes, json_t *p)
{
	const char *key;
	json_t *v;
	char id[24];

	json_object_foreach(processes, key, v) {
		if (json_equal(v, p)) {
			json_decref(p);
			return key;
		}
	}
	snprintf(id, sizeof id, "p%zu", json_object_size(processes) + 1);
	json_object_set_new(processes, id, p);
	return json_object_iter_key(json_object_iter_at(processes, id));
}

json_t *
jaeger_model_trace(ResourceSpans *const *rs, size_t n)
{
	json_t *spans = json_array(), *processes = json_object();
	json_t *trace = json_object();
	const ProtobufCBinaryData *trace_id = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *pid = process_id(processes,
		    process_json(rs[i]->resource));

		for (size_t j = 0; j < rs[i]->n_scope_spans; j++) {
			const ScopeSpans *ss = rs[i]->scope_spans[j];

			for (size_t k = 0; k < ss->n_spans; k++) {
				json_array_append_new(spans, span_json(
				    ss->spans[k], ss->scope, pid));
				trace_id = &ss->spans[k]->trace_id;
			}
		}
	}
	json_object_set_new(trace, "traceID",
	    trace_id ? id_json(trace_id) : json_string(""));
	json_object_set_new(trace, "spans", spans);
	json_object_set_new(trace, "processes", processes);
	json_object_set_new(trace, "warnings", json_null());
	return trace;
}
