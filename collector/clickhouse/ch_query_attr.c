/*
 * ch_query_attr.c - newest-first search candidates for a search with
 * attribute filters, from attr_index (schema v4), in two SELECTs:
 * 1. The traces with a row of every filter's key and value in the
 *    window's minutes (and the service, if named), ranked by their latest
 *    such minute: a few granules of each part for a rare value, where
 *    span_index's attribute arrays were read for every span of the window.
 * 2. Those rows say nothing of which span carried which attribute, so
 *    each candidate is checked on its spans: trace_spans (ordered by trace
 *    ID) gives its spans that pass the other span-level filters, and the
 *    spans table their OTLP bytes and origins, decoded here and matched
 *    with attr_text_match, as the RocksDB search matches them.
 * A trace left out has no matching span after its latest minute, nor
 * after the k-th candidate's (its bound), which is what search's
 * completeness test (ch_query_search.c) needs.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"
#include "format/attr_text.h"
#include "format/keys.h"
#include "otlp_types.h"


/* How many distinct (key, value) pairs the filters ask for. */
static size_t
distinct_filters(const Tracequery__V1__Search *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_attributes; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (strcmp(s->attributes[i]->key,
			    s->attributes[j]->key) == 0 &&
			    strcmp(s->attributes[i]->value,
			    s->attributes[j]->value) == 0)
				break;
		n += j == i;
	}
	return n;
}

static void
add_attr_rows_sql(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const ch_window *w, uint32_t k)
{
	char tbl[64];

	ch_sql_add(sql, "SELECT trace_id, max(minute) AS mx FROM %s WHERE "
	    "start_date >= ", ch_query_table(q, "attr_index", tbl,
	    sizeof tbl));
	ch_sql_date(sql, w->from);
	ch_sql_add(sql, " AND start_date <= ");
	ch_sql_date(sql, w->to);
	ch_sql_add(sql, " AND minute >= %llu AND minute <= %llu AND (",
	    (unsigned long long)(w->from / KEY_MINUTE_NS),
	    (unsigned long long)(w->to / KEY_MINUTE_NS));
	for (size_t i = 0; i < s->n_attributes; i++) {
		ch_sql_add(sql, "%s(key = ", i ? " OR " : "");
		ch_sql_quote(sql, s->attributes[i]->key);
		ch_sql_add(sql, " AND value = ");
		ch_sql_quote(sql, s->attributes[i]->value);
		ch_sql_add(sql, ")");
	}
	ch_sql_add(sql, ")");
	if (s->service[0]) {
		ch_sql_add(sql, " AND service = ");
		ch_sql_quote(sql, s->service);
	}
	ch_sql_add(sql, " GROUP BY trace_id HAVING uniqExact(key, value) = "
	    "%zu ORDER BY mx DESC, trace_id LIMIT %u", distinct_filters(s), k);
}

/* Step 1: up to k traces, ranked, with the end of their latest minute. */
static response *
attr_rows(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t k, uint8_t (*ids)[16], uint64_t *bound,
    size_t *n)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;

	add_attr_rows_sql(q, &sql, s, w, k);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	*n = 0;
	while (r.ok && r.left > 0 && *n < k) {
		uint32_t mx;

		if (rowbinary_get_fixed(&r, ids[*n], 16) &&
		    rowbinary_get_u32(&r, &mx))
			bound[(*n)++] = ((uint64_t)mx + 1) * KEY_MINUTE_NS - 1;
	}
	ch_reply_fini(&rep);
	return r.ok ? NULL : ch_query_bad_reply();
}

/* Step 2's SELECT: the candidates' spans in w that pass the span-level
 * filters other than attributes, with their origins. */
