/*
 * ch_query_tail.c - Tail from ClickHouse: the traces this collector
 * shipped from a cursor on (ch_arrivals.h holds them, flush by flush),
 * each summarized and checked against the filter as a search checks a
 * candidate, in flush order and, within a flush, oldest first: the
 * RocksDB backend's answer (query/tail.c) with shipped segments in place
 * of index flushes. A trace is listed once per answer, under the first
 * flush that brought it; a span that arrives later brings it back in a
 * later answer.
 * Summaries: the trace's spans from its start range (trace_index) and
 * the retention cutoff on, one SELECT per chunk of IDs, the span-level
 * filters as "some span passes all of them" (HAVING countIf), the
 * trace-level duration filters on the whole trace, as search does.
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

/* Appends "some span passes every span-level filter of s" as a boolean
 * expression (1 when there is none). */
static void
add_span_match(rowbinary_buf *sql, const Tracequery__V1__Search *s)
{
	ch_sql_add(sql, "1");
	if (s->service[0]) {
		ch_sql_add(sql, " AND service = ");
		ch_sql_quote(sql, s->service);
	}
	if (s->operation[0]) {
		ch_sql_add(sql, " AND name = ");
		ch_sql_quote(sql, s->operation);
	}
	if (s->min_duration_ns)
		ch_sql_add(sql, " AND duration_ns >= %llu",
		    (unsigned long long)s->min_duration_ns);
	if (s->max_duration_ns)
		ch_sql_add(sql, " AND duration_ns <= %llu",
		    (unsigned long long)s->max_duration_ns);
	if (s->errors_only)
		ch_sql_add(sql, " AND status = 2");
	for (size_t i = 0; i < s->n_attributes; i++) {
		ch_sql_add(sql, " AND arrayExists((k, v) -> k = ");
		ch_sql_quote(sql, s->attributes[i]->key);
		ch_sql_add(sql, " AND v = ");
		ch_sql_quote(sql, s->attributes[i]->value);
		ch_sql_add(sql, ", attr_keys, attr_values)");
	}
}

static void
add_ids(rowbinary_buf *sql, const tail_id *ids, size_t n)
{
	ch_sql_add(sql, "trace_id IN (");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ch_sql_add(sql, ", ");
		ch_sql_id(sql, ids[i].id, 16);
	}
	ch_sql_add(sql, ")");
}

/* The start range of the traces' spans, from the trace index. */
static response *
start_range(ch_query_ctx *q, const tail_id *ids, size_t n, uint64_t *lo,
    uint64_t *hi)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char all[64];

	ch_sql_add(&sql, "SELECT min(min_start), max(max_start) FROM %s WHERE ",
	    ch_query_table(q, "trace_index", all, sizeof all));
	add_ids(&sql, ids, n);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	if (!rowbinary_get_u64(&r, lo) || !rowbinary_get_u64(&r, hi))
		err = ch_query_bad_reply();
	ch_reply_fini(&rep);
	if (*lo < q->cutoff_ns)
		*lo = q->cutoff_ns;
	return err;
}

/* The summaries of the traces that match s, as search's (same columns,
 * so ch_query_search_decode reads them). */
static void
build_summaries(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const tail_id *ids, size_t n,
    uint64_t lo, uint64_t hi)
{
	char all[64];

	ch_sql_add(sql, "SELECT trace_id, min(start_ns) AS t0, "
	    "max(start_ns + duration_ns) - t0 AS dur, "
	    "toUInt32(uniqExact(span_id)), toUInt32(uniqExactIf(span_id, "
	    "status = 2)), groupUniqArray(service), countIf(is_root) > 0, "
	    "argMinIf(service, start_ns, is_root = 1), argMinIf(name, "
	    "start_ns, is_root = 1), argMin(service, start_ns), argMin(name, "
	    "start_ns) FROM %s WHERE start_date >= ",
	    ch_query_table(q, "span_index", all, sizeof all));
	ch_sql_date(sql, lo);
	ch_sql_add(sql, " AND start_date <= ");
	ch_sql_date(sql, hi);
	ch_sql_add(sql, " AND start_ns >= %llu AND start_ns <= %llu AND ",
	    (unsigned long long)lo, (unsigned long long)hi);
	add_ids(sql, ids, n);
	ch_sql_add(sql, " GROUP BY trace_id HAVING countIf(");
	add_span_match(sql, s);
	ch_sql_add(sql, ") > 0");
	if (s->min_trace_duration_ns || s->max_trace_duration_ns)
		ch_sql_add(sql, " AND dur >= %llu AND dur <= %llu",
		    (unsigned long long)s->min_trace_duration_ns,
		    (unsigned long long)(s->max_trace_duration_ns ?
		    s->max_trace_duration_ns : UINT64_MAX));
}

/* Summarizes one chunk of IDs into sr. */
static response *
summarize_chunk(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const tail_id *ids, size_t n, Tracequery__V1__SearchResult *sr)
{
	rowbinary_buf sql = { 0 };
	uint64_t lo = 0, hi = 0;
	ch_reply rep;
	response *err = start_range(q, ids, n, &lo, &hi);
	bool ok;

	if (err != NULL || lo > hi)
		return err;
	build_summaries(q, &sql, s, ids, n, lo, hi);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	ok = ch_query_search_decode(rep.data, rep.len, sr);
	ch_reply_fini(&rep);
	return ok ? NULL : ch_query_bad_reply();
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
