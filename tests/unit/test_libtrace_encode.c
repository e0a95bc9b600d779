/*
 * Tests for libtrace's hand-written OTLP encoder (otlp_encode.c,
 * resource.c): spans travel through the real exporter to a fake collector,
 * which decodes them with protobuf-c's generated code; every field is
 * compared with what the test recorded.
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
setup(void **state)
{
	trace_config *cfg;

	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	if (fx_start(&fx) != 0)
		return -1;
	setenv("OTEL_RESOURCE_ATTRIBUTES",
	    "deployment.environment=test,team=a%20b,service.name=ignored", 1);
	cfg = fx_config(fx.url);
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	trace_config_set_resource_attr(cfg, "service.version", "1.2.3");
	if (trace_init(cfg) != TRACE_OK)
		return -1;
	trace_config_free(cfg);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	trace_shutdown(1000);
	fx_free(&fx);
	return 0;
}

static const Opentelemetry__Proto__Common__V1__AnyValue *
attr(fx_kv *const *kvs, size_t n, const char *key)
{
	const fx_kv *kv = fx_find_kv(kvs, n, key);

	assert_non_null(kv);
	return kv->value;
}

static void
test_span_fields(void **state)
{
	trace_span_options o = {.kind = TRACE_KIND_SERVER};
	trace_context ctx, pctx;
	trace_span *parent, *s;
	const fx_span *p;

	(void)state;
	parent = trace_span_start("enc.parent");
	assert_non_null(parent);
	s = trace_span_start_opts("enc.child", &o);
	assert_non_null(s);
	trace_span_set_str(s, "http.route", "/users/{id}");
	trace_span_set_int(s, "http.response.status_code", -404);
	trace_span_set_double(s, "ratio", 0.25);
	trace_span_set_bool(s, "cached", false);
	trace_span_set_str(s, "empty", "");
	trace_span_set_status(s, TRACE_STATUS_ERROR, "boom");
	trace_span_get_context(s, &ctx);
	trace_span_get_context(parent, &pctx);
	trace_span_end_at(s, 0);
	trace_span_end(parent);
	assert_int_equal(trace_flush(5000), TRACE_OK);

	p = fx_find_span(&fx, "enc.child");
	assert_non_null(p);
	assert_int_equal(p->trace_id.len, 16);
	assert_memory_equal(p->trace_id.data, ctx.trace_id.bytes, 16);
	assert_int_equal(p->span_id.len, 8);
	assert_memory_equal(p->span_id.data, ctx.span_id.bytes, 8);
	assert_int_equal(p->parent_span_id.len, 8);
	assert_memory_equal(p->parent_span_id.data, pctx.span_id.bytes, 8);
	assert_int_equal(p->kind, 2);
	assert_true(p->start_time_unix_nano > 1600000000000000000ull);
	assert_true(p->end_time_unix_nano >= p->start_time_unix_nano);
	/* sampled | random, parent local (remote-ness known, not remote) */
	assert_int_equal(p->flags, 0x103);
	assert_int_equal(p->n_attributes, 5);
	assert_string_equal(attr(p->attributes, 5, "http.route")->string_value,
	    "/users/{id}");
	assert_int_equal(attr(p->attributes, 5,
	    "http.response.status_code")->int_value, -404);
	assert_true(attr(p->attributes, 5, "ratio")->double_value == 0.25);
	assert_int_equal(attr(p->attributes, 5, "cached")->value_case,
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
	assert_false(attr(p->attributes, 5, "cached")->bool_value);
	assert_int_equal(attr(p->attributes, 5, "empty")->value_case,
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_non_null(p->status);
	assert_int_equal(p->status->code, 2);
	assert_string_equal(p->status->message, "boom");
	assert_int_equal(p->dropped_attributes_count, 0);

	p = fx_find_span(&fx, "enc.parent");
	assert_non_null(p);
	assert_int_equal(p->parent_span_id.len, 0);
	assert_int_equal(p->kind, 1);
	assert_null(p->status);
	assert_int_equal(p->flags, 0x103);
}

static void
test_events_links(void **state)
{
	trace_context link = {.flags = 1, .is_remote = true};
	trace_attr ea[] = {TRACE_ATTR_STR("k", "v"), TRACE_ATTR_INT("n", 7)};
	trace_attr la[] = {TRACE_ATTR_BOOL("linked", true)};
	trace_span *s;
	const fx_span *p;

	(void)state;
	memset(link.trace_id.bytes, 0xab, 16);
	memset(link.span_id.bytes, 0xcd, 8);
	strcpy(link.tracestate, "vendor=1");
	s = trace_span_start("enc.events");
	trace_span_add_event_at(s, "first", 1700000000000000000ull, ea, 2);
	trace_span_add_event(s, "bare", NULL, 0);
	trace_span_set_int(s, "after.events", 1);
	trace_span_add_link(s, &link, la, 1);
	trace_span_record_exception(s, "IOError", "disk full");
	trace_span_end(s);
	assert_int_equal(trace_flush(5000), TRACE_OK);

	p = fx_find_span(&fx, "enc.events");
	assert_non_null(p);
	assert_int_equal(p->n_events, 3);
	assert_string_equal(p->events[0]->name, "first");
	assert_int_equal(p->events[0]->time_unix_nano, 1700000000000000000ull);
	assert_int_equal(p->events[0]->n_attributes, 2);
	assert_string_equal(p->events[0]->attributes[0]->key, "k");
	assert_string_equal(p->events[0]->attributes[0]->value->string_value, "v");
	assert_int_equal(p->events[0]->attributes[1]->value->int_value, 7);
	assert_string_equal(p->events[1]->name, "bare");
	assert_int_equal(p->events[1]->n_attributes, 0);
	assert_true(p->events[1]->time_unix_nano >= p->start_time_unix_nano);
	assert_string_equal(p->events[2]->name, "exception");
	assert_string_equal(attr(p->events[2]->attributes,
	    p->events[2]->n_attributes, "exception.type")->string_value, "IOError");
	assert_string_equal(attr(p->events[2]->attributes,
	    p->events[2]->n_attributes, "exception.message")->string_value,
	    "disk full");
	assert_int_equal(p->n_attributes, 1);
	assert_int_equal(p->n_links, 1);
	assert_memory_equal(p->links[0]->trace_id.data, link.trace_id.bytes, 16);
	assert_memory_equal(p->links[0]->span_id.data, link.span_id.bytes, 8);
	assert_string_equal(p->links[0]->trace_state, "vendor=1");
	assert_int_equal(p->links[0]->flags, 0x301);
	assert_int_equal(p->links[0]->n_attributes, 1);
	assert_true(p->links[0]->attributes[0]->value->bool_value);
	assert_int_equal(p->status->code, 2);
	assert_string_equal(p->status->message, "disk full");
}

static void
test_remote_parent(void **state)
{
	trace_context remote = {.flags = TRACE_FLAG_SAMPLED, .is_remote = true};
	trace_span_options o = {.remote = &remote, .kind = TRACE_KIND_CONSUMER};
	trace_context got;
	trace_span *s;
	const fx_span *p;

	(void)state;
	for (int i = 0; i < 16; i++)
		remote.trace_id.bytes[i] = (uint8_t)(i + 1);
	for (int i = 0; i < 8; i++)
		remote.span_id.bytes[i] = (uint8_t)(0x10 + i);
	strcpy(remote.tracestate, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	s = trace_span_start_opts("enc.remote", &o);
	trace_span_get_context(s, &got);
	/* The remote parent did not set the random flag: not invented. */
	assert_int_equal(got.flags, TRACE_FLAG_SAMPLED);
	assert_string_equal(got.tracestate, remote.tracestate);
	trace_span_end(s);
	assert_int_equal(trace_flush(5000), TRACE_OK);
	p = fx_find_span(&fx, "enc.remote");
	assert_non_null(p);
	assert_memory_equal(p->trace_id.data, remote.trace_id.bytes, 16);
	assert_memory_equal(p->parent_span_id.data, remote.span_id.bytes, 8);
	assert_string_equal(p->trace_state, remote.tracestate);
	assert_int_equal(p->flags, 0x301);
	assert_int_equal(p->kind, 5);
}

static void
test_resource_and_scope(void **state)
{
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	Opentelemetry__Proto__Resource__V1__Resource *res;
	char host[256];
	trace_span *s;

	(void)state;
	s = trace_span_start("enc.resource");
	trace_span_end(s);
	assert_int_equal(trace_flush(5000), TRACE_OK);
	assert_true(fx.nreq > 0);
	assert_int_equal(fx.reqs[0]->n_resource_spans, 1);
	rs = fx.reqs[0]->resource_spans[0];
	res = rs->resource;
	assert_non_null(res);
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "service.name")->string_value, "fixture-svc");
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "telemetry.sdk.language")->string_value, "c");
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "telemetry.sdk.name")->string_value, "libtrace");
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "telemetry.sdk.version")->string_value, TRACE_VERSION_STRING);
	assert_int_equal(attr(res->attributes, res->n_attributes,
	    "process.pid")->int_value, getpid());
	gethostname(host, sizeof host);
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "host.name")->string_value, host);
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "deployment.environment")->string_value, "test");
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "team")->string_value, "a b");
	assert_string_equal(attr(res->attributes, res->n_attributes,
	    "service.version")->string_value, "1.2.3");
	/* Keys are unique. */
	for (size_t i = 0; i < res->n_attributes; i++)
		for (size_t j = i + 1; j < res->n_attributes; j++)
			assert_string_not_equal(res->attributes[i]->key,
			    res->attributes[j]->key);
	assert_int_equal(rs->n_scope_spans, 1);
	assert_string_equal(rs->scope_spans[0]->scope->name, "libtrace");
	assert_string_equal(rs->scope_spans[0]->scope->version,
	    TRACE_VERSION_STRING);
}

