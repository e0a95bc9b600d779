/*
 * Unit tests for collector/query/deps.c (the Jaeger API's
 * /api/dependencies): spans go in through the pipeline into a real store,
 * the Dependencies query answers through backend_query, and the counts
 * are checked against a brute-force pass over the generator
 * (tests/tools/spangen.h: span j's parent is span (j - 1) / 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seed_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "pipeline/pipeline.h"
#include "format/keys.h"
#include "query/deps.h"

#define TRACES 200
#define STEP_NS 1000000000ULL /* one trace a second: 200 s, 4 minutes */

static store_fixture fx;
static uint64_t base_ns;

static int
setup(void **state)
{
	(void)state;
	if (store_fixture_open(&fx, "jaeger-deps") != 0)
		return -1;
	base_ns = (now_unix_ns() / KEY_MINUTE_NS - 30) * KEY_MINUTE_NS;
	return seed_fixture_ingest(&fx, 1, TRACES, 10, base_ns, STEP_NS);
}

static int
teardown(void **state)
{
	(void)state;
	store_fixture_close(&fx);
	return 0;
}

/* Expected calls [parent][child] for traces whose spans start in
 * [t_lo, t_hi) (every span of a trace starts within 8 us of it). */
static void
brute_force(uint64_t t_lo, uint64_t t_hi,
    uint64_t calls[SPANGEN_SERVICES][SPANGEN_SERVICES])
{
	memset(calls, 0, sizeof(uint64_t) * SPANGEN_SERVICES *
	    SPANGEN_SERVICES);
	for (uint64_t t = t_lo; t < t_hi && t < TRACES; t++) {
		for (int j = 1; j < SPANGEN_PER_TRACE; j++) {
			sg_info c, p;

			sg_describe(1, t, j, base_ns, STEP_NS, &c);
			sg_describe(1, t, (j - 1) / 2, base_ns, STEP_NS, &p);
			if (c.service != p.service)
				calls[p.service][c.service]++;
		}
	}
}

static Tracequery__V1__Response *
ask_deps(uint64_t start_ns, uint64_t end_ns)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Dependencies d;

	tracequery__v1__request__init(&req);
	tracequery__v1__dependencies__init(&d);
	d.start_unix_nano = start_ns;
	d.end_unix_nano = end_ns;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_DEPENDENCIES;
	req.dependencies = &d;
	backend_sync(fx.be, 0);
	return backend_query(fx.be, &req);
}

/* Checks one answer against the brute force, link by link. */
static void
check_window(uint64_t t_lo, uint64_t t_hi)
{
	uint64_t want[SPANGEN_SERVICES][SPANGEN_SERVICES];
	Tracequery__V1__Response *r;
	size_t n_want = 0;

	brute_force(t_lo, t_hi, want);
	r = ask_deps(base_ns + t_lo * STEP_NS, base_ns + t_hi * STEP_NS);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->result_case,
	    TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES);
	assert_false(r->dependencies->truncated);
	assert_int_equal(r->dependencies->spans_read, t_lo >= TRACES ? 0 :
	    ((t_hi < TRACES ? t_hi : TRACES) - t_lo) * SPANGEN_PER_TRACE);
	for (int p = 0; p < SPANGEN_SERVICES; p++)
		for (int c = 0; c < SPANGEN_SERVICES; c++)
			n_want += want[p][c] != 0;
	assert_int_equal(r->dependencies->n_links, n_want);
	for (size_t i = 0; i < r->dependencies->n_links; i++) {
		const Tracequery__V1__DependencyLink *l =
		    r->dependencies->links[i];
		int p, c;

		assert_int_equal(sscanf(l->parent, "svc-%d", &p), 1);
		assert_int_equal(sscanf(l->child, "svc-%d", &c), 1);
		assert_int_equal(l->call_count, want[p][c]);
		if (i > 0) /* sorted by parent, then child */
			assert_true(strcmp(r->dependencies->links[i - 1]->parent,
			    l->parent) < 0 || strcmp(r->dependencies->links[i -
			    1]->child, l->child) < 0);
	}
	backend_response_free(r);
}

static void
test_deps_whole_store(void **state)
{
	(void)state;
	check_window(0, TRACES);
}

static void
test_deps_window_inside_minutes(void **state)
{
	(void)state;
	/* Edges that do not fall on minutes: spans outside do not count. */
	check_window(37, 151);
	check_window(90, 91);
}

static void
test_deps_empty_and_far_windows(void **state)
{
	Tracequery__V1__Response *r;

	(void)state;
	check_window(TRACES, TRACES + 100);
	/* A window reaching far into the future costs no minute-by-minute
	 * walk (empty minutes are skipped by one seek). */
	r = ask_deps(0, UINT64_MAX);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->dependencies->spans_read,
	    TRACES * SPANGEN_PER_TRACE);
	backend_response_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deps_whole_store),
		cmocka_unit_test(test_deps_window_inside_minutes),
		cmocka_unit_test(test_deps_empty_and_far_windows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
