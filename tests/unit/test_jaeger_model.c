/*
 * Unit tests for collector/jaeger/jaeger_model.c: the corners the golden
 * files of tests/e2e/test_jaeger_api.sh do not reach (values JSON cannot
 * carry, strings that are not UTF-8, empty values, a span with no
 * resource), each checked on the JSON the model builds.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jaeger/jaeger_model.h"

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

/* The tag jaeger_model_tag_value makes of v, as compact JSON text. */
static char *
tag_json(const AnyValue *v)
{
	json_t *tag = json_object();
	char *s;

	jaeger_model_tag_value(tag, v);
	s = json_dumps(tag, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(tag);
	return s;
}

static void
check_tag(const AnyValue *v, const char *want)
{
	char *got = tag_json(v);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_numbers_json_cannot_carry(void **state)
{
	AnyValue v;

	(void)state;
	opentelemetry__proto__common__v1__any_value__init(&v);
	v.value_case = AV(DOUBLE_VALUE);
	v.double_value = NAN;
	check_tag(&v, "{\"type\":\"float64\",\"value\":\"NaN\"}");
	v.double_value = -INFINITY;
	check_tag(&v, "{\"type\":\"float64\",\"value\":\"-Inf\"}");
	v.value_case = AV(INT_VALUE);
	v.int_value = INT64_MIN;
	check_tag(&v, "{\"type\":\"int64\",\"value\":\"-9223372036854775808\"}");
	v.int_value = 9007199254740991LL; /* 2^53 - 1: still a number */
	check_tag(&v, "{\"type\":\"int64\",\"value\":9007199254740991}");
}

static void
test_strings_and_empty_values(void **state)
{
	AnyValue v, inner, outer;
	AnyValue *items[2] = { &inner, &v };
	ArrayValue arr;
	char bad[] = "a\xff" "b";

	(void)state;
	opentelemetry__proto__common__v1__any_value__init(&v);
	opentelemetry__proto__common__v1__any_value__init(&inner);
	opentelemetry__proto__common__v1__any_value__init(&outer);
	opentelemetry__proto__common__v1__array_value__init(&arr);
	check_tag(NULL, "{\"type\":\"string\",\"value\":\"\"}");
	check_tag(&v, "{\"type\":\"string\",\"value\":\"\"}");
	v.value_case = AV(STRING_VALUE);
	v.string_value = bad; /* not UTF-8: U+FFFD, not a lost tag */
	check_tag(&v, "{\"type\":\"string\",\"value\":\"a\xef\xbf\xbd" "b\"}");
	/* An array holding an empty value and a bad string. */
	arr.values = items;
	arr.n_values = 2;
	outer.value_case = AV(ARRAY_VALUE);
	outer.array_value = &arr;
	check_tag(&outer, "{\"type\":\"string\",\"value\":"
	    "\"[null,\\\"a\xef\xbf\xbd" "b\\\"]\"}");
}

static void
test_trace_ids_and_no_resource(void **state)
{
	uint8_t id[16] = { 0 };
	char hex[JAEGER_TRACE_ID_HEX];
	Span sp, *spans[1] = { &sp };
	ScopeSpans ss, *sss[1] = { &ss };
	ResourceSpans rs, *rss[1] = { &rs };
	uint8_t span_id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	json_t *t;

	(void)state;
	opentelemetry__proto__trace__v1__span__init(&sp);
	opentelemetry__proto__trace__v1__scope_spans__init(&ss);
	opentelemetry__proto__trace__v1__resource_spans__init(&rs);
	id[15] = 0x2a;
	jaeger_model_trace_id(id, hex);
	assert_string_equal(hex, "000000000000002a");
	id[0] = 0x80;
	jaeger_model_trace_id(id, hex);
	assert_string_equal(hex, "8000000000000000000000000000002a");

	sp.trace_id.data = id;
	sp.trace_id.len = 16;
	sp.span_id.data = span_id;
	sp.span_id.len = 8;
	sp.start_time_unix_nano = 2000;
	sp.end_time_unix_nano = 1000; /* ends before it starts: 0, not huge */
	ss.spans = spans;
	ss.n_spans = 1;
	rs.scope_spans = sss;
	rs.n_scope_spans = 1;
	t = jaeger_model_trace(rss, 1);
	assert_string_equal(json_string_value(json_object_get(t, "traceID")),
	    "8000000000000000000000000000002a");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(t, "processes"), "p1"), "serviceName")),
	    "OTLPResourceNoServiceName");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(t, "spans"), 0), "duration")), 0);
	assert_int_equal(json_array_size(json_object_get(json_array_get(
	    json_object_get(t, "spans"), 0), "tags")), 0);
	json_decref(t);
	/* No resource spans at all: an empty trace, not a crash. */
	t = jaeger_model_trace(NULL, 0);
	assert_int_equal(json_array_size(json_object_get(t, "spans")), 0);
	json_decref(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_json_cannot_carry),
		cmocka_unit_test(test_strings_and_empty_values),
		cmocka_unit_test(test_trace_ids_and_no_resource),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
