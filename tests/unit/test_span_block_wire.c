/*
 * test_span_block_wire.c - spans stored from the bytes they came in
 * (collector/format/span_wire.c, span_block_add_wire). A block written from the
 * spans' wire bytes holds the same spans as one written by packing the
 * unpacked spans (span_block_add), whatever the wire holds: every kind of
 * field, a field more than once, unknown fields, flags; parents are
 * linked alike. The request walk finds every span where protobuf-c puts
 * it, and tells when the unpacked request does not match, or when a span
 * does not read.
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

#include "../tools/spangen.h"
#include "daemon/collector.h"
#include "format/span_block.h"
#include "format/span_wire.h"
#include "varint.h"


#define T0 1735689600000000000ULL
#define MAX_SPANS 8

/* ---------------------------------------------------------------- wire */

static void
put_fixed64_field(wire *w, uint64_t num, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_varint(w, num << 3 | 1);
	put_raw(w, b, 8);
}

static void
put_id_field(wire *w, uint64_t num, uint8_t byte, size_t n)
{
	uint8_t id[16];

	memset(id, byte, n);
	put_len_field(w, num, id, n);
}

/* Appends sp packed by protobuf-c, then frees sp. */
static void
put_span(wire *w, Span *sp)
{
	size_t len;
	uint8_t *b = sbf_pack(sp, &len);

	put_raw(w, b, len);
	free(b);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
}

/* ---------------------------------------------------------------- spans */

static sg_kv *
kv_list(const char *k)
{
	sg_kv *kv = sg_kv_str(k, "x");
	sg_any *v = kv->value;
	Opentelemetry__Proto__Common__V1__KeyValueList *l =
	    malloc(sizeof *l);

	opentelemetry__proto__common__v1__key_value_list__init(l);
	l->n_values = 2;
	l->values = malloc(2 * sizeof *l->values);
	l->values[0] = sg_kv_str("inner", "y");
	l->values[1] = sg_kv_int("n", -7);
	free(v->string_value);
	v->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
	v->kvlist_value = l;
	return kv;
}

static Event *
event(uint64_t t)
{
	Event *e = malloc(sizeof *e);

	opentelemetry__proto__trace__v1__span__event__init(e);
	e->time_unix_nano = t;
	e->name = sg_strdup("retry");
	e->n_attributes = 1;
	e->attributes = malloc(sizeof *e->attributes);
	e->attributes[0] = sg_kv_int("attempt", 2);
	e->dropped_attributes_count = 1;
	return e;
}

static Link *
link_to(uint8_t id)
{
	Link *l = malloc(sizeof *l);
	uint8_t trace[16], span[8];

	memset(trace, 0x5a, sizeof trace);
	memset(span, id, sizeof span);
	opentelemetry__proto__trace__v1__span__link__init(l);
	sg_bytes(&l->trace_id, trace, 16);
	sg_bytes(&l->span_id, span, 8);
	l->trace_state = sg_strdup("k=v");
	l->n_attributes = 1;
	l->attributes = malloc(sizeof *l->attributes);
	l->attributes[0] = kv_list("link.kv");
	l->flags = 0x100;
	return l;
}

/* A span of trace 0xab.. with ID bytes id, parent ID bytes parent (0:
 * none), starting id microseconds after T0, with every kind of field:
 * attributes (a nested list among them), an error status, an event, a
 * link, trace state, dropped counts and flags. Free with
 * ..._span__free_unpacked. */
static Span *
full_span(uint8_t id, uint8_t parent)
{
	sg_info in = { .op = 7, .service = 2, .error = 1, .user = 42 };
	Span *sp;

	memset(in.trace_id, 0xab, sizeof in.trace_id);
	memset(in.span_id, id, sizeof in.span_id);
	memset(in.parent_id, parent, sizeof in.parent_id);
	in.start_ns = T0 + (uint64_t)id * 1000;
	in.end_ns = in.start_ns + 5000 + id;
	sp = sg_span_new(&in);
	sp->trace_state = sg_strdup("vendor=1");
	sp->attributes = realloc(sp->attributes,
	    (sp->n_attributes + 1) * sizeof *sp->attributes);
	sp->attributes[sp->n_attributes++] = kv_list("nested");
	sp->n_events = 1;
	sp->events = malloc(sizeof *sp->events);
	sp->events[0] = event(in.start_ns + 10);
	sp->n_links = 1;
	sp->links = malloc(sizeof *sp->links);
	sp->links[0] = link_to(0x3c);
	sp->dropped_attributes_count = 3;
	sp->dropped_events_count = 4;
	sp->dropped_links_count = 5;
	sp->flags = 0x301;
	return sp;
}

