/*
 * grpc_answer.h - what the OTLP/gRPC receiver answers one Export call, and
 * how the pipeline's outcomes map onto gRPC (docs/OTLP.md, "OTLP/gRPC"):
 * OK and PARTIAL -> OK with an ExportTraceServiceResponse (partial_success
 * naming the rejected spans), INVALID -> INVALID_ARGUMENT, TOO_LARGE ->
 * RESOURCE_EXHAUSTED, RETRY_LATER -> UNAVAILABLE with a google.rpc.RetryInfo
 * in grpc-status-details-bin, INTERNAL -> INTERNAL. No sockets: unit tests
 * check every mapping.
 */
#ifndef COLLECTOR_NET_GRPC_ANSWER_H
#define COLLECTOR_NET_GRPC_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"
#include "net/grpc_frame.h"
#include "pipeline/pipeline.h"

typedef struct grpc_answer {
	int http_status;     /* 200 for every gRPC answer */
	enum grpc_code code;
	char message[256];   /* grpc-message, percent-encoded; "" for none */
	char *details;       /* grpc-status-details-bin (base64), malloc'd */
	uint8_t *resp;       /* the framed response message, malloc'd;
	                        NULL: a trailers-only answer */
	size_t resp_len;
} grpc_answer;

/* grpc_answer_status sets a gRPC status and its message (NULL: none). */
void grpc_answer_status(grpc_answer *a, enum grpc_code code, const char *msg);

/* grpc_answer_http sets an HTTP error status: the call was not gRPC. */
void grpc_answer_http(grpc_answer *a, int http_status);

/* grpc_answer_retry sets UNAVAILABLE with msg and a RetryInfo of
 * retry_ms. */
void grpc_answer_retry(grpc_answer *a, const char *msg, uint32_t retry_ms);

/* The receiver's counters, "otlp_grpc.requests", ".bytes" and
 * ".rejected.<reason>" like every listener's (daemon/stats.h); its finer
 * ones are OTLP_GRPC_COUNTERS there. */
extern listener_stats otlp_grpc_stats;

/* grpc_answer_outcome sets the answer to the pipeline's result res and
 * counts rejections in the otlp_grpc.rejected.* statistics. */
void grpc_answer_outcome(grpc_answer *a, const pipeline_result *res);

/* grpc_answer_fini frees what a holds. */
void grpc_answer_fini(grpc_answer *a);

#endif /* COLLECTOR_NET_GRPC_ANSWER_H */
