/*
 * pb_write.c - protobuf wire format into a growing buffer (pb_write.h).
 */
#include <string.h>

#include "common.h"
#include "pb_write.h"
#include "varint.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

static void
reserve(pb_write *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 256;

	if (w->len + more <= w->cap)
		return;
	while (cap < w->len + more)
		cap *= 2;
	w->buf = xrealloc(w->buf, cap);
	w->cap = cap;
}

static void
put_varint(pb_write *w, uint64_t v)
{
	reserve(w, VARINT_MAX);
	w->len += varint_put(w->buf + w->len, v);
}

static void
put_tag(pb_write *w, uint32_t field, unsigned wire)
{
	put_varint(w, (uint64_t)field << 3 | wire);
}

static void
put_le(pb_write *w, uint64_t v, size_t n)
{
	reserve(w, n);
	for (size_t i = 0; i < n; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

void
pb_write_varint_field(pb_write *w, uint32_t field, uint64_t v)
{
	put_tag(w, field, WIRE_VARINT);
	put_varint(w, v);
}

void
pb_write_fixed64_field(pb_write *w, uint32_t field, uint64_t v)
{
	put_tag(w, field, WIRE_I64);
	put_le(w, v, 8);
}

void
pb_write_fixed32_field(pb_write *w, uint32_t field, uint32_t v)
{
	put_tag(w, field, WIRE_I32);
	put_le(w, v, 4);
}

uint8_t *
pb_write_bytes_reserve(pb_write *w, uint32_t field, size_t len)
{
	uint8_t *p;

	put_tag(w, field, WIRE_LEN);
	put_varint(w, len);
	reserve(w, len);
	p = w->buf + w->len;
	w->len += len;
	return p;
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
	pb_mark m;

	m.tag_at = w->len;
	put_tag(w, field, WIRE_LEN);
	m.body_at = w->len;
	return m;
}

void
pb_write_end(pb_write *w, pb_mark m)
{
	size_t body = w->len - m.body_at;
	uint8_t prefix[VARINT_MAX];
	size_t n = varint_put(prefix, body);

	reserve(w, n);
	memmove(w->buf + m.body_at + n, w->buf + m.body_at, body);
	memcpy(w->buf + m.body_at, prefix, n);
	w->len += n;
}

void
pb_write_rollback(pb_write *w, pb_mark m)
{
	w->len = m.tag_at;
}
