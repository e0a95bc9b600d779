/*
 * ch_query_search.c - search from ClickHouse in one SELECT. The inner
 * query finds, on each shard's local span index, the traces with one span
 * that passes every span-level filter (service, operation, attributes of
 * the span or its resource, span duration, errors, start window), newest
 * (or longest) first, at most a budget of them; the outer query reads all
 * spans of those traces to summarise each one (start, duration, root,
 * services, span and error counts) and applies the trace-level duration
 * filters, order and limit. A trace lives on one shard, so the inner IN
 * runs locally on each (no GLOBAL IN; the remote shards need its
 * database named). Spans stored twice (a resend) are
 * counted once (uniqExact of span IDs).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000
#define BUDGET 5000 /* candidate traces per shard, as the RocksDB search */

/* Appends the span-level filters of s over window w. */
static void
add_span_filters(rowbinary_buf *sql, const Tracequery__V1__Search *s,
    const ch_window *w)
{
	ch_sql_add(sql, "start_ns >= %llu AND start_ns <= %llu",
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

static void
build_sql(ch_query_ctx *q, rowbinary_buf *sql, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t limit, bool longest)
{
	char all[64];

	ch_sql_add(sql, "SELECT trace_id, min(start_ns) AS t0, "
	    "max(start_ns + duration_ns) - t0 AS dur, "
	    "toUInt32(uniqExact(span_id)), toUInt32(uniqExactIf(span_id, "
	    "status = 2)), groupUniqArray(service), countIf(is_root) > 0, "
	    "argMinIf(service, start_ns, is_root = 1), argMinIf(name, "
	    "start_ns, is_root = 1), argMin(service, start_ns), argMin(name, "
	    "start_ns) FROM %s WHERE start_ns >= %llu AND trace_id IN (SELECT "
	    "trace_id FROM %s.span_index_local WHERE ",
	    ch_query_table(q, "span_index", all, sizeof all),
	    (unsigned long long)q->cutoff_ns, q->database);
	add_span_filters(sql, s, w);
	ch_sql_add(sql, " GROUP BY trace_id ORDER BY %s DESC LIMIT %u) "
	    "GROUP BY trace_id", longest ? "max(duration_ns)" :
	    "min(start_ns)", BUDGET);
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

response *
ch_query_search(ch_query_ctx *q, const Tracequery__V1__Search *s)
{
	ch_window w = ch_query_window(q, s->start_unix_nano, s->end_unix_nano);
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	uint32_t limit = s->limit ? s->limit : DEFAULT_LIMIT;
	Tracequery__V1__SearchResult *sr;
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *resp;
	bool ok;

	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	limit = limit > MAX_LIMIT ? MAX_LIMIT : limit;
	build_sql(q, &sql, s, &w, limit, longest);
	resp = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (resp != NULL)
		return resp;
	sr = xmalloc(sizeof *sr);
	tracequery__v1__search_result__init(sr);
	ok = ch_query_search_decode(rep.data, rep.len, sr);
	ch_reply_fini(&rep);
	if (!ok) {
		tracequery__v1__search_result__free_unpacked(sr, NULL);
		return ch_query_bad_reply();
	}
	resp = backend_response_new(sr->n_traces ?
	    TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    sr->n_traces ? "" : "no traces match");
	resp->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SEARCH;
	resp->search = sr;
	return resp;
}
