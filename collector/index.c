/*
 * index.c - builds the index records of a request (see index.h and
 * docs/STORAGE.md). Service, operation and attribute entries point at
 * traces, not spans, and are deduplicated within a request: a trace's
 * spans usually arrive together, so this keeps the index a fraction of
 * the spans' size.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hist.h"
#include "index.h"
#include "keys.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue any_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue key_value;

#define CATALOG_MAX 65536

/* A set of 64-bit hashes (open addressing, 0 = empty). */
typedef struct hset {
	uint64_t *slots;
	size_t cap, n;
} hset;

static bool
hset_has(const hset *s, uint64_t h)
{
	if (s->cap == 0)
		return false;
	h |= 1;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return true;
		if (s->slots[i] == 0)
			return false;
	}
}

static void
hset_add(hset *s, uint64_t h)
{
	if (s->n * 2 >= s->cap) {
		hset old = *s;

		s->cap = s->cap ? s->cap * 2 : 256;
		s->slots = xcalloc(s->cap, sizeof *s->slots);
		s->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i] != 0)
				hset_add(s, old.slots[i]);
		free(old.slots);
	}
	h |= 1;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return;
		if (s->slots[i] == 0) {
			s->slots[i] = h;
			s->n++;
			return;
		}
	}
}

static void
hset_clear(hset *s)
{
	free(s->slots);
	memset(s, 0, sizeof *s);
}

struct index_catalog {
	pthread_mutex_t mu;
	hset known; /* services, operations and origins already written */
};

