/* Unit tests for tracecli's output: sanitising, width fitting, the golden
 * text waterfall and tables, the --json shapes, the wire depth check. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tracecli_fixture.h"

/* "N of M": the count the collector made, a lower bound, or none. */
static void
test_search_total_text(void **state)
{
	Tracequery__V1__SearchResult r = TRACEQUERY__V1__SEARCH_RESULT__INIT;
	char buf[96];

	(void)state;
	r.n_traces = 20;
	r.total = 1234567;
	assert_true(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "20 of 1,234,567 traces");
	r.total = 5000;
	r.total_is_lower_bound = true;
	assert_true(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "20 of at least 5,000 traces");
	r.total = 20;
	r.total_is_lower_bound = false;
	assert_false(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "20 traces");
	r.total = 0;	/* not counted: the limit may have cut it */
	assert_true(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "20+ traces");
	r.n_traces = 1;
	assert_false(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "1 trace");
	r.total = 999;
	assert_true(search_total_text(&r, 20, buf, sizeof buf));
	assert_string_equal(buf, "1 of 999 traces");
}

static void
test_sanitize_controls(void **state)
{
	char out[256];

	(void)state;
	/* ESC sequences, BEL, DEL, newline and C1 CSI become inert text. */
	sanitize_buf("a\x1b[2Jb\x07\x7f\n", 10, SAN_UTF8, out, sizeof out);
	assert_string_equal(out, "a\\x1b[2Jb\\x07\\x7f\\n");
	sanitize_buf("x\xc2\x9b" "31m", 6, SAN_UTF8, out, sizeof out);
	assert_string_equal(out, "x\\u009b31m");
	/* Bidi override and isolate. */
	char *s = sanitize_dup("evil\xe2\x80\xae" "gpj.exe\xe2\x81\xa6", SAN_UTF8);
	assert_string_equal(s, "evil\\u202egpj.exe\\u2066");
	free(s);
	/* Invalid UTF-8: stray continuation, overlong, surrogate, cut. */
	s = sanitize_dup("\x80" "a\xc0\xaf" "b\xed\xa0\x80" "c\xe2\x82", SAN_UTF8);
	assert_string_equal(s,
	    "\\x80a\\xc0\\xafb\\xed\\xa0\\x80c\\xe2\\x82");
	free(s);
	/* Printable UTF-8 stays; ASCII mode turns it into '?'. */
	s = sanitize_dup("caf\xc3\xa9 \xe6\x97\xa5", SAN_UTF8);
	assert_string_equal(s, "caf\xc3\xa9 \xe6\x97\xa5");
	free(s);
	s = sanitize_dup("caf\xc3\xa9 \xe6\x97\xa5\x1b", SAN_ASCII);
	assert_string_equal(s, "caf? ?\\x1b");
	free(s);
	assert_true(sanitize_is_clean("plain text", SAN_ASCII));
	assert_false(sanitize_is_clean("\xc3\xa9", SAN_ASCII));
	assert_true(sanitize_is_clean("\xc3\xa9", SAN_UTF8));
	s = sanitize_dup(NULL, SAN_UTF8);
	assert_string_equal(s, "");
	free(s);
	/* Truncation never splits an escape or a character. */
	sanitize_buf("\x1b\x1b\x1b", 3, SAN_UTF8, out, 7);
	assert_string_equal(out, "\\x1b");
}

static void
test_utf8_fit(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(utf8_fit("hello", 8, true, SAN_UTF8, out, sizeof out), 8);
	assert_string_equal(out, "hello   ");
	assert_int_equal(utf8_fit("hello world", 6, false, SAN_UTF8, out,
	    sizeof out), 6);
	assert_string_equal(out, "hello\xe2\x80\xa6");
	utf8_fit("hello world", 6, false, SAN_ASCII, out, sizeof out);
	assert_string_equal(out, "hello~");
	assert_int_equal(utf8_width("caf\xc3\xa9"), 4);
	utf8_fit("", 0, true, SAN_UTF8, out, sizeof out);
	assert_string_equal(out, "");
}