/* ---------------------------------------------------------------- blocks */

/* One block written both ways. */
typedef struct blocks {
	uint8_t *packed, *copied;
	size_t packed_len, copied_len;
	size_t linked; /* entries whose parent is linked */
} blocks;

/* Writes the spans whose bytes are w[0..n) into one block by packing
 * each unpacked span and one by copying its bytes, in buffers of the
 * sizes the pipeline computes, and asserts that both hold the same. */
static void
write_both(blocks *bl, const wire *w, size_t n)
{
	Span *sp[MAX_SPANS];
	size_t plen = SPAN_BLOCK_HEADER, clen = SPAN_BLOCK_HEADER;
	span_block_writer pw, cw;

	assert_true(n <= MAX_SPANS);
	for (size_t i = 0; i < n; i++) {
		sp[i] = opentelemetry__proto__trace__v1__span__unpack(NULL,
		    w[i].len, w[i].b);
		assert_non_null(sp[i]);
		plen += span_block_entry_size(span_block_packed_len(sp[i]));
		clen += span_block_entry_size(span_wire_stripped_len(w[i].b,
		    w[i].len, false));
	}
	bl->packed = malloc(plen);
	bl->copied = malloc(clen);
	span_block_begin(&pw, bl->packed, sp[0]->start_time_unix_nano);
	span_block_begin(&cw, bl->copied, sp[0]->start_time_unix_nano);
	for (size_t i = 0; i < n; i++) {
		uint64_t origin = 7 + i / 2; /* some repeat the one before */

		span_block_add(&pw, origin, sp[i],
		    span_block_packed_len(sp[i]));
		span_block_add_wire(&cw, origin, sp[i], w[i].b, w[i].len);
	}
	assert_true(pw.len <= plen);
	assert_true(cw.len <= clen);
	bl->packed_len = pw.len;
	bl->copied_len = cw.len;
	assert_int_equal(sbf_assert_same_blocks(bl->packed, pw.len,
	    bl->copied, cw.len, &bl->linked), n);
	for (size_t i = 0; i < n; i++)
		opentelemetry__proto__trace__v1__span__free_unpacked(sp[i],
		    NULL);
}

static void
blocks_free(blocks *bl)
{
	free(bl->packed);
	free(bl->copied);
}

/* Entry i of a block. */
static span_block_entry
entry(const uint8_t *v, size_t len, size_t i)
{
	span_block_entry e;
	size_t off = 0;

	for (size_t j = 0; j <= i; j++)
		assert_int_equal(span_block_next(v, len, &off, &e), 1);
	return e;
}

/* The span of entry i, unpacked. */
static Span *
nth_span(const uint8_t *v, size_t len, size_t i)
{
	span_block_entry e = entry(v, len, i);
	Span *sp = span_block_unpack(&e);

	assert_non_null(sp);
	return sp;
}

/* ---------------------------------------------------------------- tests */

/* Spans as protobuf-c packs them (fields in order, each once): copying
 * gives the very bytes packing gives, the linked child included. */
static void
test_packed_spans_copy_to_same_bytes(void **state)
{
	wire w[3] = { 0 };
	blocks bl;

	(void)state;
	put_span(&w[0], full_span(0x11, 0));
	put_span(&w[1], full_span(0x22, 0x11));
	put_span(&w[2], full_span(0x33, 0x99));
	write_both(&bl, w, 3);
	assert_int_equal(bl.linked, 1);
	assert_int_equal(bl.copied_len, bl.packed_len);
	assert_memory_equal(bl.copied, bl.packed, bl.packed_len);
	blocks_free(&bl);
}

/* Fields that come more than once: the last wins in both blocks, and
 * every trace_id, span_id, time and (linked) parent_span_id is dropped
 * (sbf_stored). The other repeats are copied, so the block is longer. */
