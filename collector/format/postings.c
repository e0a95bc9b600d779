/*
 * postings.c - varint posting lists (postings.h).
 */
#include <stdlib.h>

#include "common.h"
#include "format/postings.h"
#include "varint.h"

/* A cursor over an encoded value; any short or overlong read sets err. */
typedef struct vreader {
	const uint8_t *p, *end;
	bool err;
} vreader;

static inline uint64_t
get_varint(vreader *r)
{
	uint64_t v = 0;

	if (!varint_get(&r->p, r->end, &v))
		r->err = true;
	return v;
}

static inline size_t
put_u16(uint8_t *out, uint16_t v)
{
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
	return 2;
}

static inline uint16_t
get_u16(vreader *r)
{
	uint16_t v;

	if (r->end - r->p < 2) {
		r->err = true;
		return 0;
	}
	v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return v;
}

size_t
postings_encode_t(const tposting *p, size_t n, const uint64_t *trace_start,
    bool with_hash, uint8_t *out)
{
	size_t len = 0;
	uint32_t prev = 0;

	for (size_t i = 0; i < n; i++) {
		len += varint_put(out + len, p[i].ord - prev);
		len += varint_put(out + len,
		    p[i].start_ns - trace_start[p[i].ord]);
		if (with_hash)
			len += put_u16(out + len, p[i].vhash);
		prev = p[i].ord;
	}
	return len;
}

size_t
postings_encode_d(const dposting *p, size_t n, uint64_t base,
    const uint64_t *trace_start, uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		len += varint_put(out + len, base - p[i].dur_ns);
		len += varint_put(out + len, p[i].ord);
		len += varint_put(out + len,
		    p[i].start_ns - trace_start[p[i].ord]);
		base = p[i].dur_ns;
	}
	return len;
}

/* The new capacity when an array of cap elements is full. */
static size_t
grown(size_t cap)
{
	return cap ? cap * 2 : 64;
}

long
postings_decode_t(const uint8_t *v, size_t vlen, bool with_hash,
    tref **out, size_t *n, size_t *cap)
{
	vreader r = { v, v + vlen, false };
	size_t first = *n;
	uint64_t ord = 0;

	while (r.p < r.end && !r.err) {
		uint64_t step = get_varint(&r), off = get_varint(&r);
		uint16_t vhash = with_hash ? get_u16(&r) : 0;
		tref *t;

		ord += step;
		if (step > UINT32_MAX || ord > UINT32_MAX)
			r.err = true;
		if (r.err)
			break;
		if (*n == *cap) {
			*cap = grown(*cap);
			*out = xrealloc(*out, *cap * sizeof **out);
		}
		t = &(*out)[(*n)++];
		t->off_ns = off;
		t->ord = (uint32_t)ord;
		t->vhash = vhash;
	}
	if (r.err) {
		*n = first;
		return -1;
	}
	return (long)(*n - first);
}

long
postings_decode_d(const uint8_t *v, size_t vlen, uint64_t base,
    dref **out, size_t *n, size_t *cap)
{
	vreader r = { v, v + vlen, false };
	size_t first = *n;

	while (r.p < r.end && !r.err) {
		uint64_t delta = get_varint(&r), ord = get_varint(&r);
		uint64_t off = get_varint(&r);
		dref *d;

		if (delta > base || ord > UINT32_MAX)
			r.err = true;
		if (r.err)
			break;
		if (*n == *cap) {
			*cap = grown(*cap);
			*out = xrealloc(*out, *cap * sizeof **out);
		}
		d = &(*out)[(*n)++];
		base -= delta;
		d->dur_ns = base;
		d->off_ns = off;
		d->ord = (uint32_t)ord;
	}
	if (r.err) {
		*n = first;
		return -1;
	}
	return (long)(*n - first);
}
