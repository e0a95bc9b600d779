/* grpc_answer.c - pipeline outcomes as gRPC answers (grpc_answer.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/stats.h"
#include "net/grpc_answer.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    ExportResponse;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess
    PartialSuccess;

/* How long an exporter waits before resending when the store gave no
 * figure of its own. */
#define DEFAULT_RETRY_MS 1000

listener_stats otlp_grpc_stats = { .name = "otlp_grpc" };

void
grpc_answer_status(grpc_answer *a, enum grpc_code code, const char *msg)
{
	a->http_status = 200;
	a->code = code;
	grpc_frame_message(msg != NULL ? msg : "", a->message,
	    sizeof a->message);
}

void
grpc_answer_http(grpc_answer *a, int http_status)
{
	a->http_status = http_status;
}

void
grpc_answer_retry(grpc_answer *a, const char *msg, uint32_t retry_ms)
{
	grpc_answer_status(a, GRPC_UNAVAILABLE, msg);
	free(a->details);
	a->details = grpc_frame_retry_details(msg, retry_ms);
}

/* Builds the framed ExportTraceServiceResponse of an accepted request. */
static void
answer_response(grpc_answer *a, const pipeline_result *res)
{
	ExportResponse r;
	PartialSuccess ps;
	size_t len;

	opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(
	    &r);
	if (res->code == PIPELINE_PARTIAL) {
		opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(
		    &ps);
		ps.rejected_spans = res->rejected_spans;
		ps.error_message = (char *)(uintptr_t)res->message;
		r.partial_success = &ps;
	}
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
	    &r);
	a->resp = xmalloc(len + GRPC_PREFIX_LEN);
	grpc_frame_prefix(a->resp, (uint32_t)len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
	    &r, a->resp + GRPC_PREFIX_LEN);
	a->resp_len = len + GRPC_PREFIX_LEN;
}

/* res->message, or fallback when the pipeline gave none. */
static const char *
reason(const pipeline_result *res, const char *fallback)
{
	return res->message[0] != '\0' ? res->message : fallback;
}

void
grpc_answer_outcome(grpc_answer *a, const pipeline_result *res)
{
	switch (res->code) {
	case PIPELINE_OK:
	case PIPELINE_PARTIAL:
		grpc_answer_status(a, GRPC_OK, NULL);
		answer_response(a, res);
		return;
	case PIPELINE_INVALID:
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_INVALID);
		grpc_answer_status(a, GRPC_INVALID_ARGUMENT,
		    reason(res, "undecodable request"));
		return;
	case PIPELINE_TOO_LARGE:
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_TOO_LARGE);
		grpc_answer_status(a, GRPC_RESOURCE_EXHAUSTED,
		    reason(res, "request over the size limit"));
		return;
	case PIPELINE_RETRY_LATER:
		listener_stats_reject(&otlp_grpc_stats,
		    STATS_REJECT_RETRY_LATER);
		grpc_answer_retry(a, reason(res, "the store pushes back: retry "
		    "later"), res->retry_after_ms > 0 ? res->retry_after_ms :
		    DEFAULT_RETRY_MS);
		return;
	case PIPELINE_INTERNAL:
	default:
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_INTERNAL);
		grpc_answer_status(a, GRPC_INTERNAL,
		    reason(res, "storage error: nothing was written"));
		return;
	}
}

void
grpc_answer_fini(grpc_answer *a)
{
	free(a->details);
	free(a->resp);
	a->details = NULL;
	a->resp = NULL;
}
