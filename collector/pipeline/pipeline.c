/*
 * pipeline.c - the one decode -> validate -> write path (pipeline.h).
 * Untrusted bytes are pre-scanned without recursion before protobuf-c sees
 * them: protobuf-c 1.4.1 unpacks nested messages recursively and a deeply
 * nested AnyValue would overflow the stack. The unpacked spans are
 * validated; the valid ones are stored as the bytes they came in, less
 * their IDs and times (span_wire.h: cheaper than packing them again),
 * or packed again when the request came unpacked or its bytes could not
 * be matched to its spans. Each request becomes one RocksDB WriteBatch
 * (spans, new origins and a log record naming the spans), written with the
 * WAL before the reply is sent; the index records follow through
 * index_buffer.c.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "daemon/collector.h"
#include "index/index.h"
#include "index/index_buffer.h"
#include "format/keys.h"
#include "format/span_block.h"
#include "format/span_wire.h"
#include "store/store_format.h"
#include "store/trace_locator.h"
#include "typed_sort.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    export_req;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span span_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue key_value;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_value;

#define MIN_TIME_NS 946684800000000000ULL /* 2000-01-01T00:00:00Z */
#define POOL_MAX 16

struct pipeline {
	store *st;
	pipeline_limits lim;
	index_catalog *cat;
	index_buffer *ibuf;
	pthread_mutex_t mu; /* guards the pool of per-thread work areas */
	struct work *pool[POOL_MAX];
	int n_pool;
};

/* What one submission needs; reused through the pool. */
typedef struct work {
	store_batch *b;
	index_builder *ib;  /* origins only: the index is ibuf's */
	indexed_span *acc;  /* the request's accepted spans */
	struct stored *st;  /* and how each is stored, same order */
	size_t n_acc, cap_acc;
	uint32_t *order;    /* acc by trace (write_blocks) */
	struct block_ref *blocks; /* write_blocks: the request's blocks */
	size_t n_blocks, cap_blocks;
	trace_minute *where; /* and their (trace, minute), cap_blocks */
	uint8_t *keys;      /* the blocks written (KEY_SPAN_LEN each) */
	size_t n_keys;
	arena mem;          /* the unpacked request */
	span_wire_index wire; /* and where its spans are in its bytes */
	uint8_t *buf;
	size_t buf_cap;
} work;

void
pipeline_limits_default(pipeline_limits *l)
{
	l->max_message_bytes = 16u << 20;
	l->max_depth = 64;
	l->max_attrs = 1024;
	l->max_events = 1024;
	l->max_links = 1024;
	l->max_string_bytes = 64u << 10;
	l->max_span_bytes = 1u << 20;
	l->max_backlog_bytes = 256u << 20;
	l->max_future_ns = 24 * KEY_HOUR_NS;
	l->min_free_bytes = 16u << 20;
	l->index_flush_spans = 32768;
	l->index_flush_ms = 1000;
	l->idle_flush_ms = 5000;
}

int
pipeline_new(pipeline **out, store *st, const pipeline_limits *l,
    char **cause)
{
	pipeline *p = xcalloc(1, sizeof *p);
	index_buffer_limits il = {
		.flush_spans = l->index_flush_spans,
		.flush_ms = l->index_flush_ms,
		.idle_ms = l->idle_flush_ms,
		.min_free_bytes = l->min_free_bytes,
	};

	*out = NULL;
	p->st = st;
	p->lim = *l;
	if (store_format_check(st, cause) != 0) {
		free(p);
		return -1;
	}
	p->cat = index_catalog_new(st, cause);
	if (p->cat == NULL) {
		free(p);
		return -1;
	}
	if (index_buffer_new(&p->ibuf, st, p->cat, &il, cause) != 0) {
		index_catalog_free(p->cat);
		free(p);
		return -1;
	}
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

int
pipeline_sync(pipeline *p)
{
	return index_buffer_sync(p->ibuf);
}

int
pipeline_sync_within(pipeline *p, uint32_t timeout_ms)
{
	return index_buffer_sync_within(p->ibuf, timeout_ms);
}

static void
work_free(work *w)
{
	if (w == NULL)
		return;
	store_batch_free(w->b);
	index_builder_free(w->ib);
	free(w->acc);
	free(w->st);
	free(w->order);
	free(w->keys);
	free(w->blocks);
	free(w->where);
	arena_free(&w->mem);
	span_wire_index_free(&w->wire);
	free(w->buf);
	free(w);
}

void
pipeline_free(pipeline *p)
{
	if (p == NULL)
		return;
	index_buffer_free(p->ibuf);
	for (int i = 0; i < p->n_pool; i++)
		work_free(p->pool[i]);
	index_catalog_free(p->cat);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static work *
work_get(pipeline *p)
{
	work *w = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->n_pool > 0)
		w = p->pool[--p->n_pool];
	pthread_mutex_unlock(&p->mu);
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->b = store_batch_new(p->st);
		w->ib = index_builder_new(p->cat);
	}
	store_batch_clear(w->b);
	index_begin(w->ib);
	w->n_acc = 0;
	return w;
}

