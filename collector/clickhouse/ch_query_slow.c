/*
 * ch_query_slow.c - slow spans and percentiles from ClickHouse, both from
 * span_time (schema v2: a service's spans in one contiguous range). The
 * top spans: one SELECT ordered by duration (a span stored twice is
 * returned once), reading only the spans at least as long as the lowest
 * histogram bucket that the top N reach (PREWHERE: the other columns are
 * read for a few granules, not the window's millions of rows); if that
 * gives fewer than N (the histogram's whole minutes hold more than the
 * window, or resends), it reads without the bound. Percentiles: the
 * spans' log-linear histogram buckets
 * (format/hist.h, computed at ingest into span_index.dur_bucket) counted
 * per service, operation and bucket in ClickHouse, then read with
 * hist_quantile: the same histogram, and so the same figures (at most
 * 1.6% above the exact value), as the RocksDB backend gives, over the
 * same whole minutes of the window. A span
 * stored twice (a resend outside ClickHouse's deduplication) counts twice
 * here.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"
#include "format/hist.h"

#define DEFAULT_TOP 20
#define MINUTE_NS 60000000000ull
#define MAX_TOP 1000

static void
add_filters(rowbinary_buf *sql, const Tracequery__V1__Slow *s,
    const ch_window *w)
{
	ch_sql_add(sql, " WHERE start_date >= ");
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
}

bool
ch_query_slow_decode_top(const uint8_t *p, size_t len,
    Tracequery__V1__SlowResult *sr)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	while (r.ok && r.left > 0) {
		Tracequery__V1__SlowSpan *sp = xmalloc(sizeof *sp);

		tracequery__v1__slow_span__init(sp);
		sp->trace_id.data = xmalloc(16);
		sp->trace_id.len = 16;
		sp->span_id.data = xmalloc(8);
		sp->span_id.len = 8;
		rowbinary_get_fixed(&r, sp->trace_id.data, 16);
		rowbinary_get_fixed(&r, sp->span_id.data, 8);
		rowbinary_get_cstr(&r, &sp->service);
		rowbinary_get_cstr(&r, &sp->name);
		rowbinary_get_u64(&r, &sp->duration_ns);
		rowbinary_get_u64(&r, &sp->start_unix_nano);
		if (sp->service == NULL)
			sp->service = xstrdup("");
		if (sp->name == NULL)
			sp->name = xstrdup("");
		CH_APPEND(sr->spans, sr->n_spans, sp);
	}
	return r.ok;
}

/* The shortest duration the top n spans of h can have: the lowest value
 * of the highest bucket where the count from the top reaches n; 0 when h
 * holds fewer than n. */
static uint64_t
top_bound(const hist *h, uint32_t n)
{
	uint64_t seen = 0;

	for (int b = HIST_BUCKETS - 1; b > 0; b--)
		if ((seen += h->n[b]) >= n)
			return hist_upper(b - 1) + 1;
	return 0;
}

static response *
top_spans(ch_query_ctx *q, const Tracequery__V1__Slow *s, const ch_window *w,
    uint64_t at_least, Tracequery__V1__SlowResult *sr)
{
	uint32_t top = s->top ? s->top : DEFAULT_TOP;
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *err;
	char all[64];
	bool ok;

	top = top > MAX_TOP ? MAX_TOP : top;
	ch_sql_add(&sql, "SELECT trace_id, span_id, service, name, duration_ns, "
	    "start_ns FROM %s", ch_query_table(q, "span_time", all,
	    sizeof all));
	if (at_least > 0)
		ch_sql_add(&sql, " PREWHERE duration_ns >= %llu",
		    (unsigned long long)at_least);
	add_filters(&sql, s, w);
	ch_sql_add(&sql, " ORDER BY duration_ns DESC, start_ns DESC LIMIT 1 "
	    "BY trace_id, span_id LIMIT %u", top);
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	ok = ch_query_slow_decode_top(rep.data, rep.len, sr);
	ch_reply_fini(&rep);
	if (ok && at_least > 0 && sr->n_spans < top) {
		/* The bound was too high for this window: read it all. */
		while (sr->n_spans > 0)
			tracequery__v1__slow_span__free_unpacked(
			    sr->spans[--sr->n_spans], NULL);
		return top_spans(q, s, w, 0, sr);
	}
	return ok ? NULL : ch_query_bad_reply();
}

static Tracequery__V1__OperationPercentiles *
percentiles_of(const char *svc, const char *op, const hist *h)
{
	Tracequery__V1__OperationPercentiles *p = xmalloc(sizeof *p);

	tracequery__v1__operation_percentiles__init(p);
	p->service = xstrdup(svc);
	p->operation = xstrdup(op);
	p->p50_ns = hist_quantile(h, 0.50);
	p->p90_ns = hist_quantile(h, 0.90);
	p->p99_ns = hist_quantile(h, 0.99);
	p->max_ns = h->max;
	p->count = h->count;
	return p;
}

