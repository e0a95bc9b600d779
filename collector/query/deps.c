/*
 * deps.c - service dependencies from the stored spans (deps.h).
 *
 * The window's spans are read newest minute first (span_scan.c), keeping
 * per span only its IDs, its parent's ID and its service; then the
 * spans are put in a hash table by (trace, span) and each one's parent is
 * looked up there. Jaeger counts the same way: a call is a parent and a
 * child span of different services.
 */
#include <stdlib.h>
#include <string.h>

#include "otlp_types.h"
#include "common.h"
#include "format/keys.h"
#include "format/span_block.h"
#include "index/index.h"
#include "query/deps.h"
#include "query/deps_status.h"
#include "query/span_scan.h"

typedef Tracequery__V1__DependenciesResult deps_result;
typedef Tracequery__V1__DependencyLink deps_link;

/* What a span contributes: 48 bytes. */
typedef struct dspan {
	uint8_t trace_id[KEY_TRACE_ID_LEN];
	uint8_t span_id[KEY_SPAN_ID_LEN];
	uint8_t parent_id[KEY_SPAN_ID_LEN]; /* zero: a root */
	uint32_t svc;
	uint64_t dur_ns;
	bool error;
} dspan;

/* One call: its (parent, child) service pair and the child's span. */
typedef struct dcall {
	uint64_t pair;
	uint64_t dur_ns;
	bool error;
} dcall;

typedef struct dorigin {
	uint64_t hash;
	uint32_t svc;
	bool used;
} dorigin;

typedef struct deps {
	store *st;
	dspan *spans;
	size_t n_spans, cap_spans;
	dorigin *origins; /* open addressing by origin hash */
	size_t n_origins, cap_origins;
	char **svcs;      /* service names, by first appearance */
	size_t n_svcs;
	bool truncated;
} deps;

/* ---------------------------------------------------------------- services */

static uint32_t
svc_intern(deps *d, const char *name)
{
	for (size_t i = 0; i < d->n_svcs; i++)
		if (strcmp(d->svcs[i], name) == 0)
			return (uint32_t)i;
	d->svcs = xrealloc(d->svcs, (d->n_svcs + 1) * sizeof *d->svcs);
	d->svcs[d->n_svcs] = xstrdup(name);
	return (uint32_t)d->n_svcs++;
}

/* The service of an origin, read from the catalog once per answer. */
static uint32_t
origin_service(deps *d, uint64_t hash)
{
	ResourceSpans *rs = NULL;
	char *v = NULL, *cause = NULL;
	size_t vlen, i;
	const char *name;
	keybuf k;

	if (d->n_origins * 2 >= d->cap_origins) {
		dorigin *old = d->origins;
		size_t old_cap = d->cap_origins;

		d->cap_origins = old_cap ? old_cap * 2 : 64;
		d->origins = xcalloc(d->cap_origins, sizeof *d->origins);
		for (i = 0; i < old_cap; i++) {
			size_t j = old[i].hash & (d->cap_origins - 1);

			while (old[i].used && d->origins[j].used)
				j = (j + 1) & (d->cap_origins - 1);
			if (old[i].used)
				d->origins[j] = old[i];
		}
		free(old);
	}
	for (i = hash & (d->cap_origins - 1); d->origins[i].used;
	    i = (i + 1) & (d->cap_origins - 1))
		if (d->origins[i].hash == hash)
			return d->origins[i].svc;
	key_meta_origin(&k, hash);
	if (store_get(d->st, STORE_CF_META, k.b, k.len, &v, &vlen, &cause) == 0)
		rs = opentelemetry__proto__trace__v1__resource_spans__unpack(
		    NULL, vlen, (const uint8_t *)v);
	name = index_service_name(rs ? rs->resource : NULL);
	d->origins[i] = (dorigin){ hash, svc_intern(d, name ? name : ""),
	    true };
	d->n_origins++;
	if (rs != NULL)
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    rs, NULL);
	free(v);
	free(cause);
	return d->origins[i].svc;
}

/* ---------------------------------------------------------------- scan */

/* The parent's ID of e: beside it in the block, or inside its bytes. */
static void
entry_parent(const span_block_entry *e, uint8_t out[KEY_SPAN_ID_LEN])
{
	Span *sp;

	memset(out, 0, KEY_SPAN_ID_LEN);
	if (e->parent_id != NULL) {
		memcpy(out, e->parent_id, KEY_SPAN_ID_LEN);
		return;
	}
	sp = span_block_unpack(e);
	if (sp != NULL && sp->parent_span_id.len == KEY_SPAN_ID_LEN)
		memcpy(out, sp->parent_span_id.data, KEY_SPAN_ID_LEN);
	if (sp != NULL)
		opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
}

/* Keeps one span of the window (span_scan_visit); false once full. */
static bool
add_entry(void *arg, const uint8_t *trace_id, const span_block_entry *e)
{
	deps *d = arg;
	dspan *s;

	if (d->n_spans == DEPS_MAX_SPANS) {
		d->truncated = true;
		return false;
	}
	if (d->n_spans == d->cap_spans) {
		d->cap_spans = d->cap_spans ? d->cap_spans * 2 : 1024;
		d->spans = xrealloc(d->spans, d->cap_spans * sizeof *d->spans);
	}
	s = &d->spans[d->n_spans++];
	memcpy(s->trace_id, trace_id, KEY_TRACE_ID_LEN);
	memcpy(s->span_id, e->span_id, KEY_SPAN_ID_LEN);
	entry_parent(e, s->parent_id);
	s->svc = origin_service(d, e->origin_hash);
	s->dur_ns = e->end_ns > e->start_ns ? e->end_ns - e->start_ns : 0;
	s->error = deps_span_is_error(e->packed, e->packed_len);
	return true;
}

