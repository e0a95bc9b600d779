/*
 * span_block.h - values of the spans family. One record holds the spans of
 * one trace that arrived in one request (at most SPAN_BLOCK_MAX_SPANS), so
 * a request of 64 traces writes 64 records rather than 512. Key: the
 * minute of the earliest start (4), trace_id (16), the first span's
 * span_id (8) (keys.h): a resent request rewrites the same records.
 *
 * Value: the earliest start (8, big-endian; retention reads it without
 * decoding the rest), then per span, in order of start:
 *   span_id (8)
 *   varint link: back << 1 | same_origin. back > 0: the parent is the
 *     span whose entry starts back bytes before this one (its 8 random
 *     bytes are not stored twice; parents start first, so most are
 *     found); same_origin: the origin hash is the previous entry's
 *   origin hash (8), unless same_origin
 *   varints: the start's offset from the earliest start, the duration,
 *     the length of the Span's protobuf encoding that follows, without
 *     its IDs (they are in the key and the entries) and its times: 16
 *     bytes of timestamps that compress badly become a few that are
 *     mostly the same.
 * That encoding is either the unpacked span packed again by protobuf-c
 * (span_block_add) or the span's top-level fields copied from the request
 * as they came, less those fields (span_block_add_wire, span_wire.h): the
 * bytes may differ (order, repeated or unknown fields), the span they
 * unpack to does not.
 */
#ifndef COLLECTOR_SPAN_BLOCK_H
#define COLLECTOR_SPAN_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"

#define SPAN_BLOCK_MAX_SPANS 256
#define SPAN_BLOCK_HEADER 8
#define SPAN_BLOCK_ENTRY_HEADER_MAX (8 + 10 + 8 + 10 + 10 + 10)

/* The most bytes span_block_add needs for a span whose packed size
 * (span_block_packed_len) is packed_len, or span_block_add_wire for one
 * whose span_wire_stripped_len (not linked) is packed_len. */
static inline size_t
span_block_entry_size(size_t packed_len)
{
	return SPAN_BLOCK_ENTRY_HEADER_MAX + packed_len;
}

/* A block being written into buf, which has SPAN_BLOCK_HEADER plus
 * span_block_entry_size of every span's (unlinked) length bytes. */
typedef struct span_block_writer {
	uint8_t *buf;
	size_t len;   /* bytes written */
	size_t n;     /* entries written */
	uint64_t origin_hash; /* the last entry's */
	uint32_t at[SPAN_BLOCK_MAX_SPANS]; /* where each entry starts */
} span_block_writer;

/* span_block_begin starts a block at buf; min_start_ns is the earliest
 * start of the spans that follow. */
void span_block_begin(span_block_writer *w, uint8_t *buf,
    uint64_t min_start_ns);
/* span_block_add appends sp (IDs and times stored beside it; its parent's
 * ID too when the parent is already in the block), at most
 * SPAN_BLOCK_MAX_SPANS per block; packed_len is
 * span_block_packed_len(sp). */
void span_block_add(span_block_writer *w, uint64_t origin_hash,
    const Span *sp, size_t packed_len);
/* span_block_add_wire appends sp like span_block_add, but copies the
 * span's fields from wire, the bytes sp was unpacked from (span_wire.h),
 * instead of packing sp. */
void span_block_add_wire(span_block_writer *w, uint64_t origin_hash,
    const Span *sp, const uint8_t *wire,
    size_t wire_len);
/* span_block_packed_len is the size of sp packed without its IDs and
 * times. */
size_t span_block_packed_len(const Span *sp);

/* One span of a block, pointing into the value. */
typedef struct span_block_entry {
	uint64_t origin_hash;
	const uint8_t *span_id;
	const uint8_t *parent_id; /* NULL: in the packed span, if any */
	uint64_t start_ns, end_ns;
	const uint8_t *packed;
	size_t packed_len;
} span_block_entry;

/* span_block_next reads the entry at *off (start with 0, and pass the
 * same e each time: an entry may take its origin from the one before);
 * returns 1 and advances *off, 0 at the end, -1 when the value is
 * malformed. */
int span_block_next(const uint8_t *v, size_t vlen, size_t *off,
    span_block_entry *e);
/* span_block_unpack unpacks e's span with its times and its parent's ID
 * (not its own IDs); NULL
 * when the bytes do not parse. Free with ..._span__free_unpacked. */
Span *span_block_unpack(
    const span_block_entry *e);

#endif /* COLLECTOR_SPAN_BLOCK_H */