/* Adds histogram h to all and closes the pair's percentiles. */
static void
close_pair(Tracequery__V1__SlowResult *sr, const char *svc, const char *op,
    hist *h, hist *all)
{
	if (h->count == 0)
		return;
	CH_APPEND(sr->percentiles, sr->n_percentiles, percentiles_of(svc, op,
	    h));
	if (all != NULL) {
		for (int b = 0; b < HIST_BUCKETS; b++)
			all->n[b] += h->n[b];
		all->count += h->count;
		all->max = h->max > all->max ? h->max : all->max;
	}
	memset(h, 0, sizeof *h);
}

static bool
read_hists(rowbinary_reader *r, Tracequery__V1__SlowResult *sr, hist *all)
{
	hist *h = xcalloc(1, sizeof *h);
	char *svc = NULL, *op = NULL;

	while (r->ok && r->left > 0) {
		char *s2 = NULL, *o2 = NULL;
		uint16_t b;
		uint64_t n, max;

		rowbinary_get_cstr(r, &s2);
		rowbinary_get_cstr(r, &o2);
		rowbinary_get_u16(r, &b);
		rowbinary_get_u64(r, &n);
		rowbinary_get_u64(r, &max);
		if (!r->ok || b >= HIST_BUCKETS) {
			r->ok = false;
			free(s2);
			free(o2);
			break;
		}
		if (svc == NULL || strcmp(svc, s2) != 0 || strcmp(op, o2) != 0) {
			if (svc != NULL)
				close_pair(sr, svc, op, h, all);
			free(svc);
			free(op);
			svc = s2;
			op = o2;
		} else {
			free(s2);
			free(o2);
		}
		h->n[b] += n;
		h->count += n;
		h->max = max > h->max ? max : h->max;
	}
	if (svc != NULL && r->ok)
		close_pair(sr, svc, op, h, all);
	free(svc);
	free(op);
	free(h);
	return r->ok;
}

bool
ch_query_slow_decode_hists(const uint8_t *p, size_t len,
    Tracequery__V1__SlowResult *sr, hist *all)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	return read_hists(&r, sr, all);
}

/* The percentiles' window: whole minutes, as the RocksDB backend sums
 * its per-minute histograms (the minutes holding w's ends included). */
static ch_window
minute_window(const ch_window *w)
{
	ch_window m;

	m.from = w->from / MINUTE_NS * MINUTE_NS;
	m.to = w->to / MINUTE_NS * MINUTE_NS + MINUTE_NS - 1;
	return m;
}

static response *
percentiles(ch_query_ctx *q, const Tracequery__V1__Slow *s,
    const ch_window *w, Tracequery__V1__SlowResult *sr, hist *all)
{
	ch_window mw = minute_window(w);
	rowbinary_buf sql = { 0 };
	ch_reply rep;
	response *err;
	char tbl[64];

	ch_sql_add(&sql, "SELECT service, name, dur_bucket, count(), "
	    "max(duration_ns) FROM %s", ch_query_table(q, "span_time", tbl,
	    sizeof tbl));
	add_filters(&sql, s, &mw);
	ch_sql_add(&sql, " GROUP BY service, name, dur_bucket ORDER BY "
	    "service, name, dur_bucket");
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	err = ch_query_slow_decode_hists(rep.data, rep.len, sr, all) ? NULL :
	    ch_query_bad_reply();
	ch_reply_fini(&rep);
	return err;
}

response *
ch_query_slow(ch_query_ctx *q, const Tracequery__V1__Slow *s)
{
	ch_window w = ch_query_window(q, s->start_unix_nano, s->end_unix_nano);
	Tracequery__V1__SlowResult *sr = xmalloc(sizeof *sr);
	hist *all = xcalloc(1, sizeof *all);
	response *r;
	bool found;

	tracequery__v1__slow_result__init(sr);
	r = percentiles(q, s, &w, sr, all);
	if (r == NULL)
		r = top_spans(q, s, &w, top_bound(all, s->top ? s->top :
		    DEFAULT_TOP), sr);
	if (r != NULL) {
		free(all);
		tracequery__v1__slow_result__free_unpacked(sr, NULL);
		return r;
	}
	if (s->histogram)
		backend_slow_histogram(sr, all);
	free(all);
	found = sr->n_spans || sr->n_percentiles;
	r = backend_response_new(found ? TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    found ? "" : "no spans in the window");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SLOW;
	r->slow = sr;
	return r;
}
