/*
 * span_block.h - values of the spans family. One record holds the spans of
 * one trace that arrived in one request (at most SPAN_BLOCK_MAX_SPANS), so
 * a request of 64 traces writes 64 records rather than 512, and a trace is
 * still one 16-byte prefix scan. Key: trace_id (16) + the first span's
 * span_id (8): a resent request rewrites the same records.
 *
 * Value: the earliest start (8, big-endian; retention reads it without
 * decoding the rest), then per span: span_id (8), origin hash (8), and as
 * varints the start's offset from the earliest start, the duration and
 * the length of the packed Span that follows, without its IDs (they are
 * in the key and the entry) and its times: 16 bytes of timestamps that
 * compress badly become a few that are mostly the same.
 */
#ifndef COLLECTOR_SPAN_BLOCK_H
#define COLLECTOR_SPAN_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

#define SPAN_BLOCK_MAX_SPANS 256
#define SPAN_BLOCK_HEADER 8
#define SPAN_BLOCK_ENTRY_HEADER_MAX (8 + 8 + 10 + 10 + 10)

/* The most bytes span_block_add needs for a span whose packed size
 * (span_block_packed_len) is packed_len. */
static inline size_t
span_block_entry_size(size_t packed_len)
{
	return SPAN_BLOCK_ENTRY_HEADER_MAX + packed_len;
}

/* span_block_begin writes the header of a block at buf; min_start_ns is
 * the earliest start of the spans that follow. */
void span_block_begin(uint8_t *buf, uint64_t min_start_ns);
/* span_block_add packs sp (IDs and times stored beside it) at buf, which
 * has span_block_entry_size(packed_len) bytes, in the block whose header
 * is at block; returns the bytes written. */
size_t span_block_add(uint8_t *buf, const uint8_t *block,
    uint64_t origin_hash, const Opentelemetry__Proto__Trace__V1__Span *sp,
    size_t packed_len);
/* span_block_packed_len is the size of sp packed without its IDs and
 * times. */
size_t span_block_packed_len(const Opentelemetry__Proto__Trace__V1__Span *sp);

/* One span of a block, pointing into the value. */
typedef struct span_block_entry {
	uint64_t origin_hash;
	const uint8_t *span_id;
	uint64_t start_ns, end_ns;
	const uint8_t *packed;
	size_t packed_len;
} span_block_entry;

/* span_block_next reads the entry at *off (start with 0); returns 1 and
 * advances *off, 0 at the end, -1 when the value is malformed. */
int span_block_next(const uint8_t *v, size_t vlen, size_t *off,
    span_block_entry *e);
/* span_block_unpack unpacks e's span with its times (not its IDs); NULL
 * when the bytes do not parse. Free with ..._span__free_unpacked. */
Opentelemetry__Proto__Trace__V1__Span *span_block_unpack(
    const span_block_entry *e);

#endif /* COLLECTOR_SPAN_BLOCK_H */
