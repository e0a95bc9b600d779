/*
 * jaeger_v3.c - the /api/v3/ endpoints the Jaeger UI calls from v2.15 on
 * (services, operations, one trace, search, trace summaries). Traces go
 * out as OTLP JSON through the project's writer (common/otlp_json.h);
 * errors as {"error":{"httpCode","message"}}.
 *
 * The search window defaults (jaeger_params.h). Trace summaries
 * answer 200 with none found: the UI reports any other status as a
 * failure rather than "no traces".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common.h"
#include "jaeger/jaeger_api.h"
#include "otlp_json.h"
#include "otlp_types.h"

typedef Tracequery__V1__Response response;

#define STATUS_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR

static void
v3_services(const jaeger_source *src, jaeger_reply *out)
{
	json_t *data = jaeger_api_services(src, true, out);

	if (data != NULL)
		jaeger_api_dump(out, 200, json_pack("{s:o}", "services", data),
		    false);
}

static void
v3_operations(const jaeger_source *src, const jaeger_arg *args, size_t n,
    jaeger_reply *out)
{
	const char *svc = jaeger_params_get(args, n, "service");
	json_t *data;
	int kind;

	if (svc == NULL || *svc == '\0')
		return jaeger_api_error(out, true, 400,
		    "parameter 'service' is required");
	if (jaeger_params_span_kind(jaeger_params_get(args, n, "spanKind"),
	    &kind) != 0)
		return jaeger_api_error(out, true, 400,
		    "malformed parameter 'spanKind'");
	data = jaeger_api_operations(src, svc, kind, true, out);
	if (data != NULL)
		jaeger_api_dump(out, 200, json_pack("{s:o}", "operations", data),
		    false);
}

/* Sends {"result": <OTLP JSON of the resource spans of every trace>}. */
static void
send_traces(jaeger_reply *out, response *const *traces, size_t n)
{
	ResourceSpans **rs = NULL;
	size_t n_rs = 0;
	char *otlp, *cause = NULL;

	for (size_t i = 0; i < n; i++) {
		const Tracequery__V1__TraceResult *t = traces[i]->trace;

		rs = xrealloc(rs, (n_rs + t->n_resource_spans + 1) * sizeof *rs);
		for (size_t j = 0; j < t->n_resource_spans; j++)
			rs[n_rs++] = t->resource_spans[j];
	}
	otlp = otlp_json_encode(rs, n_rs, 0, &cause);
	free(rs);
	if (otlp == NULL) {
		jaeger_api_error(out, true, 500, cause ? cause : "encode");
		free(cause);
		return;
	}
	out->status = 200;
	xasprintf(&out->body, "{\"result\":%s}", otlp);
	free(otlp);
}

/* startTime/endTime of /api/v3/traces/{id}: RFC 3339 when given; like
 * v1's hint they never narrow the lookup. */
static int
check_time_hints(const jaeger_arg *args, size_t n, jaeger_reply *out)
{
	static const char *keys[] = { "startTime", "endTime", "start_time",
		"end_time" };
	uint64_t ns;

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const char *v = jaeger_params_get(args, n, keys[i]);

		if (v != NULL && *v != '\0' && time_parse(v, &ns) != 0) {
			jaeger_api_error(out, true, 400,
			    "malformed time: expecting RFC 3339");
			return -1;
		}
	}
	return 0;
}

static void
v3_trace(const jaeger_source *src, const char *hex, const jaeger_arg *args,
    size_t n, jaeger_reply *out)
{
	uint8_t id[16];
	unsigned status;
	response *r;

	if (jaeger_params_trace_id(hex, id) != 0)
		return jaeger_api_error(out, true, 400,
		    "malformed trace ID: expecting 1 to 32 hex digits");
	if (check_time_hints(args, n, out) != 0)
		return;
	r = jaeger_api_get_trace(src, id, &status);
	if (r == NULL)
		return jaeger_api_error(out, true, status, status == 404 ?
		    "No traces found" : "the store could not read the trace");
	send_traces(out, &r, 1);
	tracequery__v1__response__free_unpacked(r, NULL);
}

