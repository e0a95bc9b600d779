/*
 * span_block.c - the spans family's values (span_block.h).
 */
#include <stdbool.h>
#include <string.h>

#include "keys.h"
#include "span_block.h"

typedef Opentelemetry__Proto__Trace__V1__Span span_t;

void
span_block_begin(uint8_t *buf, uint64_t min_start_ns)
{
	key_write_be64(buf, min_start_ns);
}

/* sp without what is stored beside it: its IDs and times. */
static span_t
stripped(const span_t *sp)
{
	span_t c = *sp;

	c.trace_id.len = 0;
	c.trace_id.data = NULL;
	c.span_id.len = 0;
	c.span_id.data = NULL;
	c.start_time_unix_nano = 0;
	c.end_time_unix_nano = 0;
	return c;
}

size_t
span_block_packed_len(const span_t *sp)
{
	span_t c = stripped(sp);

	return opentelemetry__proto__trace__v1__span__get_packed_size(&c);
}

static size_t
put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint at v[*at] (before end); false when cut short. */
static bool
get_varint(const uint8_t *v, size_t end, size_t *at, uint64_t *out)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64 && *at < end; shift += 7) {
		uint8_t b = v[(*at)++];

		if (shift == 63 && b > 1)
			return false; /* more than 64 bits */
		x |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*out = x;
			return true;
		}
	}
	return false;
}

size_t
span_block_add(uint8_t *buf, const uint8_t *block, uint64_t origin_hash,
    const span_t *sp, size_t packed_len)
{
	span_t c = stripped(sp);
	size_t n = 16;

	memcpy(buf, sp->span_id.data, KEY_SPAN_ID_LEN);
	key_write_be64(buf + 8, origin_hash);
	n += put_varint(buf + n, sp->start_time_unix_nano - key_be64(block));
	n += put_varint(buf + n, sp->end_time_unix_nano -
	    sp->start_time_unix_nano);
	n += put_varint(buf + n, packed_len);
	opentelemetry__proto__trace__v1__span__pack(&c, buf + n);
	return n + packed_len;
}

int
span_block_next(const uint8_t *v, size_t vlen, size_t *off,
    span_block_entry *e)
{
	size_t at = *off < SPAN_BLOCK_HEADER ? SPAN_BLOCK_HEADER : *off;
	uint64_t start_off, dur, len;

	if (vlen < SPAN_BLOCK_HEADER)
		return -1;
	if (at == vlen)
		return 0;
	if (vlen - at < 16)
		return -1;
	e->span_id = v + at;
	e->origin_hash = key_be64(v + at + 8);
	at += 16;
	if (!get_varint(v, vlen, &at, &start_off) ||
	    !get_varint(v, vlen, &at, &dur) ||
	    !get_varint(v, vlen, &at, &len) || vlen - at < len ||
	    start_off > UINT64_MAX - key_be64(v) ||
	    dur > UINT64_MAX - key_be64(v) - start_off)
		return -1;
	e->start_ns = key_be64(v) + start_off;
	e->end_ns = e->start_ns + dur;
	e->packed = v + at;
	e->packed_len = (size_t)len;
	*off = at + (size_t)len;
	return 1;
}

span_t *
span_block_unpack(const span_block_entry *e)
{
	span_t *sp = opentelemetry__proto__trace__v1__span__unpack(NULL,
	    e->packed_len, e->packed);

	if (sp == NULL)
		return NULL;
	sp->start_time_unix_nano = e->start_ns;
	sp->end_time_unix_nano = e->end_ns;
	return sp;
}
