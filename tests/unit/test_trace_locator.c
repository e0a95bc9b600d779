/*
 * test_trace_locator.c - the traces family in memory: every pair added is
 * found, once, in ascending order; minutes before the cutoff are not;
 * tables grow without losing a pair; an hour over the memory limit makes
 * the locator say it cannot answer until that hour expires; a locator
 * answers only once loaded, and the load from a real store (and from a
 * reopened one) finds what the traces family holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/keys.h"
#include "store_fixture.h"

/* An hour well inside the unix minutes' range (2026). */
#define HOUR0 491000u
#define MIN0 (HOUR0 * 60u)

static void
make_id(uint8_t *id, uint32_t n)
{
	memset(id, 0, KEY_TRACE_ID_LEN);
	id[0] = 0x5a;
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* A locator loaded from an empty store: it answers from the start. */
static trace_locator *
ready_locator(store_fixture *f, size_t max_bytes)
{
	trace_locator *l = trace_locator_new(max_bytes);

	assert_int_equal(trace_locator_load(l, f->st), 0);
	trace_locator_wait(l);
	return l;
}

static void
add_one(trace_locator *l, const uint8_t *id, uint32_t minute)
{
	trace_minute tm = { id, minute };

	trace_locator_add(l, &tm, 1);
}

static void
test_finds_each_minute_once_in_order(void **state)
{
	trace_locator *l = ready_locator(*state, 0);
	uint8_t a[16], b[16], c[16];
	uint32_t m[8];

	make_id(a, 1);
	make_id(b, 2);
	make_id(c, 3);
	add_one(l, a, MIN0 + 61);
	add_one(l, a, MIN0 + 5);
	add_one(l, a, MIN0 + 5);
	add_one(l, a, MIN0 + 59);
	add_one(l, b, MIN0 + 5);
	assert_int_equal(trace_locator_find(l, a, 0, m, 8), 3);
	assert_int_equal(m[0], MIN0 + 5);
	assert_int_equal(m[1], MIN0 + 59);
	assert_int_equal(m[2], MIN0 + 61);
	assert_int_equal(trace_locator_find(l, b, 0, m, 8), 1);
	assert_int_equal(m[0], MIN0 + 5);
	assert_int_equal(trace_locator_find(l, c, 0, m, 8), 0);
	/* At most max. */
	assert_int_equal(trace_locator_find(l, a, 0, m, 2), 2);
	trace_locator_free(l);
}

static void
test_cutoff_and_expiry(void **state)
{
	trace_locator *l = ready_locator(*state, 0);
	uint8_t a[16];
	uint32_t m[8];
	size_t before;

	make_id(a, 7);
	add_one(l, a, MIN0 + 10);
	add_one(l, a, MIN0 + 70);
	/* A minute is live until its end. */
	assert_int_equal(trace_locator_find(l, a,
	    (uint64_t)(MIN0 + 10) * KEY_MINUTE_NS + KEY_MINUTE_NS - 1, m, 8),
	    2);
	assert_int_equal(trace_locator_find(l, a,
	    (uint64_t)(MIN0 + 11) * KEY_MINUTE_NS, m, 8), 1);
	assert_int_equal(m[0], MIN0 + 70);
	before = trace_locator_bytes(l);
	trace_locator_expire(l, (uint64_t)(HOUR0 + 1) * KEY_HOUR_NS);
	assert_true(trace_locator_bytes(l) < before);
	assert_int_equal(trace_locator_find(l, a, 0, m, 8), 1);
	assert_int_equal(m[0], MIN0 + 70);
	trace_locator_free(l);
}

static void
test_growth_keeps_every_pair(void **state)
{
	enum { N = 200000 };
	trace_locator *l = ready_locator(*state, 0);
	uint8_t id[16];
	uint32_t m[8];
	size_t false_minutes = 0;

	for (uint32_t i = 0; i < N; i++) {
		make_id(id, i);
		add_one(l, id, MIN0 + i % 60);
	}
	assert_true(trace_locator_bytes(l) >= N * 4 * 4 / 3);
	for (uint32_t i = 0; i < N; i++) {
		int n, hit = 0;

		make_id(id, i);
		n = trace_locator_find(l, id, 0, m, 8);
		assert_true(n >= 1);
		for (int j = 0; j < n; j++)
			hit += m[j] == MIN0 + i % 60;
		assert_int_equal(hit, 1);
		false_minutes += (size_t)n - 1;
	}
	/* 26 bits of hash: about N / 2^26 extra minutes a lookup. */
	assert_true(false_minutes < N / 100);
	trace_locator_free(l);
}

static void
test_over_the_limit_cannot_answer(void **state)
{
	trace_locator *l = ready_locator(*state, 16u << 10);
	uint8_t id[16];
	uint32_t m[8];

	for (uint32_t i = 0; i < 10000; i++) {
		make_id(id, i);
		add_one(l, id, MIN0 + 1);
	}
	assert_int_equal(trace_locator_find(l, id, 0, m, 8), -1);
	/* Hours after it fit again, but its hour must expire first. */
	add_one(l, id, MIN0 + 60);
	assert_int_equal(trace_locator_find(l, id, 0, m, 8), -1);
	trace_locator_expire(l, (uint64_t)(HOUR0 + 1) * KEY_HOUR_NS);
	assert_int_equal(trace_locator_find(l, id, 0, m, 8), 1);
	assert_int_equal(m[0], MIN0 + 60);
	trace_locator_free(l);

	/* An hour whose first table does not fit holds no memory. */
	l = ready_locator(*state, 1);
	add_one(l, id, MIN0);
	add_one(l, id, MIN0 + 60);
	assert_int_equal(trace_locator_find(l, id, 0, m, 8), -1);
	assert_int_equal(trace_locator_bytes(l), 0);
	trace_locator_free(l);
}

static void
test_answers_only_once_loaded(void **state)
{
	trace_locator *l = trace_locator_new(0);
	uint8_t id[16];
	uint32_t m[8];

	(void)state;
	make_id(id, 1);
	add_one(l, id, MIN0);
	assert_int_equal(trace_locator_find(l, id, 0, m, 8), -1);
	trace_locator_free(l);
}

/* Writes n traces' keys straight to the traces family: trace i in
 * minutes MIN0 + i % 90 and, for every third, MIN0 + 200. */
static void
put_traces(store *st, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t id[16];
		keybuf k;

		make_id(id, i);
		key_trace(&k, id, MIN0 + i % 90);
		assert_int_equal(store_fixture_put(st, STORE_CF_TRACES, k.b,
		    k.len, NULL, 0), 0);
		if (i % 3 == 0) {
			key_trace(&k, id, MIN0 + 200);
			assert_int_equal(store_fixture_put(st, STORE_CF_TRACES,
			    k.b, k.len, NULL, 0), 0);
		}
	}
}