static void
work_put(pipeline *p, work *w)
{
	arena_reset(&w->mem);
	pthread_mutex_lock(&p->mu);
	if (p->n_pool < POOL_MAX && w->buf_cap <= (4u << 20)) {
		p->pool[p->n_pool++] = w;
		w = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	work_free(w);
}

/* ---------------------------------------------------------------- prescan */

/* Message types of the OTLP schema that can contain other messages, and
 * M_LEAF: one that holds none (Status, EntityRef). Its tags are checked
 * too: protobuf-c reads a tag of field 0 written in two bytes (80 00) as
 * an unknown field and packs it back in one (00), which it then refuses,
 * so an origin stored from such a resource would not read back. */
enum msg { M_NONE, M_REQ, M_RS, M_RES, M_SS, M_SCOPE, M_SPAN, M_EVENT,
	M_LINK, M_KV, M_ANY, M_ARR, M_KVL, M_LEAF };

/* The message type of field `field` (wire type 2) inside `m`. */
static enum msg
child(enum msg m, uint64_t field)
{
	switch (m) {
	case M_REQ: return field == 1 ? M_RS : M_NONE;
	case M_RS: return field == 1 ? M_RES : field == 2 ? M_SS : M_NONE;
	case M_RES: return field == 1 ? M_KV : field == 3 ? M_LEAF : M_NONE;
	case M_SS: return field == 1 ? M_SCOPE : field == 2 ? M_SPAN : M_NONE;
	case M_SCOPE: return field == 3 ? M_KV : M_NONE;
	case M_SPAN:
		switch (field) {
		case 9: return M_KV;
		case 11: return M_EVENT;
		case 13: return M_LINK;
		case 15: return M_LEAF;
		default: return M_NONE;
		}
	case M_EVENT: return field == 3 ? M_KV : M_NONE;
	case M_LINK: return field == 4 ? M_KV : M_NONE;
	case M_KV: return field == 2 ? M_ANY : M_NONE;
	case M_ANY: return field == 5 ? M_ARR : field == 6 ? M_KVL : M_NONE;
	case M_ARR: return field == 1 ? M_ANY : M_NONE;
	case M_KVL: return field == 1 ? M_KV : M_NONE;
	default: return M_NONE;
	}
}

static int
varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		uint8_t b = buf[(*pos)++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

int
pipeline_prescan(const uint8_t *buf, size_t len, size_t max_depth)
{
	struct { enum msg m; size_t end; } stack[128];
	size_t depth = 0, pos = 0;
	uint64_t tag, v;

	if (max_depth >= ARRAY_LEN(stack))
		max_depth = ARRAY_LEN(stack) - 1;
	stack[0].m = M_REQ;
	stack[0].end = len;
	for (;;) {
		while (pos == stack[depth].end) {
			if (depth == 0)
				return 0;
			depth--;
		}
		if (varint(buf, stack[depth].end, &pos, &tag) != 0 ||
		    (tag >> 3) == 0)
			return -2;
		switch (tag & 7) {
		case 0:
			if (varint(buf, stack[depth].end, &pos, &v) != 0)
				return -2;
			break;
		case 1:
			if (stack[depth].end - pos < 8)
				return -2;
			pos += 8;
			break;
		case 5:
			if (stack[depth].end - pos < 4)
				return -2;
			pos += 4;
			break;
		case 2: {
			enum msg c = child(stack[depth].m, tag >> 3);

			if (varint(buf, stack[depth].end, &pos, &v) != 0 ||
			    v > stack[depth].end - pos)
				return -2;
			if (c == M_NONE) {
				pos += v;
				break;
			}
			if (depth + 1 > max_depth)
				return -1;
			depth++;
			stack[depth].m = c;
			stack[depth].end = pos + v;
			break;
		}
		default:
			return -2;
		}
	}
}

/* ---------------------------------------------------------------- validate */

static bool
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x80) {
			p++;
		} else if ((*p & 0xe0) == 0xc0) {
			if (*p < 0xc2 || (p[1] & 0xc0) != 0x80)
				return false;
			p += 2;
		} else if ((*p & 0xf0) == 0xe0) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
				return false;
			if ((*p == 0xe0 && p[1] < 0xa0) ||
			    (*p == 0xed && p[1] >= 0xa0))
				return false;
			p += 3;
		} else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4) {
			if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
			    (p[3] & 0xc0) != 0x80)
				return false;
			if ((*p == 0xf0 && p[1] < 0x90) ||
			    (*p == 0xf4 && p[1] >= 0x90))
				return false;
			p += 4;
		} else {
			return false;
		}
	}
	return true;
}

