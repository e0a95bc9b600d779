/*
 * ch_query_tail.c - Tail from ClickHouse: the traces this collector
 * shipped from a cursor on (ch_arrivals.h holds them, flush by flush),
 * each summarized and checked against the filter as a search checks a
 * candidate, in flush order and, within a flush, oldest first: the
 * RocksDB backend's answer (query/tail.c) with shipped segments in place
 * of index flushes. A trace is listed once per answer, under the first
 * flush that brought it; a span that arrives later brings it back in a
 * later answer.
 * Per chunk of IDs: with span-level filters, the traces that have a
 * span passing them all (trace_spans, ordered by trace ID, or span_index
 * for attributes; within the chunk's start range from trace_index), then
 * their summaries as search makes them (ch_query_summaries: trace-level
 * duration filters, retention cutoff).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "hash_set.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/ch_query.h"
#include "format/keys.h"

#define TAIL_BUDGET 5000 /* traces per answer, as the RocksDB tail */
#define CHUNK 1000       /* trace IDs per SELECT */

/* A trace to summarize, under the first flush of the answer that has it. */
typedef struct tail_id {
	uint8_t id[16];
	uint64_t flush;
} tail_id;

/* A summary with the flush it is listed under, for the final order. */
typedef struct tail_row {
	Tracequery__V1__TraceSummary *ts;
	uint64_t flush;
} tail_row;

/* Does s filter spans (not only whole traces)? */
static bool
has_span_filters(const Tracequery__V1__Search *s)
{
	return s->service[0] || s->operation[0] || s->min_duration_ns ||
	    s->max_duration_ns || s->errors_only || s->n_attributes > 0;
}

/* The start range of the traces' spans, from the trace index. */
static response *
start_range(ch_query_ctx *q, const uint8_t (*ids)[16], size_t n,
    ch_window *w)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char all[64];

	ch_sql_add(&sql, "SELECT min(min_start), max(max_start) FROM %s WHERE ",
	    ch_query_table(q, "trace_index", all, sizeof all));
	ch_query_add_ids(&sql, ids, n);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	if (!rowbinary_get_u64(&r, &w->from) || !rowbinary_get_u64(&r, &w->to))
		err = ch_query_bad_reply();
	ch_reply_fini(&rep);
	if (w->from < q->cutoff_ns)
		w->from = q->cutoff_ns;
	return err;
}

/* Keeps in ids (n of them, *kept after) the traces with a span that
 * passes every span-level filter of s, as search's candidates must. */
static response *
match_spans(ch_query_ctx *q, const Tracequery__V1__Search *s,
    uint8_t (*ids)[16], size_t n, size_t *kept)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	ch_window w;
	response *err;
	char all[64];

	*kept = 0;
	if ((err = start_range(q, (const uint8_t (*)[16])ids, n, &w)) != NULL ||
	    w.from > w.to)
		return err;
	/* trace_spans is ordered by trace ID; only span_index has the
	 * attributes. */
	ch_sql_add(&sql, "SELECT DISTINCT trace_id FROM %s WHERE ",
	    ch_query_table(q, s->n_attributes ? "span_index" : "trace_spans",
	    all, sizeof all));
	ch_query_span_filters(&sql, s, &w);
	ch_sql_add(&sql, " AND ");
	ch_query_add_ids(&sql, (const uint8_t (*)[16])ids, n);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0 && *kept < n &&
	    rowbinary_get_fixed(&r, ids[*kept], 16))
		(*kept)++;
	ch_reply_fini(&rep);
	return r.ok ? NULL : ch_query_bad_reply();
}

/* Summarizes the traces of one chunk that match s into sr. */
static response *
summarize_chunk(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const tail_id *chunk, size_t n, Tracequery__V1__SearchResult *sr)
{
	uint8_t (*ids)[16] = xmalloc((n ? n : 1) * sizeof *ids);
	response *err = NULL;

	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], chunk[i].id, 16);
	if (has_span_filters(s))
		err = match_spans(q, s, ids, n, &n);
	if (err == NULL)
		err = ch_query_summaries(q, (const uint8_t (*)[16])ids, n, s,
		    "t0", (uint32_t)n, sr);
	free(ids);
	return err;
}

