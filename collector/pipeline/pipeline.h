/*
 * pipeline.h - the one decode -> admit -> validate -> hand-over path for
 * spans, shared by NNG ingest (ingest.c), OTLP/HTTP (otlp_http.c) and
 * `tracecli import` (which arrives over NNG). The valid spans of a request
 * go to the storage backend (backend.h) in one batch, and the reply waits
 * until they are durable. Thread-safe: any number of threads may submit.
 */
#ifndef COLLECTOR_PIPELINE_H
#define COLLECTOR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "otlp_types.h"

typedef struct pipeline pipeline;

/* Same numbers as tracequery.v1.IngestReply.Code. */
typedef enum pipeline_code {
	PIPELINE_OK = 0,          /* all spans durable */
	PIPELINE_PARTIAL = 1,     /* some rejected (invalid); the rest durable */
	PIPELINE_INVALID = 2,     /* undecodable, nothing written */
	PIPELINE_RETRY_LATER = 3, /* store pushes back, nothing written */
	PIPELINE_INTERNAL = 4,    /* storage error, nothing written */
	PIPELINE_TOO_LARGE = 5,   /* over the size limit, nothing written */
} pipeline_code;

typedef struct pipeline_result {
	pipeline_code code;
	int64_t accepted_spans;
	int64_t rejected_spans;
	uint32_t retry_after_ms;
	char message[256]; /* why spans were rejected; "" on full success */
} pipeline_result;

/* Limits the pipeline enforces on every request and span. */
typedef struct pipeline_limits {
	size_t max_message_bytes;
	size_t max_depth;          /* AnyValue nesting */
	size_t max_attrs;          /* per span, event, link, resource, scope */
	size_t max_events;
	size_t max_links;
	size_t max_string_bytes;   /* any one string or bytes value */
	size_t max_span_bytes;     /* one packed span */
	size_t max_backlog_bytes;  /* requests in flight before RETRY_LATER */
	uint64_t max_future_ns;    /* how far past now a timestamp may be */
} pipeline_limits;

/* pipeline_limits_default fills l with the documented defaults. */
void pipeline_limits_default(pipeline_limits *l);
/* pipeline_new makes the path into b (not owned). */
int pipeline_new(pipeline **out, backend *b, const pipeline_limits *l,
    char **cause);
/* pipeline_free frees p once no submission runs. */
void pipeline_free(pipeline *p);

/* pipeline_submit_request validates every span of req and hands the valid
 * ones to the backend in one batch; returns once they are durable. */
void pipeline_submit_request(pipeline *p, const ExportRequest *req,
    pipeline_result *res);
/* pipeline_submit_protobuf checks size, backlog and nesting depth,
 * unpacks an ExportTraceServiceRequest from buf and submits it as above,
 * with buf as the spans' wire bytes (backend_span.wire). */
void pipeline_submit_protobuf(pipeline *p, const uint8_t *buf, size_t len,
    pipeline_result *res);

/* pipeline_backlog: the requests being processed and their bytes. */
void pipeline_backlog(pipeline *p, int64_t *requests, int64_t *bytes);

/* pipeline_prescan checks the protobuf wire format of an
 * ExportTraceServiceRequest without unpacking: returns 0, -1 when nested
 * deeper than max_depth, -2 when malformed. No recursion. */
int pipeline_prescan(const uint8_t *buf, size_t len, size_t max_depth);

#endif /* COLLECTOR_PIPELINE_H */
