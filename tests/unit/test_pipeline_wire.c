/*
 * test_pipeline_wire.c - the pipeline stores a request's spans from the
 * bytes they came in (pipeline_submit_protobuf) as it stores them packed
 * (pipeline_submit_request, given the same request unpacked): each test
 * submits one request both ways, to two RocksDB stores in mkdtemp
 * directories (removed afterwards), and compares what they hold. Spans
 * packed by protobuf-c are stored byte for byte alike; spans with
 * repeated or unknown fields hold the same spans; max_span_bytes counts
 * the bytes stored; a span whose bytes cannot be copied is packed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp_types.h"
#include "span_block_fixture.h"
#include "store_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "pipeline/pipeline.h"
#include "format/span_block.h"
#include "varint.h"


/* The store written by packing, and the one written by copying. */
typedef struct two {
	store_fixture packed, copied;
} two;

static int
setup(void **state)
{
	two *t = calloc(1, sizeof *t);

	if (store_fixture_open(&t->packed, "pwire-packed") != 0 ||
	    store_fixture_open(&t->copied, "pwire-copied") != 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	two *t = *state;

	store_fixture_close(&t->packed);
	store_fixture_close(&t->copied);
	free(t);
	return 0;
}

/* Submits req to a pipeline over t->packed and buf, the bytes req was
 * packed or unpacked from, to one over t->copied. */
static void
submit_both(two *t, const pipeline_limits *lim, const ExportRequest *req,
    const uint8_t *buf, size_t len, pipeline_result *packed,
    pipeline_result *copied)
{
	pipeline *pp, *pc;
	char *cause = NULL;

	assert_int_equal(pipeline_new(&pp, store_fixture_backend(&t->packed),
	    lim, &cause), 0);
	assert_int_equal(pipeline_new(&pc, store_fixture_backend(&t->copied),
	    lim, &cause), 0);
	pipeline_submit_request(pp, req, packed);
	pipeline_submit_protobuf(pc, buf, len, copied);
	pipeline_free(pp);
	pipeline_free(pc);
	assert_int_equal(backend_sync(t->packed.be, 0), 0);
	assert_int_equal(backend_sync(t->copied.be, 0), 0);
}

/* Asserts that family cf has the same keys in both stores, with the same
 * values (exact) or, in the spans family, blocks of the same spans.
 * Returns the number of records; adds their values' sizes to *bytes
 * (packed, copied). */
static size_t
same_records(two *t, store_cf cf, bool exact, size_t bytes[2])
{
	store_iter *a = store_iter_new(t->packed.st, cf, NULL, 0, NULL, 0,
	    false);
	store_iter *b = store_iter_new(t->copied.st, cf, NULL, 0, NULL, 0,
	    false);
	size_t n = 0, linked;

	for (; store_iter_valid(a); store_iter_next(a), store_iter_next(b)) {
		size_t kal, kbl, val, vbl;
		const void *ka = store_iter_key(a, &kal);
		const void *kb, *va, *vb;

		assert_true(store_iter_valid(b));
		kb = store_iter_key(b, &kbl);
		assert_int_equal(kal, kbl);
		assert_memory_equal(ka, kb, kal);
		va = store_iter_value(a, &val);
		vb = store_iter_value(b, &vbl);
		bytes[0] += val;
		bytes[1] += vbl;
		if (exact) {
			assert_int_equal(val, vbl);
			assert_memory_equal(va, vb, val);
		} else {
			sbf_assert_same_blocks(va, val, vb, vbl, &linked);
		}
		n++;
	}
	assert_false(store_iter_valid(b));
	store_iter_free(a);
	store_iter_free(b);
	return n;
}

/* ---------------------------------------------------------------- wire */

/* Appends the span of trace 0xab.. with ID bytes id and parent ID bytes
 * parent (0: none), starting id microseconds after start, as protobuf-c
 * packs it. */
static void
put_span(wire *w, uint8_t id, uint8_t parent, uint64_t start)
{
	sg_info in = { .op = id % 50, .service = id % 5, .user = id };
	Span *sp;
	uint8_t *b;
	size_t len;

	memset(in.trace_id, 0xab, sizeof in.trace_id);
	memset(in.span_id, id, sizeof in.span_id);
	memset(in.parent_id, parent, sizeof in.parent_id);
	in.start_ns = start + (uint64_t)id * 1000;
	in.end_ns = in.start_ns + 5000;
	sp = sg_span_new(&in);
	b = sbf_pack(sp, &len);
	put_raw(w, b, len);
	free(b);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
}

/* Request { ResourceSpans { resource: service.name=odd, ScopeSpans {
 * scope: name=t, spans: spans[0..n) } } }. */
static void
put_request(wire *req, const wire *spans, size_t n)
{
	static const uint8_t scope[] = { 0x0a, 0x03, 0x0a, 0x01, 't' };
	sg_kv *kv = sg_kv_str("service.name", "odd");
	wire res = { 0 }, ss = { 0 }, rs = { 0 };
	uint8_t *b;
	size_t len;

	len = opentelemetry__proto__common__v1__key_value__get_packed_size(kv);
	b = malloc(len);
	opentelemetry__proto__common__v1__key_value__pack(kv, b);
	put_len_field(&res, 1, b, len);
	free(b);
	opentelemetry__proto__common__v1__key_value__free_unpacked(kv, NULL);
	put_raw(&ss, scope, sizeof scope);
	for (size_t i = 0; i < n; i++)
		put_len_field(&ss, 2, spans[i].b, spans[i].len);
	put_len_field(&rs, 1, res.b, res.len);
	put_len_field(&rs, 2, ss.b, ss.len);
	put_len_field(req, 1, rs.b, rs.len);
}

static ExportRequest *
unpack_request(const wire *req)
{
	ExportRequest *r =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, req->len, req->b);

	assert_non_null(r);
	return r;
}