enum reject { R_OK, R_ID, R_TIME, R_BIG, R_UTF8 };

static const char *reject_text[] = {
	"", "trace_id must be 16 and span_id 8 non-zero bytes",
	"timestamps out of range or end before start",
	"span over a size or count limit", "invalid UTF-8 in a string"
};

static enum reject check_attrs(const pipeline_limits *l,
    key_value *const *kv, size_t n, size_t *budget);

/* Checks a string against UTF-8 and the size limit. */
static enum reject
check_str(const pipeline_limits *l, const char *s)
{
	if (s == NULL)
		return R_OK;
	if (strlen(s) > l->max_string_bytes)
		return R_BIG;
	return utf8_ok(s) ? R_OK : R_UTF8;
}

/* budget bounds the total number of values (nested ones included). */
static enum reject
check_any(const pipeline_limits *l, const any_value *v, size_t *budget)
{
	enum reject r;

	if (v == NULL)
		return R_OK;
	if (*budget == 0)
		return R_BIG;
	(*budget)--;
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return check_str(l, v->string_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		return v->bytes_value.len > l->max_string_bytes ? R_BIG : R_OK;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		if (v->array_value == NULL)
			return R_OK;
		for (size_t i = 0; i < v->array_value->n_values; i++)
			if ((r = check_any(l, v->array_value->values[i],
			    budget)) != R_OK)
				return r;
		return R_OK;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (v->kvlist_value == NULL)
			return R_OK;
		return check_attrs(l, v->kvlist_value->values,
		    v->kvlist_value->n_values, budget);
	default:
		return R_OK;
	}
}

static enum reject
check_attrs(const pipeline_limits *l, key_value *const *kv, size_t n,
    size_t *budget)
{
	enum reject r;

	if (n > l->max_attrs || n > *budget)
		return R_BIG;
	for (size_t i = 0; i < n; i++) {
		if ((r = check_str(l, kv[i]->key)) != R_OK ||
		    (r = check_any(l, kv[i]->value, budget)) != R_OK)
			return r;
	}
	return R_OK;
}

static enum reject
check_span(const pipeline_limits *l, const span_t *sp, uint64_t now)
{
	size_t budget = l->max_attrs * 4;
	enum reject r;

	if (sp->trace_id.len != KEY_TRACE_ID_LEN ||
	    sp->span_id.len != KEY_SPAN_ID_LEN ||
	    is_all_zero(sp->trace_id.data, KEY_TRACE_ID_LEN) ||
	    is_all_zero(sp->span_id.data, KEY_SPAN_ID_LEN) ||
	    (sp->parent_span_id.len != 0 &&
	    sp->parent_span_id.len != KEY_SPAN_ID_LEN))
		return R_ID;
	if (sp->start_time_unix_nano < MIN_TIME_NS ||
	    sp->end_time_unix_nano < sp->start_time_unix_nano ||
	    sp->end_time_unix_nano > now + l->max_future_ns)
		return R_TIME;
	if (sp->n_events > l->max_events || sp->n_links > l->max_links)
		return R_BIG;
	if ((r = check_str(l, sp->name)) != R_OK ||
	    (r = check_str(l, sp->trace_state)) != R_OK ||
	    (r = check_attrs(l, sp->attributes, sp->n_attributes,
	    &budget)) != R_OK)
		return r;
	if (sp->status != NULL && (r = check_str(l, sp->status->message)) !=
	    R_OK)
		return r;
	for (size_t i = 0; i < sp->n_events; i++) {
		const Opentelemetry__Proto__Trace__V1__Span__Event *e =
		    sp->events[i];

		if ((r = check_str(l, e->name)) != R_OK ||
		    (r = check_attrs(l, e->attributes, e->n_attributes,
		    &budget)) != R_OK)
			return r;
	}
	for (size_t i = 0; i < sp->n_links; i++) {
		const Opentelemetry__Proto__Trace__V1__Span__Link *k =
		    sp->links[i];

		if ((r = check_str(l, k->trace_state)) != R_OK ||
		    (r = check_attrs(l, k->attributes, k->n_attributes,
		    &budget)) != R_OK)
			return r;
	}
	return R_OK;
}