static void
check_traces(trace_locator *l, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t id[16];
		uint32_t m[8];
		int k, hits = 0;

		make_id(id, i);
		k = trace_locator_find(l, id, 0, m, 8);
		assert_true(k >= 1);
		for (int j = 0; j < k; j++)
			hits += m[j] == MIN0 + i % 90 ||
			    (i % 3 == 0 && m[j] == MIN0 + 200);
		assert_int_equal(hits, i % 3 == 0 ? 2 : 1);
	}
}

static void
test_load_from_the_traces_family(void **state)
{
	store_fixture *f = *state;
	store_options o = { 0 };
	char *cause = NULL;
	trace_locator *l;

	put_traces(f->st, 5000);
	l = ready_locator(f, 0);
	check_traces(l, 5000);
	trace_locator_free(l);
	/* The store's own locator, loaded as the store reopens. */
	store_close(f->st);
	assert_int_equal(store_open(&f->st, f->dir, &o, &cause), 0);
	trace_locator_wait(store_locator(f->st));
	check_traces(store_locator(f->st), 5000);
}

STORE_FIXTURE_HOOKS("trace-locator")

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_finds_each_minute_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cutoff_and_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_growth_keeps_every_pair,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_over_the_limit_cannot_answer, setup, teardown),
		cmocka_unit_test(test_answers_only_once_loaded),
		cmocka_unit_test_setup_teardown(
		    test_load_from_the_traces_family, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
