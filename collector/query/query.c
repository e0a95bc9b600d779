/*
 * query.c - the query engine (query.h) over the store's layout (keys.h,
 * docs/STORAGE.md).
 *
 * Search walks an index newest first: the attribute index when an
 * attribute filter is given (most selective), else the operation index,
 * else the service index, merging one stream per service when none is
 * named. Each candidate trace is loaded once and checked: span-level
 * filters (service, operation, attributes, span duration, errors, start
 * window) must all hold on one span; trace-level durations on the whole
 * trace. A search with a span duration bound first tries the duration
 * index. LONGEST order and `slow` read the duration index, which is sorted
 * by descending duration within each minute.
 */
#include <stdlib.h>
#include <string.h>

#include "otlp_types.h"
#include "common.h"
#include "hash_set.h"
#include "format/hist.h"
#include "format/span_block.h"
#include "index/index.h"
#include "format/keys.h"
#include "format/postings.h"
#include "backend/backend.h"
#include "query/deps.h"
#include "query/query.h"
#include "daemon/stats.h"
#include "index/trace_dict.h"
#include "store/trace_locator.h"

typedef Tracequery__V1__Response response;

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000
#define SEARCH_BUDGET 5000   /* candidate traces checked per search */
#define DUR_BUDGET 20000     /* duration entries read per search */
#define STATUS_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR

/* An origin (resource + scope) loaded once per query. */
typedef struct origin {
	uint64_t hash;
	ResourceSpans *rs; /* NULL when missing from the catalog */
	const char *svc;
	uint64_t res_hash;  /* identifies the resource alone */
} origin;

typedef struct qctx {
	store *st;
	uint64_t cutoff;
	uint64_t now;
	origin *origins;
	size_t n_origins, cap_origins;
	dict_reader *dict;   /* the postings' trace dictionaries */
	tref *tdec;          /* a record's decoded postings */
	size_t n_tdec, cap_tdec;
	dref *ddec;
	size_t n_ddec, cap_ddec;
} qctx;

typedef struct lspan {
	Span *sp;
	origin *o; /* index into q->origins is stable: see origin_get */
	size_t oi;
} lspan;

typedef struct ltrace {
	lspan *spans;
	size_t n, cap;
} ltrace;

/* ---------------------------------------------------------------- helpers */

/* Appends to a malloc'd pointer array. */
#define PUSH(arr, n, v)                                                  \
	do {                                                             \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr));     \
		(arr)[(n)++] = (v);                                      \
	} while (0)

static void
prefix_next(keybuf *k)
{
	for (size_t i = k->len; i > 0; i--) {
		if (k->b[i - 1] != 0xff) {
			k->b[i - 1]++;
			k->len = i;
			return;
		}
	}
	/* All 0xff: no upper bound beyond; append a byte instead. */
	key_put_u8(k, 0xff);
}

static size_t
origin_get(qctx *q, uint64_t hash)
{
	keybuf k;
	char *v = NULL, *cause = NULL;
	size_t vlen, i;
	origin *o;

	for (i = 0; i < q->n_origins; i++)
		if (q->origins[i].hash == hash)
			return i;
	if (q->n_origins == q->cap_origins) {
		q->cap_origins = q->cap_origins ? q->cap_origins * 2 : 16;
		q->origins = xrealloc(q->origins,
		    q->cap_origins * sizeof *q->origins);
	}
	o = &q->origins[q->n_origins];
	memset(o, 0, sizeof *o);
	o->hash = hash;
	key_meta_origin(&k, hash);
	if (store_get(q->st, STORE_CF_META, k.b, k.len, &v, &vlen,
	    &cause) == 0) {
		o->rs = opentelemetry__proto__trace__v1__resource_spans__unpack(
		    NULL, vlen, (const uint8_t *)v);
	}
	free(cause);
	o->svc = index_service_name(o->rs ? o->rs->resource : NULL);
	if (o->rs != NULL && o->rs->resource != NULL) {
		ResourceSpans r = *o->rs;
		size_t len;
		uint8_t *buf;

		r.n_scope_spans = 0;
		r.scope_spans = NULL;
		len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(&r);
		buf = xmalloc(len + 1);
		opentelemetry__proto__trace__v1__resource_spans__pack(&r, buf);
		o->res_hash = hash64(buf, len, 4);
		free(buf);
	}
	free(v);
	return q->n_origins++;
}

static void
qctx_fini(qctx *q)
{
	for (size_t i = 0; i < q->n_origins; i++)
		if (q->origins[i].rs != NULL)
			opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
			    q->origins[i].rs, NULL);
	free(q->origins);
	dict_reader_free(q->dict);
	free(q->tdec);
	free(q->ddec);
}

static void
ltrace_free(ltrace *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->spans[i].sp != NULL)
			opentelemetry__proto__trace__v1__span__free_unpacked(
			    t->spans[i].sp, NULL);
	free(t->spans);
	memset(t, 0, sizeof *t);
}

static int
cmp_lspan_id(const void *a, const void *b)
{
	const lspan *x = a, *y = b;

	return memcmp(x->sp->span_id.data, y->sp->span_id.data,
	    KEY_SPAN_ID_LEN);
}

/* Keeps one copy of each span: a resent request may have stored a span
 * in two blocks. */
static void
dedupe_spans(ltrace *t)
{
	size_t n = 0;

	qsort(t->spans, t->n, sizeof *t->spans, cmp_lspan_id);
	for (size_t i = 0; i < t->n; i++) {
		if (n > 0 && cmp_lspan_id(&t->spans[n - 1], &t->spans[i]) == 0) {
			opentelemetry__proto__trace__v1__span__free_unpacked(
			    t->spans[i].sp, NULL);
			continue;
		}
		t->spans[n++] = t->spans[i];
	}
	t->n = n;
}

/* Called for each span of a trace's blocks. */
typedef void (*span_visit)(qctx *q, const uint8_t *trace_id,
    const span_block_entry *e, void *arg);

/* The minutes that hold blocks of a trace, at most max, skipping those
 * wholly before the retention cutoff; returns how many. From memory when
 * the trace locator can answer, else from the traces family: a disk read
 * when the page cache does not hold its block. */
static size_t
trace_minutes(qctx *q, const uint8_t *trace_id, uint32_t *out, size_t max)
{
	keybuf lo, hi;
	store_iter *it;
	size_t n = 0;
	int found = trace_locator_find(store_locator(q->st), trace_id,
	    q->cutoff, out, max);

	if (found >= 0)
		return (size_t)found;
	STATS_INC(query_family_lookups, 1);
	key_reset(&lo);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_TRACES, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it) && n < max; store_iter_next(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);
		uint32_t m;

		if (klen != KEY_TRACE_LEN)
			continue;
		m = key_trace_minute(k);
		if ((uint64_t)m * KEY_MINUTE_NS + KEY_MINUTE_NS > q->cutoff)
			out[n++] = m;
	}
	store_iter_free(it);
	return n;
}

