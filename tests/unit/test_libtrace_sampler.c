/*
 * Tests for the samplers (sampler.c) and what an unsampled span still does
 * (carry and propagate its context). Ratios are checked against binomial
 * bounds of 6.5 standard deviations: a correct sampler fails about once in
 * ten billion runs, a wrong ratio fails every time.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

static char url[128];

static void
init_sampler(const char *name, double ratio)
{
	trace_config *cfg;

	fx_url(url, sizeof url); /* nobody listens: export is not tested */
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	trace_config_set_endpoint(cfg, url);
	assert_int_equal(trace_config_set_sampler(cfg, name, ratio), TRACE_OK);
	trace_config_set_queue_size(cfg, 64);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
}

/* Starts n new roots; returns how many were sampled. */
static int
count_sampled(int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		trace_span *s = trace_span_start_opts("r",
		    &(trace_span_options){.new_root = true});

		assert_non_null(s);
		k += (s->flags & TRACE_FLAG_SAMPLED) != 0;
		assert_int_equal(trace_span_is_recording(s) ||
		    s->dropped, (s->flags & TRACE_FLAG_SAMPLED) != 0);
		trace_span_end(s);
	}
	return k;
}

static void
assert_ratio(int k, int n, double p)
{
	double sd = sqrt(n * p * (1 - p)), mean = n * p;

	assert_true(k >= mean - 6.5 * sd - 0.5);
	assert_true(k <= mean + 6.5 * sd + 0.5);
}

static void
test_always(void **state)
{
	(void)state;
	init_sampler("always_on", 1);
	assert_int_equal(count_sampled(1000), 1000);
	trace_shutdown(0);
	init_sampler("always_off", 1);
	assert_int_equal(count_sampled(1000), 0);
	trace_shutdown(0);
}

static void
test_ratio(void **state)
{
	static const double ps[] = {0.01, 0.25, 0.5, 0.9};

	(void)state;
	for (size_t i = 0; i < TRACE_ARRAY_LEN(ps); i++) {
		init_sampler("traceidratio", ps[i]);
		assert_ratio(count_sampled(20000), 20000, ps[i]);
		trace_shutdown(0);
	}
	init_sampler("traceidratio", 0.0);
	assert_int_equal(count_sampled(5000), 0);
	trace_shutdown(0);
	init_sampler("TraceIdRatio", 1.0);
	assert_int_equal(count_sampled(5000), 5000);
	trace_shutdown(0);
}

static trace_span *
child_of_remote(uint8_t flags, uint8_t tid_byte)
{
	trace_context rc = {.flags = flags, .is_remote = true};

	memset(rc.trace_id.bytes, tid_byte, 16);
	memset(rc.span_id.bytes, 0x33, 8);
	return trace_span_start_opts("c", &(trace_span_options){.remote = &rc});
}

static void
test_parent_based(void **state)
{
	trace_span *s, *c;

	(void)state;
	init_sampler("parentbased_always_off", 1);
	assert_int_equal(count_sampled(100), 0);
	s = child_of_remote(TRACE_FLAG_SAMPLED, 0x11);
	assert_true(trace_span_is_recording(s));
	c = trace_span_start("grandchild"); /* local sampled parent */
	assert_true(trace_span_is_recording(c));
	trace_span_end(c);
	trace_span_end(s);
	s = child_of_remote(0, 0x11);
	assert_false(trace_span_is_recording(s));
	trace_span_end(s);
	trace_shutdown(0);

	init_sampler("parentbased_always_on", 1);
	s = child_of_remote(0, 0x11);
	assert_false(trace_span_is_recording(s));
	c = trace_span_start("grandchild"); /* local unsampled parent */
	assert_false(trace_span_is_recording(c));
	trace_span_end(c);
	trace_span_end(s);
	trace_shutdown(0);

	init_sampler("parentbased_traceidratio", 0.0);
	assert_int_equal(count_sampled(100), 0);
	s = child_of_remote(TRACE_FLAG_SAMPLED, 0x11);
	assert_true(trace_span_is_recording(s));
	trace_span_end(s);
	trace_shutdown(0);
}