static void
test_duration_labels(void **state)
{
	char buf[32];

	(void)state;
	/* The formatting tracecli shows (common/duration.c). */
	assert_string_equal(duration_format(812, buf, sizeof buf), "812ns");
	assert_string_equal(duration_format(12500000, buf, sizeof buf),
	    "12.5ms");
	assert_string_equal(duration_format(120 * FX_MS, buf, sizeof buf),
	    "120ms");
	assert_string_equal(duration_format(185000000000ull, buf, sizeof buf),
	    "3m05s");
}

static const char golden_ascii[] =
"Trace 4bf92f3577b34da6a3ce929d0e0e4736  2025-11-22T08:26:40.000000Z  120ms  10 spans  3 services  1 error\n"
"SPAN                 SERVICE  DURATION     SELF FLAG 0                  50ms                100ms\n"
"GET /checkout        frontend    120ms     12ms *    ###############################################\n"
"|- cart.get          frontend     15ms      2ms *     #######\n"
"|  `- GET /cart      cart         13ms      9ms *      #####\n"
"|     `- redis GET   cart          4ms      4ms *       ##\n"
"|- charge            frontend     80ms      3ms *             ################################\n"
"|  `- POST /charge   payments     77ms     14ms E*             xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
"|     |- fraud.check payments     20ms     20ms K*          #########\n"
"|     `- db.query    payments     60ms     60ms *               ########################\n"
"`- render            frontend     13ms     13ms *                                             #####\n"
"retry.callback       payments      5ms      5ms M                                               ##\n"
"flags: E error, K clock skew (outside its parent), M parent missing, * critical path\n";

static void
test_golden_waterfall(void **state)
{
	fx t = {0};
	model_trace m;
	char *text = NULL;
	plain_opts o = {100, true};

	(void)state;
	fx_checkout(&t);
	assert_int_equal(model_build(&m, t.rs, t.n, SAN_ASCII), 0);
	CAPTURE(text, plain_waterfall(f, &m, &o));
	if (getenv("GOLDEN_PRINT")) {	/* regenerate: GOLDEN_PRINT=file */
		FILE *g = fopen(getenv("GOLDEN_PRINT"), "w");
		if (g != NULL) {
			fputs(text, g);
			fclose(g);
		}
	}
	assert_string_equal(text, golden_ascii);
	free(text);

	/* Every line fits the width (UTF-8 mode counts columns). */
	model_free(&m);
	assert_int_equal(model_build(&m, t.rs, t.n, SAN_UTF8), 0);
	o.ascii = false;
	o.width = 80;
	CAPTURE(text, plain_waterfall(f, &m, &o));
	char *save = NULL;
	int lines = 0;
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save), lines++) {
		if (lines == 0 || strncmp(l, "flags:", 6) == 0)
			continue;
		assert_true(utf8_width(l) <= 80);
	}
	assert_int_equal(lines, 13);
	free(text);
	model_free(&m);
	fx_free(&t);
}

static void
test_waterfall_escapes_inert(void **state)
{
	fx t = {0};
	model_trace m;
	char *text = NULL;
	plain_opts o = {120, false};

	(void)state;
	pb_resource_spans *rs = fx_resource(&t, "evil\x1b]0;pwned\x07svc");
	fx_span(rs, 1, 0, "GET \x1b[2J\x1b[31mred\xe2\x80\xae" "cod.exe\xc2\x9b", 0,
	    FX_MS);
	assert_int_equal(model_build(&m, t.rs, t.n, SAN_UTF8), 0);
	CAPTURE(text, plain_waterfall(f, &m, &o));
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		assert_true(c >= 0x20 || c == '\n');
		assert_true(c != 0x7f);
	}
	assert_null(strstr(text, "\xe2\x80\xae"));
	assert_non_null(strstr(text, "\\x1b[2J"));
	free(text);
	CAPTURE(text, json_show(f, &m));
	assert_null(strchr(text, 0x1b));
	for (char *p = text; *p; p++)	/* jansson writes \u001B */
		*p = (char)tolower((unsigned char)*p);
	assert_non_null(strstr(text, "\\u001b[2j"));
	assert_non_null(strstr(text, "\\u202e"));
	free(text);
	model_free(&m);
	fx_free(&t);
}

