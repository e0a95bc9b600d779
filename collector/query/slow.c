/*
 * slow.c - Slow: the longest spans of a service (and operation) over a
 * window, and the percentiles of each operation, from the histograms and
 * the duration index (duration.c).
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

/* Sums the per-minute histograms of one pair over w into h. */
/*
 * The top spans of slow: the minutes' duration lists, visited longest
 * minute first (by the histograms' maxima), until the next minute's
 * longest span cannot beat the top-th longest found. A top 20 reads a
 * few dozen lists, where walking every minute of every pair read
 * hundreds of blocks just to skip them.
 */
static void
slow_top(qctx *q, const svc_op *pairs, minute_maxes *mm, const window *w,
    size_t top, dhits *hits)
{
	dur_floor fl = { xmalloc(top * sizeof *fl.v), 0, top };

	duration_sort_minutes(mm);
	for (size_t i = 0; i < mm->n; i++) {
		const minute_max *c = &mm->v[i];
		uint64_t floor_ns = fl.n == fl.cap ? fl.v[fl.n - 1] : 0;
		dur_ask a = { c->pair, w, floor_ns, 0, top, SIZE_MAX };
		size_t first = hits->n;

		if (c->max_ns < floor_ns)
			break;
		duration_scan_candidate(q, pairs, c, &a, hits);
		for (size_t j = first; j < hits->n; j++)
			duration_floor_add(&fl, hits->v[j].dur_ns);
	}
	free(fl.v);
}

/*
 * D postings carry no span ID (8 bytes a span on disk), so slow finds
 * the span of each hit it returns in the hit's trace: the spans with the
 * hit's start and duration, one copy of each (a resent request stores a
 * span in two blocks). Their packed bytes are kept, because only when
 * there are several are they unpacked, to match the operation (and the
 * service) too.
 */
typedef struct span_cand {
	uint8_t id[KEY_SPAN_ID_LEN];
	uint8_t *packed; /* a copy: the block goes with its iterator */
	span_block_entry e;
} span_cand;

typedef struct span_cands {
	uint64_t start_ns, dur_ns;
	span_cand *v;
	size_t n, cap;
} span_cands;

static void
add_cand(qctx *q, const uint8_t *trace_id, const span_block_entry *e,
    void *arg)
{
	span_cands *c = arg;
	span_cand *n;

	(void)q;
	(void)trace_id;
	if (e->start_ns != c->start_ns || e->end_ns - e->start_ns != c->dur_ns)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->v[i].id, e->span_id, KEY_SPAN_ID_LEN) == 0)
			return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	n = &c->v[c->n++];
	memcpy(n->id, e->span_id, KEY_SPAN_ID_LEN);
	n->packed = xmalloc(e->packed_len + 1);
	memcpy(n->packed, e->packed, e->packed_len);
	n->e = *e;
	n->e.span_id = NULL;   /* n->id: v may move */
	n->e.parent_id = NULL; /* it points into the block */
	n->e.packed = n->packed;
}

/* Whether candidate c is a span of pair's service and operation. */
static bool
cand_is(qctx *q, const span_cand *c, const svc_op *pair)
{
	/* qctx_origin may move q->origins: index it after the call. */
	size_t oi = qctx_origin(q, c->e.origin_hash);
	Span *sp = span_block_unpack(&c->e);
	bool is = sp != NULL && strcmp(sp->name, pair->op) == 0 &&
	    strcmp(q->origins[oi].svc, pair->svc) == 0;

	if (sp != NULL)
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	return is;
}

/* Whether sr already holds span span_id of trace trace_id. */
static bool
slow_has(const Tracequery__V1__SlowResult *sr, const uint8_t *trace_id,
    const uint8_t *span_id)
{
	for (size_t i = 0; i < sr->n_spans; i++)
		if (memcmp(sr->spans[i]->trace_id.data, trace_id,
		    KEY_TRACE_ID_LEN) == 0 &&
		    memcmp(sr->spans[i]->span_id.data, span_id,
		    KEY_SPAN_ID_LEN) == 0)
			return true;
	return false;
}

/*
 * Puts in span_id the ID of the span that resolved hit h of pair names,
 * the first such span sr does not hold yet: two spans that look alike
 * get two IDs, and a span indexed twice is returned once. The name and
 * service are checked only when the start and duration do not tell the
 * trace's spans apart. False when the trace has no such span (expired,
 * or lost in a crash).
 */
static bool
slow_find_span_id(qctx *q, const dhit *h, const svc_op *pair,
    const Tracequery__V1__SlowResult *sr, uint8_t *span_id)
{
	span_cands c = { h->start_ns, h->dur_ns, NULL, 0, 0 };
	bool found = false;

	ltrace_walk(q, h->trace_id, add_cand, &c);
	for (size_t i = 0; i < c.n && !found; i++) {
		if (slow_has(sr, h->trace_id, c.v[i].id) ||
		    (c.n > 1 && !cand_is(q, &c.v[i], pair)))
			continue;
		memcpy(span_id, c.v[i].id, KEY_SPAN_ID_LEN);
		found = true;
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].packed);
	free(c.v);
	return found;
}

