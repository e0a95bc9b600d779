/*
 * span_block.c - the spans family's values (span_block.h).
 */
#include <stdbool.h>
#include <string.h>

#include "keys.h"
#include "span_block.h"
#include "varint.h"

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

size_t
span_block_add(uint8_t *buf, const uint8_t *block, uint64_t origin_hash,
    const span_t *sp, size_t packed_len)
{
	span_t c = stripped(sp);
	size_t n = 16;

	memcpy(buf, sp->span_id.data, KEY_SPAN_ID_LEN);
	key_write_be64(buf + 8, origin_hash);
	n += varint_put(buf + n, sp->start_time_unix_nano - key_be64(block));
	n += varint_put(buf + n, sp->end_time_unix_nano -
	    sp->start_time_unix_nano);
	n += varint_put(buf + n, packed_len);
	opentelemetry__proto__trace__v1__span__pack(&c, buf + n);
	return n + packed_len;
}

int
span_block_next(const uint8_t *v, size_t vlen, size_t *off,
    span_block_entry *e)
{
	size_t at = *off < SPAN_BLOCK_HEADER ? SPAN_BLOCK_HEADER : *off;
	const uint8_t *p, *end = v + vlen;
	uint64_t start_off, dur, len;

	if (vlen < SPAN_BLOCK_HEADER)
		return -1;
	if (at == vlen)
		return 0;
	if (vlen - at < 16)
		return -1;
	e->span_id = v + at;
	e->origin_hash = key_be64(v + at + 8);
	p = v + at + 16;
	if (!varint_get(&p, end, &start_off) || !varint_get(&p, end, &dur) ||
	    !varint_get(&p, end, &len) || (uint64_t)(end - p) < len ||
	    start_off > UINT64_MAX - key_be64(v) ||
	    dur > UINT64_MAX - key_be64(v) - start_off)
		return -1;
	e->start_ns = key_be64(v) + start_off;
	e->end_ns = e->start_ns + dur;
	e->packed = p;
	e->packed_len = (size_t)len;
	*off = (size_t)(p - v) + (size_t)len;
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
