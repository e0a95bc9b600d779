/* Unit tests for tracecli's derived views, no curses: deep-tree gutter,
 * fitted tables, trace statistics, the diff of two traces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracecli_fixture.h"

/* Every row of a 40-deep chain in 30 columns: the prefix fits, a child is
 * never left of its parent inside a step, and the gutter counts the
 * hidden levels. */
static void
test_deep_tree_gutter(void **state)
{
	fx f = {0};
	model_trace m;
	char prefix[512];
	int prev_w = -1, prev_hidden = 0;

	(void)state;
	fx_chain(&f, 40);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	for (int k = 0; k < m.nspans; k++) {
		int i = m.rows[k];
		tree_prefix(&m, i, 30, true, prefix, sizeof prefix);
		int w = (int)strlen(prefix);
		int hidden = tree_hidden_levels(&m, m.spans[i].depth, 30);
		assert_true(w <= 30);
		if (hidden == prev_hidden && prev_w >= 0)
			assert_int_equal(w, prev_w + 3);
		if (hidden > 0) {
			char g[16];
			snprintf(g, sizeof g, "+%d", hidden);
			assert_memory_equal(prefix, g, strlen(g));
		} else {
			assert_memory_equal(prefix, "    ", 4);
		}
		assert_true(hidden >= prev_hidden);
		assert_int_equal(m.spans[i].depth - hidden,
		    (w - TREE_GUTTER) / 3);
		prev_w = w;
		prev_hidden = hidden;
	}
	/* A shallow tree has no gutter. */
	tree_prefix(&m, m.rows[1], 1000, true, prefix, sizeof prefix);
	assert_string_equal(prefix, "`- ");
	model_free(&m);
	fx_free(&f);
}

static void
test_table_fit(void **state)
{
	table_col c[] = {
		{"ID", 10, 0, 0, false, 0, 0, false},
		{"OPTIONAL", 4, 0, 1, false, 0, 0, false},
		{"ROOT", 6, 2, 0, false, 0, 0, false},
		{"REST", 4, 1, 0, false, 0, 0, false},
	};
	const char *row[] = {"0123456789", "xxxxxxxx",
		"frontend: GET /checkout", "cart,payments,frontend"};
	char *text = NULL;

	(void)state;
	table_measure(c, 4, row, SAN_ASCII);
	table_fit(c, 4, 200);
	assert_int_equal(c[2].w, 23);	/* room: everything whole */
	table_fit(c, 4, 60);
	assert_int_equal(c[2].w, 23);	/* REST gives way first */
	assert_true(c[3].w < 22);
	table_fit(c, 4, 28);
	assert_int_equal(c[1].w, 0);	/* dropped */
	assert_true(c[2].w >= 6);
	CAPTURE(text, table_row(f, c, 4, row, SAN_ASCII));
	assert_true(strlen(text) <= 29);
	free(text);
}

static void
test_trace_stats(void **state)
{
	fx f = {0};
	model_trace m;
	tstats ts;

	(void)state;
	fx_checkout(&f);
	assert_int_equal(model_build(&m, f.rs, f.n, SAN_UTF8), 0);
	tstats_build(&ts, &m);
	assert_int_equal(ts.nservices, 3);
	/* payments: POST /charge self 14 + db.query 60 + fraud.check 20 +
	 * retry.callback 5 = 99 ms, the most. */
	assert_string_equal(ts.services[0].total.name, "payments");
	assert_int_equal(ts.services[0].total.count, 4);
	assert_int_equal(ts.services[0].total.self_ns, 99 * FX_MS);
	assert_int_equal(ts.services[0].total.errors, 1);
	assert_string_equal(ts.services[0].ops[0].name, "db.query");
	assert_true(tstats_share(&ts, &ts.services[0].ops[0]) == 0.5);
	int spans = 0;
	for (int k = 0; k < ts.nservices; k++)
		spans += ts.services[k].total.count;
	assert_int_equal(spans, m.nspans);
	tstats_free(&ts);
	model_free(&m);
	fx_free(&f);
}

/* B: the checkout with db.query 40 ms longer, render gone and a new
 * span under cart.get. */
static void
fx_checkout_b(fx *f)
{
	fx_checkout(f);
	for (size_t r = 0; r < f->n; r++) {
		Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
		    f->rs[r]->scope_spans[0];
		for (size_t i = 0; i < ss->n_spans; i++) {
			if (strcmp(ss->spans[i]->name, "db.query") == 0)
				ss->spans[i]->end_time_unix_nano += 40 * FX_MS;
			if (strcmp(ss->spans[i]->name, "render") == 0) {
				free(ss->spans[i]->name);
				ss->spans[i]->name = strdup("render.v2");
			}
		}
	}
	fx_span(f->rs[1], 11, 2, "cache.miss", 6 * FX_MS, 1 * FX_MS);
}

static int
row_named(const trace_diff *d, const char *name)
{
	for (int i = 0; i < d->tree.nspans; i++)
		if (strcmp(d->tree.spans[i].name, name) == 0)
			return i;
	fail_msg("no row %s", name);
	return -1;
}

static void
test_diff(void **state)
{
	fx fa = {0}, fb = {0};
	model_trace a, b;
	trace_diff d;
	char *text = NULL;

	(void)state;
	fx_checkout(&fa);
	fx_checkout_b(&fb);
	assert_int_equal(model_build(&a, fa.rs, fa.n, SAN_UTF8), 0);
	assert_int_equal(model_build(&b, fb.rs, fb.n, SAN_UTF8), 0);
	diff_build(&d, &a, &b);
	assert_int_equal(d.count[DIFF_ADDED], 2);	/* render.v2, cache.miss */
	assert_int_equal(d.count[DIFF_MISSING], 1);	/* render */
	assert_int_equal(d.count[DIFF_SLOWER], 1);	/* db.query */
	assert_int_equal(d.count[DIFF_FASTER], 0);
	assert_int_equal(d.rows[row_named(&d, "db.query")].change, DIFF_SLOWER);
	assert_int_equal(d.rows[row_named(&d, "cache.miss")].change, DIFF_ADDED);
	assert_int_equal(d.tree.spans[row_named(&d, "cache.miss")].depth, 2);
	assert_int_equal(d.rows[row_named(&d, "GET /checkout")].change,
	    DIFF_SAME);
	plain_opts o = {100, true};
	CAPTURE(text, plain_diff(f, &d, &o));
	assert_non_null(strstr(text, "> |     `- db.query"));
	assert_non_null(strstr(text, "+40ms +67%"));
	assert_non_null(strstr(text, "2 added (+), 1 missing (-), 1 slower (>)"));
	free(text);
	diff_free(&d);
	/* A trace against itself: all the same. */
	diff_build(&d, &a, &a);
	assert_int_equal(d.count[DIFF_SAME], a.nspans);
	diff_free(&d);
	model_free(&a);
	model_free(&b);
	fx_free(&fa);
	fx_free(&fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep_tree_gutter),
		cmocka_unit_test(test_table_fit),
		cmocka_unit_test(test_trace_stats),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
