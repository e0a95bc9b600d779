/*
 * postings.h - the byte format of index record values (docs/STORAGE.md).
 *
 * A posting names its trace by an ordinal in its flush's trace dictionary
 * for the record's hour (trace_dict.h), not by the 16 random bytes of the
 * trace ID, and numbers are varints of the difference to the posting
 * before: a list sorted newest (or longest) first has small,
 * non-negative differences. The first posting's difference is to the
 * record key's own newest start (or longest duration), so it is usually
 * 0. Pure functions, thread-safe; decoders reject any value that does not
 * parse exactly.
 */
#ifndef COLLECTOR_POSTINGS_H
#define COLLECTOR_POSTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/* S, O and A postings; V postings also carry 32 bits of the value hash. */
typedef struct tposting {
	uint64_t start_ns;
	uint32_t ord;
	uint32_t vhash;
} tposting;

/* D postings. */
typedef struct dposting {
	uint64_t dur_ns;
	uint64_t start_ns;
	uint32_t ord;
	uint8_t span_id[KEY_SPAN_ID_LEN];
} dposting;

/* The most bytes one encoded posting takes. */
#define POSTINGS_MAX_T (10 + 5 + 4)
#define POSTINGS_MAX_D (10 + 10 + 5 + KEY_SPAN_ID_LEN)

/* Encoders write n postings (sorted: start descending for t, duration
 * descending for d) after base (the first's start or duration) into out,
 * which has room for n times POSTINGS_MAX_*; they return the bytes
 * written. with_hash: V postings. minute_ns: the start of the D list's
 * minute, which every start in it follows. */
size_t postings_encode_t(const tposting *p, size_t n, uint64_t base,
    bool with_hash, uint8_t *out);
size_t postings_encode_d(const dposting *p, size_t n, uint64_t base,
    uint64_t minute_ns, uint8_t *out);

/* Decoders append the postings of v to *out (grown as needed, *cap its
 * room) and return how many, or -1 when v is malformed (then nothing
 * is kept). */
long postings_decode_t(const uint8_t *v, size_t vlen, uint64_t base,
    bool with_hash, tposting **out, size_t *n, size_t *cap);
long postings_decode_d(const uint8_t *v, size_t vlen, uint64_t base,
    uint64_t minute_ns, dposting **out, size_t *n, size_t *cap);

#endif /* COLLECTOR_POSTINGS_H */
