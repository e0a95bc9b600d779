/* ch_rows.c - a batch's rows for every ClickHouse table (ch_rows.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_rows.h"
#include "format/hist.h"
#include "format/attr_text.h"
#include "format/keys.h"

/* A record's sections: one per table, but span_time and trace_spans
 * (schema v2) take the same rows, stored once: spans, span_index,
 * trace_index, operations, span_time and trace_spans, op_minutes. A
 * record written before v2 has only the first four, before v3 five. */
#define SECTIONS 6
#define V1_SECTIONS 4

/* The table whose rows each section holds. */
static const int section_table[SECTIONS] = { CH_ROWS_SPANS, CH_ROWS_INDEX,
	CH_ROWS_TRACE_INDEX, CH_ROWS_OPS, CH_ROWS_TIME, CH_ROWS_OP_MIN };

/* The packed origin of the span before, reused while rs and ss repeat. */
typedef struct origin_cache {
	const ResourceSpans *rs;
	const ScopeSpans *ss;
	uint8_t *bytes;
	size_t len;
} origin_cache;

/* A trace's start range within the batch. */
typedef struct trace_range {
	uint8_t id[16];
	uint64_t min_start, max_start;
} trace_range;

static uint16_t
day_of(uint64_t unix_ns)
{
	return (uint16_t)(unix_ns / CH_NS_PER_DAY);
}

/* The resource and scope without spans, as get-trace gives them back. */
static void
origin_of(origin_cache *oc, const ResourceSpans *rs, const ScopeSpans *ss)
{
	ResourceSpans r;
	ScopeSpans s, *sp = &s;

	if (oc->bytes != NULL && oc->rs == rs && oc->ss == ss)
		return;
	free(oc->bytes);
	r = *rs;
	s = *ss;
	s.n_spans = 0;
	s.spans = NULL;
	r.n_scope_spans = 1;
	r.scope_spans = &sp;
	oc->len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(&r);
	oc->bytes = xmalloc(oc->len + 1);
	opentelemetry__proto__trace__v1__resource_spans__pack(&r, oc->bytes);
	oc->rs = rs;
	oc->ss = ss;
}

static void
put_span_row(rowbinary_buf *w, const backend_span *bs, origin_cache *oc)
{
	const Span *sp = bs->sp;

	rowbinary_put_u16(w, day_of(sp->start_time_unix_nano));
	rowbinary_put_bytes(w, sp->trace_id.data, 16);
	rowbinary_put_bytes(w, sp->span_id.data, 8);
	rowbinary_put_u64(w, sp->start_time_unix_nano);
	origin_of(oc, bs->rs, bs->ss);
	rowbinary_put_string(w, oc->bytes, oc->len);
	if (bs->wire != NULL) {
		rowbinary_put_string(w, bs->wire, bs->wire_len);
	} else {
		size_t len = opentelemetry__proto__trace__v1__span__get_packed_size(sp);
		uint8_t *buf = xmalloc(len + 1);

		opentelemetry__proto__trace__v1__span__pack(sp, buf);
		rowbinary_put_string(w, buf, len);
		free(buf);
	}
}

/* Counts (want_keys) or writes the keys or the values of the scalar
 * attributes of kv, as attribute search renders them. */
static size_t
put_attrs(rowbinary_buf *w, KeyValue *const *kv, size_t n, int what)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		char buf[64];
		const char *txt;
		size_t len;

		if (kv[i]->key == NULL || kv[i]->value == NULL ||
		    !attr_text(kv[i]->value, buf, sizeof buf, &txt, &len))
			continue;
		count++;
		if (what == 1)
			rowbinary_put_cstr(w, kv[i]->key);
		else if (what == 2)
			rowbinary_put_string(w, txt, len);
	}
	return count;
}

/* The span's and its resource's attributes: an Array(String) of keys, then
 * one of values. */
static void
put_attr_arrays(rowbinary_buf *w, const backend_span *bs)
{
	const Span *sp = bs->sp;
	const Resource *res = bs->rs->resource;
	size_t n = put_attrs(w, sp->attributes, sp->n_attributes, 0) +
	    (res ? put_attrs(w, res->attributes, res->n_attributes, 0) : 0);

	for (int what = 1; what <= 2; what++) {
		rowbinary_put_varint(w, n);
		put_attrs(w, sp->attributes, sp->n_attributes, what);
		if (res != NULL)
			put_attrs(w, res->attributes, res->n_attributes, what);
	}
}