/* ---------------------------------------------------------------- join */

static uint64_t
span_hash(const uint8_t *trace_id, const uint8_t *span_id)
{
	uint8_t k[KEY_TRACE_ID_LEN + KEY_SPAN_ID_LEN];

	memcpy(k, trace_id, KEY_TRACE_ID_LEN);
	memcpy(k + KEY_TRACE_ID_LEN, span_id, KEY_SPAN_ID_LEN);
	return hash64(k, sizeof k, 7);
}

/* A table of span indexes + 1 (0: empty), by (trace, span). */
typedef struct span_table {
	uint32_t *slot;
	size_t mask;
} span_table;

static void
table_build(span_table *t, const deps *d)
{
	size_t cap = 16;

	while (cap < d->n_spans * 2)
		cap *= 2;
	t->slot = xcalloc(cap, sizeof *t->slot);
	t->mask = cap - 1;
	for (size_t i = 0; i < d->n_spans; i++) {
		size_t j = span_hash(d->spans[i].trace_id, d->spans[i].span_id) &
		    t->mask;

		while (t->slot[j] != 0)
			j = (j + 1) & t->mask;
		t->slot[j] = (uint32_t)i + 1;
	}
}

static const dspan *
table_find(const span_table *t, const deps *d, const uint8_t *trace_id,
    const uint8_t *span_id)
{
	size_t j = span_hash(trace_id, span_id) & t->mask;

	for (; t->slot[j] != 0; j = (j + 1) & t->mask) {
		const dspan *s = &d->spans[t->slot[j] - 1];

		if (memcmp(s->span_id, span_id, KEY_SPAN_ID_LEN) == 0 &&
		    memcmp(s->trace_id, trace_id, KEY_TRACE_ID_LEN) == 0)
			return s;
	}
	return NULL;
}

/* By pair, then duration (for the percentiles). */
static int
cmp_call(const void *a, const void *b)
{
	const dcall *x = a, *y = b;

	if (x->pair != y->pair)
		return x->pair < y->pair ? -1 : 1;
	return x->dur_ns < y->dur_ns ? -1 : x->dur_ns > y->dur_ns;
}

static int
cmp_link(const void *a, const void *b)
{
	const deps_link *x = *(deps_link *const *)a;
	const deps_link *y = *(deps_link *const *)b;
	int c = strcmp(x->parent, y->parent);

	return c != 0 ? c : strcmp(x->child, y->child);
}

/* Nearest-rank percentile q of the n calls at c, sorted by duration. */
static uint64_t
call_rank(const dcall *c, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	return c[k > 0 ? (k > n ? n : k) - 1 : 0].dur_ns;
}

/* One link from the n calls at c, all of one pair. */
static void
add_link(deps_result *r, const deps *d, const dcall *c, size_t n)
{
	deps_link *l = xmalloc(sizeof *l);

	tracequery__v1__dependency_link__init(l);
	l->parent = xstrdup(d->svcs[c->pair >> 32]);
	l->child = xstrdup(d->svcs[c->pair & 0xffffffffu]);
	l->call_count = n;
	for (size_t i = 0; i < n; i++)
		l->error_count += c[i].error;
	l->p50_ns = call_rank(c, n, 0.50);
	l->p99_ns = call_rank(c, n, 0.99);
	r->links = xrealloc(r->links, (r->n_links + 1) * sizeof *r->links);
	r->links[r->n_links++] = l;
}

/* Counts (parent service, child service) pairs into r, by name. */
static void
count_calls(const deps *d, deps_result *r)
{
	span_table t;
	dcall *calls = xmalloc((d->n_spans + 1) * sizeof *calls);
	size_t n = 0;

	table_build(&t, d);
	for (size_t i = 0; i < d->n_spans; i++) {
		const dspan *c = &d->spans[i], *p;

		if (is_all_zero(c->parent_id, KEY_SPAN_ID_LEN))
			continue;
		p = table_find(&t, d, c->trace_id, c->parent_id);
		if (p != NULL && p->svc != c->svc)
			calls[n++] = (dcall){ (uint64_t)p->svc << 32 | c->svc,
			    c->dur_ns, c->error };
	}
	qsort(calls, n, sizeof *calls, cmp_call);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && calls[j].pair == calls[i].pair; j++)
			;
		add_link(r, d, &calls[i], j - i);
	}
	if (r->n_links > 1)
		qsort(r->links, r->n_links, sizeof *r->links, cmp_link);
	free(calls);
	free(t.slot);
}

deps_result *
deps_compute(store *st, uint64_t cutoff_ns, uint64_t start_ns,
    uint64_t end_ns)
{
	deps d = { .st = st };
	deps_result *r = xmalloc(sizeof *r);

	tracequery__v1__dependencies_result__init(r);
	span_scan_window(st, cutoff_ns, start_ns, end_ns, add_entry, &d);
	count_calls(&d, r);
	r->truncated = d.truncated;
	r->spans_read = d.n_spans;
	for (size_t i = 0; i < d.n_svcs; i++)
		free(d.svcs[i]);
	free(d.svcs);
	free(d.spans);
	free(d.origins);
	return r;
}
