/*
 * jaeger_api.c - the v1 endpoints Grafana and the Jaeger UI call
 * (jaeger_api.h), each one query-protocol request or a few, answered in
 * Jaeger's envelope {"data","total","limit","offset","errors"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "jaeger/jaeger_api.h"
#include "jaeger/jaeger_model.h"
#include "otlp_json.h"

typedef Tracequery__V1__Response response;

#define CODE(x) TRACEQUERY__V1__RESPONSE__CODE__##x
#define QUERY(x) TRACEQUERY__V1__REQUEST__QUERY_##x

/* ---------------------------------------------------------------- shared */

response *
jaeger_api_ask(const jaeger_source *src, Tracequery__V1__Request *req)
{
	return src->ask(src->arg, req);
}

unsigned
jaeger_api_status(const response *r)
{
	switch (r->code) {
	case CODE(OK): return 200;
	case CODE(NOT_FOUND): return 404;
	case CODE(BAD_REQUEST): return 400;
	case CODE(BUSY): return 503;
	default: return 500;
	}
}

void
jaeger_api_dump(jaeger_reply *out, unsigned status, json_t *j, bool pretty)
{
	out->status = status;
	out->body = json_dumps(j, JSON_REAL_PRECISION(17) |
	    (pretty ? JSON_INDENT(2) : JSON_COMPACT));
	if (out->body == NULL)
		out->body = xstrdup("{}");
	json_decref(j);
}

void
jaeger_api_error(jaeger_reply *out, bool v3, unsigned status, const char *msg)
{
	json_t *j;

	if (v3)
		j = json_pack("{s:{s:i, s:s}}", "error", "httpCode", (int)status,
		    "message", msg);
	else
		j = json_pack("{s:n, s:i, s:i, s:i, s:[{s:i, s:s}]}", "data",
		    "total", 0, "limit", 0, "offset", 0, "errors", "code",
		    (int)status, "msg", msg);
	if (j == NULL) /* msg was not UTF-8 */
		j = json_pack("{s:n, s:i, s:i, s:i, s:[{s:i, s:s}]}", "data",
		    "total", 0, "limit", 0, "offset", 0, "errors", "code",
		    (int)status, "msg", "invalid request");
	jaeger_api_dump(out, status, j, false);
}

/* Sends {"data": data, "total": total, ...} (data consumed). */
static void
envelope(jaeger_reply *out, json_t *data, size_t total, uint32_t limit,
    json_t *errors, bool pretty)
{
	json_t *j = json_object();

	json_object_set_new(j, "data", data);
	json_object_set_new(j, "total", json_integer((json_int_t)total));
	json_object_set_new(j, "limit", json_integer(limit));
	json_object_set_new(j, "offset", json_integer(0));
	json_object_set_new(j, "errors", errors ? errors : json_null());
	jaeger_api_dump(out, 200, j, pretty);
}

/* Answers with the source's error; frees r. */
static void
source_error(jaeger_reply *out, bool v3, response *r)
{
	jaeger_api_error(out, v3, jaeger_api_status(r), r->message);
	tracequery__v1__response__free_unpacked(r, NULL);
}

static bool
pretty(const jaeger_arg *args, size_t n)
{
	const char *p = jaeger_params_get(args, n, "prettyPrint");

	return p != NULL && strcmp(p, "true") == 0;
}

response *
jaeger_api_get_trace(const jaeger_source *src, const uint8_t id[16],
    unsigned *status)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	uint8_t idbuf[16];
	response *r;

	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	memcpy(idbuf, id, sizeof idbuf);
	g.trace_id.data = idbuf;
	g.trace_id.len = 16;
	req.query_case = QUERY(GET_TRACE);
	req.get_trace = &g;
	r = jaeger_api_ask(src, &req);
	*status = jaeger_api_status(r);
	if (r->code == CODE(OK) &&
	    r->result_case == TRACEQUERY__V1__RESPONSE__RESULT_TRACE)
		return r;
	if (*status == 200)
		*status = 500; /* OK without a trace: not what was asked */
	tracequery__v1__response__free_unpacked(r, NULL);
	return NULL;
}