static void
free_request(ExportRequest *req)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

/* ---------------------------------------------------------------- tests */

/* Spans packed by protobuf-c, in 5 resources: copying stores the very
 * bytes packing stores, every family alike. */
static void
test_packed_request_stores_same_bytes(void **state)
{
	two *t = *state;
	uint64_t base = now_unix_ns() - 60ULL * 1000000000ULL;
	sg_request *req = sg_request_new(1, 0, 20, base, 1000000);
	pipeline_limits lim;
	pipeline_result rp, rc;
	size_t len, bytes[2] = { 0, 0 };
	uint8_t *buf = sg_pack(req, &len);

	pipeline_limits_default(&lim);
	submit_both(t, &lim, req, buf, len, &rp, &rc);
	assert_int_equal(rp.code, PIPELINE_OK);
	assert_int_equal(rc.code, PIPELINE_OK);
	assert_int_equal(rc.accepted_spans, 20 * SPANGEN_PER_TRACE);
	assert_int_equal(same_records(t, STORE_CF_SPANS, true, bytes), 20);
	assert_true(bytes[0] > 20 * SPANGEN_PER_TRACE * 100);
	assert_int_equal(same_records(t, STORE_CF_TRACES, true, bytes), 20);
	assert_true(same_records(t, STORE_CF_META, true, bytes) > 0);
	sg_request_free(req);
	free(buf);
}

/* A span with an unknown field, one with its name twice and flags, one
 * with its parent_span_id twice: the same spans are stored, the copied
 * ones longer (the first name stays in the bytes). */
