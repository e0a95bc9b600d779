/*
 * ltrace.c - loads the spans of one trace: the minutes its blocks start
 * in (trace locator, else the traces family), each block walked once,
 * duplicates (a span sent twice) dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"
#include "store/trace_walk.h"

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

/* ltrace_walk's visit and its argument, behind trace_walk's. */
typedef struct walk_ctx {
	qctx *q;
	ltrace_visit visit;
	void *arg;
} walk_ctx;

static void
walk_span(const uint8_t *trace_id, const span_block_entry *e, void *arg)
{
	walk_ctx *w = arg;

	w->visit(w->q, trace_id, e, w->arg);
}

/* Visits every span of a trace's unexpired blocks (trace_walk.h);
 * returns the number of blocks. */
size_t
ltrace_walk(qctx *q, const uint8_t *trace_id, ltrace_visit visit, void *arg)
{
	walk_ctx w = { q, visit, arg };

	return trace_walk(q->st, q->cutoff, trace_id, walk_span, &w);
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
