/*
 * search.c - Search. It walks an index newest first: the attribute
 * index when an attribute filter is given (most selective), else the
 * operation index, else the service index, merging one stream per service
 * when none is named. Each candidate trace is loaded once and checked:
 * span-level filters (service, operation, attributes, span duration,
 * errors, start window) must all hold on one span; trace-level durations
 * on the whole trace. A span duration bound or LONGEST order first tries
 * the duration index (search_duration.c); MOST_SPANS and MOST_ERRORS
 * rank the window's spans (search_most.c).
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

static bool
span_matches(const lspan *ls, const Tracequery__V1__Search *s,
    const window *w)
{
	const Span *sp = ls->sp;
	uint64_t d = sp->end_time_unix_nano - sp->start_time_unix_nano;

	if (sp->start_time_unix_nano < w->from ||
	    sp->start_time_unix_nano > w->to)
		return false;
	if (s->service[0] && strcmp(ls->o->svc, s->service) != 0)
		return false;
	if (s->operation[0] && strcmp(sp->name, s->operation) != 0)
		return false;
	if (s->min_duration_ns && d < s->min_duration_ns)
		return false;
	if (s->max_duration_ns && d > s->max_duration_ns)
		return false;
	if (s->errors_only && (sp->status == NULL ||
	    sp->status->code != STATUS_ERROR))
		return false;
	return attr_text_match_all(s->attributes, s->n_attributes, sp,
	    ls->o->rs);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Builds the summary of t; NULL when t fails the search's filters. */
static Tracequery__V1__TraceSummary *
summarize(const ltrace *t, const Tracequery__V1__Search *s, const window *w)
{
	Tracequery__V1__TraceSummary *ts;
	uint64_t start = UINT64_MAX, end = 0;
	const lspan *root = NULL;
	bool match = s == NULL;
	uint32_t errors = 0;
	char **svcs = NULL;
	size_t n_svcs = 0;

	for (size_t i = 0; i < t->n; i++) {
		const lspan *ls = &t->spans[i];
		const Span *sp = ls->sp;
		size_t j;

		if (!match && span_matches(ls, s, w))
			match = true;
		if (sp->start_time_unix_nano < start)
			start = sp->start_time_unix_nano;
		if (sp->end_time_unix_nano > end)
			end = sp->end_time_unix_nano;
		if (sp->status != NULL && sp->status->code == STATUS_ERROR)
			errors++;
		if (sp->parent_span_id.len == 0 && (root == NULL ||
		    sp->start_time_unix_nano <
		    root->sp->start_time_unix_nano))
			root = ls;
		for (j = 0; j < n_svcs; j++)
			if (strcmp(svcs[j], ls->o->svc) == 0)
				break;
		if (j == n_svcs)
			PUSH(svcs, n_svcs, (char *)(uintptr_t)ls->o->svc);
	}
	if (t->n == 0 || !match || (s != NULL &&
	    ((s->min_trace_duration_ns && end - start <
	    s->min_trace_duration_ns) || (s->max_trace_duration_ns &&
	    end - start > s->max_trace_duration_ns)))) {
		free(svcs);
		return NULL;
	}
	if (root == NULL) {
		/* No root arrived (yet): the earliest span stands in. */
		root = &t->spans[0];
		for (size_t i = 1; i < t->n; i++)
			if (t->spans[i].sp->start_time_unix_nano <
			    root->sp->start_time_unix_nano)
				root = &t->spans[i];
	}
	ts = xmalloc(sizeof *ts);
	tracequery__v1__trace_summary__init(ts);
	ts->trace_id.data = xmalloc(KEY_TRACE_ID_LEN);
	memcpy(ts->trace_id.data, root->sp->trace_id.data, KEY_TRACE_ID_LEN);
	ts->trace_id.len = KEY_TRACE_ID_LEN;
	ts->root_service = xstrdup(root->o->svc);
	ts->root_name = xstrdup(root->sp->name);
	ts->start_unix_nano = start;
	ts->duration_ns = end - start;
	ts->span_count = (uint32_t)t->n;
	ts->error_count = errors;
	qsort(svcs, n_svcs, sizeof *svcs, cmp_str);
	for (size_t i = 0; i < n_svcs; i++)
		svcs[i] = xstrdup(svcs[i]);
	ts->services = svcs;
	ts->n_services = n_svcs;
	return ts;
}