static void
test_repeated_fields(void **state)
{
	wire w[2] = { 0 };
	blocks bl;
	Span *sp;

	(void)state;
	put_span(&w[0], full_span(0x11, 0));
	put_id_field(&w[1], 1, 0xee, 16);
	put_len_field(&w[1], 5, "first", 5);
	put_fixed64_field(&w[1], 7, T0 - 1);
	put_id_field(&w[1], 4, 0x99, 8);
	put_span(&w[1], full_span(0x22, 0x11));
	put_len_field(&w[1], 5, "second", 6);
	put_id_field(&w[1], 2, 0x22, 8);
	put_fixed64_field(&w[1], 8, T0 + 999999);
	put_id_field(&w[1], 4, 0x11, 8);
	write_both(&bl, w, 2);
	assert_int_equal(bl.linked, 1);
	assert_true(bl.copied_len > bl.packed_len);
	sp = nth_span(bl.copied, bl.copied_len, 1);
	assert_string_equal(sp->name, "second");
	assert_true(sp->start_time_unix_nano == T0 + 0x22 * 1000);
	assert_true(sp->end_time_unix_nano == T0 + 999999);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	blocks_free(&bl);
}

/* Fields the schema does not know survive, where they were. */
static void
test_unknown_fields_survive(void **state)
{
	static const uint8_t field100[] = { 0xa0, 0x06, 0x2a }; /* 100: 42 */
	wire w[1] = { 0 };
	blocks bl;
	span_block_entry e;
	Span *sp;

	(void)state;
	put_raw(&w[0], field100, sizeof field100);
	put_span(&w[0], full_span(0x44, 0));
	put_len_field(&w[0], 101, "xyz", 3);
	write_both(&bl, w, 1);
	e = entry(bl.copied, bl.copied_len, 0);
	assert_true(e.packed_len > sizeof field100);
	assert_memory_equal(e.packed, field100, sizeof field100);
	sp = span_block_unpack(&e);
	assert_non_null(sp);
	assert_int_equal(sp->base.n_unknown_fields, 2);
	assert_int_equal(sp->base.unknown_fields[0].tag, 100);
	assert_int_equal(sp->base.unknown_fields[1].tag, 101);
	assert_string_equal(sp->name, "op-07");
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	blocks_free(&bl);
}

/* A parent earlier in the block is linked, one elsewhere or later is
 * not; with parent_span_id twice, the last decides, and both go when
 * linked (sbf_stored) or both stay. */
static void
test_parents_linked_and_not(void **state)
{
	wire w[7] = { 0 };
	blocks bl;
	Span *sp;

	(void)state;
	put_span(&w[0], full_span(0x11, 0));
	put_span(&w[1], full_span(0x22, 0x11));   /* linked */
	put_span(&w[2], full_span(0x33, 0x99));   /* not in the block */
	put_span(&w[3], full_span(0x44, 0x55));   /* comes later */
	put_span(&w[4], full_span(0x55, 0x11));   /* linked */
	put_span(&w[5], full_span(0x66, 0x11));
	put_id_field(&w[5], 4, 0x99, 8);          /* last: not in it */
	put_id_field(&w[6], 4, 0x99, 8);
	put_span(&w[6], full_span(0x77, 0x22));   /* last: linked */
	write_both(&bl, w, 7);
	assert_int_equal(bl.linked, 3);
	sp = nth_span(bl.copied, bl.copied_len, 5);
	assert_int_equal(sp->parent_span_id.len, 8);
	assert_int_equal(sp->parent_span_id.data[0], 0x99);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	sp = nth_span(bl.copied, bl.copied_len, 6);
	assert_int_equal(sp->parent_span_id.data[0], 0x22);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	blocks_free(&bl);
}

/* flags (field 16, fixed32) has a two-byte tag; it is kept. */
static void
test_flags_kept(void **state)
{
	static const uint8_t flags[] = { 0x85, 0x01, 0x01, 0x03, 0, 0 };
	wire w[1] = { 0 };
	Span *sp = full_span(0x11, 0);
	blocks bl;
	span_block_entry e;

	(void)state;
	sp->flags = 0;
	put_raw(&w[0], flags, sizeof flags);
	put_span(&w[0], sp);
	write_both(&bl, w, 1);
	e = entry(bl.copied, bl.copied_len, 0);
	assert_memory_equal(e.packed, flags, sizeof flags);
	sp = span_block_unpack(&e);
	assert_non_null(sp);
	assert_int_equal(sp->flags, 0x301);
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	blocks_free(&bl);
}

/* On any prefix of a span's bytes (a field cut short included), the
 * length and the copy agree, and the copy writes nothing past it. */
