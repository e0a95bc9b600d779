/*
 * otlp_encode.c - a hand-written encoder for the OTLP protobuf messages
 * libtrace sends (ExportTraceServiceRequest and below). libtrace links only
 * nng and pthread, so it carries its own few dozen lines of protobuf.
 *
 * Length-delimited messages need their length before their body. The
 * encoder sizes each span first (one walk of its arena), reserves the whole
 * request once, then writes it front to back (a second walk). Field numbers
 * are those of docs/PROTOCOL.md §1; fields holding their
 * proto3 default are omitted, except oneof members (AnyValue), which are
 * always written.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

void
trace__buf_free(struct trace__buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

/* Makes room for n more bytes; on failure marks the buffer failed. */
static bool
reserve(struct trace__buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (TRACE_LIKELY(b->cap - b->len >= n))
		return !b->failed;
	if (b->failed)
		return false;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static inline void
put(struct trace__buf *b, const void *p, size_t n)
{
	if (TRACE_UNLIKELY(b->cap - b->len < n) && !reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

size_t
trace__pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void
varint(struct trace__buf *b, uint64_t v)
{
	uint8_t *p;

	if (TRACE_UNLIKELY(b->cap - b->len < 10) && !reserve(b, 10))
		return;
	p = b->p + b->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	b->len = (size_t)(p - b->p);
}

static inline void
tag(struct trace__buf *b, uint32_t field, int wt)
{
	varint(b, (uint64_t)field << 3 | (uint64_t)wt);
}

static void
fixed64(struct trace__buf *b, uint32_t field, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	tag(b, field, WT_I64);
	put(b, le, 8);
}

static void
fixed32(struct trace__buf *b, uint32_t field, uint32_t v)
{
	uint8_t le[4];

	for (int i = 0; i < 4; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	tag(b, field, WT_I32);
	put(b, le, 4);
}

/* Writes the tag and length of a length-delimited field. */
static void
len_hdr(struct trace__buf *b, uint32_t field, size_t len)
{
	tag(b, field, WT_LEN);
	varint(b, len);
}

void
trace__pb_bytes(struct trace__buf *b, uint32_t field, const void *p,
    size_t len)
{
	len_hdr(b, field, len);
	put(b, p, len);
}

/* Size of a length-delimited field whose body has len bytes. */
static size_t
len_field(uint32_t field, size_t len)
{
	return trace__pb_varint_len((uint64_t)field << 3) +
	    trace__pb_varint_len(len) + len;
}

static size_t
varint_field(uint32_t field, uint64_t v)
{
	return trace__pb_varint_len((uint64_t)field << 3) +
	    trace__pb_varint_len(v);
}

void
trace__pb_kv_str(struct trace__buf *b, uint32_t field, const char *key,
    const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	size_t any = len_field(1, vl);

	len_hdr(b, field, len_field(1, kl) + len_field(2, any));
	trace__pb_bytes(b, 1, key, kl);
	len_hdr(b, 2, any);
	trace__pb_bytes(b, 1, value, vl);
}

void
trace__pb_kv_int(struct trace__buf *b, uint32_t field, const char *key,
    int64_t value)
{
	size_t kl = strlen(key);
	size_t any = varint_field(3, (uint64_t)value);

	len_hdr(b, field, len_field(1, kl) + len_field(2, any));
	trace__pb_bytes(b, 1, key, kl);
	len_hdr(b, 2, any);
	tag(b, 3, WT_VARINT);
	varint(b, (uint64_t)value);
}

/* ------------------------------------------------------------------ */
/* Spans                                                              */
/* ------------------------------------------------------------------ */

static int64_t
ent_i64(const struct trace__ent *e)
{
	int64_t v;

	memcpy(&v, trace__ent_val(e), 8);
	return v;
}

static uint32_t
ent_u32(const struct trace__ent *e, size_t at)
{
	uint32_t v;

	memcpy(&v, trace__ent_val(e) + at, 4);
	return v;
}

/* Array attributes (layout: TRACE__ATTR_ARRAY in trace_impl.h). Every
 * element is an AnyValue with its oneof member always written, so an
 * empty string, 0 or false keeps its type. */

/* Size of the AnyValue body of the element of type elem at v + *pos;
 * advances *pos past it. */
static size_t
elem_size(uint8_t elem, const unsigned char *v, uint32_t *pos)
{
	uint64_t x;
	uint32_t len;

	switch (elem) {
	case TRACE_ATTR_STRING:
		memcpy(&len, v + *pos, 4);
		*pos += 4 + len;
		return len_field(1, len);
	case TRACE_ATTR_BOOL:
		*pos += 1;
		return 2;
	case TRACE_ATTR_INT:
		memcpy(&x, v + *pos, 8);
		*pos += 8;
		return varint_field(3, x);
	default:
		*pos += 8;
		return 9; /* double */
	}
}

/* Size of the ArrayValue body: one AnyValue (field 1) per element. */
static size_t
array_size(const struct trace__ent *e)
{
	const unsigned char *v = trace__ent_val(e);
	uint8_t elem = e->type & ~TRACE__ATTR_ARRAY;
	uint32_t pos = 0;
	size_t n = 0;

	while (pos < e->vlen)
		n += len_field(1, elem_size(elem, v, &pos));
	return n;
}

static void
elem_write(struct trace__buf *b, uint8_t elem, const unsigned char *v,
    uint32_t *pos)
{
	uint32_t at = *pos;
	uint64_t x;

	len_hdr(b, 1, elem_size(elem, v, pos));
	switch (elem) {
	case TRACE_ATTR_STRING:
		trace__pb_bytes(b, 1, v + at + 4, *pos - at - 4);
		break;
	case TRACE_ATTR_BOOL:
		tag(b, 2, WT_VARINT);
		varint(b, v[at] != 0);
		break;
	case TRACE_ATTR_INT:
		memcpy(&x, v + at, 8);
		tag(b, 3, WT_VARINT);
		varint(b, x);
		break;
	default:
		tag(b, 4, WT_I64);
		put(b, v + at, 8);
		break;
	}
}

/* Writes AnyValue.array_value (field 5), even when empty: the field's
 * presence is what makes the value an (empty) array. */
static void
array_write(struct trace__buf *b, const struct trace__ent *e)
{
	const unsigned char *v = trace__ent_val(e);
	uint8_t elem = e->type & ~TRACE__ATTR_ARRAY;
	uint32_t pos = 0;

	len_hdr(b, 5, array_size(e));
	while (pos < e->vlen)
		elem_write(b, elem, v, &pos);
}

/* Size of an attribute's AnyValue body. */
static size_t
any_size(const struct trace__ent *e)
{
	if (e->type & TRACE__ATTR_ARRAY)
		return len_field(5, array_size(e));
	switch (e->type) {
	case TRACE_ATTR_STRING: return len_field(1, e->vlen);
	case TRACE_ATTR_BOOL: return 2;
	case TRACE_ATTR_INT: return varint_field(3, (uint64_t)ent_i64(e));
	default: return 9; /* double */
	}
}

static size_t
kv_size(const struct trace__ent *e)
{
	return len_field(1, e->klen) + len_field(2, any_size(e));
}

static void
kv_write(struct trace__buf *b, uint32_t field, const struct trace__ent *e)
{
	const unsigned char *v = trace__ent_val(e);

	len_hdr(b, field, kv_size(e));
	trace__pb_bytes(b, 1, trace__ent_key(e), e->klen);
	len_hdr(b, 2, any_size(e));
	if (e->type & TRACE__ATTR_ARRAY) {
		array_write(b, e);
		return;
	}
	switch (e->type) {
	case TRACE_ATTR_STRING:
		trace__pb_bytes(b, 1, v, e->vlen);
		break;
	case TRACE_ATTR_BOOL:
		tag(b, 2, WT_VARINT);
		varint(b, ent_i64(e) != 0);
		break;
	case TRACE_ATTR_INT:
		tag(b, 3, WT_VARINT);
		varint(b, (uint64_t)ent_i64(e));
		break;
	default:
		tag(b, 4, WT_I64);
		put(b, v, 8);
		break;
	}
}

/* Size of an event or link body without its attributes. */
static size_t
group_base(const struct trace__ent *e)
{
	uint32_t dropped;
	size_t n;

	if (e->kind == TRACE__ENT_EVENT) {
		dropped = ent_u32(e, 8);
		n = 9 + (e->klen ? len_field(2, e->klen) : 0);
		return n + (dropped ? varint_field(4, dropped) : 0);
	}
	dropped = ent_u32(e, 28);
	n = len_field(1, 16) + len_field(2, 8) + 5;
	if (e->klen)
		n += len_field(3, e->klen);
	return n + (dropped ? varint_field(5, dropped) : 0);
}

/* Size of the event or link at e (entry offset *off already past it),
 * including the attributes that follow it. */
static size_t
group_size(const struct trace__rec *r, const struct trace__ent *e,
    uint32_t off)
{
	uint8_t sub = e->kind == TRACE__ENT_EVENT ? TRACE__ENT_EATTR :
	    TRACE__ENT_LATTR;
	uint32_t field = e->kind == TRACE__ENT_EVENT ? 3 : 4;
	size_t n = group_base(e);
	const struct trace__ent *a;

	while ((a = trace__ent_next(r, &off)) != NULL &&
	    (a->kind == sub || a->kind == TRACE__ENT_DEAD))
		if (a->kind == sub)
			n += len_field(field, kv_size(a));
	return n;
}

static void
group_write(struct trace__buf *b, const struct trace__ent *e, size_t size)
{
	const unsigned char *v = trace__ent_val(e);
	uint64_t t;

	if (e->kind == TRACE__ENT_EVENT) {
		len_hdr(b, 11, size);
		memcpy(&t, v, 8);
		fixed64(b, 1, t);
		if (e->klen)
			trace__pb_bytes(b, 2, trace__ent_key(e), e->klen);
		if (ent_u32(e, 8)) {
			tag(b, 4, WT_VARINT);
			varint(b, ent_u32(e, 8));
		}
		return;
	}
	len_hdr(b, 13, size);
	trace__pb_bytes(b, 1, v, 16);
	trace__pb_bytes(b, 2, v + 16, 8);
	if (e->klen)
		trace__pb_bytes(b, 3, trace__ent_key(e), e->klen);
	if (ent_u32(e, 28)) {
		tag(b, 5, WT_VARINT);
		varint(b, ent_u32(e, 28));
	}
	fixed32(b, 6, ent_u32(e, 24));
}

static const struct trace__ent *
ent_at(const struct trace__rec *r, uint32_t off1)
{
	return off1 ? (const struct trace__ent *)(r->arena + off1 - 1) : NULL;
}

/* OTLP Span.flags: W3C flags plus "remote-ness known" and "is remote". */
static uint32_t
span_flags(const struct trace__rec *r)
{
	return r->h.flags | 0x100u | (r->h.parent_remote ? 0x200u : 0);
}

static size_t
status_size(const struct trace__rec *r)
{
	const struct trace__ent *m = ent_at(r, r->status_off);
	size_t n = 0;

	if (r->h.status == TRACE_STATUS_ERROR && m != NULL && m->klen)
		n += len_field(2, m->klen);
	return n + (r->h.status ? varint_field(3, r->h.status) : 0);
}

static size_t
span_size(const struct trace__rec *r)
{
	const struct trace__ent *e, *name = ent_at(r, r->name_off);
	size_t n = len_field(1, 16) + len_field(2, 8) + 9 + 9 + 6;
	size_t tsl = strlen(r->h.tracestate);
	uint32_t off = 0, here;

	if (tsl)
		n += len_field(3, tsl);
	if (r->h.has_parent)
		n += len_field(4, 8);
	if (name != NULL && name->klen)
		n += len_field(5, name->klen);
	if (r->h.kind)
		n += varint_field(6, r->h.kind);
	while ((e = trace__ent_next(r, &off)) != NULL) {
		here = off;
		if (e->kind == TRACE__ENT_ATTR)
			n += len_field(9, kv_size(e));
		else if (e->kind == TRACE__ENT_EVENT)
			n += len_field(11, group_size(r, e, here));
		else if (e->kind == TRACE__ENT_LINK)
			n += len_field(13, group_size(r, e, here));
	}
	if (r->dropped_attrs)
		n += varint_field(10, r->dropped_attrs);
	if (r->dropped_events)
		n += varint_field(12, r->dropped_events);
	if (r->dropped_links)
		n += varint_field(14, r->dropped_links);
	if (r->h.status)
		n += len_field(15, status_size(r));
	return n;
}

static void
span_write(struct trace__buf *b, const struct trace__rec *r, size_t size)
{
	const struct trace__ent *e, *m, *name = ent_at(r, r->name_off);
	size_t tsl = strlen(r->h.tracestate);
	uint32_t off = 0;

	len_hdr(b, 2, size);
	trace__pb_bytes(b, 1, r->h.trace_id.bytes, 16);
	trace__pb_bytes(b, 2, r->h.span_id.bytes, 8);
	if (tsl)
		trace__pb_bytes(b, 3, r->h.tracestate, tsl);
	if (r->h.has_parent)
		trace__pb_bytes(b, 4, r->h.parent_id.bytes, 8);
	if (name != NULL && name->klen)
		trace__pb_bytes(b, 5, trace__ent_key(name), name->klen);
	if (r->h.kind) {
		tag(b, 6, WT_VARINT);
		varint(b, r->h.kind);
	}
	fixed64(b, 7, r->start_ns);
	fixed64(b, 8, r->end_ns);
	while ((e = trace__ent_next(r, &off)) != NULL) {
		switch (e->kind) {
		case TRACE__ENT_ATTR:
			kv_write(b, 9, e);
			break;
		case TRACE__ENT_EATTR:
			kv_write(b, 3, e);
			break;
		case TRACE__ENT_LATTR:
			kv_write(b, 4, e);
			break;
		case TRACE__ENT_EVENT:
		case TRACE__ENT_LINK:
			group_write(b, e, group_size(r, e, off));
			break;
		}
	}
	if (r->dropped_attrs) {
		tag(b, 10, WT_VARINT);
		varint(b, r->dropped_attrs);
	}
	if (r->dropped_events) {
		tag(b, 12, WT_VARINT);
		varint(b, r->dropped_events);
	}
	if (r->dropped_links) {
		tag(b, 14, WT_VARINT);
		varint(b, r->dropped_links);
	}
	if (r->h.status) {
		len_hdr(b, 15, status_size(r));
		m = ent_at(r, r->status_off);
		if (r->h.status == TRACE_STATUS_ERROR && m != NULL && m->klen)
			trace__pb_bytes(b, 2, trace__ent_key(m), m->klen);
		tag(b, 3, WT_VARINT);
		varint(b, r->h.status);
	}
	fixed32(b, 16, span_flags(r));
}

int
trace__otlp_encode(struct trace__buf *b, const struct trace__tracer *tr,
    struct trace__rec *const *recs, size_t n, size_t *sizes)
{
	size_t spans = 0, scope_spans, rs;

	b->len = 0;
	b->failed = false;
	for (size_t i = 0; i < n; i++) {
		sizes[i] = span_size(recs[i]);
		spans += len_field(2, sizes[i]);
	}
	scope_spans = len_field(1, tr->scope_len) + spans;
	rs = len_field(1, tr->resource_len) + len_field(2, scope_spans);
	if (!reserve(b, len_field(1, rs)))
		return TRACE_ENOMEM;
	len_hdr(b, 1, rs);                    /* resource_spans */
	trace__pb_bytes(b, 1, tr->resource_pb, tr->resource_len);
	len_hdr(b, 2, scope_spans);           /* scope_spans */
	trace__pb_bytes(b, 1, tr->scope_pb, tr->scope_len);
	for (size_t i = 0; i < n; i++)
		span_write(b, recs[i], sizes[i]);
	return b->failed ? TRACE_ENOMEM : TRACE_OK;
}