/* Visits the spans of a trace's unexpired blocks of one minute; returns
 * the number of blocks. */
static size_t
walk_minute(qctx *q, uint32_t minute, const uint8_t *trace_id,
    span_visit visit, void *arg)
{
	keybuf lo, hi;
	store_iter *it;
	size_t blocks = 0;

	key_reset(&lo);
	key_put_u32(&lo, minute);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it); store_iter_next(it), blocks++) {
		size_t klen, vlen, off = 0;
		const uint8_t *v = store_iter_value(it, &vlen);
		span_block_entry e;

		(void)store_iter_key(it, &klen);
		if (klen != KEY_SPAN_LEN || vlen < SPAN_BLOCK_HEADER ||
		    key_be64(v) < q->cutoff)
			continue;
		while (span_block_next(v, vlen, &off, &e) == 1)
			visit(q, trace_id, &e, arg);
	}
	store_iter_free(it);
	return blocks;
}

/* A trace's blocks in more minutes than this are not all read: a trace
 * lasts seconds, a long one minutes. */
#define TRACE_MAX_MINUTES 1024

/* Visits every span of a trace's unexpired blocks, minute by minute;
 * returns the number of blocks. The entries point into an iterator's
 * value: valid only during the call. */
static size_t
walk_trace(qctx *q, const uint8_t *trace_id, span_visit visit, void *arg)
{
	uint32_t minutes[TRACE_MAX_MINUTES];
	size_t n = trace_minutes(q, trace_id, minutes, TRACE_MAX_MINUTES);
	size_t blocks = 0;

	for (size_t i = 0; i < n; i++)
		blocks += walk_minute(q, minutes[i], trace_id, visit, arg);
	return blocks;
}

/* Adds one span of trace trace_id to the ltrace arg. */
static void
load_span(qctx *q, const uint8_t *trace_id, const span_block_entry *e,
    void *arg)
{
	ltrace *t = arg;
	Span *sp;

	sp = span_block_unpack(e);
	if (sp == NULL)
		return;
	/* IDs are stored beside the span; give them back to it. */
	free(sp->trace_id.data);
	free(sp->span_id.data);
	sp->trace_id.data = xmalloc(KEY_TRACE_ID_LEN);
	memcpy(sp->trace_id.data, trace_id, KEY_TRACE_ID_LEN);
	sp->trace_id.len = KEY_TRACE_ID_LEN;
	sp->span_id.data = xmalloc(KEY_SPAN_ID_LEN);
	memcpy(sp->span_id.data, e->span_id, KEY_SPAN_ID_LEN);
	sp->span_id.len = KEY_SPAN_ID_LEN;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->spans = xrealloc(t->spans, t->cap * sizeof *t->spans);
	}
	t->spans[t->n].sp = sp;
	t->spans[t->n].oi = origin_get(q, e->origin_hash);
	t->n++;
}

/* Loads every unexpired span of a trace; returns the number loaded. */
static size_t
load_trace(qctx *q, const uint8_t *trace_id, ltrace *t)
{
	memset(t, 0, sizeof *t);
	if (walk_trace(q, trace_id, load_span, t) > 1)
		dedupe_spans(t);
	for (size_t i = 0; i < t->n; i++)
		t->spans[i].o = &q->origins[t->spans[i].oi];
	return t->n;
}

/* ---------------------------------------------------------------- get trace */

static response *
get_trace(qctx *q, const Tracequery__V1__GetTrace *g)
{
	ltrace t;
	response *r;
	Tracequery__V1__TraceResult *tr;
	size_t *og = NULL; /* per origin: its group (resource) */
	ResourceSpans **groups = NULL;
	uint64_t *group_res = NULL;
	size_t n_groups = 0;
	ScopeSpans **oss; /* per origin: its scope spans in the result */

	if (g->trace_id.len != KEY_TRACE_ID_LEN)
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "trace_id must be 16 bytes");
	if (load_trace(q, g->trace_id.data, &t) == 0) {
		ltrace_free(&t);
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
		    "trace not found");
	}
	og = xcalloc(q->n_origins, sizeof *og);
	oss = xcalloc(q->n_origins, sizeof *oss);
	for (size_t i = 0; i < q->n_origins; i++) {
		origin *o = &q->origins[i];
		ResourceSpans *fresh;
		size_t j;

		/* A fresh copy per origin: the result owns it. */
		if (o->rs != NULL) {
			size_t len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(o->rs);
			uint8_t *buf = xmalloc(len + 1);

			opentelemetry__proto__trace__v1__resource_spans__pack(
			    o->rs, buf);
			fresh = opentelemetry__proto__trace__v1__resource_spans__unpack(
			    NULL, len, buf);
			free(buf);
		} else {
			fresh = NULL;
		}
		if (fresh == NULL) {
			fresh = xmalloc(sizeof *fresh);
			opentelemetry__proto__trace__v1__resource_spans__init(
			    fresh);
		}
		if (fresh->n_scope_spans > 0) {
			oss[i] = fresh->scope_spans[0];
			for (j = 1; j < fresh->n_scope_spans; j++)
				opentelemetry__proto__trace__v1__scope_spans__free_unpacked(
				    fresh->scope_spans[j], NULL);
		} else {
			oss[i] = xmalloc(sizeof *oss[i]);
			opentelemetry__proto__trace__v1__scope_spans__init(
			    oss[i]);
		}
		free(fresh->scope_spans);
		fresh->scope_spans = NULL;
		fresh->n_scope_spans = 0;
		for (j = 0; j < n_groups; j++)
			if (group_res[j] == o->res_hash && o->res_hash != 0)
				break;
		if (j == n_groups) {
			group_res = xrealloc(group_res,
			    (n_groups + 1) * sizeof *group_res);
			group_res[n_groups] = o->res_hash;
			PUSH(groups, n_groups, fresh);
		} else {
			opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
			    fresh, NULL);
		}
		og[i] = j;
		PUSH(groups[j]->scope_spans, groups[j]->n_scope_spans, oss[i]);
	}
	for (size_t i = 0; i < t.n; i++) {
		ScopeSpans *ss = oss[t.spans[i].oi];

		PUSH(ss->spans, ss->n_spans, t.spans[i].sp);
		t.spans[i].sp = NULL;
	}
	ltrace_free(&t);
	free(og);
	free(oss);
	free(group_res);
	tr = xmalloc(sizeof *tr);
	tracequery__v1__trace_result__init(tr);
	tr->resource_spans = groups;
	tr->n_resource_spans = n_groups;
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_TRACE;
	r->trace = tr;
	return r;
}

/* ---------------------------------------------------------------- catalog */

