/*
 * span_block_fixture.h - for tests that write a span block two ways
 * (span_block_add packs the span, span_block_add_wire copies it from the
 * request's bytes): whether two blocks hold the same spans, and a builder
 * of protobuf bytes field by field. Include after <cmocka.h>.
 */
#ifndef TESTS_SPAN_BLOCK_FIXTURE_H
#define TESTS_SPAN_BLOCK_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/span_block.h"
#include "varint.h"

/* Protobuf bytes a test puts together field by field. */
typedef struct wire {
	uint8_t b[8192];
	size_t len;
} wire;

static inline void
put_raw(wire *w, const void *p, size_t n)
{
	assert_true(n <= sizeof w->b - w->len);
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static inline void
put_varint(wire *w, uint64_t v)
{
	uint8_t b[VARINT_MAX];

	put_raw(w, b, varint_put(b, v));
}

static inline void
put_len_field(wire *w, uint64_t num, const void *p, size_t n)
{
	put_varint(w, num << 3 | 2);
	put_varint(w, n);
	put_raw(w, p, n);
}

/* Packs sp (protobuf-c) into a malloc'd buffer of *len bytes. */
static inline uint8_t *
sbf_pack(const Opentelemetry__Proto__Trace__V1__Span *sp, size_t *len)
{
	uint8_t *buf;

	*len = opentelemetry__proto__trace__v1__span__get_packed_size(sp);
	buf = malloc(*len ? *len : 1);
	assert_int_equal(opentelemetry__proto__trace__v1__span__pack(sp, buf),
	    *len);
	return buf;
}

/* Asserts that x and y (both non-NULL) pack to the same bytes: the same
 * span, field by field, unknown fields included. Frees both. */
static inline void
sbf_assert_same_span(Opentelemetry__Proto__Trace__V1__Span *x,
    Opentelemetry__Proto__Trace__V1__Span *y)
{
	size_t xlen, ylen;
	uint8_t *xb, *yb;

	assert_non_null(x);
	assert_non_null(y);
	xb = sbf_pack(x, &xlen);
	yb = sbf_pack(y, &ylen);
	assert_int_equal(xlen, ylen);
	assert_memory_equal(xb, yb, xlen);
	free(xb);
	free(yb);
	opentelemetry__proto__trace__v1__span__free_unpacked(x, NULL);
	opentelemetry__proto__trace__v1__span__free_unpacked(y, NULL);
}

/* The span an entry stores, as stored: asserts that it holds neither
 * IDs nor times, nor its parent's ID when the entry links it. */
static inline Opentelemetry__Proto__Trace__V1__Span *
sbf_stored(const span_block_entry *e)
{
	Opentelemetry__Proto__Trace__V1__Span *sp =
	    opentelemetry__proto__trace__v1__span__unpack(NULL,
	    e->packed_len, e->packed);

	assert_non_null(sp);
	assert_int_equal(sp->trace_id.len, 0);
	assert_int_equal(sp->span_id.len, 0);
	assert_true(sp->start_time_unix_nano == 0);
	assert_true(sp->end_time_unix_nano == 0);
	if (e->parent_id != NULL)
		assert_int_equal(sp->parent_span_id.len, 0);
	return sp;
}

/* Asserts that blocks a and b hold the same entries: IDs, origins,
 * times, links, and spans that unpack alike (span_block_unpack, and the
 * stored bytes on their own). Returns the number of entries; *linked:
 * how many have their parent linked. */
static inline size_t
sbf_assert_same_blocks(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen, size_t *linked)
{
	span_block_entry ea, eb;
	size_t oa = 0, ob = 0, n = 0;
	int rv;

	*linked = 0;
	while ((rv = span_block_next(a, alen, &oa, &ea)) == 1) {
		assert_int_equal(span_block_next(b, blen, &ob, &eb), 1);
		assert_memory_equal(ea.span_id, eb.span_id, 8);
		assert_true(ea.origin_hash == eb.origin_hash);
		assert_true(ea.start_ns == eb.start_ns);
		assert_true(ea.end_ns == eb.end_ns);
		assert_int_equal(ea.parent_id != NULL, eb.parent_id != NULL);
		if (ea.parent_id != NULL)
			assert_memory_equal(ea.parent_id, eb.parent_id, 8);
		sbf_assert_same_span(span_block_unpack(&ea),
		    span_block_unpack(&eb));
		sbf_assert_same_span(sbf_stored(&ea), sbf_stored(&eb));
		*linked += ea.parent_id != NULL;
		n++;
	}
	assert_int_equal(rv, 0);
	assert_int_equal(span_block_next(b, blen, &ob, &eb), 0);
	return n;
}

#endif /* TESTS_SPAN_BLOCK_FIXTURE_H */
