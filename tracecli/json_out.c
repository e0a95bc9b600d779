/*
 * json_out.c - --json output on jansson, in the shapes of design.md
 * (contract): search, show and slow; services, operations and stats are
 * documented in docs/TRACECLI.md.
 *
 * Strings keep their content (JSON is for programs) but never reach a
 * terminal raw: everything is dumped with JSON_ENSURE_ASCII and DEL is
 * escaped too, so control, C1 and bidi characters appear as \uXXXX.
 * Invalid UTF-8 (which JSON cannot carry) is replaced by visible escapes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tracecli.h"

/* A JSON string for raw wire text; invalid UTF-8 gets sanitised. */
static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	char *safe = sanitize_dup(s, SAN_UTF8);
	j = json_string(safe);
	free(safe);
	return j != NULL ? j : json_string("");
}

static json_t *
jhex(const uint8_t *b, size_t len)
{
	char hex[65];

	if (len == 0 || len > 32)
		return json_string("");
	hex_encode(b, len, hex);
	return json_string(hex);
}

static json_t *jattrs(pb_kv *const *kv, size_t n, int depth);

/* An attribute value as its natural JSON type. */
static json_t *
jany(const pb_any *v, int depth)
{
	if (v == NULL || depth > 16)
		return json_null();
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return jstr(v->string_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		return json_boolean(v->bool_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		return json_integer((json_int_t)v->int_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		return json_real(v->double_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
		char *hex = xmalloc(v->bytes_value.len * 2 + 1);
		hex_encode(v->bytes_value.data, v->bytes_value.len, hex);
		json_t *j = json_string(hex);
		free(hex);
		return j;
	}
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: {
		json_t *a = json_array();
		for (size_t i = 0; v->array_value != NULL &&
		     i < v->array_value->n_values; i++)
			json_array_append_new(a,
			    jany(v->array_value->values[i], depth + 1));
		return a;
	}
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (v->kvlist_value == NULL)
			return json_object();
		return jattrs(v->kvlist_value->values, v->kvlist_value->n_values,
		    depth + 1);
	default:
		return json_null();
	}
}

static json_t *
jattrs(pb_kv *const *kv, size_t n, int depth)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++) {
		json_t *k = jstr(kv[i]->key);
		json_object_set_new(o, json_string_value(k),
		    jany(kv[i]->value, depth));
		json_decref(k);
	}
	return o;
}

char *
json_ascii(const char *s)
{
	size_t cap = strlen(s) * 12 + 1, o = 0;
	char *out = xmalloc(cap);

	for (const char *p = s; *p != '\0';) {
		const char *start = p;
		int32_t cp = utf8_decode(&p);
		if (cp >= 0x20 && cp < 0x7f) {
			out[o++] = *start;
		} else if (cp >= 0 && cp < 0x20) {
			out[o++] = *start;	/* JSON whitespace outside strings */
		} else if (cp < 0) {
			o += (size_t)snprintf(out + o, cap - o, "\\ufffd");
		} else if (cp < 0x10000) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x",
			    (unsigned)cp);
		} else {
			unsigned v = (unsigned)cp - 0x10000;
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x\\u%04x",
			    0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
		}
	}
	out[o] = '\0';
	return out;
}

/* Writes j (consumed) and a newline: indented on a terminal. */
static int
emit(FILE *f, json_t *j)
{
	size_t flags = JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER;
	int ret = 0;

	flags |= isatty(fileno(f)) ? JSON_INDENT(2) : JSON_COMPACT;
	char *text = json_dumps(j, flags);
	json_decref(j);
	if (text == NULL)
		return -1;
	char *safe = json_ascii(text);
	if (fputs(safe, f) == EOF || fputc('\n', f) == EOF || fflush(f) != 0)
		ret = -1;
	free(safe);
	free(text);
	return ret;
}

