/*
 * Tests for span limits (span.c): attribute count and value length, events
 * and links per span, attributes per event and link, the span buffer, and
 * key de-duplication (also between trace.h's literal-length macros and the
 * plain functions). Limits come from the OTel environment variables or
 * trace_config_set_limit; what is cut is counted in the exported span.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#define FX_SUITE
#include "libtrace_fixture.h"

static void
test_attr_count_from_env(void **state)
{
	char key[16];
	trace_span *s;
	const fx_span *p;

	(void)state;
	setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "50", 1);
	setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4", 1); /* wins */
	begin(fx_config(fx.url));
	unsetenv("OTEL_ATTRIBUTE_COUNT_LIMIT");
	unsetenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT");
	s = trace_span_start("count");
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "k%d", i);
		trace_span_set_int(s, key, i);
	}
	/* Replacing an existing key is not a new attribute. */
	trace_span_set_str(s, "k0", "replaced with a longer value");
	trace_span_set_int(s, "k1", 100);
	trace_span_end(s);
	p = flushed("count");
	assert_int_equal(p->n_attributes, 4);
	assert_int_equal(p->dropped_attributes_count, 6);
	assert_string_equal(fx_find_kv(p->attributes, 4, "k0")->value->string_value,
	    "replaced with a longer value");
	assert_int_equal(fx_find_kv(p->attributes, 4, "k1")->value->int_value, 100);
	assert_non_null(fx_find_kv(p->attributes, 4, "k3"));
	assert_null(fx_find_kv(p->attributes, 4, "k4"));
}

/* trace.h's macros hand the library the lengths of literal strings; the
 * functions (called through parenthesised names, or with strings known
 * only at run time) measure them. Both must record the same thing. */
static void
test_literal_and_runtime_strings(void **state)
{
	char key[64], value[64];
	const char *null_str = NULL;
	trace_span *s, *t;
	const fx_span *p;
	const char *long_key = "a.key.longer.than.thirty.two.bytes.for.the.slow.copy";

	(void)state;
	begin(fx_config(fx.url));
	s = trace_span_start("literal");
	t = (trace_span_start)("runtime");
	snprintf(key, sizeof key, "%s", "http.request.method");
	snprintf(value, sizeof value, "%s", "GET");
	trace_span_set_str(s, "http.request.method", "GET");
	(trace_span_set_str)(t, key, value);
	/* The same key through the other path replaces the value. */
	trace_span_set_str(s, "http.request.method", "POST");
	(trace_span_set_str)(s, key, "PUT");
	trace_span_set_str(t, "http.request.method", "DELETE");
	trace_span_set_int(s, "n", 7);
	(trace_span_set_int)(t, "n", 7);
	trace_span_set_double(s, "d", 0.5);
	(trace_span_set_double)(t, "d", 0.5);
	trace_span_set_bool(s, "b", true);
	(trace_span_set_bool)(t, "b", true);
	trace_span_set_str(s, "a.key.longer.than.thirty.two.bytes.for.the.slow.copy",
	    "and a value longer than thirty-two bytes as well");
	(trace_span_set_str)(t, long_key,
	    "and a value longer than thirty-two bytes as well");
	/* NULL keys and values are no-ops on both paths. */
	trace_span_set_str(s, NULL, "x");
	trace_span_set_str(s, "x", NULL);
	(trace_span_set_str)(t, null_str, "x");
	(trace_span_set_int)(t, null_str, 1);
	trace_span_end(t);
	trace_span_end(s);
	for (int i = 0; i < 2; i++) {
		p = flushed(i == 0 ? "literal" : "runtime");
		assert_int_equal(p->n_attributes, 5);
		assert_int_equal(p->dropped_attributes_count, 0);
		assert_string_equal(fx_find_kv(p->attributes, 5,
		    "http.request.method")->value->string_value,
		    i == 0 ? "PUT" : "DELETE");
		assert_int_equal(fx_find_kv(p->attributes, 5, "n")->value->int_value,
		    7);
		assert_true(fx_find_kv(p->attributes, 5, "d")->value->double_value ==
		    0.5);
		assert_true(fx_find_kv(p->attributes, 5, "b")->value->bool_value);
		assert_string_equal(fx_find_kv(p->attributes, 5,
		    long_key)->value->string_value,
		    "and a value longer than thirty-two bytes as well");
	}
}

