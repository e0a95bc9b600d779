/*
 * test_trace_walk.c - trace_walk_many (one iterator, seeks in key order)
 * visits each of a list of traces' stored spans exactly as trace_walk
 * does trace by trace, for traces in many minutes, given in any order,
 * with unknown ones among them; and trace_locator_find_any says which
 * traces the locator may hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "seed_fixture.h"

#include "common.h"
#include "../tools/spangen.h"
#include "store/trace_walk.h"

#define TRACES 40
#define SEED 3
/* 20 s apart: the traces' blocks fall in 14 minutes. */
#define STEP_NS 20000000000ULL

/* An hour ago, on a minute boundary. */
static uint64_t
base_ns(void)
{
	uint64_t s = (uint64_t)time(NULL) - 3600;

	return (s - s % 60) * 1000000000ULL;
}

/* Span IDs seen per trace (at most SPANGEN_PER_TRACE * 2 each). */
typedef struct seen {
	uint64_t ids[8][2 * SPANGEN_PER_TRACE];
	size_t n[8];
	const uint8_t *const *traces;
} seen;

static void
add_id(seen *s, size_t which, const span_block_entry *e)
{
	assert_true(s->n[which] < 2 * SPANGEN_PER_TRACE);
	memcpy(&s->ids[which][s->n[which]++], e->span_id, 8);
}

static void
visit_many(size_t which, const span_block_entry *e, void *arg)
{
	add_id(arg, which, e);
}

/* trace_walk's visit: the trace's place is found by its ID. */
static void
visit_one(const uint8_t *trace_id, const span_block_entry *e, void *arg)
{
	seen *s = arg;
	size_t k = 0;

	while (memcmp(s->traces[k], trace_id, 16) != 0)
		k++;
	add_id(s, k, e);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
sort_seen(seen *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		qsort(s->ids[k], s->n[k], sizeof s->ids[k][0], cmp_u64);
}

static void
test_many_visits_what_one_by_one_does(void **state)
{
	store_fixture *f = *state;
	static const uint64_t picks[] = { 17, 3, 39, 0, 22, 5 };
	uint8_t ids[8][16], unknown[16];
	const uint8_t *traces[8];
	uint64_t base = base_ns();
	seen many = { 0 }, one = { 0 };
	size_t n = 0;

	assert_int_equal(seed_fixture_ingest(f, SEED, TRACES, 4, base,
	    STEP_NS), 0);
	for (size_t k = 0; k < ARRAY_LEN(picks); k++) {
		sg_info info;

		sg_describe(SEED, picks[k], 0, base, STEP_NS, &info);
		memcpy(ids[k], info.trace_id, 16);
		traces[n++] = ids[k];
		if (k == 2) { /* an unknown trace among them */
			memset(unknown, 0x77, sizeof unknown);
			traces[n++] = unknown;
		}
	}
	many.traces = one.traces = traces;
	trace_walk_many(f->st, 0, traces, n, visit_many, &many);
	for (size_t k = 0; k < n; k++)
		trace_walk(f->st, 0, traces[k], visit_one, &one);
	sort_seen(&many, n);
	sort_seen(&one, n);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(many.n[k],
		    traces[k] == unknown ? 0 : SPANGEN_PER_TRACE);
		assert_int_equal(many.n[k], one.n[k]);
		assert_memory_equal(many.ids[k], one.ids[k],
		    many.n[k] * sizeof many.ids[k][0]);
	}
	/* Nothing to walk: no visit. */
	trace_walk_many(f->st, 0, traces, 0, visit_many, NULL);
}

static void
test_find_any(void **state)
{
	store_fixture *f = *state;
	uint64_t base = base_ns();
	uint8_t a[16], unknown[16];
	const uint8_t *traces[2] = { a, unknown };
	bool found[2] = { false, true };
	sg_info info;

	assert_int_equal(seed_fixture_ingest(f, SEED, 4, 4, base, STEP_NS),
	    0);
	sg_describe(SEED, 2, 0, base, STEP_NS, &info);
	memcpy(a, info.trace_id, 16);
	memset(unknown, 0x77, sizeof unknown);
	trace_locator_wait(store_locator(f->st));
	assert_int_equal(trace_locator_find_any(store_locator(f->st), traces,
	    2, 0, found), 0);
	assert_true(found[0]);
	assert_false(found[1]);
	/* Minutes that end before the cutoff are not found. */
	assert_int_equal(trace_locator_find_any(store_locator(f->st), traces,
	    1, base + 3600000000000ULL, found), 0);
	assert_false(found[0]);
}

static void
test_find_any_before_the_load(void **state)
{
	trace_locator *l = trace_locator_new(0);
	uint8_t id[16] = { 1 };
	const uint8_t *traces[1] = { id };
	bool found[1];

	(void)state;
	assert_int_equal(trace_locator_find_any(l, traces, 1, 0, found), -1);
	trace_locator_free(l);
}

STORE_FIXTURE_HOOKS("trace-walk")

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_many_visits_what_one_by_one_does, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_any, setup,
		    teardown),
		cmocka_unit_test(test_find_any_before_the_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