/* A batch of many spans of varied sizes decodes to exactly those spans. */
static void
test_batch_sizes(void **state)
{
	char name[32], big[1500];
	size_t before = atomic_load(&fx.nspans);

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int i = 0; i < 300; i++) {
		trace_span *s;

		snprintf(name, sizeof name, "enc.batch.%d", i);
		s = trace_span_start_opts(name, &(trace_span_options){
		    .new_root = true});
		trace_span_set_str(s, "big", big + (i * 5) % 1400);
		trace_span_set_int(s, "i", i);
		trace_span_end(s);
	}
	assert_int_equal(trace_flush(5000), TRACE_OK);
	assert_int_equal(atomic_load(&fx.nspans) - before, 300);
	for (int i = 0; i < 300; i += 37) {
		const fx_span *p;

		snprintf(name, sizeof name, "enc.batch.%d", i);
		p = fx_find_span(&fx, name);
		assert_non_null(p);
		assert_int_equal(strlen(attr(p->attributes, p->n_attributes,
		    "big")->string_value), strlen(big + (i * 5) % 1400));
		assert_int_equal(attr(p->attributes, p->n_attributes,
		    "i")->int_value, i);
	}
}

/* The IngestReply decoder reads what protobuf-c packs, and refuses
 * truncated input. */