/* Lists catalog names under prefix (type + optional service). */
static size_t
catalog_list(qctx *q, const keybuf *prefix, char ***names, uint8_t **kinds)
{
	keybuf hi = *prefix;
	store_iter *it;
	size_t n = 0;

	*names = NULL;
	if (kinds)
		*kinds = NULL;
	prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_META, prefix->b, prefix->len,
	    hi.b, hi.len, false);
	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen, slen;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);
		keyreader r;
		const char *s;

		key_reader_init(&r, k + prefix->len, klen - prefix->len);
		s = key_get_str(&r, &slen);
		if (r.err)
			continue;
		PUSH(*names, n, xstrndup(s, slen));
		if (kinds) {
			*kinds = xrealloc(*kinds, n);
			(*kinds)[n - 1] = vlen > 0 ? v[0] : 0;
		}
	}
	store_iter_free(it);
	return n;
}

static size_t
list_services(qctx *q, char ***names)
{
	keybuf k;

	key_reset(&k);
	key_put_u8(&k, META_SERVICE);
	return catalog_list(q, &k, names, NULL);
}

static size_t
list_ops(qctx *q, const char *svc, char ***names, uint8_t **kinds)
{
	keybuf k;

	key_reset(&k);
	key_put_u8(&k, META_OP);
	key_put_str(&k, svc, strlen(svc));
	return catalog_list(q, &k, names, kinds);
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static response *
services(qctx *q)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	Tracequery__V1__ServicesResult *s = xmalloc(sizeof *s);

	tracequery__v1__services_result__init(s);
	s->n_services = list_services(q, &s->services);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SERVICES;
	r->services = s;
	return r;
}

static response *
operations(qctx *q, const Tracequery__V1__ListOperations *lo)
{
	response *r;
	Tracequery__V1__OperationsResult *o;
	char **names;
	uint8_t *kinds;
	size_t n = list_ops(q, lo->service, &names, &kinds);

	if (n == 0) {
		free(names);
		free(kinds);
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
		    "no such service");
	}
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	o = xmalloc(sizeof *o);
	tracequery__v1__operations_result__init(o);
	o->operations = xcalloc(n, sizeof *o->operations);
	for (size_t i = 0; i < n; i++) {
		Tracequery__V1__Operation *op = xmalloc(sizeof *op);

		tracequery__v1__operation__init(op);
		op->name = names[i];
		op->kind = kinds[i];
		o->operations[i] = op;
	}
	o->n_operations = n;
	free(names);
	free(kinds);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS;
	r->operations = o;
	return r;
}

/* ---------------------------------------------------------------- search */

typedef struct window {
	uint64_t from, to; /* inclusive span-start bounds */
} window;

/* Narrows [*lo, *hi] to the hours that hold index records, so that an
 * open window does not walk empty hours (both families start keys with
 * the hour). An empty index makes the window empty. */
static void
data_hours(qctx *q, uint64_t *lo, uint64_t *hi)
{
	store_iter *it = store_iter_new(q->st, STORE_CF_INDEX, NULL, 0, NULL,
	    0, false);
	size_t klen;
	const uint8_t *k;
	uint64_t first, last;

	if (!store_iter_valid(it) ||
	    (k = store_iter_key(it, &klen)) == NULL || klen < 4) {
		*lo = 1;
		*hi = 0;
		store_iter_free(it);
		return;
	}
	first = (uint64_t)(key_be64(k) >> 32) * KEY_HOUR_NS;
	store_iter_seek_last(it);
	k = store_iter_valid(it) ? store_iter_key(it, &klen) : NULL;
	last = k != NULL && klen >= 4 ? ((uint64_t)(key_be64(k) >> 32) + 1) *
	    KEY_HOUR_NS - 1 : UINT64_MAX;
	store_iter_free(it);
	if (*lo < first)
		*lo = first;
	if (*hi > last)
		*hi = last;
}

static window
make_window(qctx *q, uint64_t start, uint64_t end)
{
	window w;

	w.from = start > q->cutoff ? start : q->cutoff;
	w.to = end ? end : q->now + 24 * KEY_HOUR_NS;
	data_hours(q, &w.from, &w.to);
	return w;
}

/* Does attribute filter f hold on one of kv? */
static bool
attr_match(KeyValue *const *kv, size_t n,
    const Tracequery__V1__AttrFilter *f)
{
	char buf[64];
	const char *txt;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i]->key, f->key) != 0)
			continue;
		if (index_value_text(kv[i]->value, buf, sizeof buf, &txt,
		    &len) && len == strlen(f->value) &&
		    memcmp(txt, f->value, len) == 0)
			return true;
	}
	return false;
}

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
	for (size_t i = 0; i < s->n_attributes; i++) {
		const Tracequery__V1__AttrFilter *f = s->attributes[i];
		const ResourceSpans *rs = ls->o->rs;

		if (attr_match(sp->attributes, sp->n_attributes, f))
			continue;
		if (rs != NULL && rs->resource != NULL &&
		    attr_match(rs->resource->attributes,
		    rs->resource->n_attributes, f))
			continue;
		return false;
	}
	return true;
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
	prefix_next(&hi);
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

typedef struct results {
	Tracequery__V1__TraceSummary **v;
	size_t n;
	size_t limit;
	size_t checked;
	hash_set seen; /* the traces considered (hash64 of their IDs) */
} results;

/* Loads and checks one candidate; returns true when the search is done. */
static bool
consider(qctx *q, results *res, const uint8_t *trace_id,
    const Tracequery__V1__Search *s, const window *w)
{
	ltrace t;
	Tracequery__V1__TraceSummary *ts;

	if (!hash_set_add(&res->seen, hash64(trace_id, KEY_TRACE_ID_LEN, 5)))
		return false;
	res->checked++;
	load_trace(q, trace_id, &t);
	ts = summarize(&t, s, w);
	ltrace_free(&t);
	if (ts != NULL)
		PUSH(res->v, res->n, ts);
	return res->n >= res->limit || res->checked >= SEARCH_BUDGET;
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
			n_svcs = list_services(q, &svcs);
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
		if (consider(q, res, best->trace, s, w))
			break;
		ts_next(q, best, w);
	}
	for (size_t i = 0; i < n_st; i++)
		ts_fini(&st[i]);
	free(st);
	free_names(svcs, n_svcs);
}

/* One duration-index hit. Its trace ID and start come from its flush's
 * dictionary, read only for the hits a query keeps (hit_resolve): a slow
 * top 20 reads hundreds of postings and needs 20 traces. It has no span
 * ID: slow looks for it in the trace (find_span_id). */
typedef struct dhit {
	uint64_t dur_ns;
	uint64_t start_ns;                  /* once resolved */
	uint8_t trace_id[KEY_TRACE_ID_LEN]; /* once resolved */
	uint32_t pair; /* which (service, operation) */
	uint32_t hour, ord;
	uint64_t flush, off_ns;
	bool resolved;
} dhit;

