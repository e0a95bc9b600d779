/*
 * Tests for array attributes (trace_span_set_*_array): spans travel
 * through the real exporter to the fake collector, which decodes them with
 * protobuf-c's generated code; each array must come back element by
 * element. Also the limits (an array is one attribute, string elements are
 * cut, an array that does not fit is dropped whole and counted), key
 * replacement between arrays and scalars, and the no-op cases.
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

typedef Opentelemetry__Proto__Common__V1__AnyValue fx_any;
#define ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x


/* The array attribute key of p with n elements, each of type `type`. */
static fx_any *const *
array_of(const fx_span *p, const char *key, size_t n, int type)
{
	const fx_kv *kv = fx_find_kv(p->attributes, p->n_attributes, key);

	assert_non_null(kv);
	assert_int_equal(kv->value->value_case, ANY(ARRAY_VALUE));
	assert_non_null(kv->value->array_value);
	assert_int_equal(kv->value->array_value->n_values, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kv->value->array_value->values[i]->value_case,
		    type);
	return kv->value->array_value->values;
}

static void
test_round_trip(void **state)
{
	const char *strs[] = {"GET", "", NULL, "h\xc3\xa9llo",
	    "a string longer than thirty-two bytes, to be sure"};
	int64_t ints[] = {0, 1, -1, INT64_MAX, INT64_MIN, 300};
	double dbls[] = {0.0, -2.5, 1e300};
	bool bools[] = {true, false, true};
	fx_any *const *v;
	trace_span *s;
	const fx_span *p;

	(void)state;
	begin(fx_config(fx.url));
	s = trace_span_start("arrays");
	trace_span_set_str(s, "before", "scalar");
	trace_span_set_str_array(s, "strs", strs, 5);
	trace_span_set_int_array(s, "ints", ints, 6);
	trace_span_set_double_array(s, "dbls", dbls, 3);
	trace_span_set_bool_array(s, "bools", bools, 3);
	trace_span_set_int_array(s, "empty", NULL, 0);
	trace_span_set_str_array(s, "empty.str", strs, 0);
	trace_span_set_int(s, "after", 7);
	trace_span_end(s);
	p = flushed("arrays");
	assert_int_equal(p->n_attributes, 8);
	assert_int_equal(p->dropped_attributes_count, 0);
	v = array_of(p, "strs", 5, ANY(STRING_VALUE));
	assert_string_equal(v[0]->string_value, "GET");
	assert_string_equal(v[1]->string_value, "");
	assert_string_equal(v[2]->string_value, ""); /* NULL element */
	assert_string_equal(v[3]->string_value, "h\xc3\xa9llo");
	assert_string_equal(v[4]->string_value, strs[4]);
	v = array_of(p, "ints", 6, ANY(INT_VALUE));
	for (size_t i = 0; i < 6; i++)
		assert_true(v[i]->int_value == ints[i]);
	v = array_of(p, "dbls", 3, ANY(DOUBLE_VALUE));
	for (size_t i = 0; i < 3; i++)
		assert_true(v[i]->double_value == dbls[i]);
	v = array_of(p, "bools", 3, ANY(BOOL_VALUE));
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(v[i]->bool_value, bools[i]);
	array_of(p, "empty", 0, 0);
	array_of(p, "empty.str", 0, 0);
	assert_string_equal(fx_find_kv(p->attributes, 8,
	    "before")->value->string_value, "scalar");
	assert_int_equal(fx_find_kv(p->attributes, 8, "after")->value->int_value,
	    7);
}

/* A key set twice keeps the last value, between arrays and scalars too,
 * with the same size (in place) or not (the old entry is retired). */
static void
test_replace(void **state)
{
	int64_t one[] = {5}, three[] = {1, 2, 3};
	const char *strs[] = {"x", "y"};
	fx_any *const *v;
	trace_span *s;
	const fx_span *p;

	(void)state;
	begin(fx_config(fx.url));
	s = trace_span_start("replace");
	trace_span_set_int_array(s, "a", three, 3);
	trace_span_set_int_array(s, "a", one, 1);      /* smaller: retired */
	trace_span_set_int(s, "b", 9);
	trace_span_set_int_array(s, "b", one, 1);      /* same size: in place */
	trace_span_set_str_array(s, "c", strs, 2);
	trace_span_set_str(s, "c", "scalar again");
	trace_span_set_bool_array(s, "d", (bool[]){true, true}, 2);
	trace_span_set_bool_array(s, "d", (bool[]){false, true}, 2);
	trace_span_end(s);
	p = flushed("replace");
	assert_int_equal(p->n_attributes, 4);
	assert_int_equal(p->dropped_attributes_count, 0);
	v = array_of(p, "a", 1, ANY(INT_VALUE));
	assert_int_equal(v[0]->int_value, 5);
	v = array_of(p, "b", 1, ANY(INT_VALUE));
	assert_int_equal(v[0]->int_value, 5);
	assert_string_equal(fx_find_kv(p->attributes, 4,
	    "c")->value->string_value, "scalar again");
	v = array_of(p, "d", 2, ANY(BOOL_VALUE));
	assert_false(v[0]->bool_value);
	assert_true(v[1]->bool_value);
}

/* OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT counts an array once, whatever its
 * length; the value-length limit cuts each string element. */
