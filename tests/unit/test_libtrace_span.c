/*
 * Tests for the span API (span.c, tracer.c, ids.c, errors.c): lifecycle
 * no-ops, parents and the current span, options, status rules, IDs and
 * flags, the scoped-span macro.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

static struct fake fx;

static int
start(void **state)
{
	trace_config *cfg;
	int rv;

	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	if (fx_start(&fx) != 0)
		return -1;
	cfg = fx_config(fx.url);
	rv = trace_init(cfg);
	trace_config_free(cfg);
	return rv == TRACE_OK ? 0 : -1;
}

static int
stop(void **state)
{
	(void)state;
	trace_shutdown(2000);
	fx_free(&fx);
	return 0;
}

static void
test_noop_before_init(void **state)
{
	trace_context ctx;
	trace_stats_t st;
	trace_span *s;

	(void)state;
	assert_false(trace_is_running());
	s = trace_span_start("nothing");
	assert_null(s);
	/* Every span function accepts NULL. */
	trace_span_set_str(NULL, "k", "v");
	trace_span_set_int(NULL, "k", 1);
	trace_span_set_double(NULL, "k", 1.0);
	trace_span_set_bool(NULL, "k", true);
	trace_span_add_event(NULL, "e", NULL, 0);
	trace_span_add_link(NULL, NULL, NULL, 0);
	trace_span_record_exception(NULL, "t", "m");
	trace_span_set_status(NULL, TRACE_STATUS_ERROR, "m");
	trace_span_set_name(NULL, "n");
	trace_span_end(NULL);
	assert_false(trace_span_is_recording(NULL));
	assert_int_equal(trace_span_get_context(NULL, &ctx), TRACE_EINVAL);
	assert_int_equal(ctx.flags, 0);
	assert_null(trace_current_span());
	assert_int_equal(trace_shutdown(0), TRACE_ECLOSED);
	assert_int_equal(trace_flush(0), TRACE_ECLOSED);
	trace_stats(&st);
	trace_stats(NULL);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(trace_strerror(TRACE_OK), "success");
	assert_string_equal(trace_strerror(TRACE_EFULL), "export queue full");
	assert_string_equal(trace_strerror(TRACE_EBUSY), "already initialised");
	assert_string_equal(trace_strerror(-1), "unknown error");
	assert_string_equal(trace_strerror(9999), "unknown error");
}

static void
test_init_twice_and_disabled(void **state)
{
	trace_config *cfg;

	(void)state;
	assert_int_equal(start(NULL), 0);
	assert_true(trace_is_running());
	assert_int_equal(trace_init(NULL), TRACE_EBUSY);
	/* Deliver one span first: NNG 1.5.2 can leak a dialer's pipe when
	 * its socket closes while the connection is still being made. */
	trace_span_end(trace_span_start("connected"));
	assert_int_equal(trace_flush(5000), TRACE_OK);
	assert_int_equal(stop(NULL), 0);
	assert_false(trace_is_running());

	setenv("OTEL_SDK_DISABLED", "TRUE", 1);
	assert_int_equal(trace_init(NULL), TRACE_EDISABLED);
	unsetenv("OTEL_SDK_DISABLED");
	assert_null(trace_span_start("off"));
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	trace_config_set_disabled(cfg, true);
	assert_int_equal(trace_init(cfg), TRACE_EDISABLED);
	trace_config_set_disabled(cfg, false);
	trace_config_set_endpoint(cfg, "nonsense://x");
	assert_int_equal(trace_init(cfg), TRACE_EINVAL);
	assert_false(trace_is_running());
	trace_config_free(cfg);
}

