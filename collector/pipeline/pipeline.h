/*
 * pipeline.h - the one decode -> validate -> write path for spans, shared by
 * NNG ingest (ingest.c), OTLP/HTTP (otlp_http.c) and `tracecli import`
 * (which arrives over NNG). Thread-safe: any number of threads may submit.
 */
#ifndef COLLECTOR_PIPELINE_H
#define COLLECTOR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

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

/* pipeline_submit_request validates every span of req and writes the valid
 * ones (and their index entries) in one batch; returns after the write. */
void pipeline_submit_request(pipeline *p,
    const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
    pipeline_result *res);

/* pipeline_submit_protobuf checks nesting depth and size, unpacks an
 * ExportTraceServiceRequest from buf and submits it as above, storing
 * each span's bytes from buf rather than packing it again. */
void pipeline_submit_protobuf(pipeline *p, const uint8_t *buf, size_t len,
    pipeline_result *res);

#endif /* COLLECTOR_PIPELINE_H */
