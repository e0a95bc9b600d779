/*
 * ch_query_search.c - search from ClickHouse in three short SELECTs.
 * 1. Candidates: the traces with one span that passes every span-level
 *    filter (service, operation, attributes of the span or its resource,
 *    span duration, errors, start window), by their newest matching start
 *    (or longest matching span), k of them.
 * 2. Their start range, from the trace index (ordered by trace ID).
 * 3. Summaries: all spans of those traces, read only within that range,
 *    give each trace's start, duration, root, services, span and error
 *    counts (a span stored twice by a resend counts once: uniqExact of
 *    span IDs); trace-level duration filters, order and limit apply here.
 * Newest first reads the window's newest minute first, then 8, 64, ...
 * times as much, and is exact: a trace left out has no matching span
 * after the k-th candidate's and none in the slice read, so it cannot
 * start after either; when the limit-th result starts after both,
 * nothing was missed, else k grows fourfold (up to 5,000, the RocksDB
 * search's budget) or the slice eightfold.
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
#define FIRST_SLICE_NS (60ull * 1000000000ull) /* then 8x, 64x, ... */

/* The candidate traces, best first. */
typedef struct cands {
	uint8_t (*id)[16];
	uint64_t *m;    /* newest matching start (or longest matching span) */
	size_t n;
	uint64_t lo, hi; /* the start range of all their spans */
} cands;

/* Appends the span-level filters of s over window w. */
static void
add_span_filters(rowbinary_buf *sql, const Tracequery__V1__Search *s,
    const ch_window *w)
{
	/* The day bounds let ClickHouse skip whole partitions. */
	ch_sql_add(sql, "start_date >= ");
	ch_sql_date(sql, w->from);
	ch_sql_add(sql, " AND start_date <= ");
	ch_sql_date(sql, w->to);
	ch_sql_add(sql, " AND start_ns >= %llu AND start_ns <= %llu",
	    (unsigned long long)w->from, (unsigned long long)w->to);
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

/* Appends "trace_id IN (...)" for the candidates. */
static void
add_ids(rowbinary_buf *sql, const cands *c)
{
	ch_sql_add(sql, "trace_id IN (");
	for (size_t i = 0; i < c->n; i++) {
		if (i > 0)
			ch_sql_add(sql, ", ");
		ch_sql_id(sql, c->id[i], 16);
	}
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

	ch_sql_add(&sql, "SELECT trace_id, %s AS m FROM %s WHERE ", longest ?
	    "max(duration_ns)" : "min(start_ns)", ch_query_table(q,
	    "span_index", all, sizeof all));
	add_span_filters(&sql, s, w);
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
	ch_reply_fini(&rep);
	return r.ok ? NULL : ch_query_bad_reply();
}

/* The start range of the candidates' spans, from the trace index. */
static response *
find_range(ch_query_ctx *q, cands *c)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char all[64];

	ch_sql_add(&sql, "SELECT min(min_start), max(max_start) FROM %s WHERE ",
	    ch_query_table(q, "trace_index", all, sizeof all));
	add_ids(&sql, c);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	if (!rowbinary_get_u64(&r, &c->lo) || !rowbinary_get_u64(&r, &c->hi))
		err = ch_query_bad_reply();
	ch_reply_fini(&rep);
	return err;
}

