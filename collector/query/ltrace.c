/*
 * ltrace.c - loads the spans of one trace: the minutes its blocks start
 * in (trace locator, else the traces family), each block walked once,
 * duplicates (a span sent twice) dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

void
ltrace_free(ltrace *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->spans[i].sp != NULL)
			opentelemetry__proto__trace__v1__span__free_unpacked(
			    t->spans[i].sp, NULL);
	free(t->spans);
	memset(t, 0, sizeof *t);
}

static int
cmp_lspan_id(const void *a, const void *b)
{
	const lspan *x = a, *y = b;

	return memcmp(x->sp->span_id.data, y->sp->span_id.data,
	    KEY_SPAN_ID_LEN);
}

/* Keeps one copy of each span: a resent request may have stored a span
 * in two blocks. */
static void
dedupe_spans(ltrace *t)
{
	size_t n = 0;

	qsort(t->spans, t->n, sizeof *t->spans, cmp_lspan_id);
	for (size_t i = 0; i < t->n; i++) {
		if (n > 0 && cmp_lspan_id(&t->spans[n - 1], &t->spans[i]) == 0) {
			opentelemetry__proto__trace__v1__span__free_unpacked(
			    t->spans[i].sp, NULL);
			continue;
		}
		t->spans[n++] = t->spans[i];
	}
	t->n = n;
}

/* The minutes that hold blocks of a trace, at most max, skipping those
 * wholly before the retention cutoff; returns how many. From memory when
 * the trace locator can answer, else from the traces family: a disk read
 * when the page cache does not hold its block. */
static size_t
trace_minutes(qctx *q, const uint8_t *trace_id, uint32_t *out, size_t max)
{
	keybuf lo, hi;
	store_iter *it;
	size_t n = 0;
	int found = trace_locator_find(store_locator(q->st), trace_id,
	    q->cutoff, out, max);

	if (found >= 0)
		return (size_t)found;
	STATS_INC(query_family_lookups, 1);
	key_reset(&lo);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	key_prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_TRACES, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it) && n < max; store_iter_next(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);
		uint32_t m;

		if (klen != KEY_TRACE_LEN)
			continue;
		m = key_trace_minute(k);
		if ((uint64_t)m * KEY_MINUTE_NS + KEY_MINUTE_NS > q->cutoff)
			out[n++] = m;
	}
	store_iter_free(it);
	return n;
}

/* Visits the spans of a trace's unexpired blocks of one minute; returns
 * the number of blocks. */
static size_t
walk_minute(qctx *q, uint32_t minute, const uint8_t *trace_id,
    ltrace_visit visit, void *arg)
{
	keybuf lo, hi;
	store_iter *it;
	size_t blocks = 0;

	key_reset(&lo);
	key_put_u32(&lo, minute);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	key_prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it); store_iter_next(it), blocks++) {
		size_t klen, vlen, off = 0;
		const uint8_t *v = store_iter_value(it, &vlen);
		span_block_entry e;

		(void)store_iter_key(it, &klen);
		if (klen != KEY_SPAN_LEN || vlen < SPAN_BLOCK_HEADER ||
		    key_be64(v) < q->cutoff)
			continue;
		while (span_block_next(v, vlen, &off, &e) == 1)
			visit(q, trace_id, &e, arg);
	}
	store_iter_free(it);
	return blocks;
}

/* A trace's blocks in more minutes than this are not all read: a trace
 * lasts seconds, a long one minutes. */
#define TRACE_MAX_MINUTES 1024

/* Visits every span of a trace's unexpired blocks, minute by minute;
 * returns the number of blocks. The entries point into an iterator's
 * value: valid only during the call. */
size_t
ltrace_walk(qctx *q, const uint8_t *trace_id, ltrace_visit visit, void *arg)
{
	uint32_t minutes[TRACE_MAX_MINUTES];
	size_t n = trace_minutes(q, trace_id, minutes, TRACE_MAX_MINUTES);
	size_t blocks = 0;

	for (size_t i = 0; i < n; i++)
		blocks += walk_minute(q, minutes[i], trace_id, visit, arg);
	return blocks;
}

/* Adds one span of trace trace_id to the ltrace arg. */
static void
load_span(qctx *q, const uint8_t *trace_id, const span_block_entry *e,
    void *arg)
{
	ltrace *t = arg;
	Span *sp;

	sp = span_block_unpack(e);
	if (sp == NULL)
		return;
	/* IDs are stored beside the span; give them back to it. */
	free(sp->trace_id.data);
	free(sp->span_id.data);
	sp->trace_id.data = xmalloc(KEY_TRACE_ID_LEN);
	memcpy(sp->trace_id.data, trace_id, KEY_TRACE_ID_LEN);
	sp->trace_id.len = KEY_TRACE_ID_LEN;
	sp->span_id.data = xmalloc(KEY_SPAN_ID_LEN);
	memcpy(sp->span_id.data, e->span_id, KEY_SPAN_ID_LEN);
	sp->span_id.len = KEY_SPAN_ID_LEN;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->spans = xrealloc(t->spans, t->cap * sizeof *t->spans);
	}
	t->spans[t->n].sp = sp;
	t->spans[t->n].oi = qctx_origin(q, e->origin_hash);
	t->n++;
}

/* Loads every unexpired span of a trace; returns the number loaded. */
size_t
ltrace_load(qctx *q, const uint8_t *trace_id, ltrace *t)
{
	memset(t, 0, sizeof *t);
	if (ltrace_walk(q, trace_id, load_span, t) > 1)
		dedupe_spans(t);
	for (size_t i = 0; i < t->n; i++)
		t->spans[i].o = &q->origins[t->spans[i].oi];
	return t->n;
}
