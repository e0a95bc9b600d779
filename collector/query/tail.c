/*
 * tail.c - Tail: the traces indexed from a cursor on, for live views.
 *
 * Every index flush writes the dictionary of the traces it indexed
 * (trace_dict.h; keys hour, 'T', flush, chunk) and its own number (meta
 * F) in the first batch of the flush, and flushes are written one at a
 * time: once meta F reads F, every dictionary of flushes up to F is in
 * the store. So the cursor is a flush number: an answer to "from flush
 * N" reads the dictionaries of flushes N..F of every hour from the retention
 * cutoff on (one seek per hour that holds index records), in flush order,
 * loads each trace once and checks it against the filter as a search
 * does; a flush's traces come oldest first. A span that arrives late is in a later flush's dictionary, so its
 * trace comes back then; nothing is read twice.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

/* Traces loaded per answer: past it, the answer ends at a flush's end. */
#define TAIL_BUDGET SEARCH_BUDGET

/* One dictionary record. */
typedef struct dict_ref {
	uint64_t flush;
	uint32_t hour, chunk;
} dict_ref;

typedef struct dict_refs {
	dict_ref *v;
	size_t n, cap;
} dict_refs;

/* The number of the last index flush written (meta F); 0: none. */
static uint64_t
last_flush(qctx *q)
{
	char *v = NULL, *cause = NULL;
	size_t vlen = 0;
	uint64_t f = 0;
	keybuf k;

	key_meta_flush(&k);
	if (store_get(q->st, STORE_CF_META, k.b, k.len, &v, &vlen,
	    &cause) == 0 && vlen == 8)
		f = key_be64(v);
	free(v);
	free(cause);
	return f;
}

static void
refs_push(dict_refs *r, dict_ref d)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = d;
}

/* Adds hour h's records of flushes up to last, from the iterator's key
 * on, to out; leaves the iterator on the first key past them. */
static void
collect_hour(store_iter *it, uint32_t h, uint64_t last, dict_refs *out)
{
	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);
		keyreader r;
		dict_ref d;

		key_reader_init(&r, k, klen);
		d.hour = key_get_u32(&r);
		if (key_get_u8(&r) != IDX_DICT || r.err || d.hour != h)
			return;
		d.flush = key_get_u64(&r);
		d.chunk = key_get_u32(&r);
		if (r.err || r.off != klen)
			continue;
		if (d.flush > last)
			return;
		refs_push(out, d);
	}
}

/* Lists the dictionary records of flushes first..last, one seek per
 * hour that holds index records. */
static void
collect(qctx *q, uint64_t first, uint64_t last, dict_refs *out)
{
	store_iter *it = store_iter_new(q->st, STORE_CF_INDEX, NULL, 0, NULL,
	    0, false);
	uint64_t h = key_hour(q->cutoff);
	keybuf k;

	while (h <= UINT32_MAX) {
		size_t klen;
		const uint8_t *key;
		keyreader r;
		uint32_t kh;
		uint8_t type;

		key_idx_dict(&k, (uint32_t)h, first, 0);
		store_iter_seek(it, k.b, k.len);
		collect_hour(it, (uint32_t)h, last, out);
		if (!store_iter_valid(it))
			break;
		key = store_iter_key(it, &klen);
		key_reader_init(&r, key, klen);
		kh = key_get_u32(&r);
		type = key_get_u8(&r);
		if (r.err)
			break;
		/* The next hour that may hold dictionaries to read. */
		h = kh > h && type <= IDX_DICT ? kh : (uint64_t)kh + 1;
	}
	store_iter_free(it);
}

static int
cmp_ref(const void *a, const void *b)
{
	const dict_ref *x = a, *y = b;

	if (x->flush != y->flush)
		return x->flush < y->flush ? -1 : 1;
	if (x->hour != y->hour)
		return x->hour < y->hour ? -1 : 1;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/* Checks the traces of one dictionary record. */
static void
consider_record(qctx *q, results *res, const dict_ref *d,
    const Tracequery__V1__Search *s, const window *w)
{
	uint8_t id[KEY_TRACE_ID_LEN];
	uint64_t start;

	for (uint32_t i = 0; i < TRACE_DICT_CHUNK; i++) {
		if (!dict_reader_trace(q->dict, d->hour, d->flush,
		    d->chunk * TRACE_DICT_CHUNK + i, id, &start))
			return;
		search_consider(q, res, id, s, w);
	}
}

static int
cmp_start(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	return x->start_unix_nano < y->start_unix_nano ? -1 :
	    x->start_unix_nano > y->start_unix_nano;
}

static response *
tail_response(results *res, uint64_t next_flush, bool more)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");
	Tracequery__V1__TailResult *tr = xmalloc(sizeof *tr);

	tracequery__v1__tail_result__init(tr);
	tr->traces = res->v;
	tr->n_traces = res->n;
	tr->next_flush = next_flush;
	tr->more = more;
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_TAIL;
	r->tail = tr;
	return r;
}

response *
tail(qctx *q, const Tracequery__V1__Tail *t)
{
	Tracequery__V1__Search none;
	const Tracequery__V1__Search *s = t->filter ? t->filter : &none;
	uint64_t last = last_flush(q), next = last + 1;
	window w = { q->cutoff, UINT64_MAX };
	results res = { 0 };
	dict_refs refs = { 0 };
	response *bad;
	size_t i = 0;

	tracequery__v1__search__init(&none);
	if ((bad = search_refuse(s)) != NULL)
		return bad;
	/* 0 starts after the newest flush; a cursor there has nothing new
	 * (the idle poll: one read of meta F), and one past it came from
	 * another store and starts there too. */
	if (t->from_flush == 0 || t->from_flush >= next)
		return tail_response(&res, next, false);
	collect(q, t->from_flush, last, &refs);
	if (refs.n > 1)
		qsort(refs.v, refs.n, sizeof *refs.v, cmp_ref);
	res.limit = SIZE_MAX;
	while (i < refs.n) {
		uint64_t f = refs.v[i].flush;
		size_t first = res.n;

		for (; i < refs.n && refs.v[i].flush == f; i++)
			consider_record(q, &res, &refs.v[i], s, &w);
		/* A flush's traces arrived together: oldest first reads
		 * best. */
		if (res.n - first > 1)
			qsort(res.v + first, res.n - first, sizeof *res.v,
			    cmp_start);
		if (res.checked >= TAIL_BUDGET && i < refs.n) {
			next = f + 1;
			break;
		}
	}
	free(refs.v);
	hash_set_clear(&res.seen);
	return tail_response(&res, next, next != last + 1);
}
