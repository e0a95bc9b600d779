/*
 * postings.h - the byte format of index record values (docs/STORAGE.md).
 *
 * A posting names its trace by an ordinal in its flush's trace dictionary
 * for the record's hour (index.h), not by the 16 random bytes of the
 * trace ID, and gives its start as the offset from that trace's start in
 * the dictionary (a span of a trace starts close to the trace). S, O, A
 * and V postings are stored in ordinal order, each ordinal as the
 * difference to the one before; D postings stay longest first, each
 * duration as the difference to the one before (the first's to the
 * record key's longest). Every number is a varint. D postings do not
 * carry the span ID: only `slow` needs it, for its top N, and finds it
 * in the trace's spans by start and duration (query.c, find_span_id),
 * which saves 8 bytes per span. Pure functions, thread-safe; decoders
 * reject any value that does not parse exactly.
 */
#ifndef COLLECTOR_POSTINGS_H
#define COLLECTOR_POSTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/keys.h"

/* What the index builder holds: S, O and A postings; V postings also
 * carry 16 bits of the value hash. */
typedef struct tposting {
	uint64_t start_ns;
	uint32_t ord;
	uint16_t vhash;
} tposting;

/* D postings: a span by its trace, start and duration (no span ID). */
typedef struct dposting {
	uint64_t dur_ns;
	uint64_t start_ns;
	uint32_t ord;
} dposting;

/* What a query decodes: the start is off_ns after the trace's start. */
typedef struct tref {
	uint64_t off_ns;
	uint32_t ord;
	uint16_t vhash;
} tref;

typedef struct dref {
	uint64_t dur_ns;
	uint64_t off_ns;
	uint32_t ord;
} dref;

/* The most bytes one encoded posting takes. */
#define POSTINGS_MAX_T (5 + 10 + 2)
#define POSTINGS_MAX_D (10 + 5 + 10)

/* Encoders write n postings into out, which has room for n times
 * POSTINGS_MAX_*, and return the bytes written. trace_start[ord] is the
 * start of trace ord in the dictionary, at most the start of any of its
 * postings. postings_encode_t wants p sorted by ordinal (with_hash: V
 * postings); postings_encode_d wants p longest first, base the first's
 * duration. */
size_t postings_encode_t(const tposting *p, size_t n,
    const uint64_t *trace_start, bool with_hash, uint8_t *out);
size_t postings_encode_d(const dposting *p, size_t n, uint64_t base,
    const uint64_t *trace_start, uint8_t *out);

/* Decoders append the postings of v to *out (grown as needed, *cap its
 * room) and return how many, or -1 when v is malformed (then nothing
 * is kept). */
long postings_decode_t(const uint8_t *v, size_t vlen, bool with_hash,
    tref **out, size_t *n, size_t *cap);
long postings_decode_d(const uint8_t *v, size_t vlen, uint64_t base,
    dref **out, size_t *n, size_t *cap);

#endif /* COLLECTOR_POSTINGS_H */