static void
test_value_length(void **state)
{
	trace_attr ea = TRACE_ATTR_STR("e", "abcdefgh");
	trace_config *cfg = fx_config(fx.url);
	trace_span *s;
	const fx_span *p;

	(void)state;
	assert_int_equal(trace_config_set_limit(cfg, TRACE_LIMIT_ATTR_VALUE_LEN,
	    5), TRACE_OK);
	begin(cfg);
	s = trace_span_start("length");
	trace_span_set_str(s, "ascii", "abcdefgh");
	/* "héllo wörld": characters, not bytes, and never half of one. */
	trace_span_set_str(s, "utf8", "h\xc3\xa9llo w\xc3\xb6rld");
	trace_span_set_str(s, "short", "ab");
	trace_span_set_int(s, "int", 123456789); /* never cut */
	trace_span_add_event(s, "ev", &ea, 1);
	trace_span_end(s);
	p = flushed("length");
	assert_string_equal(fx_find_kv(p->attributes, p->n_attributes,
	    "ascii")->value->string_value, "abcde");
	assert_string_equal(fx_find_kv(p->attributes, p->n_attributes,
	    "utf8")->value->string_value, "h\xc3\xa9llo");
	assert_string_equal(fx_find_kv(p->attributes, p->n_attributes,
	    "short")->value->string_value, "ab");
	assert_int_equal(fx_find_kv(p->attributes, p->n_attributes,
	    "int")->value->int_value, 123456789);
	assert_string_equal(p->events[0]->attributes[0]->value->string_value,
	    "abcde");
	assert_int_equal(p->dropped_attributes_count, 0);
}

static void
test_events_and_links(void **state)
{
	trace_attr attrs[5] = {
		TRACE_ATTR_INT("a", 1), TRACE_ATTR_INT("b", 2),
		TRACE_ATTR_INT("c", 3), TRACE_ATTR_INT("d", 4),
		TRACE_ATTR_INT("e", 5),
	};
	trace_context ctx = {.flags = 1};
	trace_span *s;
	const fx_span *p;

	(void)state;
	setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "3", 1);
	setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "2", 1);
	setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "2", 1);
	setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "1", 1);
	begin(fx_config(fx.url));
	unsetenv("OTEL_SPAN_EVENT_COUNT_LIMIT");
	unsetenv("OTEL_SPAN_LINK_COUNT_LIMIT");
	unsetenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT");
	unsetenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT");
	memset(ctx.trace_id.bytes, 1, 16);
	memset(ctx.span_id.bytes, 2, 8);
	s = trace_span_start("events");
	for (int i = 0; i < 5; i++)
		trace_span_add_event(s, "ev", attrs, 5);
	for (int i = 0; i < 4; i++)
		trace_span_add_link(s, &ctx, attrs, 5);
	trace_span_end(s);
	p = flushed("events");
	assert_int_equal(p->n_events, 3);
	assert_int_equal(p->dropped_events_count, 2);
	assert_int_equal(p->events[0]->n_attributes, 2);
	assert_int_equal(p->events[0]->dropped_attributes_count, 3);
	assert_int_equal(p->n_links, 2);
	assert_int_equal(p->dropped_links_count, 2);
	assert_int_equal(p->links[1]->n_attributes, 1);
	assert_int_equal(p->links[1]->dropped_attributes_count, 4);
}

/* What does not fit in the span buffer is dropped and counted; the span
 * itself is still exported with its name and everything before. */
static void
test_span_buffer_full(void **state)
{
	trace_config *cfg = fx_config(fx.url);
	char big[200];
	char key[16];
	trace_span *s;
	const fx_span *p;

	(void)state;
	assert_int_equal(trace_config_set_span_buffer_bytes(cfg, 100),
	    TRACE_EINVAL);
	assert_int_equal(trace_config_set_span_buffer_bytes(cfg, 512),
	    TRACE_OK);
	begin(cfg);
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = trace_span_start("buffer");
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof key, "big%d", i);
		trace_span_set_str(s, key, big);
	}
	/* 16 (name) + 2 * 216 used: the other four do not fit. */
	trace_span_add_event(s, "fits", NULL, 0);     /* 32 more */
	trace_span_set_int(s, "small", 1);            /* 24 more: 504 */
	trace_span_add_event(s, "does not fit", NULL, 0);
	trace_span_end(s);
	p = flushed("buffer");
	assert_int_equal(p->n_attributes, 3);
	assert_int_equal(p->dropped_attributes_count, 4);
	assert_int_equal(p->n_events, 1);
	assert_string_equal(p->events[0]->name, "fits");
	assert_int_equal(p->dropped_events_count, 1);
	assert_non_null(fx_find_kv(p->attributes, 3, "small"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attr_count_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_literal_and_runtime_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span_buffer_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
