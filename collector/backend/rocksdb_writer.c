/*
 * rocksdb_writer.c - one request's valid spans as one RocksDB WriteBatch
 * (rocksdb_writer.h). The spans of a trace go into one span block
 * (span_block.h), stored as the bytes they came in less their IDs and
 * times when the batch has them (span_wire.h), else packed. Each block's
 * (trace, minute) goes to the trace locator before the write, so a
 * get-trace never misses a written block (store.h, "trace locator").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/resend_filter.h"
#include "backend/rocksdb_writer.h"
#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "format/keys.h"
#include "format/span_block.h"
#include "typed_sort.h"

#define POOL_MAX 16

struct rocksdb_writer {
	store *st;
	index_catalog *cat;
	index_buffer *ibuf;
	uint64_t min_free_bytes;
	pthread_mutex_t mu; /* guards the pool of per-thread work areas */
	struct work *pool[POOL_MAX];
	int n_pool;
};

/* One block of a request: the spans order[from, to) of one trace, whose
 * earliest start is in minute. */
typedef struct block_ref {
	uint32_t from, to, minute;
	const uint8_t *trace_id;
} block_ref;

/* What one write needs; reused through the pool. */
typedef struct work {
	store_batch *b;
	index_builder *ib;  /* origins only: the index is ibuf's */
	const backend_span *acc; /* the batch's spans */
	size_t n_acc;
	size_t n_new;       /* order[0..n_new): those not stored already */
	uint64_t *origin;   /* each span's origin hash, same order */
	size_t cap_acc;
	uint32_t *order;    /* acc by trace (write_blocks) */
	block_ref *blocks;  /* write_blocks: the request's blocks */
	size_t n_blocks, cap_blocks;
	trace_minute *where; /* and their (trace, minute), cap_blocks */
	uint8_t *keys;      /* the blocks written (KEY_SPAN_LEN each) */
	size_t n_keys;
	uint8_t *buf;
	size_t buf_cap;
} work;

rocksdb_writer *
rocksdb_writer_new(store *st, index_catalog *cat, index_buffer *ibuf,
    uint64_t min_free_bytes)
{
	rocksdb_writer *wr = xcalloc(1, sizeof *wr);

	wr->st = st;
	wr->cat = cat;
	wr->ibuf = ibuf;
	wr->min_free_bytes = min_free_bytes;
	pthread_mutex_init(&wr->mu, NULL);
	return wr;
}

static void
work_free(work *w)
{
	if (w == NULL)
		return;
	store_batch_free(w->b);
	index_builder_free(w->ib);
	free(w->origin);
	free(w->order);
	free(w->keys);
	free(w->blocks);
	free(w->where);
	free(w->buf);
	free(w);
}

void
rocksdb_writer_free(rocksdb_writer *wr)
{
	if (wr == NULL)
		return;
	for (int i = 0; i < wr->n_pool; i++)
		work_free(wr->pool[i]);
	pthread_mutex_destroy(&wr->mu);
	free(wr);
}

static work *
work_get(rocksdb_writer *wr)
{
	work *w = NULL;

	pthread_mutex_lock(&wr->mu);
	if (wr->n_pool > 0)
		w = wr->pool[--wr->n_pool];
	pthread_mutex_unlock(&wr->mu);
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->b = store_batch_new(wr->st);
		w->ib = index_builder_new(wr->cat);
	}
	store_batch_clear(w->b);
	index_begin(w->ib);
	return w;
}

static void
work_put(rocksdb_writer *wr, work *w)
{
	pthread_mutex_lock(&wr->mu);
	if (wr->n_pool < POOL_MAX && w->buf_cap <= (4u << 20)) {
		wr->pool[wr->n_pool++] = w;
		w = NULL;
	}
	pthread_mutex_unlock(&wr->mu);
	work_free(w);
}

static uint8_t *
work_buf(work *w, size_t need)
{
	if (need > w->buf_cap) {
		w->buf_cap = need * 2;
		w->buf = xrealloc(w->buf, w->buf_cap);
	}
	return w->buf;
}

/* Writes the origin (resource + scope, no spans) of ss unless known;
 * returns its hash (never 0). The pipeline checked it fits the limits. */
static uint64_t
put_origin(work *w, const ResourceSpans *rs, const ScopeSpans *ss)
{
	ResourceSpans o = *rs;
	ScopeSpans s = *ss;
	ScopeSpans *sp = &s;
	size_t len;
	uint8_t *buf;
	uint64_t h;

	s.n_spans = 0;
	s.spans = NULL;
	o.n_scope_spans = 1;
	o.scope_spans = &sp;
	len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(
	    &o);
	buf = work_buf(w, len);
	opentelemetry__proto__trace__v1__resource_spans__pack(&o, buf);
	h = hash64(buf, len, 3);
	if (h == 0)
		h = 1;
	index_origin(w->ib, w->b, h, buf, len);
	return h;
}

/* Puts the origin of each span's scope, once per scope (the batch's
 * spans come in request order, a scope's together). */
static void
put_origins(work *w)
{
	const ScopeSpans *last = NULL;
	uint64_t h = 0;

	if (w->n_acc > w->cap_acc) {
		w->cap_acc = w->n_acc * 2;
		w->origin = xrealloc(w->origin, w->cap_acc * sizeof *w->origin);
	}
	for (size_t i = 0; i < w->n_acc; i++) {
		if (w->acc[i].ss != last) {
			last = w->acc[i].ss;
			h = put_origin(w, w->acc[i].rs, last);
		}
		w->origin[i] = h;
	}
}

