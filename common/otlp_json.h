/*
 * otlp_json.h - OTLP JSON (docs/PROTOCOL.md §3) <-> OTLP protobuf,
 * on jansson. Used by the collector's JSON ingest and by tracecli
 * export/import. Export then import is lossless.
 */
#ifndef COMMON_OTLP_JSON_H
#define COMMON_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

/* OTLP_JSON_MAX_ANY_DEPTH bounds AnyValue nesting (arrayValue/kvlistValue
 * inside each other) on decode; a deeper value rejects its span. A JSON
 * document nested deeper than jansson's 2048 levels is unusable (-1). */
#define OTLP_JSON_MAX_ANY_DEPTH 16

/* otlp_json_encode writes {"resourceSpans":[...]} for the n resource spans
 * in rs. pretty: indent for humans. Returns a malloc'd NUL-terminated
 * string the caller frees, or NULL with a malloc'd *cause. */
char *otlp_json_encode(Opentelemetry__Proto__Trace__V1__ResourceSpans *const *rs,
    size_t n, int pretty, char **cause);

/*
 * otlp_json_decode parses an ExportTraceServiceRequest / TracesData JSON
 * document and re-encodes it as ExportTraceServiceRequest protobuf in a
 * malloc'd *pb of *pb_len bytes (caller frees). Spans with bad fields (wrong
 * types, bad hex IDs, ...) are left out and counted in *rejected_spans, with
 * the first reason in *cause (malloc'd, may be NULL); the good ones are kept.
 * Returns 0, or -1 when the document itself is unusable (*cause says why).
 */
int otlp_json_decode(const char *json, size_t len, uint8_t **pb,
    size_t *pb_len, size_t *rejected_spans, char **cause);

/* otlp_json_string makes a JSON string of s: valid UTF-8 passes through,
 * each invalid byte becomes U+FFFD (a JSON string cannot carry it). */
struct json_t;
struct json_t *otlp_json_string(const char *s);

#endif /* COMMON_OTLP_JSON_H */
