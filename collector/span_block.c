/*
 * span_block.c - the spans family's values (span_block.h).
 */
#include <string.h>

#include "keys.h"
#include "span_block.h"

typedef Opentelemetry__Proto__Trace__V1__Span span_t;

void
span_block_begin(uint8_t *buf, uint64_t min_start_ns)
{
	key_write_be64(buf, min_start_ns);
}

/* sp with its IDs cleared (they are stored beside it). */
static span_t
without_ids(const span_t *sp)
{
	span_t c = *sp;

	c.trace_id.len = 0;
	c.trace_id.data = NULL;
	c.span_id.len = 0;
	c.span_id.data = NULL;
	return c;
}

size_t
span_block_packed_len(const span_t *sp)
{
	span_t c = without_ids(sp);

	return opentelemetry__proto__trace__v1__span__get_packed_size(&c);
}

size_t
span_block_add(uint8_t *buf, uint64_t origin_hash, const span_t *sp,
    size_t packed_len)
{
	span_t c = without_ids(sp);

	key_write_be64(buf, origin_hash);
	memcpy(buf + 8, sp->span_id.data, KEY_SPAN_ID_LEN);
	buf[16] = (uint8_t)(packed_len >> 24);
	buf[17] = (uint8_t)(packed_len >> 16);
	buf[18] = (uint8_t)(packed_len >> 8);
	buf[19] = (uint8_t)packed_len;
	opentelemetry__proto__trace__v1__span__pack(&c,
	    buf + SPAN_BLOCK_ENTRY_HEADER);
	return SPAN_BLOCK_ENTRY_HEADER + packed_len;
}

int
span_block_next(const uint8_t *v, size_t vlen, size_t *off,
    span_block_entry *e)
{
	size_t at = *off < SPAN_BLOCK_HEADER ? SPAN_BLOCK_HEADER : *off;
	size_t len;

	if (vlen < SPAN_BLOCK_HEADER)
		return -1;
	if (at == vlen)
		return 0;
	if (vlen - at < SPAN_BLOCK_ENTRY_HEADER)
		return -1;
	len = (size_t)v[at + 16] << 24 | (size_t)v[at + 17] << 16 |
	    (size_t)v[at + 18] << 8 | v[at + 19];
	if (vlen - at - SPAN_BLOCK_ENTRY_HEADER < len)
		return -1;
	e->origin_hash = key_be64(v + at);
	e->span_id = v + at + 8;
	e->packed = v + at + SPAN_BLOCK_ENTRY_HEADER;
	e->packed_len = len;
	*off = at + SPAN_BLOCK_ENTRY_HEADER + len;
	return 1;
}