/* ---------------------------------------------------------------- write */

static uint8_t *
work_buf(work *w, size_t need)
{
	if (need > w->buf_cap) {
		w->buf_cap = need * 2;
		w->buf = xrealloc(w->buf, w->buf_cap);
	}
	return w->buf;
}

/* Writes the origin (resource + scope, no spans) of ss; returns its hash,
 * or 0 when it is unusable (too big). */
static uint64_t
origin(pipeline *p, work *w, const resource_spans *rs, const scope_spans *ss)
{
	resource_spans o = *rs;
	scope_spans s = *ss;
	scope_spans *sp = &s;
	size_t len;
	uint8_t *buf;
	uint64_t h;
	size_t budget = p->lim.max_attrs * 4;

	if (rs->resource != NULL && (rs->resource->n_attributes >
	    p->lim.max_attrs || check_attrs(&p->lim, rs->resource->attributes,
	    rs->resource->n_attributes, &budget) != R_OK))
		return 0;
	if (ss->scope != NULL && (check_str(&p->lim, ss->scope->name) !=
	    R_OK || check_str(&p->lim, ss->scope->version) != R_OK ||
	    check_attrs(&p->lim, ss->scope->attributes,
	    ss->scope->n_attributes, &budget) != R_OK))
		return 0;
	if (check_str(&p->lim, rs->schema_url) != R_OK ||
	    check_str(&p->lim, ss->schema_url) != R_OK)
		return 0;
	s.n_spans = 0;
	s.spans = NULL;
	o.n_scope_spans = 1;
	o.scope_spans = &sp;
	len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(
	    &o);
	if (len > p->lim.max_span_bytes)
		return 0;
	buf = work_buf(w, len);
	opentelemetry__proto__trace__v1__resource_spans__pack(&o, buf);
	h = hash64(buf, len, 3);
	if (h == 0)
		h = 1;
	index_origin(w->ib, w->b, h, buf, len);
	return h;
}

/* How an accepted span is stored: its origin, and its bytes without IDs
 * and times, copied from its bytes in the request (wire) or packed (wire
 * NULL); len is their size, unlinked (span_block.h). */
struct stored {
	uint64_t origin;
	const span_wire *wire;
	size_t len;
};

/* The accepted spans of one trace sort together, by start (a parent
 * before its children: span_block.h), then in request order. */
static _Thread_local const indexed_span *sort_acc;

static int
cmp_by_trace(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const span_t *sx = sort_acc[x].sp, *sy = sort_acc[y].sp;
	int c = memcmp(sx->trace_id.data, sy->trace_id.data,
	    KEY_TRACE_ID_LEN);

	if (c != 0)
		return c;
	if (sx->start_time_unix_nano != sy->start_time_unix_nano)
		return sx->start_time_unix_nano < sy->start_time_unix_nano ?
		    -1 : 1;
	return (x > y) - (x < y);
}

#define BY_TRACE_LESS(x, y) (cmp_by_trace(x, y) < 0)
TYPED_SORT(sort_by_trace, uint32_t, BY_TRACE_LESS)

/* One block of a request: the spans order[from, to) of one trace, whose
 * earliest start is in minute. */
typedef struct block_ref {
	uint32_t from, to, minute;
	const uint8_t *trace_id;
} block_ref;

/* Blocks in key order (minute, trace): RocksDB inserts sorted keys into
 * its memtable faster. */
#define BLOCK_KEY_LESS(x, y) ((x)->minute != (y)->minute ?                   \
	(x)->minute < (y)->minute :                                         \
	memcmp((x)->trace_id, (y)->trace_id, KEY_TRACE_ID_LEN) < 0)
