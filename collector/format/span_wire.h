/*
 * span_wire.h - the Spans of an ExportTraceServiceRequest as the bytes
 * they arrived in. A span block stores each span without its IDs and
 * times (span_block.h). Copying the span's other top-level fields from
 * the request, byte for byte and in order, costs a walk over a few tags;
 * packing the unpacked span again with protobuf-c costs a size pass and a
 * pack pass over every nested message. Both parse to the same span:
 * protobuf-c keeps the last of a repeated field either way, and unknown
 * fields either way.
 *
 * Every function expects bytes that passed pipeline_prescan; on anything
 * else they stay within the bytes they are given.
 */
#ifndef COLLECTOR_SPAN_WIRE_H
#define COLLECTOR_SPAN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"

/* One Span message's bytes (without its tag and length) in a request. */
typedef struct span_wire {
	const uint8_t *p;
	size_t len;
	size_t stripped_len; /* span_wire_stripped_len(p, len, false) */
} span_wire;

/* The spans of one request in wire order, which is the order protobuf-c
 * unpacks them in, and how many each ResourceSpans and ScopeSpans holds,
 * to check that against the unpacked request. The arrays are reused from
 * one request to the next. */
typedef struct span_wire_index {
	span_wire *spans;
	size_t n_spans, cap_spans;
	uint32_t *scopes;    /* per ResourceSpans: how many ScopeSpans */
	size_t n_resources, cap_resources;
	uint32_t *spans_in;  /* per ScopeSpans, all resources' in a row:
	                        how many Spans */
	size_t n_scopes, cap_scopes;
} span_wire_index;

/* span_wire_scan fills x from the ExportTraceServiceRequest in buf;
 * returns 0, or -1 when a span's top-level fields do not parse (the
 * caller packs the unpacked spans instead). */
int span_wire_scan(span_wire_index *x, const uint8_t *buf, size_t len);
/* span_wire_matches is whether x counts as many resources, scopes and
 * spans, in the same places, as req unpacked from the same bytes. */
bool span_wire_matches(const span_wire_index *x,
    const ExportRequest *req);
void span_wire_index_free(span_wire_index *x);

/* span_wire_stripped_len is the length of the span's bytes without its
 * trace_id, span_id and times, nor its parent_span_id when linked (every
 * occurrence of each); span_wire_strip writes those bytes at out and
 * returns how many. */
size_t span_wire_stripped_len(const uint8_t *span, size_t len, bool linked);
size_t span_wire_strip(const uint8_t *span, size_t len, bool linked,
    uint8_t *out);

#endif /* COLLECTOR_SPAN_WIRE_H */
