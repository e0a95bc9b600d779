/*
 * ch_query_search_most.c - search orders MOST_SPANS and MOST_ERRORS, as
 * the RocksDB backend answers them (collector/query/search_most.c): the
 * window's spans, newest first and at most 1,000,000 of them, counted
 * per trace (spans and error spans, a span stored twice counted once);
 * the traces ranked by those counts (then the other count, then trace
 * ID); of the first 5,000 ranked, those with a span that passes the
 * span-level filters, in rank order, checked against the trace-level
 * filters until the limit; the answer sorted by the whole trace's counts
 * then start, newest first. Counting and the span-level check are one
 * GROUP BY over span_time (span_index with an attribute filter).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

#define MOST_MAX_SPANS 1000000 /* as the RocksDB backend (DEPS_MAX_SPANS) */
#define BUDGET 5000            /* traces checked, as SEARCH_BUDGET */

/* The ranked traces that pass the span-level filters, in rank order. */
typedef struct ranked {
	uint8_t (*id)[16];
	size_t n;
} ranked;

/* Narrows w to its newest MOST_MAX_SPANS spans; sets what sr says about
 * them. Spans sharing the boundary's start are all counted. */
static response *
newest_spans(ch_query_ctx *q, const Tracequery__V1__Search *s, ch_window *w,
    Tracequery__V1__SearchResult *sr)
{
	rowbinary_buf sql = { 0 };
	char tbl[64];
	uint64_t n = 0, from = 0;
	bool found;
	response *err;

	ch_sql_add(&sql, "SELECT toUInt64(uniqExact(trace_id, span_id)) FROM "
	    "%s WHERE ", ch_query_span_table(q, s, tbl, sizeof tbl));
	ch_query_span_filters(&sql, NULL, w);
	if ((err = ch_query_u64(q, &sql, &n, &found)) != NULL)
		return err;
	sr->spans_ranked = n < MOST_MAX_SPANS ? n : MOST_MAX_SPANS;
	sr->ranked_truncated = n > MOST_MAX_SPANS;
	if (!sr->ranked_truncated)
		return NULL;
	ch_sql_add(&sql, "SELECT start_ns FROM %s WHERE ",
	    ch_query_span_table(q, s, tbl, sizeof tbl));
	ch_query_span_filters(&sql, NULL, w);
	ch_sql_add(&sql, " ORDER BY start_ns DESC LIMIT %u, 1",
	    MOST_MAX_SPANS - 1);
	if ((err = ch_query_u64(q, &sql, &from, &found)) == NULL && found)
		w->from = from;
	return err;
}

/* The first BUDGET traces by rank; keeps those with a matching span. */
static response *
rank(ch_query_ctx *q, const Tracequery__V1__Search *s, const ch_window *w,
    ranked *out)
{
	bool errors = s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS;
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char tbl[64];

	ch_sql_add(&sql, "SELECT trace_id, countIf(");
	/* The span-level filters as a condition on each span read. */
	ch_query_span_filters(&sql, s, w);
	ch_sql_add(&sql, ") > 0 AS ok, uniqExact(span_id) AS n, "
	    "uniqExactIf(span_id, status = 2) AS e FROM %s WHERE ",
	    ch_query_span_table(q, s, tbl, sizeof tbl));
	ch_query_span_filters(&sql, NULL, w);
	ch_sql_add(&sql, " GROUP BY trace_id ORDER BY %s, trace_id LIMIT %u",
	    errors ? "e DESC, n DESC" : "n DESC, e DESC", BUDGET);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	out->id = xmalloc(BUDGET * sizeof *out->id);
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0 && out->n < BUDGET) {
		uint8_t ok;
		uint64_t n, e;

		if (rowbinary_get_fixed(&r, out->id[out->n], 16) &&
		    rowbinary_get_u8(&r, &ok) && rowbinary_get_u64(&r, &n) &&
		    rowbinary_get_u64(&r, &e) && ok)
			out->n++;
	}
	ch_reply_fini(&rep);
	return r.ok ? NULL : ch_query_bad_reply();
}

static int
cmp_time(const Tracequery__V1__TraceSummary *x,
    const Tracequery__V1__TraceSummary *y)
{
	return x->start_unix_nano > y->start_unix_nano ? -1 :
	    x->start_unix_nano < y->start_unix_nano;
}

static int
cmp_spans(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	if (x->span_count != y->span_count)
		return x->span_count > y->span_count ? -1 : 1;
	return cmp_time(x, y);
}

static int
cmp_errors(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	if (x->error_count != y->error_count)
		return x->error_count > y->error_count ? -1 : 1;
	return cmp_spans(a, b);
}

response *
ch_query_search_most(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t limit, Tracequery__V1__SearchResult *sr)
{
	ch_window nw = *w;
	ranked rk = { 0 };
	response *err;

	if ((err = newest_spans(q, s, &nw, sr)) != NULL ||
	    (err = rank(q, s, &nw, &rk)) != NULL)
		goto out;
	err = ch_query_ranked_summaries(q, (const uint8_t (*)[16])rk.id, rk.n,
	    s, limit, s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS ?
	    cmp_errors : cmp_spans, sr);
out:
	free(rk.id);
	return err;
}
