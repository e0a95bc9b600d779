/*
 * zipkin.c - the Zipkin v2 receiver on the shared HTTP server (see
 * zipkin.h). Answers as Zipkin's own server does: 202 Accepted with no
 * body once the spans are durable; errors as text/plain with the reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "net/http_body.h"
#include "net/zipkin.h"
#include "net/zipkin_json.h"

#define ZIPKIN_PATH "/api/v2/spans"

/* "zipkin.*" in tracecli stats. */
static listener_stats zipkin_stats = { .name = "zipkin" };

struct zipkin {
	http_server *srv;
	pipeline *p;
};

/* Answers status with a one-line text reason. */
static void
text_res(http_response *res, unsigned status, const char *msg)
{
	char *body;

	xasprintf(&body, "%s\n", msg);
	http_response_take(res, status, "text/plain; charset=utf-8", body,
	    strlen(body));
}

/* Answers and counts a refusal. */
static void
refuse(http_response *res, stats_reject why, unsigned status,
    const char *msg)
{
	listener_stats_reject(&zipkin_stats, why);
	text_res(res, status, msg);
}

/* Answers the pipeline's outcome for n_spans submitted spans. */
static void
result_res(http_response *res, const pipeline_result *pr, size_t n_spans)
{
	char msg[400];

	listener_stats_reply(&zipkin_stats,
	    (Tracequery__V1__IngestReply__Code)pr->code);
	switch (pr->code) {
	case PIPELINE_OK:
		http_response_set(res, 202, NULL, NULL, 0);
		return;
	case PIPELINE_PARTIAL:
		/* Zipkin has no partial success: 202, and the reason. */
		snprintf(msg, sizeof msg, "%" PRId64 " of %zu spans rejected: "
		    "%s", pr->rejected_spans, n_spans, pr->message);
		text_res(res, 202, msg);
		return;
	case PIPELINE_INVALID:
		snprintf(msg, sizeof msg, "no span accepted: %s", pr->message);
		text_res(res, 400, msg);
		return;
	case PIPELINE_TOO_LARGE:
		text_res(res, 413, pr->message);
		return;
	case PIPELINE_RETRY_LATER:
		text_res(res, 503, pr->message[0] ? pr->message
		                                  : "store busy, retry later");
		http_response_retry_after(res, pr->retry_after_ms);
		return;
	default:
		text_res(res, 500, pr->message[0] ? pr->message
		                                  : "internal error");
		return;
	}
}

/* Checks path, method and Content-Type; false when answered. */
static bool
request_ok(const http_request *req, http_response *res)
{
	const char *path = http_request_path(req);
	const char *ct = http_request_header(req, "Content-Type");
	char msg[160];

	if (strcmp(path, ZIPKIN_PATH) != 0 &&
	    strcmp(path, ZIPKIN_PATH "/") != 0) {
		refuse(res, STATS_REJECT_PROTOCOL, 404,
		    "not found; Zipkin v2 spans go to POST " ZIPKIN_PATH);
		return false;
	}
	if (strcmp(http_request_method(req), "POST") != 0) {
		refuse(res, STATS_REJECT_PROTOCOL, 405,
		    "only POST is allowed on " ZIPKIN_PATH);
		http_response_header(res, "Allow", "POST");
		return false;
	}
	/* Zipkin's server takes a body without Content-Type as JSON. */
	if (ct != NULL && !http_body_media_type_is(ct, "application/json")) {
		snprintf(msg, sizeof msg, "unsupported Content-Type \"%.64s\"; "
		    "send Zipkin v2 JSON as application/json", ct);
		refuse(res, STATS_REJECT_PROTOCOL, 415, msg);
		return false;
	}
	return true;
}

/* Decodes one body and submits its spans. */
static void
submit(zipkin *z, const http_body *b, http_response *res)
{
	uint8_t *pb = NULL;
	size_t pb_len = 0, n_spans = 0;
	char *cause = NULL, msg[400];
	pipeline_result pr;

	if (zipkin_json_decode((const char *)b->data, b->len, &pb, &pb_len,
	    &n_spans, &cause) != 0) {
		snprintf(msg, sizeof msg, "invalid Zipkin v2 JSON: %s", cause);
		free(cause);
		refuse(res, STATS_REJECT_INVALID, 400, msg);
		return;
	}
	if (n_spans == 0) {
		http_response_set(res, 202, NULL, NULL, 0);
		return;
	}
	memset(&pr, 0, sizeof pr);
	pipeline_submit_protobuf(z->p, pb, pb_len, &pr);
	free(pb);
	result_res(res, &pr, n_spans);
}

static void
zipkin_handle(void *arg, const http_request *req, http_response *res)
{
	http_body b;

	if (!request_ok(req, res))
		return;
	if (http_body_read(&b, req, &zipkin_stats) != 0) {
		text_res(res, b.status, b.message);
		if (b.status == 411)
			http_response_close(res);
		return;
	}
	submit(arg, &b, res);
	http_body_fini(&b);
}

int
zipkin_start(zipkin **out, const char *addr, const http_server_options *o,
    pipeline *p, char **cause)
{
	http_server_options so = *o;
	zipkin *z = xcalloc(1, sizeof *z);

	*out = NULL;
	z->p = p;
	so.name = "zipkin";
	so.stats = &zipkin_stats;
	listener_stats_register(&zipkin_stats);
	if (http_server_start(&z->srv, addr, &so, zipkin_handle, z,
	    cause) != 0) {
		free(z);
		return -1;
	}
	*out = z;
	return 0;
}

int
zipkin_port(const zipkin *z)
{
	return http_server_port(z->srv);
}

const char *
zipkin_addr(const zipkin *z)
{
	return http_server_addr(z->srv);
}

void
zipkin_stop(zipkin *z)
{
	if (z == NULL)
		return;
	http_server_stop(z->srv);
	free(z);
}