typedef struct dhits {
	dhit *v;
	size_t n, cap;
	bool truncated; /* a budget stopped the scan */
} dhits;

typedef struct svc_op {
	char *svc;
	char *op;
} svc_op;

/* The (service, operation) pairs a filter selects. */
static size_t
select_pairs(qctx *q, const char *svc, const char *op, svc_op **out)
{
	char **svcs = NULL, **ops;
	size_t n_svcs = 0, n = 0;
	svc_op *v = NULL;

	if (svc[0])
		PUSH(svcs, n_svcs, xstrdup(svc));
	else
		n_svcs = list_services(q, &svcs);
	for (size_t i = 0; i < n_svcs; i++) {
		size_t n_ops = list_ops(q, svcs[i], &ops, NULL);

		for (size_t j = 0; j < n_ops; j++) {
			if (op[0] && strcmp(op, ops[j]) != 0)
				continue;
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n].svc = xstrdup(svcs[i]);
			v[n].op = xstrdup(ops[j]);
			n++;
		}
		free_names(ops, n_ops);
	}
	free_names(svcs, n_svcs);
	*out = v;
	return n;
}

static void
free_pairs(svc_op *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].svc);
		free(v[i].op);
	}
	free(v);
}

/* The duration records of one pair and hour: the lists' first records
 * (D) and the rest (IDX_DUR_TAIL), each with the
 * [hour][type][service][operation] prefix and an iterator made on first
 * use (most scans never read a tail, and every iterator costs a seek in
 * every level of the tree). */
typedef struct dur_cursor {
	qctx *q;
	store_iter *it[2];
	keybuf prefix[2];
} dur_cursor;

static void
dur_open(qctx *q, const svc_op *pair, uint32_t h, dur_cursor *c)
{
	static const uint8_t types[2] = { IDX_DUR, IDX_DUR_TAIL };

	c->q = q;
	for (int i = 0; i < 2; i++) {
		keybuf *p = &c->prefix[i];

		c->it[i] = NULL;
		key_reset(p);
		key_put_u32(p, h);
		key_put_u8(p, types[i]);
		key_put_str(p, pair->svc, strlen(pair->svc));
		key_put_str(p, pair->op, strlen(pair->op));
	}
}

static void
dur_close(dur_cursor *c)
{
	store_iter_free(c->it[0]);
	store_iter_free(c->it[1]);
}

/* Adds a hit to out unless the budget is spent (then false). */
static bool
add_hit(dhits *out, const dhit *h, size_t budget)
{
	if (out->n >= budget) {
		out->truncated = true;
		return false;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 256;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	out->v[out->n++] = *h;
	return true;
}

/* Posting d of a record of (hour, flush) as a hit, not yet resolved. */
static dhit
make_hit(const dref *d, uint32_t hour, uint64_t flush, uint32_t pair)
{
	dhit h = { .dur_ns = d->dur_ns, .pair = pair, .hour = hour,
		.ord = d->ord, .flush = flush, .off_ns = d->off_ns };

	return h;
}

/* Fills in h's trace ID and start (once); false when the dictionary lacks
 * its trace (a crash between an index flush's parts). */
static bool
hit_resolve(qctx *q, dhit *h)
{
	uint64_t start;

	if (h->resolved)
		return true;
	if (!dict_reader_trace(q->dict, h->hour, h->flush, h->ord,
	    h->trace_id, &start))
		return false;
	h->start_ns = start + h->off_ns;
	h->resolved = true;
	return true;
}

/* Resolves every hit, dropping those the dictionaries lack. */
static void
resolve_all(qctx *q, dhits *hits)
{
	size_t n = 0;

	for (size_t i = 0; i < hits->n; i++)
		if (hit_resolve(q, &hits->v[i]))
			hits->v[n++] = hits->v[i];
	hits->n = n;
}

static int
cmp_dhit_dur(const void *a, const void *b)
{
	const dhit *x = a, *y = b;

	return x->dur_ns > y->dur_ns ? -1 : x->dur_ns < y->dur_ns;
}

/*
 * Moves it to the first record of minute m. Walking minutes in ascending
 * order the iterator is already there or a few records before (the rest
 * of the minute before), and stepping is much cheaper than a seek.
 */
static void
dur_goto_minute(store_iter *it, const keybuf *prefix, int m, bool ascending)
{
	size_t plen = prefix->len;
	keybuf sk;

	for (int steps = 0; ascending && steps < 16; steps++) {
		size_t klen;
		const uint8_t *k;

		if (!store_iter_valid(it))
			return;
		k = store_iter_key(it, &klen);
		if (klen <= plen || k[plen] >= m)
			return;
		store_iter_next(it);
	}
	sk = *prefix;
	key_put_u8(&sk, (uint8_t)m);
	store_iter_seek(it, sk.b, sk.len);
}

/* Part i's iterator at the first record of minute m: made there on
 * first use, moved there after. */
static store_iter *
dur_part(dur_cursor *c, int i, int m, bool ascending)
{
	keybuf lo, hi;

	if (c->it[i] != NULL) {
		dur_goto_minute(c->it[i], &c->prefix[i], m, ascending);
		return c->it[i];
	}
	lo = c->prefix[i];
	key_put_u8(&lo, (uint8_t)m);
	hi = c->prefix[i];
	prefix_next(&hi);
	c->it[i] = store_iter_new(c->q->st, STORE_CF_INDEX, lo.b, lo.len,
	    hi.b, hi.len, false);
	return c->it[i];
}

/* What one minute's scan asks for. */
typedef struct dur_ask {
	uint32_t pair;
	const window *w;
	uint64_t min_ns, max_ns;
	size_t cap, budget;
} dur_ask;

/*
 * Reads minute m's records of one part (heads or tails) through it: hits
 * with durations in [min_ns, max_ns] and starts in w, longest first, at
 * most cap of the minute's (kept from out->v[first] on). Records are
 * sorted by their longest duration, each longest first, so reading stops
 * at the first record whose longest cannot make the cut. Returns false
 * when the budget of hits ran out.
 */
/* The longest posting the tail records (IDX_DUR_TAIL) of the first
 * records read may hold. */
typedef struct tail_bound {
	bool any;
	uint64_t dur_ns;
} tail_bound;

static bool
scan_part(dur_cursor *c, int part, store_iter *it, int m, const dur_ask *a,
    size_t first, dhits *out, tail_bound *tb)
{
	qctx *q = c->q;
	size_t plen = c->prefix[part].len, cap = a->cap;
	uint32_t hour = (uint32_t)(key_be64(c->prefix[part].b) >> 32);
	uint64_t minute_ns = (uint64_t)hour * KEY_HOUR_NS +
	    (uint64_t)m * KEY_MINUTE_NS;
	const window *w = a->w;
	/* Only a minute at the window's edge needs the hits' starts now. */
	bool inside = minute_ns >= w->from &&
	    minute_ns + KEY_MINUTE_NS - 1 <= w->to;
	uint64_t min_ns = a->min_ns, max_ns = a->max_ns;

	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v;
		size_t got = out->n - first;
		uint64_t longest, flush;

		if (klen != plen + 1 + 16 || k[plen] != m)
			break;
		longest = ~key_be64(k + plen + 1);
		flush = key_batch_flush(key_be64(k + plen + 9));
		/* The cut: the cap-th longest so far beats this record. */
		if (longest < min_ns || (got >= cap &&
		    longest <= out->v[first + cap - 1].dur_ns))
			break;
		v = store_iter_value(it, &vlen);
		q->n_ddec = 0;
		if (postings_decode_d(v, vlen, longest, &q->ddec, &q->n_ddec,
		    &q->cap_ddec) < 0) {
			STATS_INC(query_bad_records, 1);
			continue;
		}
		/* A full first record may have more of its list in the tail
		 * records, none longer than its own last posting. */
		if (tb != NULL && q->n_ddec == KEY_DUR_HEAD) {
			uint64_t last = q->ddec[q->n_ddec - 1].dur_ns;

			if (!tb->any || last > tb->dur_ns)
				tb->dur_ns = last;
			tb->any = true;
		}
		for (size_t i = 0, n = 0; i < q->n_ddec && n < cap; i++) {
			const dref *d = &q->ddec[i];
			dhit h = make_hit(d, hour, flush, a->pair);

			if (d->dur_ns < min_ns)
				break;
			if ((max_ns && d->dur_ns > max_ns) || (!inside &&
			    (!hit_resolve(q, &h) || h.start_ns < w->from ||
			    h.start_ns > w->to)))
				continue;
			if (!add_hit(out, &h, a->budget))
				return false;
			n++;
		}
		got = out->n - first;
		if (got > 1)
			qsort(out->v + first, got, sizeof *out->v,
			    cmp_dhit_dur);
		if (got > cap)
			out->n = first + cap;
	}
	return true;
}