/* Checks that o has exactly the keys listed (NULL-terminated). */
static void
assert_keys(json_t *o, const char *const *keys)
{
	size_t n = 0;

	assert_true(json_is_object(o));
	for (; keys[n] != NULL; n++)
		assert_non_null(json_object_get(o, keys[n]));
	assert_int_equal(json_object_size(o), n);
}

static void
test_json_show_shape(void **state)
{
	static const char *const top[] = {"trace_id", "spans", NULL};
	static const char *const span[] = {"span_id", "parent_span_id",
		"service", "name", "kind", "start_unix_nano", "end_unix_nano",
		"duration_ns", "status", "attributes", "events", "status_message",
		"links", "resource", "scope", NULL};
	fx t = {0};
	model_trace m;
	char *text = NULL;
	json_error_t err;

	(void)state;
	fx_checkout(&t);
	assert_int_equal(model_build(&m, t.rs, t.n, SAN_UTF8), 0);
	CAPTURE(text, json_show(f, &m));
	json_t *j = json_loads(text, 0, &err);
	assert_non_null(j);
	assert_keys(j, top);
	assert_string_equal(json_string_value(json_object_get(j, "trace_id")),
	    "4bf92f3577b34da6a3ce929d0e0e4736");
	json_t *spans = json_object_get(j, "spans");
	assert_int_equal(json_array_size(spans), 10);
	for (size_t i = 0; i < json_array_size(spans); i++)
		assert_keys(json_array_get(spans, i), span);
	json_t *root = json_array_get(spans, 0);
	assert_string_equal(json_string_value(json_object_get(root, "span_id")),
	    "0000000000000001");
	assert_string_equal(json_string_value(json_object_get(root,
	    "parent_span_id")), "");
	assert_string_equal(json_string_value(json_object_get(root, "kind")),
	    "server");
	assert_int_equal(json_integer_value(json_object_get(root,
	    "duration_ns")), 120 * FX_MS);
	assert_int_equal(json_integer_value(json_object_get(root,
	    "start_unix_nano")), FX_T0);
	json_t *attrs = json_object_get(root, "attributes");
	assert_string_equal(json_string_value(json_object_get(attrs,
	    "http.method")), "GET");
	assert_int_equal(json_integer_value(json_object_get(attrs,
	    "http.status_code")), 500);
	json_t *err_span = json_array_get(spans, 5);	/* POST /charge */
	assert_string_equal(json_string_value(json_object_get(err_span, "name")),
	    "POST /charge");
	assert_string_equal(json_string_value(json_object_get(err_span,
	    "status")), "error");
	assert_string_equal(json_string_value(json_object_get(err_span,
	    "parent_span_id")), "0000000000000005");
	json_t *ev = json_array_get(json_object_get(err_span, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "name")),
	    "exception");
	/* Complete: the status message, the resource and the scope too. */
	assert_string_equal(json_string_value(json_object_get(err_span,
	    "status_message")), "card declined");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    err_span, "resource"), "service.name")), "payments");
	assert_true(json_is_object(json_object_get(err_span, "scope")));
	json_t *link = json_array_get(json_object_get(json_array_get(spans, 4),
	    "links"), 0);	/* charge links to 7777...: */
	assert_string_equal(json_string_value(json_object_get(link,
	    "trace_id")), "77777777777777777777777777777777");
	assert_string_equal(json_string_value(json_object_get(link,
	    "span_id")), "0000000000000007");
	json_decref(j);
	free(text);
	model_free(&m);
	fx_free(&t);
}

