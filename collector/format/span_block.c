/*
 * span_block.c - the spans family's values (span_block.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_types.h"
#include "common.h"
#include "format/keys.h"
#include "format/span_block.h"
#include "format/span_wire.h"
#include "varint.h"


void
span_block_begin(span_block_writer *w, uint8_t *buf, uint64_t min_start_ns)
{
	w->buf = buf;
	w->len = SPAN_BLOCK_HEADER;
	w->n = 0;
	w->origin_hash = 0;
	key_write_be64(buf, min_start_ns);
}

/* sp without what is stored beside it: its IDs and times. */
static Span
stripped(const Span *sp)
{
	Span c = *sp;

	c.trace_id.len = 0;
	c.trace_id.data = NULL;
	c.span_id.len = 0;
	c.span_id.data = NULL;
	c.start_time_unix_nano = 0;
	c.end_time_unix_nano = 0;
	return c;
}

size_t
span_block_packed_len(const Span *sp)
{
	Span c = stripped(sp);

	return opentelemetry__proto__trace__v1__span__get_packed_size(&c);
}

/* Where the entry of sp's parent starts in w, or 0 when it is not there. */
static size_t
parent_entry(const span_block_writer *w, const Span *sp)
{
	if (sp->parent_span_id.len != KEY_SPAN_ID_LEN)
		return 0;
	for (size_t i = w->n; i-- > 0;)
		if (memcmp(w->buf + w->at[i], sp->parent_span_id.data,
		    KEY_SPAN_ID_LEN) == 0)
			return w->at[i];
	return 0;
}

/* Writes sp's entry header (span_block.h) for a body of body_len bytes
 * and counts the entry; returns where its body goes. parent is
 * parent_entry(w, sp). */
static size_t
put_header(span_block_writer *w, uint64_t origin_hash, const Span *sp,
    size_t parent, size_t body_len)
{
	size_t at = w->len, n = at + KEY_SPAN_ID_LEN;
	bool same_origin = w->n > 0 && origin_hash == w->origin_hash;
	uint64_t link = (parent ? at - parent : 0) << 1 | same_origin;

	memcpy(w->buf + at, sp->span_id.data, KEY_SPAN_ID_LEN);
	n += varint_put(w->buf + n, link);
	if (!same_origin) {
		key_write_be64(w->buf + n, origin_hash);
		n += 8;
	}
	n += varint_put(w->buf + n, sp->start_time_unix_nano - key_be64(w->buf));
	n += varint_put(w->buf + n, sp->end_time_unix_nano -
	    sp->start_time_unix_nano);
	n += varint_put(w->buf + n, body_len);
	w->at[w->n++] = (uint32_t)at;
	w->origin_hash = origin_hash;
	w->len = n + body_len;
	return n;
}

void
span_block_add(span_block_writer *w, uint64_t origin_hash, const Span *sp,
    size_t packed_len)
{
	Span c = stripped(sp);
	size_t parent = parent_entry(w, sp);

	if (parent) {
		/* Tag, length and 8 bytes of ID: 10 bytes fewer to pack. */
		c.parent_span_id.len = 0;
		c.parent_span_id.data = NULL;
		packed_len -= 2 + KEY_SPAN_ID_LEN;
	}
	opentelemetry__proto__trace__v1__span__pack(&c,
	    w->buf + put_header(w, origin_hash, sp, parent, packed_len));
}

void
span_block_add_wire(span_block_writer *w, uint64_t origin_hash,
    const Span *sp, const uint8_t *wire, size_t wire_len)
{
	/* Linked as span_block_add links: by the parent that sp, the span
	 * unpacked from wire, names (the last of its parent_span_ids). */
	size_t parent = parent_entry(w, sp);
	size_t len = span_wire_stripped_len(wire, wire_len, parent != 0);

	span_wire_strip(wire, wire_len, parent != 0,
	    w->buf + put_header(w, origin_hash, sp, parent, len));
}

/* Reads an entry's link (span_block.h) at p; false when it is malformed. */
static bool
read_link(const uint8_t *v, size_t at, const uint8_t **p, const uint8_t *end,
    span_block_entry *e)
{
	uint64_t link, back;

	if (!varint_get(p, end, &link))
		return false;
	back = link >> 1;
	/* A parent's entry starts after the header and ends before this. */
	if (back != 0 && (back < KEY_SPAN_ID_LEN ||
	    back > at - SPAN_BLOCK_HEADER))
		return false;
	e->parent_id = back != 0 ? v + at - back : NULL;
	if (link & 1)
		return at > SPAN_BLOCK_HEADER; /* the first has its own */
	if (end - *p < 8)
		return false;
	e->origin_hash = key_be64(*p);
	*p += 8;
	return true;
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
	if (vlen - at < KEY_SPAN_ID_LEN + 1)
		return -1;
	e->span_id = v + at;
	p = v + at + KEY_SPAN_ID_LEN;
	if (!read_link(v, at, &p, end, e) ||
	    !varint_get(&p, end, &start_off) || !varint_get(&p, end, &dur) ||
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

Span *
span_block_unpack(const span_block_entry *e)
{
	Span *sp = opentelemetry__proto__trace__v1__span__unpack(NULL,
	    e->packed_len, e->packed);

	if (sp == NULL)
		return NULL;
	sp->start_time_unix_nano = e->start_ns;
	sp->end_time_unix_nano = e->end_ns;
	if (e->parent_id != NULL) {
		free(sp->parent_span_id.data);
		sp->parent_span_id.data = xmalloc(KEY_SPAN_ID_LEN);
		memcpy(sp->parent_span_id.data, e->parent_id, KEY_SPAN_ID_LEN);
		sp->parent_span_id.len = KEY_SPAN_ID_LEN;
	}
	return sp;
}
