/*
 * jaeger_model.h - OTLP spans as Jaeger v1 JSON (docs/JAEGER.md): one
 * trace object with its spans and processes, tags typed as Jaeger types
 * them, the mapping of Jaeger's own OTLP translator (kinds, statuses,
 * scopes, events as logs, links as references). Pure functions over
 * protobuf-c structs, thread-safe.
 */
#ifndef COLLECTOR_JAEGER_MODEL_H
#define COLLECTOR_JAEGER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "otlp_types.h"

/* JAEGER_TRACE_ID_HEX: room for a trace ID in hex and its NUL. */
#define JAEGER_TRACE_ID_HEX 33

/* jaeger_model_trace_id writes a 16-byte trace ID as Jaeger prints it:
 * 16 hex digits when its upper 64 bits are zero, else 32. */
void jaeger_model_trace_id(const uint8_t id[16], char out[JAEGER_TRACE_ID_HEX]);

/* jaeger_model_trace builds {"traceID","spans","processes","warnings"}
 * from the n resource spans of one trace (as get-trace returns them).
 * Processes are numbered p1, p2, ... in order of first appearance, one per
 * distinct resource. Returns a new reference (never NULL). */
json_t *jaeger_model_trace(ResourceSpans *const *rs, size_t n);

/* jaeger_model_tag_value sets a tag's "type" and "value" in tag from v
 * (NULL: an empty string). Arrays and maps become a string holding their
 * JSON; an int64 beyond +-(2^53 - 1) a decimal string. */
void jaeger_model_tag_value(json_t *tag, const AnyValue *v);

#endif /* COLLECTOR_JAEGER_MODEL_H */