static void
test_length_and_copy_agree(void **state)
{
	wire w = { 0 };
	uint8_t out[sizeof w.b + 1];

	(void)state;
	put_varint(&w, 100 << 3);
	put_varint(&w, 42);
	put_span(&w, full_span(0x22, 0x11));
	for (size_t cut = 0; cut <= w.len; cut++) {
		for (int linked = 0; linked < 2; linked++) {
			size_t n = span_wire_stripped_len(w.b, cut, linked);

			memset(out, 0xcc, sizeof out);
			assert_int_equal(span_wire_strip(w.b, cut, linked,
			    out), n);
			assert_int_equal(out[n], 0xcc);
			assert_true(n <= cut);
		}
	}
	/* Whole: IDs (18 + 10 bytes), times (2 * 9) and when linked the
	 * parent (10) go. */
	assert_int_equal(span_wire_stripped_len(w.b, w.len, false),
	    w.len - 18 - 10 - 18);
	assert_int_equal(span_wire_stripped_len(w.b, w.len, true),
	    w.len - 18 - 10 - 18 - 10);
}

/* ---------------------------------------------------------------- walk */


/* A request of n_res ResourceSpans, resource i holding scopes[i]
 * ScopeSpans, which hold spans[0], spans[1], ... Spans (all resources'
 * scopes in a row), with span IDs 1, 2, ... Resources and scopes carry
 * other fields for the walk to step over. */
static ExportRequest *
make_request(size_t n_res, const uint32_t *scopes, const uint32_t *spans)
{
	ExportRequest *req = malloc(sizeof *req);
	size_t s = 0;
	uint8_t id = 1;

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
	req->n_resource_spans = n_res;
	req->resource_spans = calloc(n_res + 1, sizeof *req->resource_spans);
	for (size_t i = 0; i < n_res; i++) {
		sg_rs *rs = malloc(sizeof *rs);

		opentelemetry__proto__trace__v1__resource_spans__init(rs);
		rs->resource = malloc(sizeof *rs->resource);
		opentelemetry__proto__resource__v1__resource__init(
		    rs->resource);
		rs->resource->n_attributes = 1;
		rs->resource->attributes = malloc(sizeof(sg_kv *));
		rs->resource->attributes[0] = sg_kv_str("service.name", "s");
		rs->schema_url = sg_strdup("https://schema/r");
		rs->n_scope_spans = scopes[i];
		rs->scope_spans = calloc(scopes[i] + 1,
		    sizeof *rs->scope_spans);
		for (size_t j = 0; j < scopes[i]; j++, s++) {
			sg_ss *ss = malloc(sizeof *ss);

			opentelemetry__proto__trace__v1__scope_spans__init(ss);
			ss->schema_url = sg_strdup("https://schema/s");
			ss->n_spans = spans[s];
			ss->spans = calloc(spans[s] + 1, sizeof *ss->spans);
			for (size_t k = 0; k < spans[s]; k++)
				ss->spans[k] = full_span(id++, 0);
			rs->scope_spans[j] = ss;
		}
		req->resource_spans[i] = rs;
	}
	return req;
}

static void
free_request(ExportRequest *req)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

static uint8_t *
pack_request(const ExportRequest *req, size_t *len)
{
	uint8_t *buf;

	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
	buf = malloc(*len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, buf);
	return buf;
}

/* Resources of 2, 0 and 3 scopes, scopes of 2, 0, 1, 3 and 1 spans:
 * every span is found, in the order protobuf-c unpacks them. */
static void
test_walk_finds_every_span(void **state)
{
	static const uint32_t scopes[] = { 2, 0, 3 };
	static const uint32_t spans[] = { 2, 0, 1, 3, 1 };
	ExportRequest *req = make_request(3, scopes, spans), *got;
	span_wire_index x = { 0 };
	size_t len, n = 0;
	uint8_t *buf = pack_request(req, &len);

	(void)state;
	assert_int_equal(pipeline_prescan(buf, len, 64), 0);
	assert_int_equal(span_wire_scan(&x, buf, len), 0);
	assert_int_equal(x.n_resources, 3);
	assert_memory_equal(x.scopes, scopes, sizeof scopes);
	assert_int_equal(x.n_scopes, 5);
	assert_memory_equal(x.spans_in, spans, sizeof spans);
	assert_int_equal(x.n_spans, 7);
	got = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, buf);
	assert_non_null(got);
	assert_true(span_wire_matches(&x, got));
	for (size_t i = 0; i < got->n_resource_spans; i++) {
		sg_rs *rs = got->resource_spans[i];

		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			for (size_t k = 0; k < rs->scope_spans[j]->n_spans;
			    k++, n++) {
				Span *sp = rs->scope_spans[j]->spans[k];
				size_t plen;
				uint8_t *packed = sbf_pack(sp, &plen);

				assert_true(x.spans[n].p > buf);
				assert_true(x.spans[n].p + x.spans[n].len <=
				    buf + len);
				assert_int_equal(x.spans[n].len, plen);
				assert_memory_equal(x.spans[n].p, packed, plen);
				/* The scan's length is the block's (unlinked). */
				assert_int_equal(x.spans[n].stripped_len,
				    span_block_packed_len(sp));
				assert_int_equal(sp->span_id.data[0], n + 1);
				free(packed);
			}
		}
	}
	assert_int_equal(n, 7);
	/* The next request reuses the arrays. */
	assert_int_equal(span_wire_scan(&x, buf, 0), 0);
	assert_int_equal(x.n_spans, 0);
	assert_int_equal(x.n_resources, 0);
	free_request(got);
	free_request(req);
	free(buf);
	span_wire_index_free(&x);
}