static void
build_summaries(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const cands *c, uint32_t limit,
    bool longest)
{
	char all[64];

	ch_sql_add(sql, "SELECT trace_id, min(start_ns) AS t0, "
	    "max(start_ns + duration_ns) - t0 AS dur, "
	    "toUInt32(uniqExact(span_id)), toUInt32(uniqExactIf(span_id, "
	    "status = 2)), groupUniqArray(service), countIf(is_root) > 0, "
	    "argMinIf(service, start_ns, is_root = 1), argMinIf(name, "
	    "start_ns, is_root = 1), argMin(service, start_ns), argMin(name, "
	    "start_ns) FROM %s WHERE start_ns >= %llu AND start_ns <= %llu "
	    "AND ", ch_query_table(q, "span_index", all, sizeof all),
	    (unsigned long long)(c->lo > q->cutoff_ns ? c->lo : q->cutoff_ns),
	    (unsigned long long)c->hi);
	add_ids(sql, c);
	ch_sql_add(sql, " GROUP BY trace_id");
	if (s->min_trace_duration_ns || s->max_trace_duration_ns)
		ch_sql_add(sql, " HAVING dur >= %llu AND dur <= %llu",
		    (unsigned long long)s->min_trace_duration_ns,
		    (unsigned long long)(s->max_trace_duration_ns ?
		    s->max_trace_duration_ns : UINT64_MAX));
	ch_sql_add(sql, " ORDER BY %s DESC, trace_id LIMIT %u",
	    longest ? "dur" : "t0", limit);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one summary row; NULL when the reply is malformed. */
static Tracequery__V1__TraceSummary *
read_summary(rowbinary_reader *r)
{
	Tracequery__V1__TraceSummary *ts = xmalloc(sizeof *ts);
	uint64_t n_svcs;
	uint8_t has_root;
	char *names[4] = { NULL };

	tracequery__v1__trace_summary__init(ts);
	ts->trace_id.data = xmalloc(16);
	ts->trace_id.len = 16;
	rowbinary_get_fixed(r, ts->trace_id.data, 16);
	rowbinary_get_u64(r, &ts->start_unix_nano);
	rowbinary_get_u64(r, &ts->duration_ns);
	rowbinary_get_u32(r, &ts->span_count);
	rowbinary_get_u32(r, &ts->error_count);
	if (rowbinary_get_varint(r, &n_svcs) && n_svcs <= r->left) {
		ts->services = xcalloc(n_svcs + 1, sizeof *ts->services);
		for (size_t i = 0; i < n_svcs && r->ok; i++)
			if (rowbinary_get_cstr(r, &ts->services[i]))
				ts->n_services++;
		qsort(ts->services, ts->n_services, sizeof *ts->services,
		    cmp_str);
	}
	rowbinary_get_u8(r, &has_root);
	for (int i = 0; i < 4; i++)
		rowbinary_get_cstr(r, &names[i]);
	/* No root arrived (yet): the earliest span stands in. */
	ts->root_service = names[has_root ? 0 : 2];
	ts->root_name = names[has_root ? 1 : 3];
	free(names[has_root ? 2 : 0]);
	free(names[has_root ? 3 : 1]);
	if (ts->root_service == NULL)
		ts->root_service = xstrdup("");
	if (ts->root_name == NULL)
		ts->root_name = xstrdup("");
	if (!r->ok) {
		tracequery__v1__trace_summary__free_unpacked(ts, NULL);
		return NULL;
	}
	return ts;
}

bool
ch_query_search_decode(const uint8_t *p, size_t len,
    Tracequery__V1__SearchResult *sr)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	while (r.ok && r.left > 0) {
		Tracequery__V1__TraceSummary *ts = read_summary(&r);

		if (ts != NULL)
			CH_APPEND(sr->traces, sr->n_traces, ts);
	}
	return r.ok;
}

static void
cands_free(cands *c)
{
	free(c->id);
	free(c->m);
	memset(c, 0, sizeof *c);
}

/* One round: k candidates, their range, their summaries into *out. */
static response *
search_round(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t k, uint32_t limit, cands *c,
    Tracequery__V1__SearchResult **out)
{
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *r;
	bool ok;

	*out = xmalloc(sizeof **out);
	tracequery__v1__search_result__init(*out);
	if ((r = find_candidates(q, s, w, longest, k, c)) != NULL ||
	    c->n == 0 || (r = find_range(q, c)) != NULL)
		return r;
	build_summaries(q, &sql, s, c, limit, longest);
	r = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (r != NULL)
		return r;
	ok = ch_query_search_decode(rep.data, rep.len, *out);
	ch_reply_fini(&rep);
	return ok ? NULL : ch_query_bad_reply();
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

response *
ch_query_search(ch_query_ctx *q, const Tracequery__V1__Search *s)
{
	ch_window w = ch_query_window(q, s->start_unix_nano, s->end_unix_nano);
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	bool exact = !longest && !s->min_trace_duration_ns &&
	    !s->max_trace_duration_ns;
	uint32_t limit = s->limit ? s->limit : DEFAULT_LIMIT, k;
	uint64_t slice_ns = FIRST_SLICE_NS;
	Tracequery__V1__SearchResult *sr = NULL;
	cands c = { 0 };
	response *resp;

	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	/* Refused rather than answered newest first under a header that
	 * says otherwise (docs/TRACECLI.md). */
	if (s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS ||
	    s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS)
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "the ClickHouse backend does not rank traces by most spans "
		    "or most errors yet; use newest or longest");
	limit = limit > MAX_LIMIT ? MAX_LIMIT : limit;
	k = exact ? limit * 2 + 20 : BUDGET;
	for (;;) {
		/* Newest first reads the newest slice of the window first:
		 * back from now (an open window ends a day ahead, for clocks
		 * that run fast; the slice keeps that day whole). Not with an
		 * attribute filter: its values are mostly rare (IDs, users),
		 * so slices would read the window several times over. */
		uint64_t anchor = w.to < q->now_ns ? w.to : q->now_ns;
		bool whole = !exact || s->n_attributes > 0 || w.to < w.from ||
		    anchor - w.from <= slice_ns;
		ch_window sw = { whole ? w.from : anchor - slice_ns, w.to };

		resp = search_round(q, s, &sw, k, limit, &c, &sr);
		if (resp != NULL || !exact ||
		    complete(&c, k, limit, sr, whole, sw.from))
			break;
		if (c.n == k && k < BUDGET)
			k = k * 4 > BUDGET ? BUDGET : k * 4;
		else
			slice_ns *= 8;
		tracequery__v1__search_result__free_unpacked(sr, NULL);
		cands_free(&c);
	}
	cands_free(&c);
	if (resp != NULL) {
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