/* The answer's traces, each once, under the first flush that has it. */
static tail_id *
unique_ids(const ch_arrivals_read *rd, size_t *n)
{
	tail_id *u = xmalloc((rd->n ? rd->n : 1) * sizeof *u);
	hash_set seen = { 0 };

	*n = 0;
	for (size_t i = 0; i < rd->n; i++) {
		if (!hash_set_add(&seen, hash64(rd->v[i].id, 16, 5)))
			continue;
		memcpy(u[*n].id, rd->v[i].id, 16);
		u[(*n)++].flush = rd->v[i].flush;
	}
	hash_set_clear(&seen);
	return u;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(((const tail_id *)a)->id, ((const tail_id *)b)->id, 16);
}

/* Flush order, then oldest first within a flush. */
static int
cmp_row(const void *a, const void *b)
{
	const tail_row *x = a, *y = b;

	if (x->flush != y->flush)
		return x->flush < y->flush ? -1 : 1;
	return x->ts->start_unix_nano < y->ts->start_unix_nano ? -1 :
	    x->ts->start_unix_nano > y->ts->start_unix_nano;
}

/* Puts sr's summaries in the answer's order: u (sorted by ID here) says
 * each one's flush. */
static void
order_summaries(Tracequery__V1__SearchResult *sr, tail_id *u, size_t n)
{
	tail_row *rows = xmalloc((sr->n_traces ? sr->n_traces : 1) *
	    sizeof *rows);

	qsort(u, n, sizeof *u, cmp_id);
	for (size_t i = 0; i < sr->n_traces; i++) {
		tail_id key, *hit;

		memcpy(key.id, sr->traces[i]->trace_id.data, 16);
		hit = bsearch(&key, u, n, sizeof *u, cmp_id);
		rows[i].ts = sr->traces[i];
		rows[i].flush = hit ? hit->flush : UINT64_MAX;
	}
	qsort(rows, sr->n_traces, sizeof *rows, cmp_row);
	for (size_t i = 0; i < sr->n_traces; i++)
		sr->traces[i] = rows[i].ts;
	free(rows);
}

static response *
tail_response(Tracequery__V1__SearchResult *sr, const ch_arrivals_read *rd)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");
	Tracequery__V1__TailResult *tr = xmalloc(sizeof *tr);

	tracequery__v1__tail_result__init(tr);
	tr->traces = sr->traces;
	tr->n_traces = sr->n_traces;
	tr->next_flush = rd->next;
	tr->more = rd->more;
	sr->traces = NULL;
	sr->n_traces = 0;
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_TAIL;
	r->tail = tr;
	return r;
}

response *
ch_query_tail(ch_query_ctx *q, ch_arrivals *a, const Tracequery__V1__Tail *t)
{
	Tracequery__V1__Search none;
	const Tracequery__V1__Search *s = t->filter ? t->filter : &none;
	Tracequery__V1__SearchResult sr;
	ch_arrivals_read rd;
	response *r = NULL;
	tail_id *u;
	size_t n;

	tracequery__v1__search__init(&none);
	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	tracequery__v1__search_result__init(&sr);
	ch_arrivals_get(a, t->from_flush, TAIL_BUDGET, &rd);
	u = unique_ids(&rd, &n);
	for (size_t i = 0; i < n && r == NULL; i += CHUNK)
		r = summarize_chunk(q, s, u + i, n - i < CHUNK ? n - i : CHUNK,
		    &sr);
	if (r == NULL) {
		order_summaries(&sr, u, n);
		r = tail_response(&sr, &rd);
	}
	for (size_t i = 0; i < sr.n_traces; i++)
		tracequery__v1__trace_summary__free_unpacked(sr.traces[i], NULL);
	free(sr.traces);
	free(u);
	free(rd.v);
	return r;
}