response *
jaeger_api_search(const jaeger_source *src, const jaeger_query *q)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search s;
	Tracequery__V1__AttrFilter f[JAEGER_MAX_ATTRS];
	Tracequery__V1__AttrFilter *fp[JAEGER_MAX_ATTRS];
	response *r;

	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&s);
	s.service = q->service ? q->service : "";
	s.operation = q->operation ? q->operation : "";
	for (size_t i = 0; i < q->n_attrs; i++) {
		tracequery__v1__attr_filter__init(&f[i]);
		f[i].key = q->attrs[i].key;
		f[i].value = q->attrs[i].value;
		fp[i] = &f[i];
	}
	s.attributes = fp;
	s.n_attributes = q->n_attrs;
	s.min_duration_ns = q->min_duration_ns;
	s.max_duration_ns = q->max_duration_ns;
	s.start_unix_nano = q->start_ns;
	s.end_unix_nano = q->end_ns;
	s.errors_only = q->errors_only;
	s.limit = q->limit;
	req.query_case = QUERY(SEARCH);
	req.search = &s;
	r = jaeger_api_ask(src, &req);
	/* Jaeger answers "nothing matched" with an empty list. */
	if (r->code == CODE(NOT_FOUND)) {
		r->code = CODE(OK);
		if (r->search == NULL) {
			r->search = xmalloc(sizeof *r->search);
			tracequery__v1__search_result__init(r->search);
			r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SEARCH;
		}
	}
	return r;
}

/* ---------------------------------------------------------------- catalog */

static response *
ask_services(const jaeger_source *src)
{
	Tracequery__V1__Request req;
	Tracequery__V1__ListServices ls;

	tracequery__v1__request__init(&req);
	tracequery__v1__list_services__init(&ls);
	req.query_case = QUERY(SERVICES);
	req.services = &ls;
	return jaeger_api_ask(src, &req);
}

json_t *
jaeger_api_services(const jaeger_source *src, bool v3, jaeger_reply *err)
{
	response *r = ask_services(src);
	json_t *data;

	if (r->code != CODE(OK) || r->services == NULL) {
		source_error(err, v3, r);
		return NULL;
	}
	data = json_array();
	for (size_t i = 0; i < r->services->n_services; i++)
		json_array_append_new(data,
		    otlp_json_string(r->services->services[i]));
	tracequery__v1__response__free_unpacked(r, NULL);
	return data;
}

static void
v1_services(const jaeger_source *src, bool pp, jaeger_reply *out)
{
	json_t *data = jaeger_api_services(src, false, out);

	if (data != NULL)
		envelope(out, data, json_array_size(data), 0, NULL, pp);
}

static response *
ask_operations(const jaeger_source *src, const char *service)
{
	Tracequery__V1__Request req;
	Tracequery__V1__ListOperations lo;
	response *r;

	tracequery__v1__request__init(&req);
	tracequery__v1__list_operations__init(&lo);
	lo.service = xstrdup(service);
	req.query_case = QUERY(OPERATIONS);
	req.operations = &lo;
	r = jaeger_api_ask(src, &req);
	free(lo.service);
	/* An unknown service has no operations: an empty list. */
	if (r->code == CODE(NOT_FOUND)) {
		r->code = CODE(OK);
		if (r->operations == NULL) {
			r->operations = xmalloc(sizeof *r->operations);
			tracequery__v1__operations_result__init(r->operations);
			r->result_case =
			    TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS;
		}
	}
	return r;
}

/* The Jaeger name of an OTLP kind ("" when unspecified). */
static const char *
kind_name(int kind)
{
	static const char *names[] = { "", "internal", "server", "client",
		"producer", "consumer" };

	return kind >= 0 && (size_t)kind < ARRAY_LEN(names) ? names[kind] : "";
}