/*
 * A newest-first stream over the posting records of one index prefix,
 * hour by hour. Records are sorted by their newest start, so a record is
 * read once its newest start could beat the best posting in hand: the
 * stream yields postings in exact start order. S, O and A records hold one
 * minute each (so records newer than the window's end plus a minute are
 * skipped); V records hold an hour and carry a value hash to match. buf
 * holds (start, trace ID) pairs, TS_POSTING_LEN bytes each, sorted oldest
 * first; the top is its end.
 */
#define TS_POSTING_LEN (8 + KEY_TRACE_ID_LEN)
typedef struct tstream {
	keybuf prefix; /* type + strings, no hour */
	uint32_t hour, hour_min;
	bool is_val;         /* V: postings carry a value hash */
	uint64_t value_hash; /* V: the value's hash */
	store_iter *it;
	bool valid;
	uint8_t *buf;
	size_t n, cap;
	uint64_t start; /* the current posting */
	uint8_t trace[KEY_TRACE_ID_LEN];
} tstream;

static void
ts_open_hour(qctx *q, tstream *s, const window *w)
{
	keybuf lo, hi;
	uint64_t to = w->to + KEY_MINUTE_NS;

	key_reset(&lo);
	key_put_u32(&lo, s->hour);
	key_put_bytes(&lo, s->prefix.b, s->prefix.len);
	hi = lo;
	if (!s->is_val)
		key_put_u64(&lo, ~(to < w->to ? UINT64_MAX : to));
	if (w->from != 0)
		key_put_u64(&hi, ~w->from);
	key_prefix_next(&hi);
	store_iter_free(s->it);
	s->it = store_iter_new(q->st, STORE_CF_INDEX, lo.b, lo.len, hi.b,
	    hi.len, false);
}

static int
cmp_posting_asc(const void *a, const void *b)
{
	uint64_t x = key_be64(a), y = key_be64(b);

	return x < y ? -1 : x > y;
}

/* Room for one more (start, trace) in s->buf. */
static uint8_t *
ts_slot(tstream *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->buf = xrealloc(s->buf, s->cap * TS_POSTING_LEN);
	}
	return s->buf + s->n++ * TS_POSTING_LEN;
}

/* Adds the postings of record (k, v) in the window to s->buf. */
static void
ts_add_record(qctx *q, tstream *s, const window *w, const uint8_t *k,
    size_t off, const uint8_t *v, size_t vlen)
{
	uint64_t flush = key_batch_flush(key_be64(k + off + 8));

	q->n_tdec = 0;
	if (postings_decode_t(v, vlen, s->is_val, &q->tdec, &q->n_tdec,
	    &q->cap_tdec) < 0) {
		STATS_INC(query_bad_records, 1);
		return;
	}
	for (size_t i = 0; i < q->n_tdec; i++) {
		const tref *t = &q->tdec[i];
		uint64_t start;
		uint8_t *p;

		if (s->is_val && t->vhash != key_val_hash16(s->value_hash))
			continue;
		p = ts_slot(s);
		if (!dict_reader_trace(q->dict, s->hour, flush, t->ord,
		    p + 8, &start) || (start += t->off_ns) < w->from ||
		    start > w->to) {
			s->n--;
			continue;
		}
		key_write_be64(p, start);
	}
}

/* Makes the stream's current posting the newest one left. */
static void
ts_fill(qctx *q, tstream *s, const window *w)
{
	size_t off = 4 + s->prefix.len;

	for (;;) {
		if (store_iter_valid(s->it)) {
			size_t klen, vlen;
			const uint8_t *k = store_iter_key(s->it, &klen);
			const uint8_t *v;
			uint64_t newest;

			if (klen != off + 16) {
				store_iter_next(s->it);
				continue;
			}
			newest = ~key_be64(k + off);
			if (s->n > 0 && newest <
			    key_be64(s->buf + (s->n - 1) * TS_POSTING_LEN))
				break;
			v = store_iter_value(s->it, &vlen);
			ts_add_record(q, s, w, k, off, v, vlen);
			if (s->n > 1)
				qsort(s->buf, s->n, TS_POSTING_LEN,
				    cmp_posting_asc);
			store_iter_next(s->it);
			continue;
		}
		/* Older hours hold only older postings. */
		if (s->n > 0 || s->hour <= s->hour_min)
			break;
		s->hour--;
		ts_open_hour(q, s, w);
	}
	s->valid = s->n > 0;
	if (s->valid) {
		const uint8_t *top = s->buf + (s->n - 1) * TS_POSTING_LEN;

		s->start = key_be64(top);
		memcpy(s->trace, top + 8, KEY_TRACE_ID_LEN);
	}
}

