/* Unit tests for tracecli's model: tree, flags, self time, critical path,
 * collapse and rows, search, axis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracecli_fixture.h"

/* Span index of the span with id v. */
static int
idx(const model_trace *m, uint64_t v)
{
	for (int i = 0; i < m->nspans; i++) {
		uint64_t id = 0;
		for (int k = 0; k < 8; k++)
			id = id << 8 | m->spans[i].span_id[k];
		if (id == v)
			return i;
	}
	fail_msg("no span %llu", (unsigned long long)v);
	return -1;
}

static void
test_build_tree(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_int_equal(m.nspans, 10);
	assert_string_equal(m.trace_hex, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_int_equal(m.nroots, 2);
	assert_int_equal(m.roots[0], idx(&m, 1));
	assert_int_equal(m.roots[1], idx(&m, 10));
	assert_int_equal(m.nservices, 3);
	assert_int_equal(m.nerrors, 1);
	assert_int_equal(m.nskew, 1);
	assert_int_equal(m.norphans, 1);
	assert_int_equal(m.max_depth, 3);
	assert_true(m.spans[idx(&m, 6)].flags & MSPAN_ERROR);
	assert_true(m.spans[idx(&m, 8)].flags & MSPAN_SKEW);
	assert_true(m.spans[idx(&m, 10)].flags & MSPAN_ORPHAN);
	assert_false(m.spans[idx(&m, 7)].flags & (MSPAN_SKEW | MSPAN_ORPHAN));
	/* Children are ordered by start: fraud.check (20ms) before db.query. */
	assert_int_equal(m.spans[idx(&m, 6)].first_child, idx(&m, 8));
	assert_int_equal(m.spans[idx(&m, 8)].next_sibling, idx(&m, 7));
	assert_int_equal(m.spans[idx(&m, 1)].nchildren, 3);
	/* Skewed times are kept, never moved. */
	assert_int_equal(m.spans[idx(&m, 8)].start_ns, FX_T0 + 20 * FX_MS);
	/* Rows in tree order. */
	static const uint64_t order[] = {1, 2, 3, 4, 5, 6, 8, 7, 9, 10};
	assert_int_equal(m.nrows, 10);
	for (int r = 0; r < 10; r++)
		assert_int_equal(m.rows[r], idx(&m, order[r]));
	model_free(&m);
	fx_free(&f);
}

static void
test_self_time(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	/* 120 - (15 + 80 + 13) */
	assert_int_equal(m.spans[idx(&m, 1)].self_ns, 12 * FX_MS);
	/* 77 - union(27..40 clipped, 30..90) = 77 - 63 */
	assert_int_equal(m.spans[idx(&m, 6)].self_ns, 14 * FX_MS);
	assert_int_equal(m.spans[idx(&m, 7)].self_ns, 60 * FX_MS);
	assert_int_equal(model_slowest(&m), idx(&m, 7));
	model_free(&m);
	fx_free(&f);
}

static void
test_critical_path(void **state)
{
	fx f = {0};
	model_trace m;
	pb_span *s;

	(void)state;
	/* root 0-100; a 0-30 and b 10-90 overlap, c 20-40 inside b's time:
	 * the path is root -> b -> ... and a only before b started. */
	pb_resource_spans *rs = fx_resource(&f, "svc");
	fx_span(rs, 1, 0, "root", 0, 100 * FX_MS);
	fx_span(rs, 2, 1, "a", 0, 30 * FX_MS);
	fx_span(rs, 3, 1, "b", 10 * FX_MS, 80 * FX_MS);
	fx_span(rs, 4, 1, "c", 20 * FX_MS, 20 * FX_MS);
	s = fx_span(rs, 5, 3, "b.child", 50 * FX_MS, 30 * FX_MS);
	(void)s;
	fx_span(rs, 6, 3, "b.early", 12 * FX_MS, 5 * FX_MS);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_true(m.spans[idx(&m, 1)].flags & MSPAN_CRIT);
	assert_true(m.spans[idx(&m, 3)].flags & MSPAN_CRIT);
	assert_true(m.spans[idx(&m, 2)].flags & MSPAN_CRIT);	/* before b */
	assert_false(m.spans[idx(&m, 4)].flags & MSPAN_CRIT);	/* under b */
	assert_true(m.spans[idx(&m, 5)].flags & MSPAN_CRIT);
	assert_true(m.spans[idx(&m, 6)].flags & MSPAN_CRIT);
	model_free(&m);
	fx_free(&f);

	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_true(m.spans[idx(&m, 7)].flags & MSPAN_CRIT);
	assert_false(m.spans[idx(&m, 10)].flags & MSPAN_CRIT);	/* orphan */
	model_free(&m);
	fx_free(&f);
}

static void
test_collapse_and_reveal(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	model_set_collapsed(&m, idx(&m, 1), true, false);
	model_layout(&m);
	assert_int_equal(m.nrows, 2);
	model_set_collapsed(&m, idx(&m, 1), false, false);
	model_layout(&m);
	assert_int_equal(m.nrows, 10);
	model_set_collapsed(&m, idx(&m, 5), true, true);
	model_layout(&m);
	assert_int_equal(m.nrows, 7);
	assert_true(m.spans[idx(&m, 6)].flags & MSPAN_COLLAPSED);
	model_collapse_all(&m);
	assert_int_equal(m.nrows, 2);
	/* Revealing a deep span expands just its ancestors. */
	assert_int_equal(model_reveal(&m, idx(&m, 4)), 3);
	assert_int_equal(m.nrows, 7);
	model_expand_all(&m);
	assert_int_equal(m.nrows, 10);
	model_free(&m);
	fx_free(&f);
}

static void
test_collapse_big(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	pb_resource_spans *rs = fx_resource(&f, "svc");
	fx_span(rs, 1, 0, "root", 0, 1000 * FX_MS);
	for (uint64_t c = 0; c < 20; c++) {
		fx_span(rs, 100 + c, 1, "mid", c * FX_MS, 10 * FX_MS);
		for (uint64_t g = 0; g < 50; g++)
			fx_span(rs, 10000 + c * 100 + g, 100 + c, "leaf", c * FX_MS,
			    FX_MS);
	}
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_int_equal(m.nspans, 1021);
	model_collapse_big(&m, 400);
	assert_int_equal(m.nrows, 21);
	model_free(&m);
	fx_free(&f);
}

static void
test_next_error_and_search(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_int_equal(model_next_flag(&m, idx(&m, 1), 1, MSPAN_ERROR),
	    idx(&m, 6));
	assert_int_equal(model_next_flag(&m, idx(&m, 6), 1, MSPAN_ERROR),
	    idx(&m, 6));	/* wraps to itself */
	assert_int_equal(model_next_flag(&m, idx(&m, 1), 1, MSPAN_SKEW),
	    idx(&m, 8));
	assert_int_equal(model_search(&m, "REDIS"), 1);
	assert_true(m.spans[idx(&m, 4)].flags & MSPAN_MATCH);
	assert_int_equal(model_search(&m, "cart:42"), 1);	/* attribute value */
	assert_int_equal(model_search(&m, "declined"), 1);	/* status message */
	assert_int_equal(model_search(&m, "payments"), 4);	/* service */
	assert_int_equal(model_next_flag(&m, idx(&m, 10), 1, MSPAN_MATCH),
	    idx(&m, 6));
	assert_int_equal(model_next_flag(&m, idx(&m, 6), -1, MSPAN_MATCH),
	    idx(&m, 10));
	assert_int_equal(model_search(&m, ""), 0);
	assert_false(m.spans[idx(&m, 6)].flags & MSPAN_MATCH);
	model_free(&m);
	fx_free(&f);
}

static void
test_cycles_and_duplicates(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	pb_resource_spans *rs = fx_resource(&f, "svc");
	fx_span(rs, 1, 2, "a", 0, 10 * FX_MS);	/* a <-> b: a cycle */
	fx_span(rs, 2, 1, "b", 1 * FX_MS, 5 * FX_MS);
	fx_span(rs, 3, 3, "self", 2 * FX_MS, 1 * FX_MS);	/* own parent */
	fx_span(rs, 4, 0, "dup", 0, FX_MS);
	fx_span(rs, 4, 0, "dup", 0, FX_MS);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_int_equal(m.nrows, 5);	/* every span reachable */
	assert_true(m.spans[4].flags & MSPAN_DUP);
	assert_true(m.spans[2].flags & MSPAN_ORPHAN);
	int orphans = 0;
	for (int i = 0; i < 2; i++)
		orphans += (m.spans[i].flags & MSPAN_ORPHAN) != 0;
	assert_int_equal(orphans, 1);
	model_free(&m);
	fx_free(&f);
}

static void
test_empty_and_bad_spans(void **state)
{
	fx f = {0};
	model_trace m;

	(void)state;
	assert_int_equal(model_build(&m, NULL, 0, SAN_UTF8), -1);
	model_free(&m);
	pb_resource_spans *rs = fx_resource(&f, "svc");
	pb_span *s = fx_span(rs, 1, 0, "short id", 0, FX_MS);
	s->span_id.len = 3;
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), -1);
	model_free(&m);
	/* end before start is clamped to a zero-length span. */
	s->span_id.len = 8;
	s->end_time_unix_nano = s->start_time_unix_nano - 5;
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	assert_int_equal(m.spans[0].dur_ns, 0);
	model_free(&m);
	fx_free(&f);
}