/* traceidratio decides on the trace ID alone: every span of a trace gets
 * the same decision, whatever its parent says. */
static void
test_ratio_consistent(void **state)
{
	(void)state;
	init_sampler("traceidratio", 0.5);
	for (int b = 1; b < 256; b += 17) { /* 0: an invalid context */
		trace_span *s1 = child_of_remote(TRACE_FLAG_SAMPLED, (uint8_t)b);
		trace_span *s2 = child_of_remote(0, (uint8_t)b);

		assert_int_equal(s1->flags & TRACE_FLAG_SAMPLED,
		    s2->flags & TRACE_FLAG_SAMPLED);
		/* 0x..80.. and above: the 56-bit value is >= half. */
		assert_int_equal((s1->flags & TRACE_FLAG_SAMPLED) != 0, b < 0x80);
		trace_span_end(s2);
		trace_span_end(s1);
	}
	trace_shutdown(0);
}

static void
test_unsampled_carries_context(void **state)
{
	trace_context rc = {.flags = TRACE_FLAG_RANDOM, .is_remote = true};
	trace_context got;
	trace_stats_t st;
	trace_span *s, *c;

	(void)state;
	init_sampler("parentbased_always_on", 1);
	memset(rc.trace_id.bytes, 0x42, 16);
	memset(rc.span_id.bytes, 0x24, 8);
	strcpy(rc.tracestate, "a=1,b=2");
	s = trace_span_start_opts("unsampled", &(trace_span_options){
	    .remote = &rc});
	assert_non_null(s);
	assert_false(trace_span_is_recording(s));
	assert_ptr_equal(trace_current_span(), s);
	trace_span_set_str(s, "ignored", "x");
	c = trace_span_start("unsampled.child");
	trace_span_get_context(c, &got);
	assert_memory_equal(got.trace_id.bytes, rc.trace_id.bytes, 16);
	assert_memory_not_equal(got.span_id.bytes, rc.span_id.bytes, 8);
	assert_memory_not_equal(got.span_id.bytes, s->span_id.bytes, 8);
	assert_int_equal(got.flags, TRACE_FLAG_RANDOM);
	assert_string_equal(got.tracestate, "a=1,b=2");
	trace_span_end(c);
	trace_span_end(s);
	assert_null(trace_current_span());
	trace_stats(&st);
	assert_int_equal(st.spans_started, 2);
	assert_int_equal(st.spans_sampled_out, 2);
	assert_int_equal(st.spans_ended, 0);
	trace_shutdown(0);
}

static void
test_sampler_from_env(void **state)
{
	(void)state;
	fx_url(url, sizeof url);
	setenv("TRACE_ENDPOINT", url, 1);
	setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
	setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
	assert_int_equal(trace_init(NULL), TRACE_OK);
	assert_ratio(count_sampled(20000), 20000, 0.5);
	trace_shutdown(0);
	/* An invalid argument is ignored (ratio stays 1.0). */
	setenv("OTEL_TRACES_SAMPLER_ARG", "1.5", 1);
	assert_int_equal(trace_init(NULL), TRACE_OK);
	assert_int_equal(count_sampled(1000), 1000);
	trace_shutdown(0);
	/* An unknown sampler is ignored (default parentbased_always_on). */
	setenv("OTEL_TRACES_SAMPLER", "jaeger_remote", 1);
	assert_int_equal(trace_init(NULL), TRACE_OK);
	assert_int_equal(count_sampled(1000), 1000);
	trace_shutdown(0);
	unsetenv("OTEL_TRACES_SAMPLER");
	unsetenv("OTEL_TRACES_SAMPLER_ARG");
	unsetenv("TRACE_ENDPOINT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_always),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_parent_based),
		cmocka_unit_test(test_ratio_consistent),
		cmocka_unit_test(test_unsampled_carries_context),
		cmocka_unit_test(test_sampler_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