static void
add_spans_sql(ch_query_ctx *q, rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const ch_window *w,
    const uint8_t (*ids)[16], size_t n)
{
	Tracequery__V1__Search plain = *s;
	char tbl[64];
	ch_query_ctx lq = *q;

	plain.n_attributes = 0;
	ch_sql_add(sql, "SELECT trace_id, origin, span FROM %s WHERE ",
	    ch_query_table(q, "spans", tbl, sizeof tbl));
	ch_query_span_filters(sql, NULL, w);
	ch_sql_add(sql, " AND ");
	ch_query_add_ids(sql, ids, n);
	/* Each shard runs the subquery on its own traces (local table, named
	 * with its database), as the count's does. */
	lq.cluster = false;
	ch_sql_add(sql, " AND (trace_id, span_id) IN (SELECT trace_id, span_id "
	    "FROM %s.%s WHERE ", q->database, ch_query_table(&lq,
	    "trace_spans", tbl, sizeof tbl));
	ch_query_span_filters(sql, &plain, w);
	ch_sql_add(sql, " AND ");
	ch_query_add_ids(sql, ids, n);
	ch_sql_add(sql, ")");
}

/* The origin decoded last, kept while the next rows repeat it. */
typedef struct origin_memo {
	const uint8_t *bytes;
	size_t len;
	ResourceSpans *rs;
} origin_memo;

static const ResourceSpans *
origin_of(origin_memo *m, const uint8_t *p, size_t len)
{
	if (m->bytes != NULL && m->len == len && memcmp(m->bytes, p, len) == 0)
		return m->rs;
	if (m->rs != NULL)
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    m->rs, NULL);
	m->bytes = p;
	m->len = len;
	m->rs = opentelemetry__proto__trace__v1__resource_spans__unpack(NULL,
	    len, p);
	return m->rs;
}

bool
ch_query_attr_decode(const uint8_t *p, size_t len,
    const Tracequery__V1__Search *s, uint8_t (**matched)[16], size_t *n)
{
	origin_memo memo = { 0 };
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	while (r.ok && r.left > 0) {
		uint8_t id[16];
		const uint8_t *ob, *sb;
		size_t olen, slen;
		Span *sp;

		if (!rowbinary_get_fixed(&r, id, 16) ||
		    !rowbinary_get_string(&r, &ob, &olen) ||
		    !rowbinary_get_string(&r, &sb, &slen))
			break;
		/* A span that does not decode matches nothing. */
		sp = opentelemetry__proto__trace__v1__span__unpack(NULL, slen,
		    sb);
		if (sp != NULL && attr_text_match_all(s->attributes,
		    s->n_attributes, sp, origin_of(&memo, ob, olen))) {
			*matched = xrealloc(*matched, (*n + 1) * sizeof **matched);
			memcpy((*matched)[(*n)++], id, 16);
		}
		if (sp != NULL)
			opentelemetry__proto__trace__v1__span__free_unpacked(sp,
			    NULL);
	}
	if (memo.rs != NULL)
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    memo.rs, NULL);
	return r.ok;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Moves the ids found in matched to the front, in their order; returns
 * how many. */
static size_t
keep_matched(uint8_t (*ids)[16], size_t n, uint8_t (*matched)[16],
    size_t n_matched)
{
	uint8_t (*sorted)[16] = xmalloc((n + 1) * sizeof *sorted);
	size_t ok = 0, rest = n;

	qsort(matched, n_matched, sizeof *matched, cmp_id);
	for (size_t i = 0; i < n; i++)
		memcpy(sorted[bsearch(ids[i], matched, n_matched,
		    sizeof *matched, cmp_id) != NULL ? ok++ : --rest], ids[i],
		    16);
	memcpy(ids, sorted, n * sizeof *ids);
	free(sorted);
	return ok;
}

response *
ch_query_attr_candidates(ch_query_ctx *q, const Tracequery__V1__Search *s,
    const ch_window *w, uint32_t k, uint8_t (*ids)[16], uint64_t *bound,
    size_t *n, size_t *n_ok)
{
	rowbinary_buf sql = { 0 };
	uint8_t (*matched)[16] = NULL;
	size_t n_matched = 0;
	ch_reply rep;
	response *err;

	*n_ok = 0;
	if ((err = attr_rows(q, s, w, k, ids, bound, n)) != NULL || *n == 0)
		return err;
	add_spans_sql(q, &sql, s, w, (const uint8_t (*)[16])ids, *n);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	if (!ch_query_attr_decode(rep.data, rep.len, s, &matched, &n_matched))
		err = ch_query_bad_reply();
	else
		*n_ok = keep_matched(ids, *n, matched, n_matched);
	free(matched);
	ch_reply_fini(&rep);
	return err;
}