static void
test_json_search_and_slow_shapes(void **state)
{
	static const char *const trace[] = {"trace_id", "root_service",
		"root_name", "start_unix_nano", "duration_ns", "span_count",
		"error_count", "services", NULL};
	static const char *const slow[] = {"spans", "percentiles", NULL};
	static const char *const sspan[] = {"trace_id", "span_id", "service",
		"name", "duration_ns", "start_unix_nano", NULL};
	static const char *const pct[] = {"service", "operation", "p50_ns",
		"p90_ns", "p99_ns", "max_ns", "count", NULL};
	uint8_t tid[16] = {1, 2, 3}, sid[8] = {9};
	char svc_a[] = "frontend", svc_b[] = "payments", nm[] = "db.query";
	char root_name[] = "GET /checkout";
	char *svcs[] = {svc_a, svc_b};
	char *text = NULL;
	json_error_t err;

	(void)state;
	Tracequery__V1__TraceSummary ts;
	tracequery__v1__trace_summary__init(&ts);
	ts.trace_id.data = tid;
	ts.trace_id.len = 16;
	ts.root_service = svc_a;
	ts.root_name = root_name;
	ts.start_unix_nano = FX_T0;
	ts.duration_ns = 120 * FX_MS;
	ts.span_count = 10;
	ts.error_count = 1;
	ts.n_services = 2;
	ts.services = svcs;
	Tracequery__V1__TraceSummary *tsp = &ts;
	Tracequery__V1__SearchResult sr = TRACEQUERY__V1__SEARCH_RESULT__INIT;
	sr.n_traces = 1;
	sr.traces = &tsp;
	CAPTURE(text, json_search(f, &sr));
	json_t *j = json_loads(text, 0, &err);
	assert_true(json_is_array(j));
	assert_keys(json_array_get(j, 0), trace);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(j, 0), "trace_id")), "01020300000000000000000000000000");
	assert_int_equal(json_array_size(json_object_get(json_array_get(j, 0),
	    "services")), 2);
	json_decref(j);
	free(text);

	Tracequery__V1__SlowSpan ss;
	tracequery__v1__slow_span__init(&ss);
	ss.trace_id.data = tid;
	ss.trace_id.len = 16;
	ss.span_id.data = sid;
	ss.span_id.len = 8;
	ss.service = svc_b;
	ss.name = nm;
	ss.duration_ns = 60 * FX_MS;
	ss.start_unix_nano = FX_T0;
	Tracequery__V1__SlowSpan *ssp = &ss;
	Tracequery__V1__OperationPercentiles op;
	tracequery__v1__operation_percentiles__init(&op);
	op.service = svc_b;
	op.operation = nm;
	op.p50_ns = 1;
	op.p90_ns = 2;
	op.p99_ns = 3;
	op.max_ns = 4;
	op.count = 5;
	Tracequery__V1__OperationPercentiles *opp = &op;
	Tracequery__V1__SlowResult r = TRACEQUERY__V1__SLOW_RESULT__INIT;
	r.n_spans = 1;
	r.spans = &ssp;
	r.n_percentiles = 1;
	r.percentiles = &opp;
	CAPTURE(text, json_slow(f, &r, false));
	j = json_loads(text, 0, &err);
	assert_keys(j, slow);
	assert_keys(json_array_get(json_object_get(j, "spans"), 0), sspan);
	assert_keys(json_array_get(json_object_get(j, "percentiles"), 0), pct);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(j, "percentiles"), 0), "count")), 5);
	json_decref(j);
	free(text);

	/* Plain tables carry the same rows, and say "span-level". */
	plain_opts o = {120, true};
	CAPTURE(text, plain_slow(f, &r, 20, 1, &o, false));
	assert_non_null(strstr(text, "span-level"));
	assert_non_null(strstr(text, "db.query"));
	assert_non_null(strstr(text, "60ms"));
	free(text);
	CAPTURE(text, plain_search(f, &sr, 20, &o));
	assert_non_null(strstr(text, "frontend: GET /checkout"));
	assert_non_null(strstr(text, "frontend,payments"));
	free(text);
}