/*
 * Reads minute m of an hour (see scan_part): the lists' first records,
 * then the rest only when one of them could still make the cut. The first
 * records of consecutive minutes are neighbours on disk and the rest are
 * not even touched, so the common question (the slowest few) reads few
 * blocks however many spans a minute holds.
 */
static bool
scan_minute(dur_cursor *c, int m, bool ascending, const dur_ask *a,
    dhits *out)
{
	uint64_t hour_ns =
	    (uint64_t)(key_be64(c->prefix[0].b) >> 32) * KEY_HOUR_NS;
	uint64_t mstart = hour_ns + (uint64_t)m * KEY_MINUTE_NS;
	size_t first = out->n, got;
	tail_bound tb = { false, 0 };

	if (mstart > a->w->to || mstart + KEY_MINUTE_NS <= a->w->from)
		return true;
	if (!scan_part(c, 0, dur_part(c, 0, m, ascending), m, a, first, out,
	    &tb))
		return false;
	got = out->n - first;
	if (!tb.any || tb.dur_ns < a->min_ns || (got >= a->cap &&
	    tb.dur_ns <= out->v[first + a->cap - 1].dur_ns))
		return true;
	/* A seek: stepping would read earlier minutes' long tails. */
	return scan_part(c, 1, dur_part(c, 1, m, false), m, a, first, out,
	    NULL);
}

/*
 * The n longest durations found so far over every pair and minute
 * (longest first): once there are n, nothing shorter than the last can be
 * in a top-n answer, so the scan raises its lower bound to it and skips
 * whole records by their keys.
 */
typedef struct dur_floor {
	uint64_t *v;
	size_t n, cap;
} dur_floor;

static void
floor_add(dur_floor *f, uint64_t d)
{
	size_t i;

	if (f->n == f->cap && d <= f->v[f->n - 1])
		return;
	if (f->n < f->cap)
		f->n++;
	for (i = f->n - 1; i > 0 && f->v[i - 1] < d; i--)
		f->v[i] = f->v[i - 1];
	f->v[i] = d;
}

/* Orders hits by start, newest first. */
static int
cmp_dhit_start(const void *a, const void *b)
{
	const dhit *x = a, *y = b;

	return x->start_ns > y->start_ns ? -1 : x->start_ns < y->start_ns;
}

/* The longest span of one pair in one minute, from its histogram. */
typedef struct minute_max {
	uint64_t max_ns;
	uint64_t minute_ns; /* the minute's start */
	uint32_t pair;
} minute_max;

typedef struct minute_maxes {
	minute_max *v;
	size_t n, cap;
} minute_maxes;

/* Lists the minute of histogram (key, v) with the longest span it holds
 * of at most cap_ns (0: no cap); nothing when it holds none. */
static void
add_minute_max(minute_maxes *mm, const void *key, size_t klen,
    const void *v, size_t vlen, uint32_t pair, uint64_t cap_ns)
{
	uint64_t minute_ns, count, max;

	if (key_hist_parse(key, klen, &minute_ns) != 0 ||
	    !hist_peek(v, vlen, &count, &max) || count == 0)
		return;
	if (cap_ns != 0 && max > cap_ns &&
	    (max = hist_longest_at_most(v, vlen, cap_ns)) == 0)
		return;
	if (mm->n == mm->cap) {
		mm->cap = mm->cap ? mm->cap * 2 : 256;
		mm->v = xrealloc(mm->v, mm->cap * sizeof *mm->v);
	}
	mm->v[mm->n++] = (minute_max){ max, minute_ns, pair };
}

/* Sums pair's histograms over w's minutes into h (when not NULL); with
 * mm, also lists each minute's longest span of at most cap_ns (0: any). */
static void
hist_window(qctx *q, const svc_op *pair, uint32_t pi, const window *w,
    hist *h, minute_maxes *mm, uint64_t cap_ns)
{
	uint64_t m_lo = w->from / KEY_MINUTE_NS, m_hi = w->to / KEY_MINUTE_NS;
	uint32_t h_lo = key_hour(w->from), h_hi = key_hour(w->to);

	for (uint32_t hr = h_lo; hr <= h_hi; hr++) {
		keybuf lo, hi;
		store_iter *it;
		uint64_t first = (uint64_t)hr * 60, last = first + 59;

		if (first < m_lo)
			first = m_lo;
		if (last > m_hi)
			last = m_hi;
		key_hist(&lo, first * KEY_MINUTE_NS, pair->svc,
		    strlen(pair->svc), pair->op, strlen(pair->op));
		key_hist(&hi, last * KEY_MINUTE_NS, pair->svc,
		    strlen(pair->svc), pair->op, strlen(pair->op));
		prefix_next(&hi);
		it = store_iter_new(q->st, STORE_CF_HIST, lo.b, lo.len, hi.b,
		    hi.len, false);
		for (; store_iter_valid(it); store_iter_next(it)) {
			size_t klen, vlen;
			const void *k = store_iter_key(it, &klen);
			const void *v = store_iter_value(it, &vlen);

			if (h != NULL)
				hist_decode_add(h, v, vlen);
			if (mm != NULL)
				add_minute_max(mm, k, klen, v, vlen, pi, cap_ns);
		}
		store_iter_free(it);
	}
}

