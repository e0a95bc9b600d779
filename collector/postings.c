/*
 * postings.c - varint posting lists (postings.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "postings.h"

static inline size_t
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

/* A cursor over an encoded value; any short or overlong read sets err. */
typedef struct vreader {
	const uint8_t *p, *end;
	bool err;
} vreader;

static inline uint64_t
get_varint(vreader *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (r->p == r->end)
			break;
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80)
			return v;
	}
	r->err = true;
	return 0;
}

static inline uint32_t
get_u32(vreader *r)
{
	uint32_t v;

	if (r->end - r->p < 4) {
		r->err = true;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

size_t
postings_encode_t(const tposting *p, size_t n, uint64_t base,
    bool with_hash, uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		len += put_varint(out + len, base - p[i].start_ns);
		len += put_varint(out + len, p[i].ord);
		if (with_hash) {
			memcpy(out + len, &p[i].vhash, 4);
			len += 4;
		}
		base = p[i].start_ns;
	}
	return len;
}

size_t
postings_encode_d(const dposting *p, size_t n, uint64_t base,
    uint64_t minute_ns, uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		len += put_varint(out + len, base - p[i].dur_ns);
		len += put_varint(out + len, p[i].start_ns - minute_ns);
		len += put_varint(out + len, p[i].ord);
		memcpy(out + len, p[i].span_id, KEY_SPAN_ID_LEN);
		len += KEY_SPAN_ID_LEN;
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
postings_decode_t(const uint8_t *v, size_t vlen, uint64_t base,
    bool with_hash, tposting **out, size_t *n, size_t *cap)
{
	vreader r = { v, v + vlen, false };
	size_t first = *n;

	while (r.p < r.end && !r.err) {
		uint64_t delta = get_varint(&r), ord = get_varint(&r);
		uint32_t vhash = with_hash ? get_u32(&r) : 0;
		tposting *t;

		if (delta > base || ord > UINT32_MAX)
			r.err = true;
		if (r.err)
			break;
		if (*n == *cap) {
			*cap = grown(*cap);
			*out = xrealloc(*out, *cap * sizeof **out);
		}
		t = &(*out)[*n];
		base -= delta;
		t->start_ns = base;
		t->ord = (uint32_t)ord;
		t->vhash = vhash;
		(*n)++;
	}
	if (r.err) {
		*n = first;
		return -1;
	}
	return (long)(*n - first);
}

long
postings_decode_d(const uint8_t *v, size_t vlen, uint64_t base,
    uint64_t minute_ns, dposting **out, size_t *n, size_t *cap)
{
	vreader r = { v, v + vlen, false };
	size_t first = *n;

	while (r.p < r.end && !r.err) {
		uint64_t delta = get_varint(&r), off = get_varint(&r);
		uint64_t ord = get_varint(&r);
		dposting *d;

		if (delta > base || off >= KEY_MINUTE_NS || ord > UINT32_MAX ||
		    r.end - r.p < KEY_SPAN_ID_LEN)
			r.err = true;
		if (r.err)
			break;
		if (*n == *cap) {
			*cap = grown(*cap);
			*out = xrealloc(*out, *cap * sizeof **out);
		}
		d = &(*out)[*n];
		base -= delta;
		d->dur_ns = base;
		d->start_ns = minute_ns + off;
		d->ord = (uint32_t)ord;
		memcpy(d->span_id, r.p, KEY_SPAN_ID_LEN);
		r.p += KEY_SPAN_ID_LEN;
		(*n)++;
	}
	if (r.err) {
		*n = first;
		return -1;
	}
	return (long)(*n - first);
}