static void
put_index_row(rowbinary_buf *w, const backend_span *bs)
{
	const Span *sp = bs->sp;
	uint64_t d = sp->end_time_unix_nano - sp->start_time_unix_nano;

	rowbinary_put_u16(w, day_of(sp->start_time_unix_nano));
	rowbinary_put_cstr(w, bs->service);
	rowbinary_put_cstr(w, sp->name ? sp->name : "");
	rowbinary_put_u64(w, sp->start_time_unix_nano);
	rowbinary_put_u64(w, d);
	rowbinary_put_u16(w, (uint16_t)hist_index(d));
	rowbinary_put_bytes(w, sp->trace_id.data, 16);
	rowbinary_put_bytes(w, sp->span_id.data, 8);
	if (sp->parent_span_id.len == 8)
		rowbinary_put_bytes(w, sp->parent_span_id.data, 8);
	else
		rowbinary_put_bytes(w, "\0\0\0\0\0\0\0\0", 8);
	rowbinary_put_u8(w, sp->parent_span_id.len == 0);
	rowbinary_put_u8(w, sp->status ? (uint8_t)sp->status->code : 0);
	rowbinary_put_u8(w, (uint8_t)sp->kind);
	put_attr_arrays(w, bs);
}

/* One row of span_time and trace_spans (ch_schema.c, V2_COLUMNS). */
static void
put_v2_row(rowbinary_buf *w, const backend_span *bs)
{
	const Span *sp = bs->sp;
	uint64_t d = sp->end_time_unix_nano - sp->start_time_unix_nano;

	rowbinary_put_u16(w, day_of(sp->start_time_unix_nano));
	rowbinary_put_cstr(w, bs->service);
	rowbinary_put_u64(w, sp->start_time_unix_nano);
	rowbinary_put_cstr(w, sp->name ? sp->name : "");
	rowbinary_put_u64(w, d);
	rowbinary_put_u16(w, (uint16_t)hist_index(d));
	rowbinary_put_u8(w, sp->status ? (uint8_t)sp->status->code : 0);
	rowbinary_put_u8(w, sp->parent_span_id.len == 0);
	rowbinary_put_bytes(w, sp->trace_id.data, 16);
	rowbinary_put_bytes(w, sp->span_id.data, 8);
}

/* A span's op_minutes key. */
typedef struct op_minute {
	const char *service, *name;
	uint32_t minute;
	uint16_t bucket, day;
} op_minute;