TYPED_SORT(sort_blocks, block_ref, BLOCK_KEY_LESS)

/* Puts one block. */
static void
put_block(work *w, const block_ref *r)
{
	size_t len = SPAN_BLOCK_HEADER;
	const span_t *head = w->acc[w->order[r->from]].sp;
	span_block_writer bw;
	keybuf k;

	for (size_t i = r->from; i < r->to; i++)
		len += span_block_entry_size(w->st[w->order[i]].len);
	/* Sorted by start: the first span starts earliest. */
	span_block_begin(&bw, work_buf(w, len), head->start_time_unix_nano);
	for (size_t i = r->from; i < r->to; i++) {
		uint32_t a = w->order[i];
		const struct stored *s = &w->st[a];

		if (s->wire != NULL)
			span_block_add_wire(&bw, s->origin, w->acc[a].sp,
			    s->wire->p, s->wire->len);
		else
			span_block_add(&bw, s->origin, w->acc[a].sp, s->len);
	}
	key_span(&k, r->minute, head->trace_id.data, head->span_id.data);
	memcpy(w->keys + w->n_keys++ * KEY_SPAN_LEN, k.b, KEY_SPAN_LEN);
	store_batch_put(w->b, STORE_CF_SPANS, k.b, k.len, bw.buf, bw.len);
}

/* Cuts the accepted spans (sorted by trace) into blocks of one trace, at
 * most SPAN_BLOCK_MAX_SPANS and about 1 MiB each, and puts each block's
 * entry in the traces family (in trace order); returns the number. */
static size_t
cut_blocks(work *w)
{
	size_t n = 0, i = 0;

	while (i < w->n_acc) {
		const span_t *head = w->acc[w->order[i]].sp;
		size_t j = i, bytes = 0;
		keybuf k;

		for (; j < w->n_acc && j - i < SPAN_BLOCK_MAX_SPANS &&
		    bytes < (1u << 20) && memcmp(head->trace_id.data,
		    w->acc[w->order[j]].sp->trace_id.data,
		    KEY_TRACE_ID_LEN) == 0; j++)
			bytes += w->st[w->order[j]].len;
		if (n == w->cap_blocks) {
			w->cap_blocks = w->cap_blocks ? w->cap_blocks * 2 : 64;
			w->blocks = xrealloc(w->blocks,
			    w->cap_blocks * sizeof *w->blocks);
			w->where = xrealloc(w->where,
			    w->cap_blocks * sizeof *w->where);
		}
		w->blocks[n] = (block_ref){ (uint32_t)i, (uint32_t)j,
			key_minute(head->start_time_unix_nano),
			head->trace_id.data };
		key_trace(&k, head->trace_id.data, w->blocks[n].minute);
		store_batch_put(w->b, STORE_CF_TRACES, k.b, k.len, NULL, 0);
		n++;
		i = j;
	}
	return n;
}

/* Writes the accepted spans as one block per trace (span_block.h), in
 * key order, and lists the blocks' keys in w->keys. */
static void
write_blocks(work *w)
{
	size_t n;

	w->order = xrealloc(w->order, w->n_acc * sizeof *w->order);
	w->keys = xrealloc(w->keys, w->n_acc * KEY_SPAN_LEN);
	w->n_keys = 0;
	for (uint32_t a = 0; a < w->n_acc; a++)
		w->order[a] = a;
	sort_acc = w->acc;
	sort_by_trace(w->order, w->n_acc);
	n = cut_blocks(w);
	sort_blocks(w->blocks, n);
	for (size_t i = 0; i < n; i++)
		put_block(w, &w->blocks[i]);
	w->n_blocks = n;
}

/* Tells the trace locator where the blocks go, before they are written,
 * so a get-trace never misses a written block (trace_locator.h). */
static void
locate_blocks(store *st, work *w)
{
	for (size_t i = 0; i < w->n_blocks; i++)
		w->where[i] = (trace_minute){ w->blocks[i].trace_id,
			w->blocks[i].minute };
	trace_locator_add(store_locator(st), w->where, w->n_blocks);
}

/* Builds the request's index entries outside any lock (index_merge adds
 * them to the shared buffer after the write); the catalog records of new
 * services and operations go into the request's batch. */
static void
index_request(work *w)
{
	for (size_t i = 0; i < w->n_acc; i++)
		index_span(w->ib, w->b, w->acc[i].svc, w->acc[i].res,
		    w->acc[i].sp);
}