int
json_search(FILE *f, const Tracequery__V1__SearchResult *r)
{
	json_t *a = json_array();

	for (size_t i = 0; r != NULL && i < r->n_traces; i++) {
		const Tracequery__V1__TraceSummary *t = r->traces[i];
		json_t *o = json_object(), *svcs = json_array();
		json_object_set_new(o, "trace_id",
		    jhex(t->trace_id.data, t->trace_id.len));
		json_object_set_new(o, "root_service", jstr(t->root_service));
		json_object_set_new(o, "root_name", jstr(t->root_name));
		json_object_set_new(o, "start_unix_nano",
		    json_integer((json_int_t)t->start_unix_nano));
		json_object_set_new(o, "duration_ns",
		    json_integer((json_int_t)t->duration_ns));
		json_object_set_new(o, "span_count",
		    json_integer(t->span_count));
		json_object_set_new(o, "error_count",
		    json_integer(t->error_count));
		for (size_t k = 0; k < t->n_services; k++)
			json_array_append_new(svcs, jstr(t->services[k]));
		json_object_set_new(o, "services", svcs);
		json_array_append_new(a, o);
	}
	return emit(f, a);
}

static json_t *
jlinks(const pb_span *p)
{
	json_t *a = json_array();

	for (size_t l = 0; l < p->n_links; l++) {
		const Opentelemetry__Proto__Trace__V1__Span__Link *lk = p->links[l];
		json_t *j = json_object();
		json_object_set_new(j, "trace_id",
		    jhex(lk->trace_id.data, lk->trace_id.len));
		json_object_set_new(j, "span_id",
		    jhex(lk->span_id.data, lk->span_id.len));
		json_object_set_new(j, "trace_state", jstr(lk->trace_state));
		json_object_set_new(j, "attributes",
		    jattrs(lk->attributes, lk->n_attributes, 0));
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *
jspan(const model_trace *m, const mspan *s)
{
	json_t *o = json_object(), *events = json_array();
	const pb_span *p = s->pb;
	const char *svc = resource_service(s->resource);

	(void)m;
	json_object_set_new(o, "span_id", jhex(s->span_id, 8));
	json_object_set_new(o, "parent_span_id",
	    s->has_parent ? jhex(s->parent_id, 8) : json_string(""));
	json_object_set_new(o, "service",
	    jstr(svc != NULL && *svc ? svc : "unknown_service"));
	json_object_set_new(o, "name", jstr(p->name));
	json_object_set_new(o, "kind", json_string(kind_name(s->kind)));
	json_object_set_new(o, "start_unix_nano",
	    json_integer((json_int_t)p->start_time_unix_nano));
	json_object_set_new(o, "end_unix_nano",
	    json_integer((json_int_t)p->end_time_unix_nano));
	json_object_set_new(o, "duration_ns", json_integer((json_int_t)s->dur_ns));
	json_object_set_new(o, "status", json_string(status_name(s->status)));
	json_object_set_new(o, "attributes",
	    jattrs(p->attributes, p->n_attributes, 0));
	for (size_t e = 0; e < p->n_events; e++) {
		const Opentelemetry__Proto__Trace__V1__Span__Event *ev =
		    p->events[e];
		json_t *jo = json_object();
		json_object_set_new(jo, "name", jstr(ev->name));
		json_object_set_new(jo, "time_unix_nano",
		    json_integer((json_int_t)ev->time_unix_nano));
		json_object_set_new(jo, "attributes",
		    jattrs(ev->attributes, ev->n_attributes, 0));
		json_array_append_new(events, jo);
	}
	json_object_set_new(o, "events", events);
	json_object_set_new(o, "status_message",
	    jstr(p->status ? p->status->message : ""));
	json_object_set_new(o, "links", jlinks(p));
	json_object_set_new(o, "resource", s->resource ?
	    jattrs(s->resource->attributes, s->resource->n_attributes, 0) :
	    json_object());
	json_t *scope = json_object();
	json_object_set_new(scope, "name", jstr(s->scope_name));
	json_object_set_new(scope, "version", jstr(s->scope_version));
	json_object_set_new(o, "scope", scope);
	return o;
}

int
json_show(FILE *f, const model_trace *m)
{
	json_t *o = json_object(), *spans = json_array();
	int *pre = xmalloc((size_t)m->nspans * sizeof *pre);

	model_preorder(m, pre);
	json_object_set_new(o, "trace_id", json_string(m->trace_hex));
	for (int k = 0; k < m->nspans; k++)
		json_array_append_new(spans, jspan(m, &m->spans[pre[k]]));
	json_object_set_new(o, "spans", spans);
	free(pre);
	return emit(f, o);
}

int
json_deps(FILE *f, const deps *d)
{
	json_t *o = json_object(), *edges = json_array();

	json_object_set_new(o, "spans_read",
	    json_integer((json_int_t)d->spans_read));
	json_object_set_new(o, "truncated", json_boolean(d->truncated));
	for (int i = 0; i < d->n; i++) {
		const dep_edge *e = &d->edges[i];
		json_t *j = json_object();
		json_object_set_new(j, "caller", jstr(e->caller));
		json_object_set_new(j, "callee", jstr(e->callee));
		json_object_set_new(j, "call_count",
		    json_integer((json_int_t)e->calls));
		json_object_set_new(j, "error_count",
		    json_integer((json_int_t)e->errors));
		json_object_set_new(j, "p50_ns", json_integer((json_int_t)e->p50_ns));
		json_object_set_new(j, "p99_ns", json_integer((json_int_t)e->p99_ns));
		json_array_append_new(edges, j);
	}
	json_object_set_new(o, "edges", edges);
	return emit(f, o);
}

static json_t *
jdiff_side(const model_trace *m)
{
	json_t *j = json_object();

	json_object_set_new(j, "trace_id", json_string(m->trace_hex));
	json_object_set_new(j, "duration_ns",
	    json_integer((json_int_t)(m->end_ns - m->start_ns)));
	json_object_set_new(j, "span_count", json_integer(m->nspans));
	return j;
}

static json_t *
jdiff_row(const trace_diff *d, int i)
{
	const diff_row *r = &d->rows[i];
	const mspan *s = &d->tree.spans[i];
	json_t *j = json_object();

	json_object_set_new(j, "depth", json_integer(s->depth));
	json_object_set_new(j, "service", jstr(s->service));
	json_object_set_new(j, "name", jstr(s->name));
	json_object_set_new(j, "change", json_string(diff_change_name(r->change)));
	for (int side = 0; side < 2; side++) {
		json_t *o = json_object();
		json_object_set_new(o, "count", json_integer(r->count[side]));
		json_object_set_new(o, "duration_ns",
		    json_integer((json_int_t)r->dur_ns[side]));
		json_object_set_new(j, side ? "b" : "a", o);
	}
	return j;
}

int
json_diff(FILE *f, const trace_diff *d, const char *baseline_of)
{
	json_t *o = json_object(), *rows = json_array(), *sum = json_object();
	int *pre = xmalloc(((size_t)d->tree.nspans + 1) * sizeof *pre);

	json_object_set_new(o, "a", jdiff_side(d->a));
	json_object_set_new(o, "b", jdiff_side(d->b));
	if (baseline_of != NULL)
		json_object_set_new(o, "baseline_of", jstr(baseline_of));
	model_preorder(&d->tree, pre);
	for (int k = 0; k < d->tree.nspans; k++)
		json_array_append_new(rows, jdiff_row(d, pre[k]));
	free(pre);
	json_object_set_new(o, "rows", rows);
	for (int c = DIFF_ADDED; c < DIFF_NCHANGES; c++)
		json_object_set_new(sum, diff_change_name((diff_change)c),
		    json_integer(d->count[c]));
	json_object_set_new(o, "summary", sum);
	return emit(f, o);
}

static json_t *
jstat_row(const tstats *ts, const tstat_row *r, const char *key)
{
	json_t *j = json_object();

	json_object_set_new(j, key, jstr(r->name));
	json_object_set_new(j, "span_count", json_integer(r->count));
	json_object_set_new(j, "total_ns", json_integer((json_int_t)r->total_ns));
	json_object_set_new(j, "avg_ns", json_integer(r->count ?
	    (json_int_t)(r->total_ns / (uint64_t)r->count) : 0));
	json_object_set_new(j, "max_ns", json_integer((json_int_t)r->max_ns));
	json_object_set_new(j, "self_ns", json_integer((json_int_t)r->self_ns));
	json_object_set_new(j, "self_share", json_real(tstats_share(ts, r)));
	json_object_set_new(j, "error_count", json_integer(r->errors));
	return j;
}

int
json_trace_stats(FILE *f, const model_trace *m, const tstats *ts)
{
	json_t *o = json_object(), *svcs = json_array();

	json_object_set_new(o, "trace_id", json_string(m->trace_hex));
	json_object_set_new(o, "duration_ns",
	    json_integer((json_int_t)ts->duration_ns));
	for (int k = 0; k < ts->nservices; k++) {
		const tstat_service *sv = &ts->services[k];
		json_t *js = jstat_row(ts, &sv->total, "service"), *ops = json_array();
		for (int i = 0; i < sv->nops; i++)
			json_array_append_new(ops, jstat_row(ts, &sv->ops[i],
			    "operation"));
		json_object_set_new(js, "operations", ops);
		json_array_append_new(svcs, js);
	}
	json_object_set_new(o, "services", svcs);
	return emit(f, o);
}

int
json_slow(FILE *f, const Tracequery__V1__SlowResult *r, bool histogram)
{
	json_t *o = json_object(), *spans = json_array(), *pct = json_array();

	for (size_t i = 0; i < r->n_spans; i++) {
		const Tracequery__V1__SlowSpan *s = r->spans[i];
		json_t *j = json_object();
		json_object_set_new(j, "trace_id",
		    jhex(s->trace_id.data, s->trace_id.len));
		json_object_set_new(j, "span_id",
		    jhex(s->span_id.data, s->span_id.len));
		json_object_set_new(j, "service", jstr(s->service));
		json_object_set_new(j, "name", jstr(s->name));
		json_object_set_new(j, "duration_ns",
		    json_integer((json_int_t)s->duration_ns));
		json_object_set_new(j, "start_unix_nano",
		    json_integer((json_int_t)s->start_unix_nano));
		json_array_append_new(spans, j);
	}
	for (size_t i = 0; i < r->n_percentiles; i++) {
		const Tracequery__V1__OperationPercentiles *p = r->percentiles[i];
		json_t *j = json_object();
		json_object_set_new(j, "service", jstr(p->service));
		json_object_set_new(j, "operation", jstr(p->operation));
		json_object_set_new(j, "p50_ns", json_integer((json_int_t)p->p50_ns));
		json_object_set_new(j, "p90_ns", json_integer((json_int_t)p->p90_ns));
		json_object_set_new(j, "p99_ns", json_integer((json_int_t)p->p99_ns));
		json_object_set_new(j, "max_ns", json_integer((json_int_t)p->max_ns));
		json_object_set_new(j, "count", json_integer((json_int_t)p->count));
		json_array_append_new(pct, j);
	}
	json_object_set_new(o, "spans", spans);
	json_object_set_new(o, "percentiles", pct);
	if (histogram) {
		json_t *h = json_array();
		for (size_t i = 0; i < r->n_histogram; i++) {
			json_t *j = json_object();
			json_object_set_new(j, "upper_ns",
			    json_integer((json_int_t)r->histogram[i]->upper_ns));
			json_object_set_new(j, "count",
			    json_integer((json_int_t)r->histogram[i]->count));
			json_array_append_new(h, j);
		}
		json_object_set_new(o, "histogram", h);
	}
	return emit(f, o);
}

int
json_services(FILE *f, const Tracequery__V1__ServicesResult *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_services; i++)
		json_array_append_new(a, jstr(r->services[i]));
	return emit(f, a);
}

int
json_operations(FILE *f, const Tracequery__V1__OperationsResult *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_operations; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "name", jstr(r->operations[i]->name));
		json_object_set_new(j, "kind",
		    json_string(kind_name((int)r->operations[i]->kind)));
		json_array_append_new(a, j);
	}
	return emit(f, a);
}

int
json_stats(FILE *f, const Tracequery__V1__StatsResult *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_stats; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "name", jstr(r->stats[i]->name));
		json_object_set_new(j, "value", json_real(r->stats[i]->value));
		json_object_set_new(j, "unit", jstr(r->stats[i]->unit));
		json_array_append_new(a, j);
	}
	return emit(f, a);
}
