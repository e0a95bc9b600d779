/*
 * ch_query_search.c - search from ClickHouse, newest or longest first
 * (most spans and most errors: ch_query_search_most.c; the count:
 * ch_query_search_count.c), in two short SELECTs.
 * 1. Candidates: the traces with one span that passes every span-level
 *    filter (service, operation, attributes of the span or its resource,
 *    span duration, errors, start window), by their earliest matching
 *    start (or longest matching span), k of them: from span_time (schema
 *    v2: one contiguous range of a service's spans by time) or, with an
 *    attribute filter, from span_index (the only table with attributes).
 * 2. Their summaries (ch_query_summary.c), where trace-level duration
 *    filters, order and limit apply.
 * Newest first reads the window's newest minute first, then 4, 16, ...
 * times as much, and is exact: a trace left out has no matching span
 * after the k-th candidate's and none in the slice read, so it cannot
 * start after either; when the limit-th result starts after both,
 * nothing was missed, else k grows fourfold (up to 5,000, the RocksDB
 * search's budget) or the slice fourfold. When the spans below a short
 * slice end long before that (a service quiet for ten minutes), the next
 * slice starts at their newest instead (next_slice); every slice still
 * ends at the window's end, so where it starts only changes what it
 * costs.
 * Longest first and trace-level duration filters take 5,000 candidates
 * at once.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000
#define BUDGET 5000 /* candidate traces, as the RocksDB search */
#define FIRST_SLICE_NS (60ull * 1000000000ull) /* then 4x, 16x, ... */
#define PROBE_FINE_NS (3600ull * 1000000000ull)

/* The candidate traces, best first. */
typedef struct cands {
	uint8_t (*id)[16];
	uint64_t *m;    /* earliest matching start (longest: add_longest_sql) */
	size_t n;
	size_t n_ok;    /* the first n_ok of id pass (all n but from attr_index) */
} cands;

/*
 * Longest first's candidates, ranked as the RocksDB search ranks them: a
 * trace by its longest span of the service and operation, duration bounds
 * and window (the duration lists it walks), among the traces with a span
 * that passes every span-level filter (errors and attributes are checked
 * on the trace, not on the ranking span).
 */
static void
add_longest_sql(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const ch_window *w)
{
	Tracequery__V1__Search listed = *s;
	ch_query_ctx lq = *q;
	char tbl[64];

	listed.errors_only = false;
	listed.n_attributes = 0;
	ch_sql_add(sql, "SELECT trace_id, max(duration_ns) AS m FROM %s WHERE ",
	    ch_query_table(q, "span_time", tbl, sizeof tbl));
	ch_query_span_filters(sql, &listed, w);
	if (!s->errors_only && s->n_attributes == 0)
		return;
	/* Each shard checks its own traces (local table, named with its
	 * database), as the count's subquery does. */
	lq.cluster = false;
	ch_sql_add(sql, " AND trace_id IN (SELECT trace_id FROM %s.%s WHERE ",
	    q->database, ch_query_span_table(&lq, s, tbl, sizeof tbl));
	ch_query_span_filters(sql, s, w);
	ch_sql_add(sql, ")");
}

static response *
find_candidates(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, bool longest, uint32_t k, cands *c)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char all[64];

	/* Newest first by attribute: attr_index names the candidates (from
	 * span_index when the budget is reached: it finds any that pass). */
	if (!longest && s->n_attributes > 0 && k < BUDGET) {
		c->id = xmalloc(k * sizeof *c->id);
		c->m = xmalloc(k * sizeof *c->m);
		return ch_query_attr_candidates(q, s, w, k, c->id, c->m, &c->n,
		    &c->n_ok);
	}
	if (longest)
		add_longest_sql(q, &sql, s, w);
	else {
		ch_sql_add(&sql, "SELECT trace_id, min(start_ns) AS m FROM %s "
		    "WHERE ", ch_query_span_table(q, s, all, sizeof all));
		ch_query_span_filters(&sql, s, w);
	}
	ch_sql_add(&sql, " GROUP BY trace_id ORDER BY m DESC, trace_id LIMIT "
	    "%u", k);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	c->id = xmalloc(k * sizeof *c->id);
	c->m = xmalloc(k * sizeof *c->m);
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0 && c->n < k &&
	    rowbinary_get_fixed(&r, c->id[c->n], 16) &&
	    rowbinary_get_u64(&r, &c->m[c->n]))
		c->n++;
	c->n_ok = c->n;
	ch_reply_fini(&rep);
	return r.ok ? NULL : ch_query_bad_reply();
}