static void
test_limits(void **state)
{
	const char *strs[] = {"abcdefgh", "h\xc3\xa9llo w\xc3\xb6rld", "ab",
	    NULL};
	int64_t many[40] = {0};
	trace_config *cfg = fx_config(fx.url);
	fx_any *const *v;
	trace_span *s;
	const fx_span *p;

	(void)state;
	assert_int_equal(trace_config_set_limit(cfg, TRACE_LIMIT_ATTR_COUNT, 3),
	    TRACE_OK);
	assert_int_equal(trace_config_set_limit(cfg, TRACE_LIMIT_ATTR_VALUE_LEN,
	    5), TRACE_OK);
	begin(cfg);
	s = trace_span_start("limits");
	trace_span_set_int_array(s, "many", many, 40);
	trace_span_set_str_array(s, "strs", strs, 4);
	trace_span_set_int(s, "third", 3);
	trace_span_set_int_array(s, "fourth", many, 1); /* over the limit */
	trace_span_set_int(s, "fifth", 5);
	trace_span_end(s);
	p = flushed("limits");
	assert_int_equal(p->n_attributes, 3);
	assert_int_equal(p->dropped_attributes_count, 2);
	array_of(p, "many", 40, ANY(INT_VALUE));
	v = array_of(p, "strs", 4, ANY(STRING_VALUE));
	assert_string_equal(v[0]->string_value, "abcde");
	assert_string_equal(v[1]->string_value, "h\xc3\xa9llo");
	assert_string_equal(v[2]->string_value, "ab");
	assert_string_equal(v[3]->string_value, "");
	assert_null(fx_find_kv(p->attributes, 3, "fourth"));
}

/* An array that does not fit whole in the span buffer is dropped whole
 * and counted; what fits afterwards is still kept. A huge n is refused
 * without reading the values (ASan would see it). */
static void
test_buffer_full(void **state)
{
	trace_config *cfg = fx_config(fx.url);
	int64_t big[100] = {0}, one = 1;
	const char *strs[40];
	char s300[301];
	trace_span *s;
	const fx_span *p;

	(void)state;
	assert_int_equal(trace_config_set_span_buffer_bytes(cfg, 512),
	    TRACE_OK);
	begin(cfg);
	memset(s300, 's', 300);
	s300[300] = '\0';
	for (size_t i = 0; i < 40; i++)
		strs[i] = s300;
	s = trace_span_start("full");
	trace_span_set_int_array(s, "big", big, 100);      /* 800 bytes */
	trace_span_set_str_array(s, "strs", strs, 40);     /* 12 KB */
	trace_span_set_int_array(s, "huge", &one, SIZE_MAX / 8);
	trace_span_set_double_array(s, "fits", (double[]){1.5, 2.5}, 2);
	trace_span_end(s);
	p = flushed("full");
	assert_int_equal(p->n_attributes, 1);
	assert_int_equal(p->dropped_attributes_count, 3);
	assert_true(array_of(p, "fits", 2, ANY(DOUBLE_VALUE))[1]->double_value ==
	    2.5);
}

/* No-ops: a span that is not recording, a NULL span, calls before
 * trace_init. */
static void
test_noops(void **state)
{
	trace_config *cfg = fx_config(fx.url);
	int64_t ints[] = {1, 2};
	const char *strs[] = {"a"};
	trace_span *s;

	(void)state;
	trace_span_set_int_array(trace_span_start("before.init"), "k", ints, 2);
	trace_span_set_int_array(NULL, "k", ints, 2);
	assert_int_equal(trace_config_set_sampler(cfg, "always_off", 0),
	    TRACE_OK);
	begin(cfg);
	s = trace_span_start("unsampled");
	assert_non_null(s);
	assert_false(trace_span_is_recording(s));
	trace_span_set_str_array(s, "k", strs, 1);
	trace_span_set_int_array(s, "k", ints, 2);
	trace_span_set_double_array(s, "k", (double[]){1.0}, 1);
	trace_span_set_bool_array(s, "k", (bool[]){true}, 1);
	trace_span_end(s);
	assert_int_equal(trace_flush(5000), TRACE_OK);
	assert_null(fx_find_span(&fx, "unsampled"));
}

static void
test_null_args(void **state)
{
	int64_t ints[] = {1, 2};
	trace_span *s, *late;
	const fx_span *p;

	(void)state;
	begin(fx_config(fx.url));
	s = trace_span_start("nulls");
	late = trace_span_start_opts("late", &(trace_span_options){
	    .detached = true});
	trace_span_set_int_array(s, NULL, ints, 2);
	trace_span_set_int_array(s, "null.values", NULL, 2);
	trace_span_set_str_array(s, "null.values", NULL, 1);
	trace_span_end(s);
	p = flushed("nulls");
	/* NULL key, or NULL values with n > 0: nothing set, nothing dropped. */
	assert_int_equal(p->n_attributes, 0);
	assert_int_equal(p->dropped_attributes_count, 0);
	trace_shutdown(2000);
	/* After shutdown: a safe no-op on an open span (it is never sent). */
	trace_span_set_int_array(late, "k", ints, 2);
	trace_span_end(late);
	trace_span_set_int_array(trace_span_start("after"), "k", ints, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