/* Drops the current posting and finds the next. */
static void
ts_next(qctx *q, tstream *s, const window *w)
{
	if (s->n > 0)
		s->n--;
	ts_fill(q, s, w);
}

/* is_val: a V stream matching value_hash. */
static void
ts_init(qctx *q, tstream *s, const keybuf *prefix, bool is_val,
    uint64_t value_hash, const window *w)
{
	memset(s, 0, sizeof *s);
	s->prefix = *prefix;
	s->is_val = is_val;
	s->value_hash = value_hash;
	s->hour = key_hour(w->to);
	s->hour_min = key_hour(w->from);
	ts_open_hour(q, s, w);
	ts_fill(q, s, w);
}

static void
ts_fini(tstream *s)
{
	store_iter_free(s->it);
	free(s->buf);
}

/* Loads and checks one candidate; returns true when the search is done. */
bool
search_consider(qctx *q, results *res, const uint8_t *trace_id,
    const Tracequery__V1__Search *s, const window *w)
{
	ltrace t;
	Tracequery__V1__TraceSummary *ts;

	if (!hash_set_add(&res->seen, hash64(trace_id, KEY_TRACE_ID_LEN, 5)))
		return false;
	res->checked++;
	if (res->postings_only)
		return res->checked >= COUNT_BUDGET;
	ltrace_load(q, trace_id, &t);
	ts = summarize(&t, s, w);
	ltrace_free(&t);
	if (ts != NULL)
		PUSH(res->v, res->n, ts);
	return res->n >= res->limit || res->checked >= (res->load_budget ?
	    res->load_budget : SEARCH_BUDGET);
}

/* Newest first over the streams for the search's filters. */
static void
search_by_time(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w)
{
	tstream *st = NULL;
	size_t n_st = 0;
	char **svcs = NULL;
	size_t n_svcs = 0;
	keybuf p;

	if (s->n_attributes > 0) {
		/* The value's own records, and its bucket of values seen
		 * once per index flush. */
		const char *k = s->attributes[0]->key;
		const char *v = s->attributes[0]->value;
		uint64_t vh = key_val_hash(k, strlen(k), v, strlen(v));

		st = xcalloc(2, sizeof *st);
		key_reset(&p);
		key_put_u8(&p, IDX_ATTR);
		key_put_str(&p, k, strlen(k));
		key_put_str(&p, v, strlen(v));
		ts_init(q, &st[n_st++], &p, false, 0, w);
		key_reset(&p);
		key_put_u8(&p, IDX_VAL);
		key_put_str(&p, k, strlen(k));
		key_put_u16(&p, (uint16_t)key_val_bucket(vh));
		ts_init(q, &st[n_st++], &p, true, vh, w);
	} else {
		if (s->service[0])
			PUSH(svcs, n_svcs, xstrdup(s->service));
		else
			n_svcs = catalog_list_services(q, &svcs);
		st = xcalloc(n_svcs ? n_svcs : 1, sizeof *st);
		for (size_t i = 0; i < n_svcs; i++) {
			key_reset(&p);
			key_put_u8(&p, s->operation[0] ? IDX_OP : IDX_SVC);
			key_put_str(&p, svcs[i], strlen(svcs[i]));
			if (s->operation[0])
				key_put_str(&p, s->operation,
				    strlen(s->operation));
			ts_init(q, &st[n_st++], &p, false, 0, w);
		}
	}
	for (;;) {
		tstream *best = NULL;

		for (size_t i = 0; i < n_st; i++)
			if (st[i].valid && (best == NULL ||
			    st[i].start > best->start))
				best = &st[i];
		if (best == NULL)
			break;
		if (search_consider(q, res, best->trace, s, w))
			break;
		ts_next(q, best, w);
	}
	for (size_t i = 0; i < n_st; i++)
		ts_fini(&st[i]);
	free(st);
	catalog_free_names(svcs, n_svcs);
}

static int
cmp_summary_time(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	return x->start_unix_nano > y->start_unix_nano ? -1 :
	    x->start_unix_nano < y->start_unix_nano;
}

