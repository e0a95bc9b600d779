/*
 * test_span_block.c - the spans family's values (collector/format/span_block.c):
 * spans come back exactly (IDs, parent IDs, times, packed fields), a
 * parent earlier in the block is linked instead of stored, an origin
 * equal to the one before is not stored again, and every malformed link
 * is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp_types.h"
#include "format/keys.h"
#include "format/span_block.h"


#define T0 1735689600000000000ULL

typedef struct test_span {
	Span sp;
	uint8_t id[8], parent[8];
	char name[32];
} test_span;

/* A span with ID byte id, parent ID byte parent (0: none), starting at
 * T0 + start_us. */
static void
make(test_span *t, uint8_t id, uint8_t parent, uint64_t start_us,
    const char *name)
{
	static uint8_t trace[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16 };

	opentelemetry__proto__trace__v1__span__init(&t->sp);
	memset(t->id, id, 8);
	memset(t->parent, parent, 8);
	t->sp.trace_id.data = trace;
	t->sp.trace_id.len = 16;
	t->sp.span_id.data = t->id;
	t->sp.span_id.len = 8;
	if (parent != 0) {
		t->sp.parent_span_id.data = t->parent;
		t->sp.parent_span_id.len = 8;
	}
	snprintf(t->name, sizeof t->name, "%s", name);
	t->sp.name = t->name;
	t->sp.start_time_unix_nano = T0 + start_us * 1000;
	t->sp.end_time_unix_nano = t->sp.start_time_unix_nano + 1500 + id;
}

/* Writes spans[0..n) with origins[0..n) into buf; returns its length. */
static size_t
write_block(uint8_t *buf, test_span *spans, const uint64_t *origins,
    size_t n)
{
	span_block_writer w;

	span_block_begin(&w, buf, spans[0].sp.start_time_unix_nano);
	for (size_t i = 0; i < n; i++)
		span_block_add(&w, origins[i], &spans[i].sp,
		    span_block_packed_len(&spans[i].sp));
	return w.len;
}

/* Reads the block back and checks every span against spans. */
static void
check_block(const uint8_t *buf, size_t len, test_span *spans,
    const uint64_t *origins, size_t n, size_t want_linked)
{
	span_block_entry e;
	size_t off = 0, i = 0, linked = 0;
	int rv;

	while ((rv = span_block_next(buf, len, &off, &e)) == 1) {
		Span *sp = span_block_unpack(&e);

		assert_true(i < n);
		assert_non_null(sp);
		assert_memory_equal(e.span_id, spans[i].id, 8);
		assert_true(e.origin_hash == origins[i]);
		assert_true(sp->start_time_unix_nano ==
		    spans[i].sp.start_time_unix_nano);
		assert_true(sp->end_time_unix_nano ==
		    spans[i].sp.end_time_unix_nano);
		assert_string_equal(sp->name, spans[i].sp.name);
		assert_int_equal(sp->parent_span_id.len,
		    spans[i].sp.parent_span_id.len);
		if (sp->parent_span_id.len != 0)
			assert_memory_equal(sp->parent_span_id.data,
			    spans[i].parent, 8);
		linked += e.parent_id != NULL;
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
		i++;
	}
	assert_int_equal(rv, 0);
	assert_int_equal(i, n);
	assert_int_equal(linked, want_linked);
}

/* A root, its child, a grandchild, a span whose parent is in another
 * process, and one whose parent comes later in the block: the two
 * parents found earlier are linked, the others stay in the span. */
static void
test_round_trip_links_parents(void **state)
{
	test_span s[5];
	uint64_t origins[5] = { 7, 7, 9, 9, 7 };
	uint8_t buf[4096];
	size_t len;

	(void)state;
	make(&s[0], 0x11, 0, 0, "root");
	make(&s[1], 0x22, 0x11, 10, "child");
	make(&s[2], 0x33, 0x22, 20, "grandchild");
	make(&s[3], 0x44, 0x99, 30, "remote-parent");
	make(&s[4], 0x55, 0x66, 40, "parent-later");
	len = write_block(buf, s, origins, 5);
	assert_true(len < sizeof buf);
	check_block(buf, len, s, origins, 5, 2);
}

/* A linked parent and a repeated origin each save their bytes: 10 of
 * the packed span (tag, length, ID), and 8. */
static void
test_links_and_origins_save_bytes(void **state)
{
	test_span a[2], b[2];
	uint64_t same[2] = { 7, 7 }, differ[2] = { 7, 8 };
	uint8_t buf[1024];
	size_t linked_same, unlinked_differ;

	(void)state;
	make(&a[0], 0x11, 0, 0, "root");
	make(&a[1], 0x22, 0x11, 10, "child");
	make(&b[0], 0x11, 0, 0, "root");
	make(&b[1], 0x22, 0x77, 10, "child");
	linked_same = write_block(buf, a, same, 2);
	unlinked_differ = write_block(buf, b, differ, 2);
	/* Both links are one byte: a short back offset, or none. */
	assert_int_equal(unlinked_differ - linked_same, 10 + 8);
}

/* Builds a block of one root and its child, returns its length; *child
 * is where the child's entry starts. */
static size_t
two_spans(uint8_t *buf, size_t *child)
{
	test_span s[2];
	uint64_t origins[2] = { 7, 8 };
	span_block_entry e;
	size_t len, off = 0;

	make(&s[0], 0x11, 0, 0, "root");
	make(&s[1], 0x22, 0x11, 10, "child");
	len = write_block(buf, s, origins, 2);
	assert_int_equal(span_block_next(buf, len, &off, &e), 1);
	*child = off;
	return len;
}

/* Reading the whole block gives rv at the child (the second entry). */
static void
assert_second(const uint8_t *buf, size_t len, int rv)
{
	span_block_entry e;
	size_t off = 0;

	assert_int_equal(span_block_next(buf, len, &off, &e), 1);
	assert_int_equal(span_block_next(buf, len, &off, &e), rv);
}

/* Links that point outside the block's entries, a first entry that
 * borrows an origin, and truncated entries are refused. */
static void
test_malformed_refused(void **state)
{
	uint8_t buf[1024], bad[1024];
	size_t child, len = two_spans(buf, &child);
	span_block_entry e;
	size_t off = 0;

	(void)state;
	assert_second(buf, len, 1);
	/* The child's link is one byte: back << 1 (origin differs). */
	assert_int_equal(buf[child + 8], (uint8_t)((child - 8) << 1));
	memcpy(bad, buf, len);
	bad[child + 8] = (uint8_t)(((child - 8) + 1) << 1); /* into header */
	assert_second(bad, len, -1);
	bad[child + 8] = 4 << 1; /* inside its own span ID */
	assert_second(bad, len, -1);
	/* The first entry cannot take the origin before it. */
	memcpy(bad, buf, len);
	bad[8 + 8] |= 1;
	assert_int_equal(span_block_next(bad, len, &off, &e), -1);
	/* Every truncation of the last entry is refused. */
	for (size_t cut = child + 1; cut < len; cut++)
		assert_second(buf, cut, -1);
	off = 0;
	assert_int_equal(span_block_next(buf, 7, &off, &e), -1);
	off = 0;
	assert_int_equal(span_block_next(buf, 8, &off, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_links_parents),
		cmocka_unit_test(test_links_and_origins_save_bytes),
		cmocka_unit_test(test_malformed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