/* Parses a v3 search; -1 after a 400. */
static int
parse_search(const jaeger_arg *args, size_t n, jaeger_query *q,
    jaeger_reply *out)
{
	char *err = NULL;

	if (jaeger_params_search_v3(args, n, now_unix_ns(), q, &err) == 0)
		return 0;
	jaeger_api_error(out, true, 400, err);
	free(err);
	return -1;
}

/* Runs a search and fetches every trace found; returns how many, with
 * the Responses in *traces (the caller frees them), or -1 after an
 * error reply. */
static ssize_t
search_traces(const jaeger_source *src, const jaeger_query *q,
    response ***traces, response **summaries, jaeger_reply *out)
{
	response *r = jaeger_api_search(src, q);
	size_t n = 0;

	*traces = NULL;
	*summaries = NULL;
	if (r->code != TRACEQUERY__V1__RESPONSE__CODE__OK || r->search == NULL) {
		jaeger_api_error(out, true, jaeger_api_status(r), r->message);
		tracequery__v1__response__free_unpacked(r, NULL);
		return -1;
	}
	*traces = xcalloc(r->search->n_traces + 1, sizeof **traces);
	for (size_t i = 0; i < r->search->n_traces; i++) {
		const ProtobufCBinaryData *id = &r->search->traces[i]->trace_id;
		unsigned status;

		if (id->len == 16 && ((*traces)[n] = jaeger_api_get_trace(src,
		    id->data, &status)) != NULL)
			n++;
	}
	*summaries = r;
	return (ssize_t)n;
}

static void
free_traces(response **traces, size_t n, response *summaries)
{
	for (size_t i = 0; i < n; i++)
		tracequery__v1__response__free_unpacked(traces[i], NULL);
	free(traces);
	if (summaries != NULL)
		tracequery__v1__response__free_unpacked(summaries, NULL);
}

static void
v3_search(const jaeger_source *src, const jaeger_arg *args, size_t n,
    jaeger_reply *out)
{
	jaeger_query q;
	response **traces, *summaries;
	ssize_t found;

	if (parse_search(args, n, &q, out) == 0 &&
	    (found = search_traces(src, &q, &traces, &summaries, out)) >= 0) {
		if (found == 0)
			jaeger_api_error(out, true, 404, "No traces found");
		else
			send_traces(out, traces, (size_t)found);
		free_traces(traces, (size_t)found, summaries);
	}
	jaeger_query_fini(&q);
}

/* ---------------------------------------------------------------- summaries */

/* Counts a span into its service's entry of services (an object keyed by
 * name, kept in order of first appearance). */
static void
count_span(json_t *services, const char *svc, bool error)
{
	json_t *s = json_object_get(services, svc);

	if (s == NULL) {
		s = json_pack("{s:o, s:i, s:i}", "name", otlp_json_string(svc),
		    "spanCount", 0, "errorSpanCount", 0);
		json_object_set_new(services, svc, s);
	}
	json_object_set_new(s, "spanCount", json_integer(json_integer_value(
	    json_object_get(s, "spanCount")) + 1));
	if (error)
		json_object_set_new(s, "errorSpanCount", json_integer(
		    json_integer_value(json_object_get(s, "errorSpanCount")) +
		    1));
}

static void
put_u64_string(json_t *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	json_object_set_new(o, key, json_string(buf));
}

/* One summary from the search's summary (root) and the whole trace
 * (counts per service, the extent). */