static void
cands_free(cands *c)
{
	free(c->id);
	free(c->m);
	memset(c, 0, sizeof *c);
}

static int
cmp_longest_trace(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	if (x->duration_ns != y->duration_ns)
		return x->duration_ns > y->duration_ns ? -1 : 1;
	return memcmp(x->trace_id.data, y->trace_id.data, 16);
}

/* One round: k candidates, their summaries into *out. */
static response *
search_round(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t k, uint32_t limit, cands *c,
    Tracequery__V1__SearchResult **out)
{
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	response *r;

	*out = xmalloc(sizeof **out);
	tracequery__v1__search_result__init(*out);
	if ((r = find_candidates(q, s, w, longest, k, c)) != NULL)
		return r;
	/* Longest first, as the RocksDB search answers it: the first limit
	 * candidates in rank order (add_longest_sql) whose whole trace passes
	 * the trace-level filters, shown longest trace first. */
	if (longest)
		return ch_query_ranked_summaries(q, (const uint8_t (*)[16])c->id,
		    c->n_ok, s, limit, cmp_longest_trace, *out);
	return ch_query_summaries(q, (const uint8_t (*)[16])c->id, c->n_ok, s,
	    "t0 DESC", limit, *out);
}

/* Is the answer complete? Candidates: a trace left out has no matching
 * span after the k-th candidate's. Slice: a trace with no matching span
 * in [slice_from, to] started before slice_from. Either way it cannot
 * start after the limit-th result. */
static bool
complete(const cands *c, uint32_t k, uint32_t limit,
    const Tracequery__V1__SearchResult *sr, bool whole, uint64_t slice_from)
{
	uint64_t last = sr->n_traces == limit ?
	    sr->traces[limit - 1]->start_unix_nano : 0;

	if (!whole && (sr->n_traces < limit || last < slice_from))
		return false;
	return c->n < k || k >= BUDGET || (sr->n_traces == limit &&
	    c->m[c->n - 1] < last);
}

/* Newest first's slices: [anchor - slice_ns, window's end]. */
typedef struct slicer {
	uint64_t anchor, slice_ns;
	bool located;   /* spans found below the first slice: no probes */
} slicer;

/* The first slice: back from now (an open window ends a day ahead, for
 * clocks that run fast; the slice keeps that day whole), never before the
 * window. */
static void
slicer_init(slicer *sl, const ch_query_ctx *q, const ch_window *w)
{
	uint64_t a = w->to < q->now_ns ? w->to : q->now_ns;

	sl->anchor = a > w->from ? a : w->from;
	sl->slice_ns = FIRST_SLICE_NS;
	sl->located = false;
}

/* After a short slice sw: the next one, and whether it needs a round.
 * Normally four times as long. Until spans below the first slice are
 * located, twice as long up to an hour, and the stretch that adds is
 * probed first (newest matching start: a max, no grouping by trace):
 * empty, the slice grows with no round (its candidates would be the
 * same); its newest span below a gap (a service quiet for ten minutes),
 * the next slice is a first slice back from that span. Once located,
 * slices just grow, so a search makes at most one jump. */
