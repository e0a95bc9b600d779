/*
 * Unit tests for collector/jaeger/jaeger_params.c: the Jaeger API's
 * parameters, a table of query strings and what each must give (the
 * values, or the 400's message).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "jaeger/jaeger_params.h"

#define NOW_NS 1767225600000000000ULL /* 2026-01-01T00:00:00Z */
#define HOUR_NS 3600000000000ULL

/* Splits "k=v&k=v" (a copy, kept in buf) into args; returns how many. */
static size_t
split(const char *qs, char *buf, size_t bufsz, jaeger_arg *args, size_t max)
{
	size_t n = 0;
	char *q = buf;

	snprintf(buf, bufsz, "%s", qs);
	while (q != NULL && *q != '\0' && n < max) {
		char *amp = strchr(q, '&'), *eq;

		if (amp != NULL)
			*amp = '\0';
		eq = strchr(q, '=');
		if (eq != NULL)
			*eq = '\0';
		args[n++] = (jaeger_arg){ q, eq ? eq + 1 : "" };
		q = amp ? amp + 1 : NULL;
	}
	return n;
}

/* Parses qs as a v1 search; returns the rv, the query in *q, the message
 * in err (or ""). */
static int
search(const char *qs, jaeger_query *q, char *err, size_t errsz)
{
	char buf[8192], *e = NULL;
	jaeger_arg args[64];
	size_t n = split(qs, buf, sizeof buf, args, 64);
	int rv = jaeger_params_search(args, n, NOW_NS, q, &e);

	snprintf(err, errsz, "%s", e ? e : "");
	free(e);
	return rv;
}

static void
test_search_values(void **state)
{
	jaeger_query q;
	char err[256];

	(void)state;
	assert_int_equal(search("service=cart&operation=GET%20x&start=1000&"
	    "end=2000&minDuration=1.5ms&maxDuration=2s&limit=7&"
	    "tags={\"a\":\"1\",\"b\":\"x:y\"}&tag=c:d:e&tag=error:true", &q,
	    err, sizeof err), 0);
	assert_string_equal(q.service, "cart");
	assert_string_equal(q.operation, "GET%20x"); /* already decoded */
	assert_int_equal(q.start_ns, 1000000);
	assert_int_equal(q.end_ns, 2000000);
	assert_int_equal(q.min_duration_ns, 1500000);
	assert_int_equal(q.max_duration_ns, 2000000000);
	assert_int_equal(q.limit, 7);
	assert_int_equal(q.n_attrs, 3);
	assert_string_equal(q.attrs[0].key, "a");
	assert_string_equal(q.attrs[1].value, "x:y");
	assert_string_equal(q.attrs[2].key, "c"); /* the first colon */
	assert_string_equal(q.attrs[2].value, "d:e");
	assert_true(q.errors_only); /* error=true is the status */
	jaeger_query_fini(&q);
}

static void
test_search_defaults_and_cap(void **state)
{
	jaeger_query q;
	char err[256];

	(void)state;
	assert_int_equal(search("service=a&lookback=1h", &q, err, sizeof err),
	    0);
	assert_int_equal(q.end_ns, NOW_NS);
	assert_int_equal(q.start_ns, NOW_NS - 48 * HOUR_NS);
	assert_int_equal(q.limit, JAEGER_DEFAULT_LIMIT);
	jaeger_query_fini(&q);
	assert_int_equal(search("service=a&limit=123456789", &q, err,
	    sizeof err), 0);
	assert_int_equal(q.limit, JAEGER_MAX_LIMIT);
	assert_int_equal(q.limit_asked, 123456789);
	jaeger_query_fini(&q);
	/* traceID alone needs no service; 64-bit IDs are left-padded. */
	assert_int_equal(search("traceID=abc&traceID=83a9efd15c1c98a977e0711"
	    "cc93ee28b", &q, err, sizeof err), 0);
	assert_int_equal(q.n_trace_ids, 2);
	assert_int_equal(q.trace_ids[0][15], 0xbc);
	assert_int_equal(q.trace_ids[0][14], 0x0a);
	assert_int_equal(q.trace_ids[0][0], 0);
	assert_int_equal(q.trace_ids[1][0], 0x83);
	jaeger_query_fini(&q);
}

