/*
 * ch_query_summary.c - the search result's trace summaries, for a list of
 * trace IDs, in one SELECT over trace_spans (schema v2: ordered by trace
 * ID, so the read is a few granules per trace whatever its time range).
 * Each trace's start, duration, root, services, span and error counts (a
 * span stored twice by a resend counts once: uniqExact of span IDs);
 * the trace-level duration filters apply here.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

void
ch_query_span_filters(rowbinary_buf *sql, const Tracequery__V1__Search *s,
    const ch_window *w)
{
	/* The day bounds let ClickHouse skip whole partitions. */
	ch_sql_add(sql, "start_date >= ");
	ch_sql_date(sql, w->from);
	ch_sql_add(sql, " AND start_date <= ");
	ch_sql_date(sql, w->to);
	ch_sql_add(sql, " AND start_ns >= %llu AND start_ns <= %llu",
	    (unsigned long long)w->from, (unsigned long long)w->to);
	if (s == NULL)
		return;
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

const char *
ch_query_span_table(const ch_query_ctx *q, const Tracequery__V1__Search *s,
    char *buf, size_t len)
{
	/* Only span_index has the attributes; span_time reads less. */
	return ch_query_table(q, s != NULL && s->n_attributes > 0 ?
	    "span_index" : "span_time", buf, len);
}

void
ch_query_add_ids(rowbinary_buf *sql, const uint8_t (*ids)[16], size_t n)
{
	ch_sql_add(sql, "trace_id IN (");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ch_sql_add(sql, ", ");
		ch_sql_id(sql, ids[i], 16);
	}
	ch_sql_add(sql, ")");
}

void
ch_query_trace_having(rowbinary_buf *sql, const Tracequery__V1__Search *s)
{
	if (s->min_trace_duration_ns || s->max_trace_duration_ns)
		ch_sql_add(sql, " HAVING dur >= %llu AND dur <= %llu",
		    (unsigned long long)s->min_trace_duration_ns,
		    (unsigned long long)(s->max_trace_duration_ns ?
		    s->max_trace_duration_ns : UINT64_MAX));
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
ch_query_summaries(ch_query_ctx *q, const uint8_t (*ids)[16], size_t n,
    const Tracequery__V1__Search *s, const char *order, uint32_t limit,
    Tracequery__V1__SearchResult *sr)
{
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *r;
	char all[64];
	bool ok;

	if (n == 0)
		return NULL;
	ch_sql_add(&sql, "SELECT trace_id, min(start_ns) AS t0, "
	    "max(start_ns + duration_ns) - t0 AS dur, "
	    "toUInt32(uniqExact(span_id)), toUInt32(uniqExactIf(span_id, "
	    "status = 2)), groupUniqArray(service), countIf(is_root) > 0, "
	    "argMinIf(service, start_ns, is_root = 1), argMinIf(name, "
	    "start_ns, is_root = 1), argMin(service, start_ns), argMin(name, "
	    "start_ns) FROM %s PREWHERE ",
	    ch_query_table(q, "trace_spans", all, sizeof all));
	/* PREWHERE on the IDs: each ID costs one granule per part, mostly
	 * other traces' spans; only the matching rows' other columns are
	 * read then (18.16 moves the cheaper start_ns test there itself). */
	ch_query_add_ids(&sql, ids, n);
	ch_sql_add(&sql, " WHERE start_ns >= %llu GROUP BY trace_id",
	    (unsigned long long)q->cutoff_ns);
	ch_query_trace_having(&sql, s);
	ch_sql_add(&sql, " ORDER BY %s, trace_id LIMIT %u", order, limit);
	r = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (r != NULL)
		return r;
	ok = ch_query_search_decode(rep.data, rep.len, sr);
	ch_reply_fini(&rep);
	return ok ? NULL : ch_query_bad_reply();
}

/* A summary and its candidate's rank. */
typedef struct ranked_summary {
	size_t rank;
	Tracequery__V1__TraceSummary *ts;
} ranked_summary;

/* A candidate's ID and rank, sorted by ID to look summaries up. */
typedef struct id_rank {
	const uint8_t *id;
	size_t rank;
} id_rank;

static int
cmp_id_rank(const void *a, const void *b)
{
	return memcmp(((const id_rank *)a)->id, ((const id_rank *)b)->id, 16);
}

static int
cmp_rank(const void *a, const void *b)
{
	size_t x = ((const ranked_summary *)a)->rank;
	size_t y = ((const ranked_summary *)b)->rank;

	return x < y ? -1 : x > y;
}

/* Each summary's rank in ids (n: not a candidate, which cannot happen). */
static ranked_summary *
rank_summaries(const uint8_t (*ids)[16], size_t n,
    const Tracequery__V1__SearchResult *sr)
{
	id_rank *by_id = xmalloc((n + 1) * sizeof *by_id);
	ranked_summary *rs = xmalloc((sr->n_traces + 1) * sizeof *rs);

	for (size_t i = 0; i < n; i++)
		by_id[i] = (id_rank){ ids[i], i };
	qsort(by_id, n, sizeof *by_id, cmp_id_rank);
	for (size_t i = 0; i < sr->n_traces; i++) {
		id_rank key = { sr->traces[i]->trace_id.data, 0 };
		const id_rank *hit = sr->traces[i]->trace_id.len != 16 ? NULL :
		    bsearch(&key, by_id, n, sizeof *by_id, cmp_id_rank);

		rs[i] = (ranked_summary){ hit != NULL ? hit->rank : n,
		    sr->traces[i] };
	}
	free(by_id);
	return rs;
}

/* Keeps the first limit of sr's summaries in the order of ids. */
static void
keep_first_ranked(const uint8_t (*ids)[16], size_t n, uint32_t limit,
    Tracequery__V1__SearchResult *sr)
{
	ranked_summary *rs = rank_summaries(ids, n, sr);

	qsort(rs, sr->n_traces, sizeof *rs, cmp_rank);
	for (size_t i = 0; i < sr->n_traces; i++) {
		if (i < limit)
			sr->traces[i] = rs[i].ts;
		else
			tracequery__v1__trace_summary__free_unpacked(rs[i].ts,
			    NULL);
	}
	if (sr->n_traces > limit)
		sr->n_traces = limit;
	free(rs);
}

response *
ch_query_ranked_summaries(ch_query_ctx *q, const uint8_t (*ids)[16],
    size_t n, const Tracequery__V1__Search *s, uint32_t limit,
    int (*cmp)(const void *, const void *), Tracequery__V1__SearchResult *sr)
{
	bool trace_filters = s->min_trace_duration_ns ||
	    s->max_trace_duration_ns;
	/* Without trace-level filters every candidate passes: the first
	 * limit of them are the answer. */
	size_t asked = trace_filters || n < limit ? n : limit;
	response *r = ch_query_summaries(q, ids, asked, s, "t0 DESC",
	    (uint32_t)asked, sr);

	if (r != NULL)
		return r;
	keep_first_ranked(ids, n, limit, sr);
	if (sr->n_traces > 1)
		qsort(sr->traces, sr->n_traces, sizeof *sr->traces, cmp);
	return NULL;
}