static int
cmp_minute_max(const void *a, const void *b)
{
	const minute_max *x = a, *y = b;

	return x->max_ns > y->max_ns ? -1 : x->max_ns < y->max_ns;
}

/* Orders mm's minutes longest first (slow and search --longest visit them
 * so). */
static void
sort_minutes_longest_first(minute_maxes *mm)
{
	if (mm->n > 1)
		qsort(mm->v, mm->n, sizeof *mm->v, cmp_minute_max);
}

/* Reads the duration lists of one (pair, minute) candidate into hits. */
static void
scan_candidate(qctx *q, const svc_op *pairs, const minute_max *c,
    const dur_ask *a, dhits *hits)
{
	dur_cursor dc;

	dur_open(q, &pairs[c->pair], key_hour(c->minute_ns), &dc);
	scan_minute(&dc, (int)(c->minute_ns / KEY_MINUTE_NS % 60), true, a,
	    hits);
	dur_close(&dc);
}

/* Considers hits longest first while they are at least bound long (no
 * minute left to read holds a longer span) and drops them from hits;
 * true once res is full. */
static bool
consider_down_to(qctx *q, results *res, dhits *hits, uint64_t bound,
    const Tracequery__V1__Search *s, const window *w)
{
	size_t i = 0;

	if (hits->n > 1)
		qsort(hits->v, hits->n, sizeof *hits->v, cmp_dhit_dur);
	for (; i < hits->n && hits->v[i].dur_ns >= bound; i++)
		if (hit_resolve(q, &hits->v[i]) &&
		    consider(q, res, hits->v[i].trace_id, s, w))
			return true;
	if (i > 0) {
		memmove(hits->v, hits->v + i, (hits->n - i) * sizeof *hits->v);
		hits->n -= i;
	}
	return false;
}

/*
 * Order longest: the (operation, minute) duration lists in order of the
 * minute's longest span (from the histograms, as slow does; with a
 * maximum duration, its longest span under it); a hit is checked once no
 * minute still to read can hold a longer span, and the search stops as
 * soon as it has its results.
 */
static void
search_longest(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, const svc_op *pairs, size_t n_pairs)
{
	minute_maxes mm = { 0 };
	dhits hits = { 0 };
	bool done = false;

	for (size_t i = 0; i < n_pairs; i++)
		hist_window(q, &pairs[i], (uint32_t)i, w, NULL, &mm,
		    s->max_duration_ns);
	sort_minutes_longest_first(&mm);
	for (size_t i = 0; i < mm.n && !done; i++) {
		const minute_max *c = &mm.v[i];
		dur_ask a = { c->pair, w, s->min_duration_ns,
			s->max_duration_ns, res->limit * 4, DUR_BUDGET };

		if (c->max_ns < s->min_duration_ns ||
		    (done = consider_down_to(q, res, &hits, c->max_ns, s, w)))
			break;
		scan_candidate(q, pairs, c, &a, &hits);
	}
	if (!done)
		consider_down_to(q, res, &hits, 0, s, w);
	free(hits.v);
	free(mm.v);
}

/*
 * Candidates from the duration index. LONGEST: the longest spans of each
 * minute, checked longest first. A span-duration bound (newest first):
 * minute by minute from the newest, every pair, checking the hits of a
 * minute before reading the next, so a search stops as soon as it has its
 * results. Returns false when the bound matched too many spans to be
 * useful (the caller then walks the time indexes instead).
 */