static void
test_current_span_nesting(void **state)
{
	trace_context a, b, c;
	trace_span *s1, *s2, *s3;

	(void)state;
	s1 = trace_span_start("outer");
	assert_ptr_equal(trace_current_span(), s1);
	s2 = trace_span_start("middle");
	assert_ptr_equal(trace_current_span(), s2);
	s3 = trace_span_start("inner");
	trace_span_get_context(s1, &a);
	trace_span_get_context(s2, &b);
	trace_span_get_context(s3, &c);
	assert_memory_equal(&a.trace_id, &b.trace_id, 16);
	assert_memory_equal(&a.trace_id, &c.trace_id, 16);
	assert_memory_not_equal(&a.span_id, &b.span_id, 8);
	assert_memory_equal(s3->parent_id.bytes, b.span_id.bytes, 8);
	assert_memory_equal(s2->parent_id.bytes, a.span_id.bytes, 8);
	assert_false(s1->has_parent);
	/* Out-of-order end: the middle span leaves the chain. */
	trace_span_end(s2);
	assert_ptr_equal(trace_current_span(), s3);
	trace_span_end(s3);
	assert_ptr_equal(trace_current_span(), s1);
	trace_span_end(s1);
	assert_null(trace_current_span());
}

static void
test_options(void **state)
{
	trace_span_options o = {0};
	trace_span *root, *child, *det, *fresh;
	trace_context rc = {0}, ctx;

	(void)state;
	root = trace_span_start("root");
	o.detached = true;
	det = trace_span_start_opts("detached", &o);
	assert_ptr_equal(trace_current_span(), root);
	assert_memory_equal(det->parent_id.bytes, root->span_id.bytes, 8);
	o.detached = false;
	o.new_root = true;
	fresh = trace_span_start_opts("fresh", &o);
	assert_false(fresh->has_parent);
	assert_memory_not_equal(fresh->trace_id.bytes, root->trace_id.bytes, 16);
	trace_span_end(fresh);
	/* Explicit parent wins over the current span. */
	o.new_root = false;
	o.parent = det;
	child = trace_span_start_opts("child-of-detached", &o);
	assert_memory_equal(child->parent_id.bytes, det->span_id.bytes, 8);
	trace_span_end(child);
	/* An invalid remote context is ignored (current span is used). */
	o.parent = NULL;
	o.remote = &rc;
	child = trace_span_start_opts("remote-invalid", &o);
	assert_memory_equal(child->parent_id.bytes, root->span_id.bytes, 8);
	assert_false(child->parent_remote);
	trace_span_end(child);
	/* A valid remote context wins over everything. */
	memset(rc.trace_id.bytes, 7, 16);
	memset(rc.span_id.bytes, 9, 8);
	rc.flags = TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM;
	o.parent = det;
	child = trace_span_start_opts("remote", &o);
	assert_memory_equal(child->trace_id.bytes, rc.trace_id.bytes, 16);
	assert_true(child->parent_remote);
	trace_span_get_context(child, &ctx);
	assert_int_equal(ctx.flags, TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM);
	assert_false(ctx.is_remote);
	trace_span_end(child);
	/* Explicit start time and end time. */
	o = (trace_span_options){.start_unix_ns = 1000, .new_root = true};
	child = trace_span_start_opts("timed", &o);
	assert_int_equal(((struct trace__rec *)child)->start_ns, 1000);
	trace_span_end_at(child, 5000);
	trace_span_end(det);
	trace_span_end(root);
	assert_null(trace_current_span());
	assert_int_equal(trace_flush(5000), TRACE_OK);
	assert_int_equal(fx_find_span(&fx, "timed")->end_time_unix_nano, 5000);
	assert_int_equal(fx_find_span(&fx, "timed")->start_time_unix_nano, 1000);
}