static void
test_odd_spans_store_same_spans(void **state)
{
	static const uint8_t field100[] = { 0xa0, 0x06, 0x2a };
	static const uint8_t flags[] = { 0x85, 0x01, 0x01, 0x03, 0, 0 };
	static const uint8_t parent[8] = { 0x99, 0x99, 0x99, 0x99, 0x99,
		0x99, 0x99, 0x99 };
	two *t = *state;
	uint64_t base = now_unix_ns() - 60ULL * 1000000000ULL;
	wire spans[3] = { 0 }, req = { 0 };
	ExportRequest *r;
	pipeline_limits lim;
	pipeline_result rp, rc;
	size_t bytes[2] = { 0, 0 };

	put_span(&spans[0], 0x11, 0, base);
	put_raw(&spans[0], field100, sizeof field100);
	put_len_field(&spans[1], 5, "first", 5);
	put_span(&spans[1], 0x22, 0x11, base);
	put_len_field(&spans[1], 5, "second", 6);
	put_raw(&spans[1], flags, sizeof flags);
	put_len_field(&spans[2], 4, parent, 8);
	put_span(&spans[2], 0x33, 0x22, base);
	put_request(&req, spans, 3);
	r = unpack_request(&req);
	pipeline_limits_default(&lim);
	submit_both(t, &lim, r, req.b, req.len, &rp, &rc);
	assert_int_equal(rp.code, PIPELINE_OK);
	assert_int_equal(rc.code, PIPELINE_OK);
	assert_int_equal(rc.accepted_spans, 3);
	assert_int_equal(same_records(t, STORE_CF_SPANS, false, bytes), 1);
	assert_true(bytes[1] > bytes[0]);
	free_request(r);
}

/* max_span_bytes counts the bytes a span is stored in: copied with a
 * long first name, a span is over it; packed (the last name only), it
 * is not. */
static void
test_span_limit_counts_stored_bytes(void **state)
{
	two *t = *state;
	uint64_t base = now_unix_ns() - 60ULL * 1000000000ULL;
	wire span = { 0 }, req = { 0 };
	char name[700];
	ExportRequest *r;
	pipeline_limits lim;
	pipeline_result rp, rc;

	memset(name, 'n', sizeof name);
	put_len_field(&span, 5, name, sizeof name);
	put_span(&span, 0x11, 0, base);
	put_request(&req, &span, 1);
	r = unpack_request(&req);
	pipeline_limits_default(&lim);
	lim.max_span_bytes = 600;
	submit_both(t, &lim, r, req.b, req.len, &rp, &rc);
	assert_int_equal(rp.code, PIPELINE_OK);
	assert_int_equal(rc.code, PIPELINE_INVALID);
	assert_int_equal(rc.rejected_spans, 1);
	assert_string_equal(rc.message, "span over a size or count limit");
	free_request(r);
}

/* A span whose kind is a varint of more than 64 bits (the pre-scan and
 * protobuf-c take it, span_wire does not): the request is packed, so
 * both stores hold the same bytes. */
static void
test_uncopyable_span_is_packed(void **state)
{
	static const uint8_t kind[] = { 0x30, 0x81, 0x81, 0x81, 0x81, 0x81,
		0x81, 0x81, 0x81, 0x81, 0x7f };
	two *t = *state;
	uint64_t base = now_unix_ns() - 60ULL * 1000000000ULL;
	wire spans[2] = { 0 }, req = { 0 };
	ExportRequest *r;
	pipeline_limits lim;
	pipeline_result rp, rc;
	size_t bytes[2] = { 0, 0 };

	put_span(&spans[0], 0x11, 0, base);
	put_span(&spans[1], 0x22, 0x11, base);
	put_raw(&spans[1], kind, sizeof kind);
	put_request(&req, spans, 2);
	r = unpack_request(&req);
	pipeline_limits_default(&lim);
	submit_both(t, &lim, r, req.b, req.len, &rp, &rc);
	assert_int_equal(rp.code, PIPELINE_OK);
	assert_int_equal(rc.code, PIPELINE_OK);
	assert_int_equal(rc.accepted_spans, 2);
	assert_int_equal(same_records(t, STORE_CF_SPANS, true, bytes), 1);
	free_request(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_packed_request_stores_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_odd_spans_store_same_spans, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_span_limit_counts_stored_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_uncopyable_span_is_packed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