/* /api/services/{service}/operations: unique names of every kind. */
static void
v1_operation_names(const jaeger_source *src, const char *service, bool pp,
    jaeger_reply *out)
{
	response *r = ask_operations(src, service);
	json_t *data = json_array(), *seen = json_object();

	if (r->code != CODE(OK) || r->operations == NULL) {
		json_decref(data);
		json_decref(seen);
		return source_error(out, false, r);
	}
	for (size_t i = 0; i < r->operations->n_operations; i++) {
		const char *name = r->operations->operations[i]->name;

		if (json_object_get(seen, name) != NULL)
			continue;
		json_object_set_new(seen, name, json_true());
		json_array_append_new(data, otlp_json_string(name));
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	json_decref(seen);
	envelope(out, data, json_array_size(data), 0, NULL, pp);
}

json_t *
jaeger_api_operations(const jaeger_source *src, const char *service,
    int kind, bool v3, jaeger_reply *err)
{
	response *r = ask_operations(src, service);
	/* Jaeger v1 names an unset kind "", v3 "internal". */
	const char *unset_kind = v3 ? "internal" : "";
	json_t *data;

	if (r->code != CODE(OK) || r->operations == NULL) {
		source_error(err, v3, r);
		return NULL;
	}
	data = json_array();

	for (size_t i = 0; i < r->operations->n_operations; i++) {
		const Tracequery__V1__Operation *op =
		    r->operations->operations[i];
		const char *k = op->kind ? kind_name(op->kind) : unset_kind;

		if (kind != 0 && (int)op->kind != kind)
			continue;
		json_array_append_new(data, json_pack("{s:o, s:s}", "name",
		    otlp_json_string(op->name), "spanKind", k));
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return data;
}

static void
v1_operations(const jaeger_source *src, const jaeger_arg *args, size_t n,
    jaeger_reply *out)
{
	const char *svc = jaeger_params_get(args, n, "service");
	int kind;
	json_t *data;

	if (svc == NULL || *svc == '\0')
		return jaeger_api_error(out, false, 400,
		    "parameter 'service' is required");
	if (jaeger_params_span_kind(jaeger_params_get(args, n, "spanKind"),
	    &kind) != 0)
		return jaeger_api_error(out, false, 400,
		    "malformed parameter 'spanKind': expecting server, client, "
		    "producer, consumer or internal");
	data = jaeger_api_operations(src, svc, kind, false, out);
	if (data != NULL)
		envelope(out, data, json_array_size(data), 0, NULL,
		    pretty(args, n));
}

/* ---------------------------------------------------------------- traces */

/* Appends the Jaeger trace of a get-trace Response (freed) to data. */
static void
append_trace(json_t *data, response *r)
{
	json_array_append_new(data, jaeger_model_trace(
	    r->trace->resource_spans, r->trace->n_resource_spans));
	tracequery__v1__response__free_unpacked(r, NULL);
}

/* traceID=a&traceID=b: the traces found; the rest named in errors. */
static void
v1_trace_multi_get(const jaeger_source *src, const jaeger_query *q, bool pp,
    jaeger_reply *out)
{
	json_t *data = json_array(), *errors = json_array();

	for (size_t i = 0; i < q->n_trace_ids; i++) {
		char hex[JAEGER_TRACE_ID_HEX];
		unsigned status;
		response *r = jaeger_api_get_trace(src, q->trace_ids[i],
		    &status);

		if (r != NULL) {
			append_trace(data, r);
			continue;
		}
		jaeger_model_trace_id(q->trace_ids[i], hex);
		json_array_append_new(errors, json_pack("{s:i, s:s, s:s}",
		    "code", (int)status, "msg", status == 404 ?
		    "trace not found" : "trace not read", "traceID", hex));
	}
	if (json_array_size(errors) == 0) {
		json_decref(errors);
		errors = NULL;
	}
	envelope(out, data, 0, 0, errors, pp);
}

/* Search, then each trace found, whole. */
static void
v1_trace_search(const jaeger_source *src, const jaeger_query *q, bool pp,
    jaeger_reply *out)
{
	response *r = jaeger_api_search(src, q);
	json_t *data;

	if (r->code != CODE(OK) || r->search == NULL)
		return source_error(out, false, r);
	data = json_array();
	for (size_t i = 0; i < r->search->n_traces; i++) {
		const ProtobufCBinaryData *id = &r->search->traces[i]->trace_id;
		unsigned status;
		response *t;

		if (id->len != 16)
			continue;
		/* A trace expired since the search is simply left out. */
		t = jaeger_api_get_trace(src, id->data, &status);
		if (t != NULL)
			append_trace(data, t);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	if (q->limit_asked > q->limit)
		snprintf(out->warning, sizeof out->warning,
		    "299 - \"limit %llu capped to %u\"",
		    (unsigned long long)q->limit_asked, (unsigned)q->limit);
	envelope(out, data, 0, q->limit_asked > q->limit ? q->limit : 0, NULL,
	    pp);
}

static void
v1_traces(const jaeger_source *src, const jaeger_arg *args, size_t n,
    uint64_t now_ns, jaeger_reply *out)
{
	jaeger_query q;
	char *err = NULL;

	if (jaeger_params_search(args, n, now_ns, &q, &err) != 0)
		jaeger_api_error(out, false, 400, err);
	else if (q.n_trace_ids > 0)
		v1_trace_multi_get(src, &q, pretty(args, n), out);
	else
		v1_trace_search(src, &q, pretty(args, n), out);
	free(err);
	jaeger_query_fini(&q);
}

/* /api/traces/{id}: one trace, or 404 in the envelope. */
static void
v1_trace(const jaeger_source *src, const char *hex, const jaeger_arg *args,
    size_t n, jaeger_reply *out)
{
	uint8_t id[16];
	unsigned status;
	char *err = NULL;
	response *r;
	json_t *data;

	if (jaeger_params_trace_id(hex, id) != 0)
		return jaeger_api_error(out, false, 400,
		    "malformed trace ID: expecting 1 to 32 hex digits");
	if (jaeger_params_trace_hint(args, n, &err) != 0) {
		jaeger_api_error(out, false, 400, err);
		free(err);
		return;
	}
	r = jaeger_api_get_trace(src, id, &status);
	if (r == NULL)
		return jaeger_api_error(out, false, status, status == 404 ?
		    "trace not found" : "the store could not read the trace");
	data = json_array();
	append_trace(data, r);
	envelope(out, data, 0, 0, NULL, pretty(args, n));
}

/* ---------------------------------------------------------------- deps */

static void
v1_dependencies(const jaeger_source *src, const jaeger_arg *args, size_t n,
    uint64_t now_ns, jaeger_reply *out)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Dependencies d;
	char *err = NULL;
	json_t *data;
	response *r;

	tracequery__v1__request__init(&req);
	tracequery__v1__dependencies__init(&d);
	if (jaeger_params_dependencies(args, n, now_ns, &d.start_unix_nano,
	    &d.end_unix_nano, &err) != 0) {
		jaeger_api_error(out, false, 400, err);
		free(err);
		return;
	}
	req.query_case = QUERY(DEPENDENCIES);
	req.dependencies = &d;
	r = jaeger_api_ask(src, &req);
	if (r->code != CODE(OK) || r->dependencies == NULL)
		return source_error(out, false, r);
	data = json_array();
	for (size_t i = 0; i < r->dependencies->n_links; i++) {
		const Tracequery__V1__DependencyLink *l =
		    r->dependencies->links[i];

		json_array_append_new(data, json_pack("{s:o, s:o, s:I}",
		    "parent", otlp_json_string(l->parent), "child",
		    otlp_json_string(l->child), "callCount",
		    (json_int_t)l->call_count));
	}
	if (r->dependencies->truncated)
		snprintf(out->warning, sizeof out->warning,
		    "299 - \"dependencies counted over the newest %llu spans "
		    "of the window\"",
		    (unsigned long long)r->dependencies->spans_read);
	tracequery__v1__response__free_unpacked(r, NULL);
	envelope(out, data, json_array_size(data), 0, NULL, pretty(args, n));
}

/* ---------------------------------------------------------------- routes */

/* The {service} of /api/services/{service}/operations, or NULL. */
static char *
operations_service(const char *path)
{
	static const char prefix[] = "/api/services/";
	static const char suffix[] = "/operations";
	size_t len = strlen(path), pl = sizeof prefix - 1,
	    sl = sizeof suffix - 1;

	if (len <= pl + sl || strncmp(path, prefix, pl) != 0 ||
	    strcmp(path + len - sl, suffix) != 0)
		return NULL;
	return xstrndup(path + pl, len - pl - sl);
}

bool
jaeger_api_handle(const jaeger_source *src, const char *path,
    const jaeger_arg *args, size_t n, uint64_t now_ns, jaeger_reply *out)
{
	char *svc;

	memset(out, 0, sizeof *out);
	if (strncmp(path, "/api/v3/", 8) == 0)
		return jaeger_api_v3(src, path, args, n, out);
	if (strcmp(path, "/api/services") == 0)
		v1_services(src, pretty(args, n), out);
	else if ((svc = operations_service(path)) != NULL) {
		v1_operation_names(src, svc, pretty(args, n), out);
		free(svc);
	} else if (strcmp(path, "/api/operations") == 0)
		v1_operations(src, args, n, out);
	else if (strcmp(path, "/api/traces") == 0)
		v1_traces(src, args, n, now_ns, out);
	else if (strncmp(path, "/api/traces/", 12) == 0 &&
	    strchr(path + 12, '/') == NULL)
		v1_trace(src, path + 12, args, n, out);
	else if (strcmp(path, "/api/dependencies") == 0)
		v1_dependencies(src, args, n, now_ns, out);
	else if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
		jaeger_api_error(out, false, 404, "no such endpoint");
	else
		return false;
	return true;
}
