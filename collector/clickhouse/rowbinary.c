/* rowbinary.c - ClickHouse RowBinary writer and reader (rowbinary.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/rowbinary.h"

void
rowbinary_buf_free(rowbinary_buf *w)
{
	free(w->b);
	memset(w, 0, sizeof *w);
}

void
rowbinary_put_bytes(rowbinary_buf *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap < w->len + n)
			cap *= 2;
		w->b = xrealloc(w->b, cap);
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

void
rowbinary_put_u8(rowbinary_buf *w, uint8_t v)
{
	rowbinary_put_bytes(w, &v, 1);
}

/* Writes the low n bytes of v, least significant first. */
static void
put_le(rowbinary_buf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	rowbinary_put_bytes(w, b, n);
}

void
rowbinary_put_u16(rowbinary_buf *w, uint16_t v)
{
	put_le(w, v, 2);
}

void
rowbinary_put_u32(rowbinary_buf *w, uint32_t v)
{
	put_le(w, v, 4);
}

void
rowbinary_put_u64(rowbinary_buf *w, uint64_t v)
{
	put_le(w, v, 8);
}

void
rowbinary_put_varint(rowbinary_buf *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	rowbinary_put_bytes(w, b, n);
}

void
rowbinary_put_string(rowbinary_buf *w, const void *p, size_t n)
{
	rowbinary_put_varint(w, n);
	rowbinary_put_bytes(w, p, n);
}

void
rowbinary_put_cstr(rowbinary_buf *w, const char *s)
{
	rowbinary_put_string(w, s, strlen(s));
}

void
rowbinary_reader_init(rowbinary_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->left = len;
	r->ok = true;
}

bool
rowbinary_at_end(const rowbinary_reader *r)
{
	return r->ok && r->left == 0;
}

/* Takes n bytes, or fails the reader. */
static const uint8_t *
take(rowbinary_reader *r, size_t n)
{
	const uint8_t *p;

	if (!r->ok || r->left < n) {
		r->ok = false;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static bool
get_le(rowbinary_reader *r, size_t n, uint64_t *v)
{
	const uint8_t *p = take(r, n);

	*v = 0;
	if (p == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return true;
}

bool
rowbinary_get_u8(rowbinary_reader *r, uint8_t *v)
{
	uint64_t x;
	bool ok = get_le(r, 1, &x);

	*v = (uint8_t)x;
	return ok;
}

bool
rowbinary_get_u16(rowbinary_reader *r, uint16_t *v)
{
	uint64_t x;
	bool ok = get_le(r, 2, &x);

	*v = (uint16_t)x;
	return ok;
}

bool
rowbinary_get_u32(rowbinary_reader *r, uint32_t *v)
{
	uint64_t x;
	bool ok = get_le(r, 4, &x);

	*v = (uint32_t)x;
	return ok;
}

bool
rowbinary_get_u64(rowbinary_reader *r, uint64_t *v)
{
	return get_le(r, 8, v);
}

bool
rowbinary_get_varint(rowbinary_reader *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		const uint8_t *p = take(r, 1);

		if (p == NULL)
			return false;
		*v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p & 0x80) == 0)
			return true;
	}
	r->ok = false;
	return false;
}

bool
rowbinary_get_fixed(rowbinary_reader *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p == NULL)
		return false;
	memcpy(out, p, n);
	return true;
}

bool
rowbinary_get_string(rowbinary_reader *r, const uint8_t **p, size_t *n)
{
	uint64_t len;

	*p = NULL;
	*n = 0;
	if (!rowbinary_get_varint(r, &len) || len > r->left) {
		r->ok = false;
		return false;
	}
	*p = take(r, (size_t)len);
	*n = (size_t)len;
	return *p != NULL;
}

bool
rowbinary_get_cstr(rowbinary_reader *r, char **s)
{
	const uint8_t *p;
	size_t n;

	*s = NULL;
	if (!rowbinary_get_string(r, &p, &n))
		return false;
	*s = xstrndup((const char *)p, n);
	return true;
}