static void
test_reply_decode(void **state)
{
	Tracequery__V1__IngestReply rep = TRACEQUERY__V1__INGEST_REPLY__INIT;
	struct trace__reply out;
	uint8_t buf[128];
	size_t len;

	(void)state;
	rep.code = TRACEQUERY__V1__INGEST_REPLY__CODE__PARTIAL;
	rep.accepted_spans = 300;
	rep.rejected_spans = 12;
	rep.message = (char *)"some were bad";
	rep.retry_after_ms = 250;
	len = tracequery__v1__ingest_reply__pack(&rep, buf);
	assert_int_equal(trace__ingest_reply_decode(buf, len, &out), 0);
	assert_int_equal(out.code, 1);
	assert_int_equal(out.accepted, 300);
	assert_int_equal(out.rejected, 12);
	assert_int_equal(out.retry_after_ms, 250);
	assert_int_equal(trace__ingest_reply_decode(buf, 0, &out), 0);
	assert_int_equal(out.code, 0);
	for (size_t cut = 1; cut < len; cut++)
		if (trace__ingest_reply_decode(buf, cut, &out) == 0)
			assert_true(cut == 2 || cut == 5 || cut == 7 ||
			    cut == 22 || cut == len);
	assert_int_equal(trace__ingest_reply_decode(
	    (const uint8_t *)"\xff\xff\xff", 3, &out), -1);
	assert_int_equal(trace__ingest_reply_decode(
	    (const uint8_t *)"\x0a\x05" "ab", 4, &out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_fields),
		cmocka_unit_test(test_events_links),
		cmocka_unit_test(test_remote_parent),
		cmocka_unit_test(test_resource_and_scope),
		cmocka_unit_test(test_batch_sizes),
		cmocka_unit_test(test_reply_decode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
