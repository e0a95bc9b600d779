/*
 * otlp_http.c - OTLP/HTTP receiver: POST /v1/traces with an
 * application/x-protobuf or application/json body, optionally gzip, on
 * the shared libmicrohttpd wrapper (http_server.c), answered per
 * docs/PROTOCOL.md §2.
 *
 * Every span goes through pipeline_submit_protobuf (JSON is first turned
 * into the same protobuf by otlp_json_decode), so there is one validator
 * and one writer for NNG ingest, OTLP/HTTP and tracecli import. The
 * handler runs on the connection's own thread and blocks until the
 * pipeline's write is durable: the 200 means the spans are in the WAL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "google/rpc/status.pb-c.h"
#include "net/http_body.h"
#include "net/http_server.h"
#include "net/otlp_http.h"
#include "otlp_json.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    ExportResponse;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess
    PartialSuccess;

#define OTLP_PATH "/v1/traces"

/* google.rpc.Code values for the Status body (clients do not act on them). */
enum {
	RPC_INVALID_ARGUMENT = 3,
	RPC_NOT_FOUND = 5,
	RPC_RESOURCE_EXHAUSTED = 8,
	RPC_UNIMPLEMENTED = 12,
	RPC_INTERNAL = 13,
	RPC_UNAVAILABLE = 14,
};

enum body_type { BODY_PROTOBUF, BODY_JSON };

/* "otlp_http.*" in tracecli stats. */
static listener_stats otlp_stats = { .name = "otlp_http" };

struct otlp_http {
	http_server *srv;
	pipeline *p;
};

/* ------------------------------------------------------------ responses */

static const char *
content_type(enum body_type t)
{
	return t == BODY_JSON ? "application/json" : "application/x-protobuf";
}

/* Copies msg as printable ASCII: messages quote client input, which may be
 * cut mid-character or hold control bytes, and both the JSON and the
 * protobuf string fields of a response must be valid UTF-8. */
static void
ascii_msg(char *dst, size_t len, const char *msg)
{
	size_t i;

	for (i = 0; msg != NULL && msg[i] != '\0' && i < len - 1; i++)
		dst[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	dst[i] = '\0';
}

/* Answers status with a google.rpc.Status body in the request's format. */
static void
status_res(http_response *res, unsigned status, int rpc_code,
    const char *msg, enum body_type t)
{
	char safe[640];

	ascii_msg(safe, sizeof safe, msg);
	if (t == BODY_JSON) {
		json_t *o = json_pack("{s:i, s:s}", "code", rpc_code, "message",
		    safe);
		char *s = json_dumps(o, JSON_COMPACT);

		http_response_take(res, status, content_type(t), s,
		    s != NULL ? strlen(s) : 0);
		json_decref(o);
	} else {
		Google__Rpc__Status st;
		size_t len;
		uint8_t *buf;

		google__rpc__status__init(&st);
		st.code = rpc_code;
		st.message = safe;
		len = google__rpc__status__get_packed_size(&st);
		buf = xmalloc(len + 1);
		google__rpc__status__pack(&st, buf);
		http_response_take(res, status, content_type(t), buf, len);
	}
}

/* Answers 200 with an ExportTraceServiceResponse; partial_success is set
 * only when spans were rejected or there is a message. */
static void
success_res(http_response *res, enum body_type t, int64_t rejected,
    const char *msg)
{
	bool partial = rejected > 0 || (msg != NULL && *msg != '\0');
	char safe[640];

	ascii_msg(safe, sizeof safe, msg);
	if (t == BODY_JSON) {
		json_t *o = json_object();
		char num[24], *s;

		if (partial) {
			json_t *ps = json_object();
			if (rejected > 0) {
				snprintf(num, sizeof num, "%" PRId64, rejected);
				json_object_set_new(ps, "rejectedSpans",
				    json_string(num));
			}
			if (*safe != '\0')
				json_object_set_new(ps, "errorMessage",
				    json_string(safe));
			json_object_set_new(o, "partialSuccess", ps);
		}
		s = json_dumps(o, JSON_COMPACT);
		http_response_take(res, 200, content_type(t), s,
		    s != NULL ? strlen(s) : 0);
		json_decref(o);
	} else {
		ExportResponse r;
		PartialSuccess ps;
		uint8_t *buf;
		size_t len;

		opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(
		    &r);
		opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(
		    &ps);
		if (partial) {
			ps.rejected_spans = rejected;
			ps.error_message = safe;
			r.partial_success = &ps;
		}
		len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
		    &r);
		buf = xmalloc(len + 1);
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
		    &r, buf);
		http_response_take(res, 200, content_type(t), buf, len);
	}
}

/* Joins the decoder's and the pipeline's messages for partial_success. */
static void
join_msg(char *dst, size_t len, const char *a, const char *b)
{
	bool ha = a != NULL && *a != '\0', hb = b != NULL && *b != '\0';

	snprintf(dst, len, "%s%s%s", ha ? a : "", ha && hb ? "; " : "",
	    hb ? b : "");
}

/* Answers the pipeline's outcome (json_rejected: spans the JSON decoder
 * dropped, json_msg: why). */