static void
test_histogram_text(void **state)
{
	Tracequery__V1__HistogramBucket b[3], *bp[3];
	char *text = NULL;
	plain_opts o = {80, true};

	(void)state;
	for (int i = 0; i < 3; i++) {
		tracequery__v1__histogram_bucket__init(&b[i]);
		b[i].upper_ns = (uint64_t)(i + 1) * 10 * FX_MS;
		b[i].count = (uint64_t)(i == 1 ? 40 : 10);
		bp[i] = &b[i];
	}
	CAPTURE(text, plain_histogram(f, bp, 3, &o));
	assert_non_null(strstr(text, "60 spans"));
	assert_non_null(strstr(text, "10ms - 20ms"));
	/* The biggest bucket gets the full bar, the others a quarter. */
	const char *line = strstr(text, "10ms - 20ms");
	assert_non_null(line);
	assert_non_null(strstr(line, "########################################"));
	free(text);
}

static void
test_json_ascii(void **state)
{
	(void)state;
	char *s = json_ascii("{\"a\":\"\xc3\xa9\x7f\xf0\x9f\x98\x80\"}");
	assert_string_equal(s, "{\"a\":\"\\u00e9\\u007f\\ud83d\\ude00\"}");
	free(s);
}

static void
test_wire_depth(void **state)
{
	(void)state;
	/* An AnyValue nested 200 deep through array_value. */
	pb_any *leaf = malloc(sizeof *leaf);
	opentelemetry__proto__common__v1__any_value__init(leaf);
	leaf->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	leaf->int_value = 7;
	pb_any *cur = leaf;
	for (int d = 0; d < 200; d++) {
		pb_any *up = malloc(sizeof *up);
		Opentelemetry__Proto__Common__V1__ArrayValue *arr =
		    malloc(sizeof *arr);
		opentelemetry__proto__common__v1__any_value__init(up);
		opentelemetry__proto__common__v1__array_value__init(arr);
		arr->n_values = 1;
		arr->values = malloc(sizeof *arr->values);
		arr->values[0] = cur;
		up->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		up->array_value = arr;
		cur = up;
	}
	size_t len = opentelemetry__proto__common__v1__any_value__get_packed_size(
	    cur);
	uint8_t *buf = malloc(len);
	opentelemetry__proto__common__v1__any_value__pack(cur, buf);
	assert_false(wire_depth_ok(buf, len, 64));
	assert_true(wire_depth_ok(buf, len, 500));
	free(buf);
	opentelemetry__proto__common__v1__any_value__free_unpacked(cur, NULL);

	/* A normal trace passes. */
	fx t = {0};
	fx_checkout(&t);
	Tracequery__V1__TraceResult tr = TRACEQUERY__V1__TRACE_RESULT__INIT;
	tr.n_resource_spans = t.n;
	tr.resource_spans = t.rs;
	Tracequery__V1__Response resp;
	tracequery__v1__response__init(&resp);
	resp.result_case = TRACEQUERY__V1__RESPONSE__RESULT_TRACE;
	resp.trace = &tr;
	len = tracequery__v1__response__get_packed_size(&resp);
	buf = malloc(len);
	tracequery__v1__response__pack(&resp, buf);
	assert_true(wire_depth_ok(buf, len, 64));
	free(buf);
	fx_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_total_text),
		cmocka_unit_test(test_sanitize_controls),
		cmocka_unit_test(test_utf8_fit),
		cmocka_unit_test(test_duration_labels),
		cmocka_unit_test(test_golden_waterfall),
		cmocka_unit_test(test_waterfall_escapes_inert),
		cmocka_unit_test(test_json_show_shape),
		cmocka_unit_test(test_json_search_and_slow_shapes),
		cmocka_unit_test(test_histogram_text),
		cmocka_unit_test(test_json_ascii),
		cmocka_unit_test(test_wire_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
