/*
 * validate.c - what a span must be to be stored: IDs of the right size
 * and not zero, times in range, strings valid UTF-8 and within the size
 * limits, attributes, events and links within the count limits, nested
 * values within a total budget. Its origin (resource + scope) likewise.
 */
#include <stdbool.h>
#include <string.h>

#include "common.h"
#include "format/keys.h"
#include "pipeline/pipeline_impl.h"

#define MIN_TIME_NS 946684800000000000ULL /* 2000-01-01T00:00:00Z */

static bool
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x80) {
			p++;
		} else if ((*p & 0xe0) == 0xc0) {
			if (*p < 0xc2 || (p[1] & 0xc0) != 0x80)
				return false;
			p += 2;
		} else if ((*p & 0xf0) == 0xe0) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
				return false;
			if ((*p == 0xe0 && p[1] < 0xa0) ||
			    (*p == 0xed && p[1] >= 0xa0))
				return false;
			p += 3;
		} else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
			    (p[3] & 0xc0) != 0x80)
				return false;
			if ((*p == 0xf0 && p[1] < 0x90) ||
			    (*p == 0xf4 && p[1] >= 0x90))
				return false;
			p += 4;
		} else {
			return false;
		}
	}
	return true;
}

static const char *reject_text[] = {
	"", "trace_id must be 16 and span_id 8 non-zero bytes",
	"timestamps out of range or end before start",
	"span over a size or count limit", "invalid UTF-8 in a string"
};

static validate_reject check_attrs(const pipeline_limits *l,
    KeyValue *const *kv, size_t n, size_t *budget);

/* Checks a string against UTF-8 and the size limit. */
static validate_reject
check_str(const pipeline_limits *l, const char *s)
{
	if (s == NULL)
		return VALIDATE_OK;
	if (strlen(s) > l->max_string_bytes)
		return VALIDATE_TOO_BIG;
	return utf8_ok(s) ? VALIDATE_OK : VALIDATE_BAD_UTF8;
}

/* budget bounds the total number of values (nested ones included). */
static validate_reject
check_any(const pipeline_limits *l, const AnyValue *v, size_t *budget)
{
	validate_reject r;

	if (v == NULL)
		return VALIDATE_OK;
	if (*budget == 0)
		return VALIDATE_TOO_BIG;
	(*budget)--;
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return check_str(l, v->string_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		return v->bytes_value.len > l->max_string_bytes ? VALIDATE_TOO_BIG : VALIDATE_OK;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		if (v->array_value == NULL)
			return VALIDATE_OK;
		for (size_t i = 0; i < v->array_value->n_values; i++)
			if ((r = check_any(l, v->array_value->values[i],
			    budget)) != VALIDATE_OK)
				return r;
		return VALIDATE_OK;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (v->kvlist_value == NULL)
			return VALIDATE_OK;
		return check_attrs(l, v->kvlist_value->values,
		    v->kvlist_value->n_values, budget);
	default:
		return VALIDATE_OK;
	}
}

static validate_reject
check_attrs(const pipeline_limits *l, KeyValue *const *kv, size_t n,
    size_t *budget)
{
	validate_reject r;

	if (n > l->max_attrs || n > *budget)
		return VALIDATE_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		if ((r = check_str(l, kv[i]->key)) != VALIDATE_OK ||
		    (r = check_any(l, kv[i]->value, budget)) != VALIDATE_OK)
			return r;
	}
	return VALIDATE_OK;
}

validate_reject
validate_span(const pipeline_limits *l, const Span *sp, uint64_t now)
{
	size_t budget = l->max_attrs * 4;
	validate_reject r;

	if (sp->trace_id.len != KEY_TRACE_ID_LEN ||
	    sp->span_id.len != KEY_SPAN_ID_LEN ||
	    is_all_zero(sp->trace_id.data, KEY_TRACE_ID_LEN) ||
	    is_all_zero(sp->span_id.data, KEY_SPAN_ID_LEN) ||
	    (sp->parent_span_id.len != 0 &&
	    sp->parent_span_id.len != KEY_SPAN_ID_LEN))
		return VALIDATE_BAD_ID;
	if (sp->start_time_unix_nano < MIN_TIME_NS ||
	    sp->end_time_unix_nano < sp->start_time_unix_nano ||
	    sp->end_time_unix_nano > now + l->max_future_ns)
		return VALIDATE_BAD_TIME;
	if (sp->n_events > l->max_events || sp->n_links > l->max_links)
		return VALIDATE_TOO_BIG;
	if ((r = check_str(l, sp->name)) != VALIDATE_OK ||
	    (r = check_str(l, sp->trace_state)) != VALIDATE_OK ||
	    (r = check_attrs(l, sp->attributes, sp->n_attributes,
	    &budget)) != VALIDATE_OK)
		return r;
	if (sp->status != NULL && (r = check_str(l, sp->status->message)) !=
	    VALIDATE_OK)
		return r;
	for (size_t i = 0; i < sp->n_events; i++) {
		const Event *e =
		    sp->events[i];

		if ((r = check_str(l, e->name)) != VALIDATE_OK ||
		    (r = check_attrs(l, e->attributes, e->n_attributes,
		    &budget)) != VALIDATE_OK)
			return r;
	}
	for (size_t i = 0; i < sp->n_links; i++) {
		const Link *k =
		    sp->links[i];

		if ((r = check_str(l, k->trace_state)) != VALIDATE_OK ||
		    (r = check_attrs(l, k->attributes, k->n_attributes,
		    &budget)) != VALIDATE_OK)
			return r;
	}
	return VALIDATE_OK;
}

const char *
validate_reject_text(validate_reject r)
{
	return reject_text[r];
}

/* The origin (resource + scope) of ss is stored once, packed without its
 * spans: it must fit the span size limit. */
static size_t
origin_packed_len(const ResourceSpans *rs, const ScopeSpans *ss)
{
	ResourceSpans o = *rs;
	ScopeSpans s = *ss;
	ScopeSpans *sp = &s;

	s.n_spans = 0;
	s.spans = NULL;
	o.n_scope_spans = 1;
	o.scope_spans = &sp;
	return opentelemetry__proto__trace__v1__resource_spans__get_packed_size(
	    &o);
}

bool
validate_origin(const pipeline_limits *l, const ResourceSpans *rs,
    const ScopeSpans *ss)
{
	size_t budget = l->max_attrs * 4;

	if (rs->resource != NULL && (rs->resource->n_attributes >
	    l->max_attrs || check_attrs(l, rs->resource->attributes,
	    rs->resource->n_attributes, &budget) != VALIDATE_OK))
		return false;
	if (ss->scope != NULL && (check_str(l, ss->scope->name) !=
	    VALIDATE_OK || check_str(l, ss->scope->version) != VALIDATE_OK ||
	    check_attrs(l, ss->scope->attributes, ss->scope->n_attributes,
	    &budget) != VALIDATE_OK))
		return false;
	if (check_str(l, rs->schema_url) != VALIDATE_OK ||
	    check_str(l, ss->schema_url) != VALIDATE_OK)
		return false;
	return origin_packed_len(rs, ss) <= l->max_span_bytes;
}