static int
cmp_op_minute(const void *a, const void *b)
{
	const op_minute *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	if (c == 0)
		c = strcmp(x->name, y->name);
	if (c == 0)
		c = (x->minute > y->minute) - (x->minute < y->minute);
	return c != 0 ? c : (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

/* One op_minutes row per (service, operation, minute, bucket) of the
 * batch, with its count: the keys sorted, equal ones counted. */
static void
put_op_minute_rows(rowbinary_buf *w, const backend_batch *b)
{
	op_minute *k = xmalloc((b->n_spans + 1) * sizeof *k);
	size_t run = 0;

	for (size_t i = 0; i < b->n_spans; i++) {
		const Span *sp = b->spans[i].sp;

		k[i].service = b->spans[i].service;
		k[i].name = sp->name ? sp->name : "";
		k[i].minute = (uint32_t)(sp->start_time_unix_nano /
		    KEY_MINUTE_NS);
		k[i].bucket = (uint16_t)hist_index(sp->end_time_unix_nano -
		    sp->start_time_unix_nano);
		k[i].day = day_of(sp->start_time_unix_nano);
	}
	qsort(k, b->n_spans, sizeof *k, cmp_op_minute);
	for (size_t i = 1; i <= b->n_spans; i++) {
		if (i < b->n_spans && cmp_op_minute(&k[run], &k[i]) == 0)
			continue;
		rowbinary_put_u16(w, k[run].day);
		rowbinary_put_cstr(w, k[run].service);
		rowbinary_put_cstr(w, k[run].name);
		rowbinary_put_u32(w, k[run].minute);
		rowbinary_put_u16(w, k[run].bucket);
		rowbinary_put_u64(w, i - run);
		run = i;
	}
	free(k);
}

static void
add_range(trace_range **v, size_t *n, const Span *sp)
{
	uint64_t t = sp->start_time_unix_nano;
	size_t i;

	/* A batch holds few traces; spans of one trace mostly sit together,
	 * so search from the newest range. */
	for (i = *n; i > 0; i--)
		if (memcmp((*v)[i - 1].id, sp->trace_id.data, 16) == 0)
			break;
	if (i > 0) {
		trace_range *r = &(*v)[i - 1];

		r->min_start = t < r->min_start ? t : r->min_start;
		r->max_start = t > r->max_start ? t : r->max_start;
		return;
	}
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	memcpy((*v)[*n].id, sp->trace_id.data, 16);
	(*v)[*n].min_start = (*v)[*n].max_start = t;
	(*n)++;
}

static void
put_trace_rows(rowbinary_buf *w, const backend_batch *b)
{
	trace_range *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < b->n_spans; i++)
		add_range(&v, &n, b->spans[i].sp);
	for (size_t i = 0; i < n; i++) {
		rowbinary_put_u16(w, day_of(v[i].min_start));
		rowbinary_put_bytes(w, v[i].id, 16);
		rowbinary_put_u64(w, v[i].min_start);
		rowbinary_put_u64(w, v[i].max_start);
	}
	free(v);
}

static bool
same_op(const backend_span *a, const backend_span *b)
{
	return day_of(a->sp->start_time_unix_nano) ==
	    day_of(b->sp->start_time_unix_nano) && a->sp->kind == b->sp->kind &&
	    strcmp(a->service, b->service) == 0 &&
	    strcmp(a->sp->name ? a->sp->name : "", b->sp->name ? b->sp->name :
	    "") == 0;
}

/* One catalog row per (day, service, operation, kind) of the batch. */
static void
put_op_rows(rowbinary_buf *w, const backend_batch *b)
{
	size_t *seen = xmalloc(b->n_spans * sizeof *seen), n_seen = 0;

	for (size_t i = 0; i < b->n_spans; i++) {
		const backend_span *bs = &b->spans[i];
		size_t j;

		/* A batch has few operations: compare with those kept. */
		for (j = 0; j < n_seen; j++)
			if (same_op(&b->spans[seen[j]], bs))
				break;
		if (j < n_seen)
			continue;
		seen[n_seen++] = i;
		rowbinary_put_u16(w, day_of(bs->sp->start_time_unix_nano));
		rowbinary_put_cstr(w, bs->service);
		rowbinary_put_cstr(w, bs->sp->name ? bs->sp->name : "");
		rowbinary_put_u8(w, (uint8_t)bs->sp->kind);
	}
	free(seen);
}

/* Writes a section's length in front of what follows it. */
static void
patch_u32(rowbinary_buf *out, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out->b[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void
ch_rows_encode(const backend_batch *b, rowbinary_buf *out)
{
	origin_cache oc = { 0 };
	size_t at;

	rowbinary_put_u32(out, (uint32_t)b->n_spans);
	for (int sec = 0; sec < SECTIONS; sec++) {
		int t = section_table[sec];

		at = out->len;
		rowbinary_put_u32(out, 0);
		for (size_t i = 0; t == CH_ROWS_SPANS && i < b->n_spans; i++)
			put_span_row(out, &b->spans[i], &oc);
		for (size_t i = 0; t == CH_ROWS_INDEX && i < b->n_spans; i++)
			put_index_row(out, &b->spans[i]);
		if (t == CH_ROWS_TRACE_INDEX)
			put_trace_rows(out, b);
		if (t == CH_ROWS_OPS)
			put_op_rows(out, b);
		for (size_t i = 0; t == CH_ROWS_TIME && i < b->n_spans; i++)
			put_v2_row(out, &b->spans[i]);
		if (t == CH_ROWS_OP_MIN)
			put_op_minute_rows(out, b);
		patch_u32(out, at, (uint32_t)(out->len - at - 4));
	}
	free(oc.bytes);
}

bool
ch_rows_parse(const uint8_t *rec, size_t len, ch_rows_view *v)
{
	rowbinary_reader r;

	memset(v, 0, sizeof *v);
	rowbinary_reader_init(&r, rec, len);
	if (!rowbinary_get_u32(&r, &v->n_spans))
		return false;
	for (int sec = 0; sec < SECTIONS && (sec < V1_SECTIONS || r.left > 0);
	    sec++) {
		int t = section_table[sec];
		uint32_t n;

		if (!rowbinary_get_u32(&r, &n) || n > r.left)
			return false;
		v->rows[t] = r.p;
		v->len[t] = n;
		r.p += n;
		r.left -= n;
	}
	/* An older record (spooled before an upgrade, shipped after the
	 * migration's copy) has no rows for the newer tables: its spans
	 * reach the tables of its version only (docs/STORAGE.md). */
	v->rows[CH_ROWS_BY_TRACE] = v->rows[CH_ROWS_TIME];
	v->len[CH_ROWS_BY_TRACE] = v->len[CH_ROWS_TIME];
	return r.left == 0;
}