static int
cmp_summary_dur(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	return x->duration_ns > y->duration_ns ? -1 :
	    x->duration_ns < y->duration_ns;
}

/* Does every posting of search_by_time's streams match s? A service or
 * operation posting is a span of it that starts in the window; an
 * error, a duration or an attribute (whose bucket postings may collide)
 * needs the trace. */
static bool
postings_answer(const Tracequery__V1__Search *s)
{
	return s->n_attributes == 0 && !s->errors_only &&
	    s->min_duration_ns == 0 && s->max_duration_ns == 0 &&
	    s->min_trace_duration_ns == 0 && s->max_trace_duration_ns == 0;
}

/*
 * Counts the traces that match s over w: a walk of the time indexes as
 * search_by_time makes, without a limit. When the postings answer the
 * filter it counts distinct traces, at most COUNT_BUDGET; else it loads
 * and checks each candidate, at most COUNT_LOAD_BUDGET (a load costs
 * 0.1-0.3 ms: the count must not outweigh the search). found: what the
 * search returned, which the count is never below.
 */
static void
search_count(qctx *q, const Tracequery__V1__Search *s, const window *w,
    size_t found, Tracequery__V1__SearchResult *sr)
{
	results all = { 0 };
	size_t n;

	all.limit = SIZE_MAX;
	all.postings_only = postings_answer(s);
	all.load_budget = COUNT_LOAD_BUDGET;
	if (w->from <= w->to)
		search_by_time(q, &all, s, w);
	n = all.postings_only ? all.checked : all.n;
	sr->total = n > found ? n : found;
	sr->total_is_lower_bound = all.checked >=
	    (all.postings_only ? COUNT_BUDGET : COUNT_LOAD_BUDGET);
	while (all.n > 0)
		tracequery__v1__trace_summary__free_unpacked(all.v[--all.n],
		    NULL);
	free(all.v);
	hash_set_clear(&all.seen);
}

response *
search_refuse(const Tracequery__V1__Search *s)
{
	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	return NULL;
}

static int
cmp_summary_spans(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	if (x->span_count != y->span_count)
		return x->span_count > y->span_count ? -1 : 1;
	return cmp_summary_time(a, b);
}

static int
cmp_summary_errors(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	if (x->error_count != y->error_count)
		return x->error_count > y->error_count ? -1 : 1;
	return cmp_summary_spans(a, b);
}

typedef int (*summary_cmp)(const void *, const void *);

/* Finds the candidates of s's order into res (sr: what an order says
 * about its own reach); returns how to sort them. */
static summary_cmp
search_order(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, Tracequery__V1__SearchResult *sr)
{
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	bool done = false;

	switch (s->order) {
	case TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS:
		search_most(q, res, s, w, sr);
		return cmp_summary_spans;
	case TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS:
		search_most(q, res, s, w, sr);
		return cmp_summary_errors;
	default:
		break;
	}
	if (longest || (s->min_duration_ns > 0 && s->n_attributes == 0))
		done = search_duration(q, res, s, w, longest);
	if (!done)
		search_by_time(q, res, s, w);
	return longest ? cmp_summary_dur : cmp_summary_time;
}

response *
search(qctx *q, const Tracequery__V1__Search *s)
{
	results res = { 0 };
	window w = qctx_window(q, s->start_unix_nano, s->end_unix_nano);
	Tracequery__V1__SearchResult *sr;
	summary_cmp cmp = cmp_summary_time;
	response *r = search_refuse(s);

	if (r != NULL)
		return r;
	res.limit = s->limit ? s->limit : DEFAULT_LIMIT;
	if (res.limit > MAX_LIMIT)
		res.limit = MAX_LIMIT;
	sr = xmalloc(sizeof *sr);
	tracequery__v1__search_result__init(sr);
	if (w.from <= w.to)
		cmp = search_order(q, &res, s, &w, sr);
	if (res.n > 1)
		qsort(res.v, res.n, sizeof *res.v, cmp);
	while (res.n > res.limit)
		tracequery__v1__trace_summary__free_unpacked(res.v[--res.n],
		    NULL);
	hash_set_clear(&res.seen);
	sr->traces = res.v;
	sr->n_traces = res.n;
	if (s->count_total)
		search_count(q, s, &w, res.n, sr);
	r = backend_response_new(res.n ? TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    res.n ? "" : "no traces match");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SEARCH;
	r->search = sr;
	return r;
}