static void
test_search_errors(void **state)
{
	static const struct {
		const char *qs, *msg;
	} bad[] = {
		{ "", "parameter 'service' is required" },
		{ "service=", "parameter 'service' is required" },
		{ "service=a&start=x", "'start'" },
		{ "service=a&end=-1", "'end'" },
		{ "service=a&start=18446744073709551615", "'start'" },
		{ "service=a&start=2000&end=1000", "start of the window" },
		{ "service=a&minDuration=1", "'minDuration'" },
		{ "service=a&maxDuration=-1s", "'maxDuration'" },
		{ "service=a&minDuration=2s&maxDuration=1s",
		  "'maxDuration' should be greater than 'minDuration'" },
		{ "service=a&tags=[1]", "'tags'" },
		{ "service=a&tags={\"a\":1}", "'tags'" },
		{ "service=a&tags={\"a\":\"1\",\"a\":\"2\"}", "'tags'" },
		{ "service=a&tag=nocolon", "'tag'" },
		{ "service=a&tag=:v", "empty key" },
		{ "service=a&limit=1e3", "'limit'" },
		{ "traceID=", "'traceID'" },
		{ "traceID=0000", "'traceID'" },
		{ "traceID=83a9efd15c1c98a977e0711cc93ee28b0", "'traceID'" },
		{ "traceID=xyz", "'traceID'" },
	};
	jaeger_query q;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int rv = search(bad[i].qs, &q, err, sizeof err);

		if (rv != -1 || strstr(err, bad[i].msg) == NULL)
			fail_msg("'%s': rv %d, '%s' (want '%s')", bad[i].qs, rv,
			    err, bad[i].msg);
		jaeger_query_fini(&q);
	}
}

static void
test_search_v3(void **state)
{
	char buf[1024], *err = NULL;
	jaeger_arg args[32];
	jaeger_query q;
	size_t n;

	(void)state;
	n = split("query.service_name=svc&query.operationName=op&"
	    "query.start_time_min=2026-01-01T00:00:00.5Z&"
	    "query.startTimeMax=2026-01-01T01:00:00Z&query.durationMin=1us&"
	    "query.search_depth=5&query.attributes={\"k\":\"v\"}", buf,
	    sizeof buf, args, 32);
	assert_int_equal(jaeger_params_search_v3(args, n, NOW_NS, &q, &err), 0);
	assert_string_equal(q.service, "svc");
	assert_string_equal(q.operation, "op");
	assert_int_equal(q.start_ns, NOW_NS + 500000000);
	assert_int_equal(q.end_ns, NOW_NS + HOUR_NS);
	assert_int_equal(q.min_duration_ns, 1000);
	assert_int_equal(q.limit, 5);
	assert_int_equal(q.n_attrs, 1);
	jaeger_query_fini(&q);
	/* No window: the last 48 hours, as v1. */
	assert_int_equal(jaeger_params_search_v3(NULL, 0, NOW_NS, &q, &err),
	    0);
	assert_int_equal(q.start_ns, NOW_NS - 48 * HOUR_NS);
	jaeger_query_fini(&q);
	n = split("query.startTimeMin=yesterday", buf, sizeof buf, args, 32);
	assert_int_equal(jaeger_params_search_v3(args, n, NOW_NS, &q, &err),
	    -1);
	assert_non_null(strstr(err, "query.startTimeMin"));
	free(err);
	jaeger_query_fini(&q);
}

static void
test_dependencies_and_hint(void **state)
{
	char buf[256], *err = NULL;
	jaeger_arg args[8];
	uint64_t lo, hi;
	size_t n;

	(void)state;
	assert_int_equal(jaeger_params_dependencies(NULL, 0, NOW_NS, &lo, &hi,
	    &err), 0);
	assert_int_equal(hi, NOW_NS);
	assert_int_equal(lo, NOW_NS - 24 * HOUR_NS);
	n = split("endTs=1000&lookback=5000", buf, sizeof buf, args, 8);
	assert_int_equal(jaeger_params_dependencies(args, n, NOW_NS, &lo, &hi,
	    &err), 0);
	assert_int_equal(hi, 1000000000);
	assert_int_equal(lo, 0); /* the lookback reaches before 1970 */
	n = split("endTs=99999999999999999", buf, sizeof buf, args, 8);
	assert_int_equal(jaeger_params_dependencies(args, n, NOW_NS, &lo, &hi,
	    &err), -1);
	free(err);
	/* Grafana's millisecond hint and a microsecond one both pass. */
	n = split("start=1767225600000&end=1767225600000000", buf, sizeof buf,
	    args, 8);
	assert_int_equal(jaeger_params_trace_hint(args, n, &err), 0);
	n = split("start=soon", buf, sizeof buf, args, 8);
	assert_int_equal(jaeger_params_trace_hint(args, n, &err), -1);
	free(err);
}

static void
test_span_kind(void **state)
{
	int k;

	(void)state;
	assert_int_equal(jaeger_params_span_kind(NULL, &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(jaeger_params_span_kind("consumer", &k), 0);
	assert_int_equal(k, 5);
	assert_int_equal(jaeger_params_span_kind("SERVER", &k), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_values),
		cmocka_unit_test(test_search_defaults_and_cap),
		cmocka_unit_test(test_search_errors),
		cmocka_unit_test(test_search_v3),
		cmocka_unit_test(test_dependencies_and_hint),
		cmocka_unit_test(test_span_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