/* Resolved hit h of pair as a span of slow's answer. */
static Tracequery__V1__SlowSpan *
slow_span_new(const dhit *h, const svc_op *pair, const uint8_t *span_id)
{
	Tracequery__V1__SlowSpan *ss = xmalloc(sizeof *ss);

	tracequery__v1__slow_span__init(ss);
	ss->trace_id.data = xmalloc(KEY_TRACE_ID_LEN);
	memcpy(ss->trace_id.data, h->trace_id, KEY_TRACE_ID_LEN);
	ss->trace_id.len = KEY_TRACE_ID_LEN;
	ss->span_id.data = xmalloc(KEY_SPAN_ID_LEN);
	memcpy(ss->span_id.data, span_id, KEY_SPAN_ID_LEN);
	ss->span_id.len = KEY_SPAN_ID_LEN;
	ss->service = xstrdup(pair->svc);
	ss->name = xstrdup(pair->op);
	ss->duration_ns = h->dur_ns;
	ss->start_unix_nano = h->start_ns;
	return ss;
}

/* Adds the spans of the want longest hits to sr, at most top of them;
 * returns how many hits
 * were skipped: their span is gone (expired, lost in a crash) or already
 * in the answer (a resent request indexed twice). */
static size_t
slow_add_top(qctx *q, const svc_op *pairs, minute_maxes *mm,
    const window *w, size_t want, size_t top,
    Tracequery__V1__SlowResult *sr, size_t *n_hits)
{
	dhits hits = { 0 };
	size_t skipped = 0;

	slow_top(q, pairs, mm, w, want, &hits);
	if (hits.n > 1)
		qsort(hits.v, hits.n, sizeof *hits.v, duration_cmp_longest);
	for (size_t i = 0; i < hits.n && sr->n_spans < top; i++) {
		const svc_op *pair = &pairs[hits.v[i].pair];
		uint8_t span_id[KEY_SPAN_ID_LEN];

		if (!duration_hit_resolve(q, &hits.v[i]) ||
		    !slow_find_span_id(q, &hits.v[i], pair, sr, span_id)) {
			skipped++;
			continue;
		}
		PUSH(sr->spans, sr->n_spans,
		    slow_span_new(&hits.v[i], pair, span_id));
	}
	*n_hits = hits.n;
	free(hits.v);
	return skipped;
}

/* The top longest spans of the window into sr. Skipped hits leave the
 * answer short; then it asks for more hits (the longest come first
 * again, so the answer is rebuilt) until it is full or the index has no
 * more. */
static void
slow_fill(qctx *q, const svc_op *pairs, minute_maxes *mm, const window *w,
    size_t top, Tracequery__V1__SlowResult *sr)
{
	size_t want = top, n_hits, skipped;

	for (;;) {
		skipped = slow_add_top(q, pairs, mm, w, want, top, sr,
		    &n_hits);
		if (sr->n_spans >= top || skipped == 0 || n_hits < want ||
		    want >= MAX_LIMIT * 4)
			break;
		for (size_t i = 0; i < sr->n_spans; i++)
			tracequery__v1__slow_span__free_unpacked(sr->spans[i],
			    NULL);
		sr->n_spans = 0;
		want += 2 * skipped;
	}
}

response *
slow(qctx *q, const Tracequery__V1__Slow *s)
{
	window w = qctx_window(q, s->start_unix_nano, s->end_unix_nano);
	size_t top = s->top ? s->top : DEFAULT_LIMIT, n_pairs;
	svc_op *pairs;
	minute_maxes mm = { 0 };
	Tracequery__V1__SlowResult *sr;
	response *r;
	hist *all = NULL, *h;

	if (top > MAX_LIMIT)
		top = MAX_LIMIT;
	n_pairs = duration_pairs(q, s->service, s->operation, &pairs);
	sr = xmalloc(sizeof *sr);
	tracequery__v1__slow_result__init(sr);
	h = xmalloc(sizeof *h);
	if (s->histogram)
		all = xcalloc(1, sizeof *all);
	for (size_t i = 0; i < n_pairs && w.from <= w.to; i++) {
		Tracequery__V1__OperationPercentiles *op;

		memset(h, 0, sizeof *h);
		duration_hist_window(q, &pairs[i], (uint32_t)i, &w, h, &mm, 0);
		if (h->count == 0)
			continue;
		op = xmalloc(sizeof *op);
		tracequery__v1__operation_percentiles__init(op);
		op->service = xstrdup(pairs[i].svc);
		op->operation = xstrdup(pairs[i].op);
		op->p50_ns = hist_quantile(h, 0.50);
		op->p90_ns = hist_quantile(h, 0.90);
		op->p99_ns = hist_quantile(h, 0.99);
		op->max_ns = h->max;
		op->count = h->count;
		PUSH(sr->percentiles, sr->n_percentiles, op);
		if (all != NULL) {
			for (int b = 0; b < HIST_BUCKETS; b++)
				all->n[b] += h->n[b];
			all->count += h->count;
			if (h->max > all->max)
				all->max = h->max;
		}
	}
	slow_fill(q, pairs, &mm, &w, top, sr);
	free(mm.v);
	if (all != NULL)
		backend_slow_histogram(sr, all);
	free(all);
	free(h);
	duration_pairs_free(pairs, n_pairs);
	r = backend_response_new(sr->n_spans || sr->n_percentiles ?
	    TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    sr->n_spans || sr->n_percentiles ? "" : "no spans in the window");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SLOW;
	r->slow = sr;
	return r;
}