/* Any difference in the number of resources, of a resource's scopes or
 * of a scope's spans is caught, also when the scopes' span counts in a
 * row are the same. */
static void
test_walk_mismatch_caught(void **state)
{
	static const uint32_t scopes[] = { 2, 1 }, other_scopes[] = { 1, 2 };
	static const uint32_t spans[] = { 1, 1, 1 }, fewer[] = { 1, 1, 0 };
	ExportRequest *req = make_request(2, scopes, spans);
	ExportRequest *regrouped = make_request(2, other_scopes, spans);
	ExportRequest *short_one = make_request(2, scopes, fewer);
	ExportRequest *more = make_request(3, (const uint32_t[]){ 2, 1, 0 },
	    spans);
	span_wire_index x = { 0 };
	size_t len;
	uint8_t *buf = pack_request(req, &len);

	(void)state;
	assert_int_equal(span_wire_scan(&x, buf, len), 0);
	assert_true(span_wire_matches(&x, req));
	assert_false(span_wire_matches(&x, regrouped));
	assert_false(span_wire_matches(&x, short_one));
	assert_false(span_wire_matches(&x, more));
	more->n_resource_spans = 2;
	assert_true(span_wire_matches(&x, more));
	more->n_resource_spans = 3;
	free_request(req);
	free_request(regrouped);
	free_request(short_one);
	free_request(more);
	free(buf);
	span_wire_index_free(&x);
}

/* Request { ResourceSpans { ScopeSpans { spans: span } } } around the
 * bytes of one span. */
static void
wrap_span(wire *req, const wire *span)
{
	wire ss = { 0 }, rs = { 0 };

	put_len_field(&ss, 2, span->b, span->len);
	put_len_field(&rs, 2, ss.b, ss.len);
	put_len_field(req, 1, rs.b, rs.len);
}

/* A span the pre-scan passes but whose kind is a varint of more than 64
 * bits (varint_get refuses it) cannot be copied: the walk says so, and
 * the pipeline packs the request instead. */
static void
test_walk_refuses_unreadable_span(void **state)
{
	static const uint8_t kind[] = { 0x30, 0x81, 0x81, 0x81, 0x81, 0x81,
		0x81, 0x81, 0x81, 0x81, 0x7f };
	wire span = { 0 }, req = { 0 };
	span_wire_index x = { 0 };

	(void)state;
	put_span(&span, full_span(0x11, 0));
	wrap_span(&req, &span);
	assert_int_equal(span_wire_scan(&x, req.b, req.len), 0);
	assert_int_equal(x.n_spans, 1);
	put_raw(&span, kind, sizeof kind);
	req.len = 0;
	wrap_span(&req, &span);
	assert_int_equal(pipeline_prescan(req.b, req.len, 64), 0);
	assert_int_equal(span_wire_scan(&x, req.b, req.len), -1);
	span_wire_index_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packed_spans_copy_to_same_bytes),
		cmocka_unit_test(test_repeated_fields),
		cmocka_unit_test(test_unknown_fields_survive),
		cmocka_unit_test(test_parents_linked_and_not),
		cmocka_unit_test(test_flags_kept),
		cmocka_unit_test(test_length_and_copy_agree),
		cmocka_unit_test(test_walk_finds_every_span),
		cmocka_unit_test(test_walk_mismatch_caught),
		cmocka_unit_test(test_walk_refuses_unreadable_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
