/*
 * pb_write.c - protobuf wire format into a growing buffer (pb_write.h).
 *
 * Each field reserves its room once and writes with varint_put. A nested
 * message keeps one byte for its length, which is enough below 128 bytes
 * (attributes, values): only longer bodies move to make room for a longer
 * prefix.
 */
#include <string.h>

#include "common.h"
#include "pb_write.h"
#include "varint.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* Room for a tag and a length prefix. */
#define HEAD_MAX (2 * VARINT_MAX)

static void
grow(pb_write *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 256;

	while (cap < w->len + more)
		cap *= 2;
	w->buf = xrealloc(w->buf, cap);
	w->cap = cap;
}

/* Makes room for more bytes and returns where they go. */
static inline uint8_t *
room(pb_write *w, size_t more)
{
	if (w->len + more > w->cap)
		grow(w, more);
	return w->buf + w->len;
}

static inline size_t
put_tag(uint8_t *p, uint32_t field, unsigned wire)
{
	return varint_put(p, (uint64_t)field << 3 | wire);
}

static void
put_le(pb_write *w, uint32_t field, unsigned wire, uint64_t v, size_t n)
{
	uint8_t *p = room(w, VARINT_MAX + n);
	size_t at = put_tag(p, field, wire);

	for (size_t i = 0; i < n; i++)
		p[at++] = (uint8_t)(v >> (8 * i));
	w->len += at;
}

void
pb_write_varint_field(pb_write *w, uint32_t field, uint64_t v)
{
	uint8_t *p = room(w, HEAD_MAX);
	size_t at = put_tag(p, field, WIRE_VARINT);

	w->len += at + varint_put(p + at, v);
}

void
pb_write_fixed64_field(pb_write *w, uint32_t field, uint64_t v)
{
	put_le(w, field, WIRE_I64, v, 8);
}

void
pb_write_fixed32_field(pb_write *w, uint32_t field, uint32_t v)
{
	put_le(w, field, WIRE_I32, v, 4);
}

uint8_t *
pb_write_bytes_reserve(pb_write *w, uint32_t field, size_t len)
{
	uint8_t *p = room(w, HEAD_MAX + len);
	size_t at = put_tag(p, field, WIRE_LEN);

	at += varint_put(p + at, len);
	w->len += at + len;
	return p + at;
}

void
pb_write_bytes_field(
    pb_write *w, uint32_t field, const void *data, size_t len)
{
	uint8_t *p = pb_write_bytes_reserve(w, field, len);

	if (len > 0)
		memcpy(p, data, len);
}

pb_mark
pb_write_begin(pb_write *w, uint32_t field)
{
	uint8_t *p = room(w, HEAD_MAX);
	pb_mark m;

	m.tag_at = w->len;
	w->len += put_tag(p, field, WIRE_LEN);
	m.body_at = ++w->len; /* one byte kept for the length */
	return m;
}

void
pb_write_end(pb_write *w, pb_mark m)
{
	size_t body = w->len - m.body_at;
	uint8_t prefix[VARINT_MAX];
	size_t n = varint_put(prefix, body);

	if (n > 1) {
		room(w, n - 1);
		memmove(w->buf + m.body_at + n - 1, w->buf + m.body_at, body);
		w->len += n - 1;
	}
	memcpy(w->buf + m.body_at - 1, prefix, n);
}

void
pb_write_rollback(pb_write *w, pb_mark m)
{
	w->len = m.tag_at;
}