static void
result_res(http_response *res, enum body_type t, const pipeline_result *pr,
    size_t json_rejected, const char *json_msg)
{
	char msg[512];

	listener_stats_reply(&otlp_stats,
	    (Tracequery__V1__IngestReply__Code)pr->code);
	switch (pr->code) {
	case PIPELINE_OK:
	case PIPELINE_PARTIAL:
		join_msg(msg, sizeof msg, json_msg, pr->message);
		success_res(res, t, pr->rejected_spans + (int64_t)json_rejected,
		    msg);
		return;
	case PIPELINE_INVALID:
		join_msg(msg, sizeof msg, "invalid ExportTraceServiceRequest",
		    pr->message);
		status_res(res, 400, RPC_INVALID_ARGUMENT, msg, t);
		return;
	case PIPELINE_TOO_LARGE:
		status_res(res, 413, RPC_RESOURCE_EXHAUSTED,
		    pr->message[0] ? pr->message : "request too large", t);
		return;
	case PIPELINE_RETRY_LATER:
		status_res(res, 503, RPC_UNAVAILABLE,
		    pr->message[0] ? pr->message : "store busy, retry later",
		    t);
		http_response_retry_after(res, pr->retry_after_ms);
		return;
	default:
		status_res(res, 500, RPC_INTERNAL,
		    pr->message[0] ? pr->message : "internal error", t);
		return;
	}
}

/* Decodes and submits one body (already inflated). */
static void
submit(otlp_http *h, const uint8_t *data, size_t len, enum body_type t,
    http_response *res)
{
	size_t pb_len = 0, json_rejected = 0;
	uint8_t *pb = NULL;
	char *cause = NULL, msg[512];
	pipeline_result pr;

	if (t == BODY_JSON) {
		if (otlp_json_decode((const char *)data, len, &pb, &pb_len,
		        &json_rejected, &cause) != 0) {
			listener_stats_reject(&otlp_stats,
			    STATS_REJECT_INVALID);
			snprintf(msg, sizeof msg, "invalid OTLP JSON: %s",
			    cause ? cause : "unknown");
			free(cause);
			status_res(res, 400, RPC_INVALID_ARGUMENT, msg, t);
			return;
		}
		data = pb;
		len = pb_len;
	}
	memset(&pr, 0, sizeof pr);
	pipeline_submit_protobuf(h->p, data, len, &pr);
	free(pb);
	result_res(res, t, &pr, json_rejected, cause);
	free(cause);
}

/* ------------------------------------------------------------ handler */

/* Checks the path, the method and the Content-Type; answers and returns
 * false when the request goes no further. */
static bool
request_ok(const http_request *req, http_response *res, enum body_type t)
{
	const char *ct = http_request_header(req, "Content-Type");
	char msg[160];

	if (strcmp(http_request_path(req), OTLP_PATH) != 0 &&
	    strcmp(http_request_path(req), OTLP_PATH "/") != 0) {
		listener_stats_reject(&otlp_stats, STATS_REJECT_PROTOCOL);
		status_res(res, 404, RPC_NOT_FOUND,
		    "not found; OTLP traces go to POST " OTLP_PATH, t);
		return false;
	}
	if (strcmp(http_request_method(req), "POST") != 0) {
		listener_stats_reject(&otlp_stats, STATS_REJECT_PROTOCOL);
		status_res(res, 405, RPC_UNIMPLEMENTED,
		    "only POST is allowed on " OTLP_PATH, t);
		http_response_header(res, "Allow", "POST");
		return false;
	}
	if (t != BODY_JSON &&
	    !http_body_media_type_is(ct, "application/x-protobuf") &&
	    !http_body_media_type_is(ct, "application/protobuf")) {
		listener_stats_reject(&otlp_stats, STATS_REJECT_PROTOCOL);
		snprintf(msg, sizeof msg, "unsupported Content-Type \"%.64s\"; "
		    "use application/x-protobuf or application/json",
		    ct ? ct : "");
		status_res(res, 415, RPC_INVALID_ARGUMENT, msg, t);
		return false;
	}
	return true;
}

/* Answers one request on any path. */
static void
otlp_http_handle(void *arg, const http_request *req, http_response *res)
{
	otlp_http *h = arg;
	const char *ct = http_request_header(req, "Content-Type");
	enum body_type t = http_body_media_type_is(ct, "application/json")
	                       ? BODY_JSON
	                       : BODY_PROTOBUF;
	http_body b;

	if (!request_ok(req, res, t))
		return;
	if (http_body_read(&b, req, &otlp_stats) != 0) {
		status_res(res, b.status,
		    b.status == 413 ? RPC_RESOURCE_EXHAUSTED
		                    : RPC_INVALID_ARGUMENT,
		    b.message, t);
		if (b.status == 411)
			http_response_close(res);
		return;
	}
	submit(h, b.data, b.len, t, res);
	http_body_fini(&b);
}

/* ------------------------------------------------------------ lifecycle */

int
otlp_http_start_opts(otlp_http **out, const char *addr,
    const http_server_options *o, pipeline *p, char **cause)
{
	http_server_options so = *o;
	otlp_http *h = xcalloc(1, sizeof *h);

	*out = NULL;
	h->p = p;
	if (so.name == NULL)
		so.name = "otlp-http";
	so.stats = &otlp_stats;
	listener_stats_register(&otlp_stats);
	if (http_server_start(&h->srv, addr, &so, otlp_http_handle, h,
	        cause) != 0) {
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

int
otlp_http_start(otlp_http **out, const char *addr, size_t max_body_bytes,
    pipeline *p, char **cause)
{
	http_server_options o;

	memset(&o, 0, sizeof o);
	o.max_body_bytes = max_body_bytes;
	return otlp_http_start_opts(out, addr, &o, p, cause);
}

int
otlp_http_port(const otlp_http *h)
{
	return http_server_port(h->srv);
}

void
otlp_http_stop(otlp_http *h)
{
	if (h == NULL)
		return;
	http_server_stop(h->srv); /* waits for the handlers in flight */
	free(h);
}