static bool
search_by_duration(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, bool longest)
{
	svc_op *pairs;
	size_t n_pairs = select_pairs(q, s->service, s->operation, &pairs);
	dhits hits = { 0 };
	uint32_t h_lo = key_hour(w->from), h_hi = key_hour(w->to);
	bool done = false;

	if (longest) {
		search_longest(q, res, s, w, pairs, n_pairs);
		free_pairs(pairs, n_pairs);
		return true;
	}
	for (uint32_t h = h_hi + 1; h-- > h_lo && !done;) {
		dur_cursor *cs = xcalloc(n_pairs + 1, sizeof *cs);

		for (size_t i = 0; i < n_pairs; i++)
			dur_open(q, &pairs[i], h, &cs[i]);
		for (int m = 59; m >= 0 && !done; m--) {
			hits.n = 0;
			for (size_t i = 0; i < n_pairs; i++) {
				dur_ask a = { (uint32_t)i, w,
					s->min_duration_ns, s->max_duration_ns,
					DUR_BUDGET, DUR_BUDGET };

				if (!scan_minute(&cs[i], m, false, &a, &hits))
					break;
			}
			if (hits.truncated) {
				done = true;
				break;
			}
			/* Newest first within the minute too. */
			resolve_all(q, &hits);
			if (hits.n > 1)
				qsort(hits.v, hits.n, sizeof *hits.v,
				    cmp_dhit_start);
			for (size_t i = 0; i < hits.n && !done; i++)
				done = consider(q, res, hits.v[i].trace_id,
				    s, w);
		}
		for (size_t i = 0; i < n_pairs; i++)
			dur_close(&cs[i]);
		free(cs);
	}
	free(hits.v);
	free_pairs(pairs, n_pairs);
	if (hits.truncated && res->n < res->limit) {
		/* Too broad for this index: start over by time. */
		for (size_t i = 0; i < res->n; i++)
			tracequery__v1__trace_summary__free_unpacked(res->v[i],
			    NULL);
		res->n = 0;
		res->checked = 0;
		hash_set_clear(&res->seen);
		return false;
	}
	return true;
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

static response *
search(qctx *q, const Tracequery__V1__Search *s)
{
	results res = { 0 };
	window w = make_window(q, s->start_unix_nano, s->end_unix_nano);
	bool longest = s->order == TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	Tracequery__V1__SearchResult *sr;
	response *r;

	for (size_t i = 0; i < s->n_attributes; i++)
		if (s->attributes[i]->key[0] == '\0')
			return backend_response_new(
			    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
			    "attribute filter without a key");
	res.limit = s->limit ? s->limit : DEFAULT_LIMIT;
	if (res.limit > MAX_LIMIT)
		res.limit = MAX_LIMIT;
	if (w.from <= w.to) {
		bool done = false;

		if (longest || (s->min_duration_ns > 0 &&
		    s->n_attributes == 0))
			done = search_by_duration(q, &res, s, &w, longest);
		if (!done)
			search_by_time(q, &res, s, &w);
	}
	if (res.n > 1)
		qsort(res.v, res.n, sizeof *res.v,
		    longest ? cmp_summary_dur : cmp_summary_time);
	while (res.n > res.limit)
		tracequery__v1__trace_summary__free_unpacked(res.v[--res.n],
		    NULL);
	hash_set_clear(&res.seen);
	sr = xmalloc(sizeof *sr);
	tracequery__v1__search_result__init(sr);
	sr->traces = res.v;
	sr->n_traces = res.n;
	r = backend_response_new(res.n ? TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    res.n ? "" : "no traces match");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SEARCH;
	r->search = sr;
	return r;
}

/* ---------------------------------------------------------------- slow */

/* Sums the per-minute histograms of one pair over w into h. */
/*
 * The top spans of slow: the minutes' duration lists, visited longest
 * minute first (by the histograms' maxima), until the next minute's
 * longest span cannot beat the top-th longest found. A top 20 reads a
 * few dozen lists, where walking every minute of every pair read
 * hundreds of blocks just to skip them.
 */
static void
slow_top(qctx *q, const svc_op *pairs, minute_maxes *mm, const window *w,
    size_t top, dhits *hits)
{
	dur_floor fl = { xmalloc(top * sizeof *fl.v), 0, top };

	sort_minutes_longest_first(mm);
	for (size_t i = 0; i < mm->n; i++) {
		const minute_max *c = &mm->v[i];
		uint64_t floor_ns = fl.n == fl.cap ? fl.v[fl.n - 1] : 0;
		dur_ask a = { c->pair, w, floor_ns, 0, top, SIZE_MAX };
		size_t first = hits->n;

		if (c->max_ns < floor_ns)
			break;
		scan_candidate(q, pairs, c, &a, hits);
		for (size_t j = first; j < hits->n; j++)
			floor_add(&fl, hits->v[j].dur_ns);
	}
	free(fl.v);
}

/*
 * D postings carry no span ID (8 bytes a span on disk), so slow finds
 * the span of each hit it returns in the hit's trace: the spans with the
 * hit's start and duration, one copy of each (a resent request stores a
 * span in two blocks). Their packed bytes are kept, because only when
 * there are several are they unpacked, to match the operation (and the
 * service) too.
 */
typedef struct span_cand {
	uint8_t id[KEY_SPAN_ID_LEN];
	uint8_t *packed; /* a copy: the block goes with its iterator */
	span_block_entry e;
} span_cand;

typedef struct span_cands {
	uint64_t start_ns, dur_ns;
	span_cand *v;
	size_t n, cap;
} span_cands;

static void
add_cand(qctx *q, const uint8_t *trace_id, const span_block_entry *e,
    void *arg)
{
	span_cands *c = arg;
	span_cand *n;

	(void)q;
	(void)trace_id;
	if (e->start_ns != c->start_ns || e->end_ns - e->start_ns != c->dur_ns)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->v[i].id, e->span_id, KEY_SPAN_ID_LEN) == 0)
			return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	n = &c->v[c->n++];
	memcpy(n->id, e->span_id, KEY_SPAN_ID_LEN);
	n->packed = xmalloc(e->packed_len + 1);
	memcpy(n->packed, e->packed, e->packed_len);
	n->e = *e;
	n->e.span_id = NULL;   /* n->id: v may move */
	n->e.parent_id = NULL; /* it points into the block */
	n->e.packed = n->packed;
}

/* Whether candidate c is a span of pair's service and operation. */
static bool
cand_is(qctx *q, const span_cand *c, const svc_op *pair)
{
	/* origin_get may move q->origins: index it after the call. */
	size_t oi = origin_get(q, c->e.origin_hash);
	Span *sp = span_block_unpack(&c->e);
	bool is = sp != NULL && strcmp(sp->name, pair->op) == 0 &&
	    strcmp(q->origins[oi].svc, pair->svc) == 0;

	if (sp != NULL)
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	return is;
}

/* Whether sr already holds span span_id of trace trace_id. */
static bool
slow_has(const Tracequery__V1__SlowResult *sr, const uint8_t *trace_id,
    const uint8_t *span_id)
{
	for (size_t i = 0; i < sr->n_spans; i++)
		if (memcmp(sr->spans[i]->trace_id.data, trace_id,
		    KEY_TRACE_ID_LEN) == 0 &&
		    memcmp(sr->spans[i]->span_id.data, span_id,
		    KEY_SPAN_ID_LEN) == 0)
			return true;
	return false;
}

/*
 * Puts in span_id the ID of the span that resolved hit h of pair names,
 * the first such span sr does not hold yet: two spans that look alike
 * get two IDs, and a span indexed twice is returned once. The name and
 * service are checked only when the start and duration do not tell the
 * trace's spans apart. False when the trace has no such span (expired,
 * or lost in a crash).
 */
static bool
find_span_id(qctx *q, const dhit *h, const svc_op *pair,
    const Tracequery__V1__SlowResult *sr, uint8_t *span_id)
{
	span_cands c = { h->start_ns, h->dur_ns, NULL, 0, 0 };
	bool found = false;

	walk_trace(q, h->trace_id, add_cand, &c);
	for (size_t i = 0; i < c.n && !found; i++) {
		if (slow_has(sr, h->trace_id, c.v[i].id) ||
		    (c.n > 1 && !cand_is(q, &c.v[i], pair)))
			continue;
		memcpy(span_id, c.v[i].id, KEY_SPAN_ID_LEN);
		found = true;
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].packed);
	free(c.v);
	return found;
}

/* Resolved hit h of pair as a span of slow's answer. */
static Tracequery__V1__SlowSpan *
slow_span_new(const dhit *h, const svc_op *pair, const uint8_t *span_id)
{
	Tracequery__V1__SlowSpan *ss = xmalloc(sizeof *ss);

	tracequery__v1__slow_span__init(ss);
	ss->trace_id.data = xmalloc(KEY_TRACE_ID_LEN);
	memcpy(ss->trace_id.data, h->trace_id, KEY_TRACE_ID_LEN);
	ss->trace_id.len = KEY_TRACE_ID_LEN;
	ss->span_id.data = xmalloc(KEY_SPAN_ID_LEN);
	memcpy(ss->span_id.data, span_id, KEY_SPAN_ID_LEN);
	ss->span_id.len = KEY_SPAN_ID_LEN;
	ss->service = xstrdup(pair->svc);
	ss->name = xstrdup(pair->op);
	ss->duration_ns = h->dur_ns;
	ss->start_unix_nano = h->start_ns;
	return ss;
}

/* Adds the spans of the want longest hits to sr, at most top of them;
 * returns how many hits
 * were skipped: their span is gone (expired, lost in a crash) or already
 * in the answer (a resent request indexed twice). */