index_catalog *
index_catalog_new(void)
{
	index_catalog *c = xcalloc(1, sizeof *c);

	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void
index_catalog_free(index_catalog *c)
{
	if (c == NULL)
		return;
	hset_clear(&c->known);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static bool
catalog_has(index_catalog *c, uint64_t h)
{
	bool r;

	pthread_mutex_lock(&c->mu);
	r = hset_has(&c->known, h);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* One deduplicated entry: key bytes live in ib->keys at off. A posting
 * entry (S, O, A) collects (start, trace) pairs of one name and minute. */
typedef struct entry {
	uint64_t h;
	uint64_t start_ns;
	size_t off;
	uint32_t len;
	uint32_t time_off; /* 0 for histogram groups */
	bool hist;
	uint8_t *post;     /* POSTING_LEN bytes each */
	uint32_t n_post, cap_post;
} entry;

/* Batch numbers make posting keys unique: a random base per process and
 * a counter. */
static _Atomic uint64_t batch_counter;

typedef struct dur {
	uint32_t group;
	uint64_t dur_ns;
} dur;

struct index_builder {
	index_catalog *cat;
	entry *entries;
	size_t n_entries, cap_entries;
	uint32_t *table; /* entry index + 1; 0 = empty */
	size_t table_cap;
	uint8_t *keys;
	size_t keys_len, keys_cap;
	dur *durs;
	size_t n_durs, cap_durs;
	hset pending; /* catalog hashes written by this batch */
	hset seen;    /* catalog hashes already queued in this batch */
	keybuf k;
};

index_builder *
index_builder_new(index_catalog *c)
{
	index_builder *ib = xcalloc(1, sizeof *ib);

	ib->cat = c;
	return ib;
}

static void
free_postings(index_builder *ib)
{
	for (size_t i = 0; i < ib->n_entries; i++) {
		free(ib->entries[i].post);
		ib->entries[i].post = NULL;
	}
}

void
index_builder_free(index_builder *ib)
{
	if (ib == NULL)
		return;
	free_postings(ib);
	free(ib->entries);
	free(ib->table);
	free(ib->keys);
	free(ib->durs);
	hset_clear(&ib->pending);
	hset_clear(&ib->seen);
	free(ib);
}

void
index_begin(index_builder *ib)
{
	free_postings(ib);
	ib->n_entries = 0;
	ib->keys_len = 0;
	ib->n_durs = 0;
	if (ib->table != NULL)
		memset(ib->table, 0, ib->table_cap * sizeof *ib->table);
	hset_clear(&ib->pending);
	hset_clear(&ib->seen);
}

static void
table_insert(index_builder *ib, uint32_t idx)
{
	uint64_t h = ib->entries[idx].h;

	for (size_t i = h & (ib->table_cap - 1);;
	    i = (i + 1) & (ib->table_cap - 1)) {
		if (ib->table[i] == 0) {
			ib->table[i] = idx + 1;
			return;
		}
	}
}

/* Adds (start, trace) to a posting entry, keeping a trace's earliest. */
static void
add_posting(entry *e, uint64_t start_ns, const uint8_t *trace_id)
{
	uint8_t *p;

	for (uint32_t i = e->n_post; i-- > 0;) {
		p = e->post + (size_t)i * POSTING_LEN;
		if (memcmp(p + 8, trace_id, KEY_TRACE_ID_LEN) == 0) {
			if (start_ns < key_be64(p))
				key_write_be64(p, start_ns);
			return;
		}
	}
	if (e->n_post == e->cap_post) {
		e->cap_post = e->cap_post ? e->cap_post * 2 : 4;
		e->post = xrealloc(e->post, (size_t)e->cap_post * POSTING_LEN);
	}
	p = e->post + (size_t)e->n_post++ * POSTING_LEN;
	key_write_be64(p, start_ns);
	memcpy(p + 8, trace_id, KEY_TRACE_ID_LEN);
}

/*
 * Finds or adds the entry for key k; returns its index. Posting keys
 * (time_off != 0, trace_id set) group by name and minute: the hash skips
 * the hour, the time and the batch but mixes in the minute.
 */
static uint32_t
entry_upsert(index_builder *ib, const keybuf *k, size_t time_off,
    uint64_t start_ns, bool is_hist, const uint8_t *trace_id)
{
	uint64_t h;
	entry *e;
	uint32_t idx;

	if (time_off != 0) {
		uint64_t minute = start_ns / KEY_MINUTE_NS;

		h = hash64(k->b + 4, time_off - 4, minute);
	} else {
		h = hash64(k->b, k->len, 1);
	}
	if (ib->table_cap != 0) {
		for (size_t i = h & (ib->table_cap - 1);;
		    i = (i + 1) & (ib->table_cap - 1)) {
			uint32_t t = ib->table[i];

			if (t == 0)
				break;
			e = &ib->entries[t - 1];
			if (e->h == h && e->hist == is_hist) {
				if (start_ns > e->start_ns)
					e->start_ns = start_ns;
				if (trace_id != NULL)
					add_posting(e, start_ns, trace_id);
				return t - 1;
			}
		}
	}
	if (ib->n_entries == ib->cap_entries) {
		ib->cap_entries = ib->cap_entries ? ib->cap_entries * 2 : 256;
		ib->entries = xrealloc(ib->entries,
		    ib->cap_entries * sizeof *ib->entries);
	}
	if ((ib->n_entries + 1) * 2 > ib->table_cap) {
		free(ib->table);
		ib->table_cap = ib->table_cap ? ib->table_cap * 2 : 512;
		ib->table = xcalloc(ib->table_cap, sizeof *ib->table);
		for (uint32_t i = 0; i < ib->n_entries; i++)
			table_insert(ib, i);
	}
	if (ib->keys_len + k->len > ib->keys_cap) {
		ib->keys_cap = (ib->keys_cap + k->len) * 2;
		ib->keys = xrealloc(ib->keys, ib->keys_cap);
	}
	memcpy(ib->keys + ib->keys_len, k->b, k->len);
	e = &ib->entries[ib->n_entries];
	e->h = h;
	e->start_ns = start_ns;
	e->off = ib->keys_len;
	e->len = (uint32_t)k->len;
	e->time_off = (uint32_t)time_off;
	e->hist = is_hist;
	e->post = NULL;
	e->n_post = e->cap_post = 0;
	if (trace_id != NULL)
		add_posting(e, start_ns, trace_id);
	ib->keys_len += k->len;
	idx = (uint32_t)ib->n_entries++;
	table_insert(ib, idx);
	return idx;
}

bool
index_value_text(const any_value *v, char *buf, size_t buflen,
    const char **out, size_t *out_len)
{
	if (v == NULL)
		return false;
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		*out = v->string_value;
		*out_len = strlen(v->string_value);
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		*out = v->bool_value ? "true" : "false";
		*out_len = strlen(*out);
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		*out_len = (size_t)snprintf(buf, buflen, "%" PRId64,
		    v->int_value);
		*out = buf;
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		snprintf(buf, buflen, "%.15g", v->double_value);
		if (strtod(buf, NULL) != v->double_value)
			snprintf(buf, buflen, "%.17g", v->double_value);
		*out = buf;
		*out_len = strlen(buf);
		return true;
	default:
		return false;
	}
}

const char *
index_service_name(const Opentelemetry__Proto__Resource__V1__Resource *res)
{
	if (res != NULL) {
		for (size_t i = 0; i < res->n_attributes; i++) {
			const key_value *kv = res->attributes[i];

			if (kv->key != NULL &&
			    strcmp(kv->key, "service.name") == 0 &&
			    kv->value != NULL && kv->value->value_case ==
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE &&
			    kv->value->string_value[0] != '\0')
				return kv->value->string_value;
		}
	}
	return "unknown_service";
}

/* Queues a catalog record unless the shared cache or this batch has it. */
static void
catalog_put(index_builder *ib, store_batch *b, const keybuf *k,
    const void *v, size_t vlen)
{
	uint64_t h = hash64(k->b, k->len, 2);

	if (hset_has(&ib->seen, h) || catalog_has(ib->cat, h))
		return;
	hset_add(&ib->seen, h);
	hset_add(&ib->pending, h);
	store_batch_put(b, STORE_CF_META, k->b, k->len, v, vlen);
}

static void
index_attrs(index_builder *ib, key_value *const *attrs, size_t n,
    uint64_t start_ns, const uint8_t *trace_id, bool skip_service)
{
	char buf[64];
	const char *txt;
	size_t txt_len, klen;

	for (size_t i = 0; i < n; i++) {
		const key_value *kv = attrs[i];

		if (kv->key == NULL || (klen = strlen(kv->key)) > KEY_STR_MAX)
			continue;
		if (skip_service && strcmp(kv->key, "service.name") == 0)
			continue;
		if (!index_value_text(kv->value, buf, sizeof buf, &txt,
		    &txt_len) || txt_len > KEY_STR_MAX)
			continue;
		key_idx_attr(&ib->k, start_ns, kv->key, klen, txt, txt_len, 0);
		entry_upsert(ib, &ib->k, ib->k.len - 16, start_ns, false,
		    trace_id);
	}
}

void
index_span(index_builder *ib, store_batch *b, const char *svc,
    const Opentelemetry__Proto__Resource__V1__Resource *res,
    const Opentelemetry__Proto__Trace__V1__Span *sp)
{
	const uint8_t *tid = sp->trace_id.data;
	uint64_t start = sp->start_time_unix_nano;
	uint64_t d = sp->end_time_unix_nano - start;
	size_t svc_len = strlen(svc), op_len = strlen(sp->name);
	uint8_t kind = (uint8_t)sp->kind;
	uint32_t g;

	key_idx_svc(&ib->k, start, svc, svc_len, 0);
	entry_upsert(ib, &ib->k, ib->k.len - 16, start, false, tid);
	key_idx_op(&ib->k, start, svc, svc_len, sp->name, op_len, 0);
	entry_upsert(ib, &ib->k, ib->k.len - 16, start, false, tid);
	index_attrs(ib, sp->attributes, sp->n_attributes, start, tid, false);
	if (res != NULL)
		index_attrs(ib, res->attributes, res->n_attributes, start, tid,
		    true);

	key_idx_dur(&ib->k, start, d, svc, svc_len, sp->name, op_len, tid,
	    sp->span_id.data);
	store_batch_put(b, STORE_CF_INDEX, ib->k.b, ib->k.len, "", 0);

	key_hist(&ib->k, start - start % KEY_MINUTE_NS, svc, svc_len,
	    sp->name, op_len);
	g = entry_upsert(ib, &ib->k, 0, start, true, NULL);
	if (ib->n_durs == ib->cap_durs) {
		ib->cap_durs = ib->cap_durs ? ib->cap_durs * 2 : 256;
		ib->durs = xrealloc(ib->durs, ib->cap_durs * sizeof *ib->durs);
	}
	ib->durs[ib->n_durs].group = g;
	ib->durs[ib->n_durs++].dur_ns = d;

	key_meta_service(&ib->k, svc, svc_len);
	catalog_put(ib, b, &ib->k, "", 0);
	key_meta_op(&ib->k, svc, svc_len, sp->name, op_len);
	catalog_put(ib, b, &ib->k, &kind, 1);
}

void
index_origin(index_builder *ib, store_batch *b, uint64_t hash,
    const void *bytes, size_t len)
{
	key_meta_origin(&ib->k, hash);
	catalog_put(ib, b, &ib->k, bytes, len);
}

static int
cmp_posting(const void *a, const void *b)
{
	uint64_t x = key_be64(a), y = key_be64(b);

	return x > y ? -1 : x < y;
}

static int
cmp_dur(const void *a, const void *b)
{
	const dur *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

void
index_finish(index_builder *ib, store_batch *b)
{
	uint64_t *vals, batch;
	size_t i = 0;

	batch = atomic_fetch_add(&batch_counter, 1);
	if (batch == 0) {
		/* First batch of this process: a random base. */
		batch = hash64(&ib, sizeof ib, now_unix_ns()) << 20;
		atomic_store(&batch_counter, batch + 1);
	}
	for (size_t j = 0; j < ib->n_entries; j++) {
		entry *e = &ib->entries[j];
		uint8_t *k = ib->keys + e->off;

		if (e->hist)
			continue;
		/* The newest start decides hour and key time. */
		qsort(e->post, e->n_post, POSTING_LEN, cmp_posting);
		k[0] = (uint8_t)(key_hour(e->start_ns) >> 24);
		k[1] = (uint8_t)(key_hour(e->start_ns) >> 16);
		k[2] = (uint8_t)(key_hour(e->start_ns) >> 8);
		k[3] = (uint8_t)key_hour(e->start_ns);
		key_write_be64(k + e->time_off, ~e->start_ns);
		key_write_be64(k + e->time_off + 8, batch);
		store_batch_put(b, STORE_CF_INDEX, k, e->len, e->post,
		    (size_t)e->n_post * POSTING_LEN);
	}
	if (ib->n_durs > 1)
		qsort(ib->durs, ib->n_durs, sizeof *ib->durs, cmp_dur);
	vals = xmalloc((ib->n_durs + 1) * sizeof *vals);
	while (i < ib->n_durs) {
		uint32_t g = ib->durs[i].group;
		size_t n = 0, len;
		char *enc;
		entry *e = &ib->entries[g];

		while (i < ib->n_durs && ib->durs[i].group == g)
			vals[n++] = ib->durs[i++].dur_ns;
		len = hist_encode_values(vals, n, &enc);
		store_batch_merge(b, STORE_CF_HIST, ib->keys + e->off, e->len,
		    enc, len);
		free(enc);
	}
	free(vals);
}

void
index_commit(index_builder *ib)
{
	if (ib->pending.n == 0)
		return;
	pthread_mutex_lock(&ib->cat->mu);
	/* A bounded cache: forgetting only costs a rewrite of a record. */
	if (ib->cat->known.n > CATALOG_MAX)
		hset_clear(&ib->cat->known);
	for (size_t i = 0; i < ib->pending.cap; i++)
		if (ib->pending.slots[i] != 0)
			hset_add(&ib->cat->known, ib->pending.slots[i]);
	pthread_mutex_unlock(&ib->cat->mu);
}
