/*
 * qctx.c - the per-query context (query_impl.h): the store, the
 * retention cutoff, the origins (resource + scope) loaded once per query,
 * the decoding buffers, and the time window a search or slow may read.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

size_t
qctx_origin(qctx *q, uint64_t hash)
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

void
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

window
qctx_window(qctx *q, uint64_t start, uint64_t end)
{
	window w;

	w.from = start > q->cutoff ? start : q->cutoff;
	w.to = end ? end : q->now + 24 * KEY_HOUR_NS;
	data_hours(q, &w.from, &w.to);
	return w;
}

void
qctx_init(qctx *q, store *st, uint64_t retention_ns)
{
	memset(q, 0, sizeof *q);
	q->st = st;
	q->dict = dict_reader_new(st);
	q->now = now_unix_ns();
	if (retention_ns != 0 && retention_ns < q->now)
		q->cutoff = q->now - retention_ns;
}