static size_t
slow_add_top(qctx *q, const svc_op *pairs, minute_maxes *mm,
    const window *w, size_t want, size_t top,
    Tracequery__V1__SlowResult *sr, size_t *n_hits)
{
	dhits hits = { 0 };
	size_t skipped = 0;

	slow_top(q, pairs, mm, w, want, &hits);
	if (hits.n > 1)
		qsort(hits.v, hits.n, sizeof *hits.v, cmp_dhit_dur);
	for (size_t i = 0; i < hits.n && sr->n_spans < top; i++) {
		const svc_op *pair = &pairs[hits.v[i].pair];
		uint8_t span_id[KEY_SPAN_ID_LEN];

		if (!hit_resolve(q, &hits.v[i]) ||
		    !find_span_id(q, &hits.v[i], pair, sr, span_id)) {
			skipped++;
			continue;
		}
		PUSH(sr->spans, sr->n_spans,
		    slow_span_new(&hits.v[i], pair, span_id));
	}
	*n_hits = hits.n;
	free(hits.v);
	return skipped;
}

/* The top longest spans of the window into sr. Skipped hits leave the
 * answer short; then it asks for more hits (the longest come first
 * again, so the answer is rebuilt) until it is full or the index has no
 * more. */
static void
slow_fill(qctx *q, const svc_op *pairs, minute_maxes *mm, const window *w,
    size_t top, Tracequery__V1__SlowResult *sr)
{
	size_t want = top, n_hits, skipped;

	for (;;) {
		skipped = slow_add_top(q, pairs, mm, w, want, top, sr,
		    &n_hits);
		if (sr->n_spans >= top || skipped == 0 || n_hits < want ||
		    want >= MAX_LIMIT * 4)
			break;
		for (size_t i = 0; i < sr->n_spans; i++)
			tracequery__v1__slow_span__free_unpacked(sr->spans[i],
			    NULL);
		sr->n_spans = 0;
		want += 2 * skipped;
	}
}

static response *
slow(qctx *q, const Tracequery__V1__Slow *s)
{
	window w = make_window(q, s->start_unix_nano, s->end_unix_nano);
	size_t top = s->top ? s->top : DEFAULT_LIMIT, n_pairs;
	svc_op *pairs;
	minute_maxes mm = { 0 };
	Tracequery__V1__SlowResult *sr;
	response *r;
	hist *all = NULL, *h;

	if (top > MAX_LIMIT)
		top = MAX_LIMIT;
	n_pairs = select_pairs(q, s->service, s->operation, &pairs);
	sr = xmalloc(sizeof *sr);
	tracequery__v1__slow_result__init(sr);
	h = xmalloc(sizeof *h);
	if (s->histogram)
		all = xcalloc(1, sizeof *all);
	for (size_t i = 0; i < n_pairs && w.from <= w.to; i++) {
		Tracequery__V1__OperationPercentiles *op;

		memset(h, 0, sizeof *h);
		hist_window(q, &pairs[i], (uint32_t)i, &w, h, &mm, 0);
		if (h->count == 0)
			continue;
		op = xmalloc(sizeof *op);
		tracequery__v1__operation_percentiles__init(op);
		op->service = xstrdup(pairs[i].svc);
		op->operation = xstrdup(pairs[i].op);
		op->p50_ns = hist_quantile(h, 0.50);
		op->p90_ns = hist_quantile(h, 0.90);
		op->p99_ns = hist_quantile(h, 0.99);
		op->max_ns = h->max;
		op->count = h->count;
		PUSH(sr->percentiles, sr->n_percentiles, op);
		if (all != NULL) {
			for (int b = 0; b < HIST_BUCKETS; b++)
				all->n[b] += h->n[b];
			all->count += h->count;
			if (h->max > all->max)
				all->max = h->max;
		}
	}
	slow_fill(q, pairs, &mm, &w, top, sr);
	free(mm.v);
	if (all != NULL) {
		/* Eight buckets per power of two are plenty on a terminal. */
		for (int b = 0; b < HIST_BUCKETS; b += 8) {
			uint64_t c = 0;
			Tracequery__V1__HistogramBucket *hb;

			for (int j = b; j < b + 8 && j < HIST_BUCKETS; j++)
				c += all->n[j];
			if (c == 0)
				continue;
			hb = xmalloc(sizeof *hb);
			tracequery__v1__histogram_bucket__init(hb);
			hb->upper_ns = hist_upper(b + 7 < HIST_BUCKETS ? b + 7 :
			    HIST_BUCKETS - 1);
			hb->count = c;
			PUSH(sr->histogram, sr->n_histogram, hb);
		}
	}
	free(all);
	free(h);
	free_pairs(pairs, n_pairs);
	r = backend_response_new(sr->n_spans || sr->n_percentiles ?
	    TRACEQUERY__V1__RESPONSE__CODE__OK :
	    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
	    sr->n_spans || sr->n_percentiles ? "" : "no spans in the window");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SLOW;
	r->slow = sr;
	return r;
}

/* ---------------------------------------------------------------- entry */

static void
qctx_init(qctx *q, store *st, uint64_t retention_ns)
{
	memset(q, 0, sizeof *q);
	q->st = st;
	q->dict = dict_reader_new(st);
	q->now = now_unix_ns();
	if (retention_ns != 0 && retention_ns < q->now)
		q->cutoff = q->now - retention_ns;
}

/* Runs one question with a fresh query context. */
#define QUERY_RUN(st, retention_ns, call)                                 	do {                                                                		qctx q;                                                     		response *r;                                                                                                                            		qctx_init(&q, st, retention_ns);                            		r = call;                                                   		qctx_fini(&q);                                              		return r;                                                   	} while (0)

response *
query_get_trace(store *st, uint64_t retention_ns,
    const Tracequery__V1__GetTrace *g)
{
	QUERY_RUN(st, retention_ns, get_trace(&q, g));
}

response *
query_search(store *st, uint64_t retention_ns, const Tracequery__V1__Search *s)
{
	QUERY_RUN(st, retention_ns, search(&q, s));
}

response *
query_slow(store *st, uint64_t retention_ns, const Tracequery__V1__Slow *s)
{
	QUERY_RUN(st, retention_ns, slow(&q, s));
}

response *
query_services(store *st, uint64_t retention_ns)
{
	QUERY_RUN(st, retention_ns, services(&q));
}

response *
query_operations(store *st, uint64_t retention_ns,
    const Tracequery__V1__ListOperations *lo)
{
	QUERY_RUN(st, retention_ns, operations(&q, lo));
}

response *
query_dependencies(store *st, uint64_t retention_ns,
    const Tracequery__V1__Dependencies *d)
{
	uint64_t now = now_unix_ns();
	uint64_t cutoff = retention_ns != 0 && retention_ns < now ?
	    now - retention_ns : 0;
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");

	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES;
	r->dependencies = deps_compute(st, cutoff, d->start_unix_nano,
	    d->end_unix_nano ? d->end_unix_nano : now);
	return r;
}