/* The size sp is stored in without its IDs and times (unlinked): of its
 * bytes in the request, when known (wire), else packed. */
static size_t
stored_len(const span_t *sp, const span_wire *wire)
{
	if (wire != NULL)
		return wire->stripped_len; /* found by span_wire_scan */
	return span_block_packed_len(sp);
}

/* Remembers an accepted span: written with its trace, then indexed. */
static void
accept(work *w, const char *svc, const resource_spans *rs, const span_t *sp,
    const struct stored *st)
{
	if (w->n_acc == w->cap_acc) {
		w->cap_acc = w->cap_acc ? w->cap_acc * 2 : 256;
		w->acc = xrealloc(w->acc, w->cap_acc * sizeof *w->acc);
		w->st = xrealloc(w->st, w->cap_acc * sizeof *w->st);
	}
	w->st[w->n_acc] = *st;
	w->acc[w->n_acc].svc = svc;
	w->acc[w->n_acc].res = rs->resource;
	w->acc[w->n_acc++].sp = sp;
}

static void
count_reject(enum reject r)
{
	switch (r) {
	case R_ID: STATS_INC(sp_bad_id, 1); break;
	case R_TIME: STATS_INC(sp_bad_time, 1); break;
	case R_BIG: STATS_INC(sp_too_big, 1); break;
	case R_UTF8: STATS_INC(sp_bad_utf8, 1); break;
	default: break;
	}
}

static void
result(pipeline_result *res, pipeline_code code, const char *msg)
{
	res->code = code;
	snprintf(res->message, sizeof res->message, "%s", msg);
}

/* Validates, writes and acknowledges req with the work area w. wire: the
 * bytes of req's spans in the order submit visits them (span_wire.h), or
 * NULL to pack the spans. */
static void
submit(pipeline *p, work *w, const export_req *req, const span_wire *wire,
    pipeline_result *res)
{
	uint64_t now = now_unix_ns(), t0;
	enum reject first = R_OK;
	size_t total = 0;
	uint64_t seq;
	char *cause = NULL;
	int rv;

	memset(res, 0, sizeof *res);
	STATS_INC(requests, 1);
	for (size_t i = 0; i < req->n_resource_spans; i++) {
		const resource_spans *rs = req->resource_spans[i];
		const char *svc = index_service_name(rs->resource);

		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			const scope_spans *ss = rs->scope_spans[j];
			uint64_t oh = origin(p, w, rs, ss);

			for (size_t k = 0; k < ss->n_spans; k++) {
				const span_t *sp = ss->spans[k];
				enum reject r = oh == 0 ? R_BIG :
				    check_span(&p->lim, sp, now);
				/* total counts the spans before sp. */
				struct stored st = { oh,
					wire ? &wire[total] : NULL, 0 };

				total++;
				if (r == R_OK && (st.len = stored_len(sp,
				    st.wire)) > p->lim.max_span_bytes)
					r = R_BIG;
				if (r != R_OK) {
					res->rejected_spans++;
					count_reject(r);
					if (first == R_OK)
						first = r;
					continue;
				}
				accept(w, svc, rs, sp, &st);
				res->accepted_spans++;
			}
		}
	}
	if (total == 0) {
		STATS_INC(rej_empty, 1);
		result(res, PIPELINE_INVALID, "empty batch: no spans");
		return;
	}
	if (res->accepted_spans == 0) {
		STATS_INC(rej_invalid, 1);
		STATS_INC(spans_rejected, res->rejected_spans);
		result(res, PIPELINE_INVALID, reject_text[first]);
		return;
	}
	write_blocks(w);
	index_request(w);
	seq = index_buffer_log(p->ibuf, w->b, w->keys, w->n_keys);
	/* Never let RocksDB meet ENOSPC in a WAL append: it aborts. */
	if (store_free_bytes(p->st) < p->lim.min_free_bytes +
	    2 * (uint64_t)store_batch_bytes(w->b)) {
		STATS_INC(rej_retry, 1);
		res->accepted_spans = 0;
		res->rejected_spans = 0;
		res->retry_after_ms = 1000;
		result(res, PIPELINE_RETRY_LATER,
		    "the store's disk is nearly full; retry later");
		return;
	}
	locate_blocks(p->st, w);
	t0 = now_mono_ns();
	rv = store_write(p->st, w->b, true, &cause);
	STATS_INC(write_ns, now_mono_ns() - t0);
	if (rv == 1) {
		STATS_INC(rej_retry, 1);
		res->accepted_spans = 0;
		res->rejected_spans = 0;
		res->retry_after_ms = 200;
		result(res, PIPELINE_RETRY_LATER, "store is stalled; retry later");
		return;
	}
	if (rv != 0) {
		STATS_INC(rej_internal, 1);
		log_error("%s", cause);
		res->accepted_spans = 0;
		res->rejected_spans = 0;
		res->retry_after_ms = 1000;
		result(res, PIPELINE_INTERNAL, cause);
		free(cause);
		return;
	}
	index_commit(w->ib);
	index_buffer_add(p->ibuf, seq, w->ib, w->n_acc);
	STATS_INC(records_written, store_batch_count(w->b));
	STATS_INC(bytes_written, store_batch_bytes(w->b));
	STATS_INC(spans_accepted, res->accepted_spans);
	STATS_INC(spans_rejected, res->rejected_spans);
	if (res->rejected_spans > 0) {
		STATS_INC(requests_partial, 1);
		result(res, PIPELINE_PARTIAL, reject_text[first]);
	} else {
		STATS_INC(requests_ok, 1);
		result(res, PIPELINE_OK, "");
	}
}

