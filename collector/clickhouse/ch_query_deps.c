/*
 * ch_query_deps.c - service dependencies from ClickHouse: each span whose
 * parent (same trace, also starting in the window) belongs to another
 * service is one call parent service -> child service, as the RocksDB
 * backend counts them (query/deps.h). One JOIN on (trace_id, span_id);
 * the joined side reads each shard's local index, which is exact because
 * a trace lives on one shard.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

bool
ch_query_deps_decode(const uint8_t *p, size_t len,
    Tracequery__V1__DependenciesResult *dr)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	while (r.ok && r.left > 0) {
		Tracequery__V1__DependencyLink *l = xmalloc(sizeof *l);

		tracequery__v1__dependency_link__init(l);
		rowbinary_get_cstr(&r, &l->parent);
		rowbinary_get_cstr(&r, &l->child);
		rowbinary_get_u64(&r, &l->call_count);
		if (l->parent == NULL)
			l->parent = xstrdup("");
		if (l->child == NULL)
			l->child = xstrdup("");
		CH_APPEND(dr->links, dr->n_links, l);
	}
	return r.ok;
}

/* How many spans start in w: the answer's spans_read. */
static response *
spans_in(ch_query_ctx *q, const ch_window *w, uint64_t *n)
{
	rowbinary_buf sql = { 0 };
	char all[64];

	ch_sql_add(&sql, "SELECT count() FROM %s WHERE start_ns >= %llu AND "
	    "start_ns < %llu", ch_query_table(q, "span_index", all, sizeof all),
	    (unsigned long long)w->from, (unsigned long long)w->to);
	return ch_query_u64(q, &sql, n, NULL);
}

response *
ch_query_dependencies(ch_query_ctx *q, const Tracequery__V1__Dependencies *d)
{
	ch_window w = ch_query_window(q, d->start_unix_nano, d->end_unix_nano);
	Tracequery__V1__DependenciesResult *dr;
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *r;
	char all[64];
	bool ok;

	/* The window is [start, end): end itself is out. */
	ch_sql_add(&sql, "SELECT parent_service, service, count() "
	    "FROM %s ANY INNER JOIN (SELECT trace_id, span_id AS "
	    "parent_span_id, service AS parent_service FROM %s.span_index_local "
	    "WHERE start_ns >= %llu AND start_ns < %llu) USING (trace_id, "
	    "parent_span_id) WHERE start_ns >= %llu AND start_ns < %llu AND "
	    "parent_service != service GROUP BY parent_service, service ORDER "
	    "BY parent_service, service", ch_query_table(q, "span_index", all,
	    sizeof all), q->database, (unsigned long long)w.from,
	    (unsigned long long)w.to, (unsigned long long)w.from,
	    (unsigned long long)w.to);
	r = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (r != NULL)
		return r;
	dr = xmalloc(sizeof *dr);
	tracequery__v1__dependencies_result__init(dr);
	ok = ch_query_deps_decode(rep.data, rep.len, dr);
	ch_reply_fini(&rep);
	if (!ok || (r = spans_in(q, &w, &dr->spans_read)) != NULL) {
		tracequery__v1__dependencies_result__free_unpacked(dr, NULL);
		return ok ? r : ch_query_bad_reply();
	}
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES;
	r->dependencies = dr;
	return r;
}
