/*
 * varint.h - unsigned LEB128 varints, as protobuf writes them: 7 bits a
 * byte, low bits first, the high bit set on every byte but the last. Used
 * by the collector's stored formats (posting lists, span blocks,
 * histograms) and its protobuf pre-scan.
 */
#ifndef COMMON_VARINT_H
#define COMMON_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10

/* varint_put writes v at out (room for VARINT_MAX bytes); returns the
 * bytes written. */
static inline size_t
varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* varint_get reads a varint at *p, before end, and advances *p; false
 * when it is cut short or holds more than 64 bits. */
static inline bool
varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		/* The 10th byte holds bit 63 only. */
		if (shift == 63 && b > 1)
			return false;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* varint_get_lax reads a varint as protobuf-c does: up to VARINT_MAX
 * bytes, bits past the 64th dropped rather than refused. For checks that
 * must pass exactly what protobuf-c unpacks (pipeline_prescan). */
static inline bool
varint_get_lax(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 7 * VARINT_MAX && *p < end;
	    shift += 7) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			r |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*v = r;
			return true;
		}
	}
	return false;
}

#endif /* COMMON_VARINT_H */