/* The bytes of req's spans in buf, the bytes req was unpacked from, in
 * the order submit visits them; NULL (pack them) unless every
 * ResourceSpans, ScopeSpans and Span of buf is where req has it. */
static const span_wire *
spans_in(work *w, const export_req *req, const uint8_t *buf, size_t len)
{
	if (span_wire_scan(&w->wire, buf, len) != 0 ||
	    !span_wire_matches(&w->wire, req))
		return NULL;
	return w->wire.spans;
}

void
pipeline_submit_request(pipeline *p, const export_req *req,
    pipeline_result *res)
{
	work *w = work_get(p);

	submit(p, w, req, NULL, res);
	work_put(p, w);
}

void
pipeline_submit_protobuf(pipeline *p, const uint8_t *buf, size_t len,
    pipeline_result *res)
{
	export_req *req;
	work *w;
	int rv;

	memset(res, 0, sizeof *res);
	STATS_INC(bytes, len);
	if (len > p->lim.max_message_bytes) {
		STATS_INC(requests, 1);
		STATS_INC(rej_too_large, 1);
		res->code = PIPELINE_TOO_LARGE;
		snprintf(res->message, sizeof res->message,
		    "message of %zu bytes is over the limit of %zu", len,
		    p->lim.max_message_bytes);
		return;
	}
	if (atomic_load(&stats.backlog_bytes) + (int64_t)len >
	    (int64_t)p->lim.max_backlog_bytes) {
		STATS_INC(requests, 1);
		STATS_INC(rej_retry, 1);
		res->code = PIPELINE_RETRY_LATER;
		res->retry_after_ms = 100;
		snprintf(res->message, sizeof res->message,
		    "backlog full; retry later");
		return;
	}
	atomic_fetch_add(&stats.backlog_bytes, (int64_t)len);
	atomic_fetch_add(&stats.backlog_requests, 1);
	if ((rv = pipeline_prescan(buf, len, p->lim.max_depth)) != 0) {
		STATS_INC(requests, 1);
		if (rv == -1)
			STATS_INC(rej_too_deep, 1);
		else
			STATS_INC(rej_invalid, 1);
		res->code = PIPELINE_INVALID;
		snprintf(res->message, sizeof res->message, "%s",
		    rv == -1 ? "values nested too deeply" :
		    "malformed protobuf");
		goto out;
	}
	/* Unpacked into the work area's arena: no malloc per field. */
	w = work_get(p);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    arena_protobuf(&w->mem), len, buf);
	if (req == NULL) {
		STATS_INC(requests, 1);
		STATS_INC(rej_invalid, 1);
		res->code = PIPELINE_INVALID;
		snprintf(res->message, sizeof res->message,
		    "malformed protobuf: not an ExportTraceServiceRequest");
	} else {
		submit(p, w, req, spans_in(w, req, buf, len), res);
	}
	work_put(p, w);
out:
	atomic_fetch_sub(&stats.backlog_bytes, (int64_t)len);
	atomic_fetch_sub(&stats.backlog_requests, 1);
}