static void
test_axis(void **state)
{
	axis a = {0, 120 * FX_MS, 60};
	char ticks[128];
	int c0, c1;

	(void)state;
	axis_ticks(&a, ticks, sizeof ticks);
	assert_int_equal(strlen(ticks), 60);
	assert_true(strncmp(ticks, "0 ", 2) == 0);
	assert_non_null(strstr(ticks, "50ms"));
	assert_non_null(strstr(ticks, "100ms"));
	axis_cells(&a, 0, 120 * FX_MS, &c0, &c1);
	assert_int_equal(c0, 0);
	assert_int_equal(c1, 60);
	axis_cells(&a, 60 * FX_MS, 60 * FX_MS, &c0, &c1);	/* 0-length */
	assert_int_equal(c0, 30);
	assert_int_equal(c1, 31);
	axis_cells(&a, 200 * FX_MS, 300 * FX_MS, &c0, &c1);	/* outside */
	assert_int_equal(c0, -1);
	axis b = {0, 1500, 40};	/* ns-scale trace */
	axis_ticks(&b, ticks, sizeof ticks);
	assert_non_null(strstr(ticks, "1us"));
	assert_non_null(strstr(ticks, "500ns"));
}

static void
test_service_color_stable(void **state)
{
	(void)state;
	assert_int_equal(service_color("frontend", 8), service_color("frontend",
	    8));
	assert_true(service_color("frontend", 8) < 8);
	/* FNV-1a of "frontend" is fixed: the colour never changes by run. */
	assert_int_equal(service_color("frontend", 1000003),
	    service_color("frontend", 1000003));
	assert_string_equal(kind_name(2), "server");
	assert_string_equal(kind_name(42), "unknown");
	assert_string_equal(status_name(2), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_tree),
		cmocka_unit_test(test_self_time),
		cmocka_unit_test(test_critical_path),
		cmocka_unit_test(test_collapse_and_reveal),
		cmocka_unit_test(test_collapse_big),
		cmocka_unit_test(test_next_error_and_search),
		cmocka_unit_test(test_cycles_and_duplicates),
		cmocka_unit_test(test_empty_and_bad_spans),
		cmocka_unit_test(test_axis),
		cmocka_unit_test(test_service_color_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
