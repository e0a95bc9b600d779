/*
 * zipkin_json.h - Zipkin v2 JSON (the body of POST /api/v2/spans) to an
 * OTLP ExportTraceServiceRequest, so Zipkin spans go through the same
 * pipeline as every other span. The mapping is the OpenTelemetry Zipkin
 * exporter's in reverse; docs/ZIPKIN.md gives it field by field.
 *
 * Pure and thread-safe: no state, common/json_read.h (simdjson, as OTLP
 * JSON) for the JSON, common/pb_write.c for the protobuf. Nesting deeper
 * than JSON_READ_MAX_DEPTH is refused by the reader.
 */
#ifndef COLLECTOR_NET_ZIPKIN_JSON_H
#define COLLECTOR_NET_ZIPKIN_JSON_H

#include <stddef.h>
#include <stdint.h>

/* zipkin_json_decode decodes a JSON array of Zipkin v2 spans from
 * json[0..len) into an ExportTraceServiceRequest: one ResourceSpans per
 * localEndpoint.serviceName (first appearance order), spans in input
 * order. All or nothing, as Zipkin's own server: returns 0 with a
 * malloc'd *out (*out_len bytes; NULL and 0 for an empty list) and
 * *n_spans, or -1 with a malloc'd *cause naming the span and the field,
 * e.g. "spans[3].traceId: expected 16 or 32 hex digits, got 15". */
int zipkin_json_decode(const char *json, size_t len, uint8_t **out,
    size_t *out_len, size_t *n_spans, char **cause);

#endif /* COLLECTOR_NET_ZIPKIN_JSON_H */
