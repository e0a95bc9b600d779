/*
 * ch_query_search_count.c - Search.count_total: how many traces match
 * over the whole window. The traces with a span that passes the
 * span-level filters are counted by ClickHouse, up to 100,000 (the RocksDB
 * backend's count budget; past it the count is a lower bound). With a
 * trace-level duration filter those traces' durations come from
 * trace_spans; the RocksDB backend checks only its 2,000 newest
 * candidates there, so past that its count is a lower bound where this one
 * is exact (docs/STORAGE.md).
 */
#include <stdlib.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

#define COUNT_BUDGET 100000 /* as the RocksDB backend */

/* Appends the subquery of the traces with a matching span, at most
 * COUNT_BUDGET; local tables on a cluster (a trace lives on one shard,
 * so each shard's IN set is its own traces). */
static void
add_matching(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const ch_window *w, bool local)
{
	ch_query_ctx lq = *q;
	char tbl[64];

	lq.cluster = q->cluster && !local;
	/* Named with its database: shards run the subquery themselves. */
	ch_sql_add(sql, "SELECT trace_id FROM %s.%s WHERE ", q->database,
	    ch_query_span_table(&lq, s, tbl, sizeof tbl));
	ch_query_span_filters(sql, s, w);
	ch_sql_add(sql, " GROUP BY trace_id LIMIT %u", COUNT_BUDGET);
}

response *
ch_query_search_count(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, Tracequery__V1__SearchResult *sr)
{
	rowbinary_buf sql = { 0 };
	uint64_t n = 0, total;
	response *err;
	char tbl[64];

	ch_sql_add(&sql, "SELECT count() FROM (");
	add_matching(q, &sql, s, w, false);
	ch_sql_add(&sql, ")");
	if ((err = ch_query_u64(q, &sql, &n, NULL)) != NULL)
		return err;
	sr->total_is_lower_bound = n >= COUNT_BUDGET;
	total = n;
	if (n > 0 && (s->min_trace_duration_ns || s->max_trace_duration_ns)) {
		ch_sql_add(&sql, "SELECT count() FROM (SELECT trace_id, "
		    "min(start_ns) AS t0, max(start_ns + duration_ns) - t0 AS "
		    "dur FROM %s WHERE start_ns >= %llu AND trace_id IN (",
		    ch_query_table(q, "trace_spans", tbl, sizeof tbl),
		    (unsigned long long)q->cutoff_ns);
		add_matching(q, &sql, s, w, true);
		ch_sql_add(&sql, ") GROUP BY trace_id");
		ch_query_trace_having(&sql, s);
		ch_sql_add(&sql, ")");
		if ((err = ch_query_u64(q, &sql, &total, NULL)) != NULL)
			return err;
	}
	/* Never below what the search itself found. */
	sr->total = total > sr->n_traces ? total : sr->n_traces;
	return NULL;
}