static void
test_status_rules(void **state)
{
	trace_span *s;
	const fx_span *p;

	(void)state;
	s = trace_span_start("status.error-then-error");
	trace_span_set_status(s, TRACE_STATUS_ERROR, "first");
	trace_span_set_status(s, TRACE_STATUS_UNSET, NULL);
	trace_span_set_status(s, TRACE_STATUS_ERROR, "second");
	trace_span_end(s);
	s = trace_span_start("status.ok-wins");
	trace_span_set_status(s, TRACE_STATUS_ERROR, "bad");
	trace_span_set_status(s, TRACE_STATUS_OK, "ignored");
	trace_span_set_status(s, TRACE_STATUS_ERROR, "too late");
	trace_span_end(s);
	s = trace_span_start("status.renamed-from");
	trace_span_set_name(s, "status.renamed");
	trace_span_record_exception(s, "Timeout", NULL);
	trace_span_end(s);
	assert_int_equal(trace_flush(5000), TRACE_OK);
	p = fx_find_span(&fx, "status.error-then-error");
	assert_int_equal(p->status->code, 2);
	assert_string_equal(p->status->message, "second");
	p = fx_find_span(&fx, "status.ok-wins");
	assert_int_equal(p->status->code, 1);
	assert_string_equal(p->status->message, "");
	p = fx_find_span(&fx, "status.renamed");
	assert_non_null(p);
	assert_null(fx_find_span(&fx, "status.renamed-from"));
	assert_int_equal(p->status->code, 2);
	assert_string_equal(p->status->message, "Timeout");
	assert_int_equal(p->n_events, 1);
	assert_int_equal(p->events[0]->n_attributes, 1);
	assert_string_equal(p->events[0]->attributes[0]->key, "exception.type");
}

static void
scoped(int *ended_before)
{
	TRACE_SCOPED_SPAN(s, "scoped");
	trace_stats_t st;

	trace_stats(&st);
	*ended_before = (int)st.spans_ended;
	assert_ptr_equal(trace_current_span(), s);
}

static void
test_scoped_span(void **state)
{
	trace_stats_t st;
	int before;

	(void)state;
	scoped(&before);
	trace_stats(&st);
	assert_int_equal(st.spans_ended, (uint64_t)before + 1);
	assert_null(trace_current_span());
	for (int i = 0; i < 3; i++) {
		TRACE_SCOPED_SPAN(loop, "scoped.loop");
		(void)loop;
		if (i == 1)
			break;
	}
	trace_stats(&st);
	assert_int_equal(st.spans_ended, (uint64_t)before + 3);
}

static void
test_ids_random_nonzero(void **state)
{
	static const uint8_t zero[16];
	trace_trace_id seen[64];

	(void)state;
	for (int i = 0; i < 64; i++) {
		trace_span *s = trace_span_start_opts("id",
		    &(trace_span_options){.new_root = true});

		assert_memory_not_equal(s->trace_id.bytes, zero, 16);
		assert_memory_not_equal(s->span_id.bytes, zero, 8);
		assert_true(s->flags & TRACE_FLAG_RANDOM);
		assert_true(s->flags & TRACE_FLAG_SAMPLED);
		seen[i] = s->trace_id;
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(&seen[j], &seen[i], 16);
		trace_span_end(s);
	}
}

static void
test_after_shutdown(void **state)
{
	trace_stats_t st;
	trace_span *open, *light;

	(void)state;
	assert_int_equal(start(NULL), 0);
	/* Connected first (the NNG 1.5.2 leak of a pipe still connecting). */
	trace_span_end(trace_span_start("connected"));
	assert_int_equal(trace_flush(5000), TRACE_OK);
	open = trace_span_start("open-at-shutdown");
	trace_span_set_int(open, "k", 1);
	light = trace_span_start_opts("light", &(trace_span_options){
	    .detached = true});
	assert_int_equal(trace_shutdown(2000), TRACE_OK);
	assert_null(trace_span_start("late"));
	/* Calls on spans of a stopped tracer are safe no-ops. */
	trace_span_set_str(open, "k2", "v");
	trace_span_end(open);
	trace_span_end(light);
	trace_stats(&st);
	assert_int_equal(st.spans_ended, 3);
	assert_int_equal(st.spans_exported, 1);
	assert_int_equal(st.spans_dropped_shutdown, 2);
	assert_true(fx_stats_add_up(&st));
	fx_free(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_before_init),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_init_twice_and_disabled),
		cmocka_unit_test_setup_teardown(test_current_span_nesting, start, stop),
		cmocka_unit_test_setup_teardown(test_options, start, stop),
		cmocka_unit_test_setup_teardown(test_status_rules, start, stop),
		cmocka_unit_test_setup_teardown(test_scoped_span, start, stop),
		cmocka_unit_test_setup_teardown(test_ids_random_nonzero, start, stop),
		cmocka_unit_test(test_after_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