static response *
next_slice(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, const ch_window *sw, slicer *sl, bool *run)
{
	/* Twice as long while probing up to an hour: the stretch that
	 * finds spans below a gap then holds at most the gap's length of
	 * them (the probe reads them all), not three times; past an hour
	 * fourfold, so a service with no spans in a long window (retention
	 * 0: since 1970) costs no more probes than it cost rounds. */
	bool fine = !sl->located && sl->slice_ns < PROBE_FINE_NS;
	uint64_t grown = sl->slice_ns * (fine ? 2 : 4), newest = 0;
	ch_window stretch = { sl->anchor - w->from > grown ?
	    sl->anchor - grown : w->from, sw->from - 1 };
	bool found;
	response *err;

	*run = true;
	if (!sl->located) {
		err = ch_query_newest_match(q, s, &stretch, &newest, &found);
		if (err != NULL)
			return err;
		sl->located = found;
		*run = found;
		/* Jump when that reads less than growing: spans found
		 * after an empty stretch lie below a gap at least as long. */
		if (found && newest - stretch.from > FIRST_SLICE_NS) {
			sl->anchor = newest + 1;
			sl->slice_ns = FIRST_SLICE_NS;
			return NULL;
		}
	}
	sl->slice_ns = grown;
	return NULL;
}

/* Newest or longest first into *out (NULL on error). */
static response *
search_ranked(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t limit, Tracequery__V1__SearchResult **out)
{
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	bool exact = !longest && !s->min_trace_duration_ns &&
	    !s->max_trace_duration_ns;
	uint32_t k = exact ? limit * 2 + 20 : BUDGET;
	Tracequery__V1__SearchResult *sr = NULL;
	cands c = { 0 };
	response *resp = NULL;
	bool run = true;
	slicer sl;

	slicer_init(&sl, q, w);
	for (;;) {
		/* Not sliced with an attribute filter: its values are mostly
		 * rare (IDs, users), so slices would read the window several
		 * times over. */
		bool whole = !exact || s->n_attributes > 0 ||
		    sl.anchor - w->from <= sl.slice_ns;
		ch_window sw = { whole ? w->from : sl.anchor - sl.slice_ns,
		    w->to };

		if (run) {
			if (sr != NULL)
				tracequery__v1__search_result__free_unpacked(
				    sr, NULL);
			sr = NULL;
			cands_free(&c);
			resp = search_round(q, s, &sw, k, limit, &c, &sr);
		}
		if (resp != NULL || !exact ||
		    complete(&c, k, limit, sr, whole, sw.from))
			break;
		if (c.n == k && k < BUDGET) {
			k = k * 4 > BUDGET ? BUDGET : k * 4;
			run = true;
		} else if ((resp = next_slice(q, s, w, &sw, &sl, &run)) !=
		    NULL) {
			break;
		}
	}
	cands_free(&c);
	if (resp != NULL) {
		tracequery__v1__search_result__free_unpacked(sr, NULL);
		sr = NULL;
	}
	*out = sr;
	return resp;
}

static response *
search_in(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t limit, Tracequery__V1__SearchResult **sr)
{
	if (s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS ||
	    s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS) {
		*sr = xmalloc(sizeof **sr);
		tracequery__v1__search_result__init(*sr);
		return ch_query_search_most(q, s, w, limit, *sr);
	}
	return search_ranked(q, s, w, limit, sr);
}

response *
ch_query_search(ch_query_ctx *q, const Tracequery__V1__Search *s)
{
	ch_window w = ch_query_window(q, s->start_unix_nano, s->end_unix_nano);
	uint32_t limit = s->limit ? s->limit : DEFAULT_LIMIT;
	Tracequery__V1__SearchResult *sr = NULL;
	response *resp = NULL;

	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	limit = limit > MAX_LIMIT ? MAX_LIMIT : limit;
	if (w.from <= w.to) {
		resp = search_in(q, s, &w, limit, &sr);
	} else {
		sr = xmalloc(sizeof *sr);
		tracequery__v1__search_result__init(sr);
	}
	if (resp == NULL && s->count_total && w.from <= w.to)
		resp = ch_query_search_count(q, s, &w, sr);
	if (resp != NULL) {
		if (sr != NULL)
			tracequery__v1__search_result__free_unpacked(sr, NULL);
		return resp;
	}
	resp = backend_response_new(sr->n_traces ?
	    TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    sr->n_traces ? "" : "no traces match");
	resp->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SEARCH;
	resp->search = sr;
	return resp;
}