static json_t *
summary_json(const Tracequery__V1__TraceSummary *ts,
    const Tracequery__V1__TraceResult *t)
{
	json_t *o = json_object(), *services = json_object(), *list, *v;
	uint64_t lo = UINT64_MAX, hi = 0, spans = 0, errors = 0;
	char hex[33];
	const char *k;

	for (size_t i = 0; i < t->n_resource_spans; i++) {
		const ResourceSpans *rs = t->resource_spans[i];
		const char *svc = otlp_service_name(rs->resource);

		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			const ScopeSpans *ss = rs->scope_spans[j];

			for (size_t s = 0; s < ss->n_spans; s++) {
				const Span *sp = ss->spans[s];
				bool err = sp->status != NULL &&
				    sp->status->code == STATUS_ERROR;

				count_span(services, svc ? svc :
				    "unknown_service", err);
				spans++;
				errors += err;
				if (sp->start_time_unix_nano < lo)
					lo = sp->start_time_unix_nano;
				if (sp->end_time_unix_nano > hi)
					hi = sp->end_time_unix_nano;
			}
		}
	}
	hex_encode(ts->trace_id.data, 16, hex);
	json_object_set_new(o, "traceId", json_string(hex));
	json_object_set_new(o, "rootServiceName",
	    otlp_json_string(ts->root_service));
	json_object_set_new(o, "rootOperationName",
	    otlp_json_string(ts->root_name));
	put_u64_string(o, "minStartTimeUnixNano", spans ? lo : 0);
	put_u64_string(o, "maxEndTimeUnixNano", hi);
	json_object_set_new(o, "spanCount", json_integer((json_int_t)spans));
	json_object_set_new(o, "errorSpanCount",
	    json_integer((json_int_t)errors));
	list = json_array();
	json_object_foreach(services, k, v)
		json_array_append(list, v);
	json_decref(services);
	json_object_set_new(o, "services", list);
	return o;
}

/* The summary of trace t among the search's summaries. */
static const Tracequery__V1__TraceSummary *
find_summary(const Tracequery__V1__SearchResult *sr,
    const Tracequery__V1__TraceResult *t)
{
	const ProtobufCBinaryData *id = NULL;

	for (size_t i = 0; id == NULL && i < t->n_resource_spans; i++)
		for (size_t j = 0; id == NULL &&
		    j < t->resource_spans[i]->n_scope_spans; j++)
			if (t->resource_spans[i]->scope_spans[j]->n_spans > 0)
				id = &t->resource_spans[i]->scope_spans[j]->
				    spans[0]->trace_id;
	for (size_t i = 0; id != NULL && i < sr->n_traces; i++)
		if (sr->traces[i]->trace_id.len == id->len &&
		    memcmp(sr->traces[i]->trace_id.data, id->data,
		    id->len) == 0)
			return sr->traces[i];
	return NULL;
}

static void
v3_summaries(const jaeger_source *src, const jaeger_arg *args, size_t n,
    jaeger_reply *out)
{
	jaeger_query q;
	response **traces, *summaries;
	ssize_t found;

	if (parse_search(args, n, &q, out) == 0 &&
	    (found = search_traces(src, &q, &traces, &summaries, out)) >= 0) {
		json_t *list = json_array();

		for (ssize_t i = 0; i < found; i++) {
			const Tracequery__V1__TraceSummary *ts = find_summary(
			    summaries->search, traces[i]->trace);

			if (ts != NULL && ts->trace_id.len == 16)
				json_array_append_new(list, summary_json(ts,
				    traces[i]->trace));
		}
		jaeger_api_dump(out, 200, json_pack("{s:o}", "summaries", list),
		    false);
		free_traces(traces, (size_t)found, summaries);
	}
	jaeger_query_fini(&q);
}

/* ---------------------------------------------------------------- routes */

bool
jaeger_api_v3(const jaeger_source *src, const char *path,
    const jaeger_arg *args, size_t n, jaeger_reply *out)
{
	if (strcmp(path, "/api/v3/services") == 0)
		v3_services(src, out);
	else if (strcmp(path, "/api/v3/operations") == 0)
		v3_operations(src, args, n, out);
	else if (strcmp(path, "/api/v3/traces") == 0)
		v3_search(src, args, n, out);
	else if (strncmp(path, "/api/v3/traces/", 15) == 0 &&
	    strchr(path + 15, '/') == NULL)
		v3_trace(src, path + 15, args, n, out);
	else if (strcmp(path, "/api/v3/trace-summaries") == 0)
		v3_summaries(src, args, n, out);
	else
		jaeger_api_error(out, true, 404, "no such endpoint");
	return true;
}
