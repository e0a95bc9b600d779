/*
 * ch_query_newest.c - the newest start of a span that passes a search's
 * span-level filters within a stretch of time: how a newest-first search
 * finds where the spans below a short slice are (ch_query_search.c). One
 * max over the stretch's spans in span_time: the rows a slice's
 * candidates would read, but nothing grouped by trace (at 2M spans 9-17
 * ms for 320k rows whose grouping took 78-229 ms). op_minutes would be a
 * smaller table, but its 8,192-row granules made even a two-minute probe
 * read 122k rows, and it knows no status.
 */
#include "clickhouse/ch_query.h"

response *
ch_query_newest_match(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *stretch, uint64_t *start_ns, bool *found)
{
	rowbinary_buf sql = { 0 };
	char tbl[64];

	ch_sql_add(&sql, "SELECT start_ns FROM %s WHERE ",
	    ch_query_span_table(q, s, tbl, sizeof tbl));
	ch_query_span_filters(&sql, s, stretch);
	ch_sql_add(&sql, " ORDER BY start_ns DESC LIMIT 1");
	return ch_query_u64(q, &sql, start_ns, found);
}