/* The spans of one trace sort together, by start (a parent before its
 * children: span_block.h), then in request order. */
static _Thread_local const backend_span *sort_acc;

static int
cmp_by_trace(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const Span *sx = sort_acc[x].sp, *sy = sort_acc[y].sp;
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
	const Span *head = w->acc[w->order[r->from]].sp;
	span_block_writer bw;
	keybuf k;

	for (size_t i = r->from; i < r->to; i++)
		len += span_block_entry_size(w->acc[w->order[i]].stripped_len);
	/* Sorted by start: the first span starts earliest. */
	span_block_begin(&bw, work_buf(w, len), head->start_time_unix_nano);
	for (size_t i = r->from; i < r->to; i++) {
		uint32_t a = w->order[i];
		const backend_span *s = &w->acc[a];

		if (s->wire != NULL)
			span_block_add_wire(&bw, w->origin[a], s->sp, s->wire,
			    s->wire_len);
		else
			span_block_add(&bw, w->origin[a], s->sp,
			    s->stripped_len);
	}
	key_span(&k, r->minute, head->trace_id.data, head->span_id.data);
	memcpy(w->keys + w->n_keys++ * KEY_SPAN_LEN, k.b, KEY_SPAN_LEN);
	store_batch_put(w->b, STORE_CF_SPANS, k.b, k.len, bw.buf, bw.len);
}

/* Cuts the spans (sorted by trace) into blocks of one trace, at most
 * SPAN_BLOCK_MAX_SPANS and about 1 MiB each, and puts each block's entry
 * in the traces family (in trace order); returns the number. */
static size_t
cut_blocks(work *w)
{
	size_t n = 0, i = 0;

	while (i < w->n_new) {
		const Span *head = w->acc[w->order[i]].sp;
		size_t j = i, bytes = 0;
		keybuf k;

		for (; j < w->n_new && j - i < SPAN_BLOCK_MAX_SPANS &&
		    bytes < (1u << 20) && memcmp(head->trace_id.data,
		    w->acc[w->order[j]].sp->trace_id.data,
		    KEY_TRACE_ID_LEN) == 0; j++)
			bytes += w->acc[w->order[j]].stripped_len;
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

/* Writes the spans not stored already (resend_filter.h) as one block per
 * trace (span_block.h), in key order, and lists the blocks' keys in
 * w->keys. */
static void
write_blocks(store *st, work *w)
{
	size_t n;

	w->order = xrealloc(w->order, w->n_acc * sizeof *w->order);
	w->keys = xrealloc(w->keys, w->n_acc * KEY_SPAN_LEN);
	w->n_keys = 0;
	for (uint32_t a = 0; a < w->n_acc; a++)
		w->order[a] = a;
	sort_acc = w->acc;
	sort_by_trace(w->order, w->n_acc);
	w->n_new = w->n_acc;
	STATS_INC(spans_resent, resend_filter(st, w->acc, w->order,
	    &w->n_new));
	n = cut_blocks(w);
	sort_blocks(w->blocks, n);
	for (size_t i = 0; i < n; i++)
		put_block(w, &w->blocks[i]);
	w->n_blocks = n;
}

/* Tells the trace locator where the blocks go, before they are written,
 * so a get-trace never misses a written block (store.h, "trace locator"). */
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
	for (size_t i = 0; i < w->n_new; i++) {
		const backend_span *s = &w->acc[w->order[i]];

		index_span(w->ib, w->b, s->service, s->rs->resource, s->sp);
	}
}

static void
refuse(backend_result *res, backend_code code, uint32_t retry_after_ms,
    const char *msg)
{
	res->code = code;
	res->retry_after_ms = retry_after_ms;
	snprintf(res->message, sizeof res->message, "%s", msg);
}

/* Writes w's batch; returns 0, or refuses in res. */
static int
write_batch(rocksdb_writer *wr, work *w, backend_result *res)
{
	char *cause = NULL;
	uint64_t t0;
	int rv;

	/* Never let RocksDB meet ENOSPC in a WAL append: it aborts. */
	if (store_free_bytes(wr->st) < wr->min_free_bytes +
	    2 * (uint64_t)store_batch_bytes(w->b)) {
		refuse(res, BACKEND_RETRY_LATER, 1000,
		    "the store's disk is nearly full; retry later");
		return -1;
	}
	locate_blocks(wr->st, w);
	t0 = now_mono_ns();
	rv = store_write(wr->st, w->b, true, &cause);
	STATS_INC(write_ns, now_mono_ns() - t0);
	if (rv == 1) {
		refuse(res, BACKEND_RETRY_LATER, 200,
		    "store is stalled; retry later");
		return -1;
	}
	if (rv != 0) {
		log_error("%s", cause);
		refuse(res, BACKEND_FAILED, 1000, cause);
		free(cause);
		return -1;
	}
	return 0;
}

void
rocksdb_writer_write(rocksdb_writer *wr, const backend_batch *batch,
    backend_result *res)
{
	work *w = work_get(wr);
	uint64_t seq;

	w->acc = batch->spans;
	w->n_acc = batch->n_spans;
	put_origins(w);
	write_blocks(wr->st, w);
	index_request(w);
	seq = index_buffer_log(wr->ibuf, w->b, w->keys, w->n_keys);
	if (write_batch(wr, w, res) == 0) {
		index_commit(w->ib);
		index_buffer_add(wr->ibuf, seq, w->ib, w->n_new);
		STATS_INC(records_written, store_batch_count(w->b));
		STATS_INC(bytes_written, store_batch_bytes(w->b));
		res->code = BACKEND_OK;
	}
	work_put(wr, w);
}
