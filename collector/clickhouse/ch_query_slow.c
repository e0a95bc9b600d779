/*
 * ch_query_slow.c - slow spans and percentiles from ClickHouse.
 * Percentiles: the spans' log-linear histogram buckets (format/hist.h,
 * computed at ingest) summed per service and operation from op_minutes
 * (schema v3: counts per minute, merged by ClickHouse), then read with
 * hist_quantile: the same histogram, and so the same figures (at most
 * 1.6% above the exact value), as the RocksDB backend gives, over the
 * same whole minutes of the window. Each pair's max (which clamps them)
 * from span_time, reading only spans at least as long as the lowest
 * top bucket of any pair (PREWHERE). The top spans: one SELECT on
 * span_time ordered by duration (a span stored twice is returned once),
 * likewise only above the lowest bucket the top N reach; if that gives
 * fewer than N (the histogram's whole minutes hold more than the window,
 * or resends), it reads without the bound. A span stored twice (a resend
 * outside ClickHouse's deduplication) counts twice in the percentiles.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"
#include "format/hist.h"
#include "format/keys.h"

#define DEFAULT_TOP 20
#define MAX_TOP 1000

static void
add_names(rowbinary_buf *sql, const Tracequery__V1__Slow *s)
{
	if (s->service[0]) {
		ch_sql_add(sql, " AND service = ");
		ch_sql_quote(sql, s->service);
	}
	if (s->operation[0]) {
		ch_sql_add(sql, " AND name = ");
		ch_sql_quote(sql, s->operation);
	}
}

static void
add_filters(rowbinary_buf *sql, const Tracequery__V1__Slow *s,
    const ch_window *w)
{
	ch_sql_add(sql, " WHERE ");
	ch_query_span_filters(sql, NULL, w); /* the window alone */
	add_names(sql, s);
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

/* The lowest value of h's highest non-empty bucket: its max is at least
 * that. */
static uint64_t
top_floor(const hist *h)
{
	for (int b = HIST_BUCKETS - 1; b > 0; b--)
		if (h->n[b] > 0)
			return hist_upper(b - 1) + 1;
	return 0;
}

/* Adds histogram h to all and closes the pair's percentiles; lowers
 * *floor (NULL: none) to the pair's top_floor. */
static void
close_pair(Tracequery__V1__SlowResult *sr, const char *svc, const char *op,
    hist *h, hist *all, uint64_t *floor)
{
	if (h->count == 0)
		return;
	if (floor != NULL && top_floor(h) < *floor)
		*floor = top_floor(h);
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
read_hists(rowbinary_reader *r, Tracequery__V1__SlowResult *sr, hist *all,
    uint64_t *floor)
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
				close_pair(sr, svc, op, h, all, floor);
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
		close_pair(sr, svc, op, h, all, floor);
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
	return read_hists(&r, sr, all, NULL);
}

/* The percentiles' window: whole minutes, as the RocksDB backend sums
 * its per-minute histograms (the minutes holding w's ends included). */
static ch_window
minute_window(const ch_window *w)
{
	ch_window m;

	m.from = w->from / KEY_MINUTE_NS * KEY_MINUTE_NS;
	m.to = w->to / KEY_MINUTE_NS * KEY_MINUTE_NS + KEY_MINUTE_NS - 1;
	return m;
}

/* Each pair's histogram from op_minutes, its max not yet known (the
 * percentiles are clamped by pair_maxes); *floor: what every pair's max
 * is at least. */
static response *
percentiles(ch_query_ctx *q, const Tracequery__V1__Slow *s,
    const ch_window *mw, Tracequery__V1__SlowResult *sr, hist *all,
    uint64_t *floor)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char tbl[64];

	ch_sql_add(&sql, "SELECT service, name, dur_bucket, sum(n), "
	    "toUInt64(18446744073709551615) FROM %s WHERE start_date >= ",
	    ch_query_table(q, "op_minutes", tbl, sizeof tbl));
	ch_sql_date(&sql, mw->from);
	ch_sql_add(&sql, " AND start_date <= ");
	ch_sql_date(&sql, mw->to);
	ch_sql_add(&sql, " AND minute >= %llu AND minute <= %llu",
	    (unsigned long long)(mw->from / KEY_MINUTE_NS),
	    (unsigned long long)(mw->to / KEY_MINUTE_NS));
	add_names(&sql, s);
	ch_sql_add(&sql, " GROUP BY service, name, dur_bucket ORDER BY "
	    "service, name, dur_bucket");
	err = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	*floor = UINT64_MAX;
	err = read_hists(&r, sr, all, floor) ? NULL : ch_query_bad_reply();
	ch_reply_fini(&rep);
	return err;
}

static Tracequery__V1__OperationPercentiles *
find_pair(Tracequery__V1__SlowResult *sr, const char *svc, const char *op)
{
	for (size_t i = 0; i < sr->n_percentiles; i++)
		if (strcmp(sr->percentiles[i]->service, svc) == 0 &&
		    strcmp(sr->percentiles[i]->operation, op) == 0)
			return sr->percentiles[i];
	return NULL;
}

/* Sets each pair's max (from span_time, only spans at least floor long)
 * and clamps its percentiles to it, as hist_quantile does. */
static response *
pair_maxes(ch_query_ctx *q, const Tracequery__V1__Slow *s,
    const ch_window *mw, uint64_t floor, Tracequery__V1__SlowResult *sr,
    hist *all)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	response *err;
	char tbl[64];

	ch_sql_add(&sql, "SELECT service, name, max(duration_ns) FROM %s "
	    "PREWHERE duration_ns >= %llu", ch_query_table(q, "span_time", tbl,
	    sizeof tbl), (unsigned long long)floor);
	add_filters(&sql, s, mw);
	ch_sql_add(&sql, " GROUP BY service, name");
	if ((err = ch_query_run(q, ch_sql_text(&sql), &rep)) != NULL)
		goto out;
	all->max = 0;
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0) {
		char *svc = NULL, *op = NULL;
		uint64_t max = 0;
		Tracequery__V1__OperationPercentiles *p;

		rowbinary_get_cstr(&r, &svc);
		rowbinary_get_cstr(&r, &op);
		if (rowbinary_get_u64(&r, &max) &&
		    (p = find_pair(sr, svc, op)) != NULL) {
			p->max_ns = max;
			p->p50_ns = p->p50_ns < max ? p->p50_ns : max;
			p->p90_ns = p->p90_ns < max ? p->p90_ns : max;
			p->p99_ns = p->p99_ns < max ? p->p99_ns : max;
			all->max = max > all->max ? max : all->max;
		}
		free(svc);
		free(op);
	}
	err = r.ok ? NULL : ch_query_bad_reply();
	ch_reply_fini(&rep);
out:
	rowbinary_buf_free(&sql);
	return err;
}

response *
ch_query_slow(ch_query_ctx *q, const Tracequery__V1__Slow *s)
{
	ch_window w = ch_query_window(q, s->start_unix_nano, s->end_unix_nano);
	ch_window mw = minute_window(&w);
	Tracequery__V1__SlowResult *sr = xmalloc(sizeof *sr);
	hist *all = xcalloc(1, sizeof *all);
	uint64_t floor;
	response *r;
	bool found;

	tracequery__v1__slow_result__init(sr);
	r = percentiles(q, s, &mw, sr, all, &floor);
	if (r == NULL && sr->n_percentiles > 0)
		r = pair_maxes(q, s, &mw, floor, sr, all);
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
