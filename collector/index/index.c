/*
 * index.c - builds index records from spans (see index.h and
 * docs/STORAGE.md). Service, operation and attribute entries point at
 * traces, not spans, and are deduplicated per flush of the index buffer;
 * attribute values seen once go to hash buckets; durations are lists per
 * service, operation and minute that also give the histograms.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hash_set.h"
#include "format/attr_text.h"
#include "format/hist.h"
#include "index/index.h"
#include "format/keys.h"
#include "otlp_types.h"
#include "format/postings.h"
#include "store/store.h"
#include "typed_sort.h"


#define CATALOG_MAX 65536

struct index_catalog {
	pthread_mutex_t mu;
	hash_set known; /* services, operations and origins already written */
	_Atomic uint64_t last_flush; /* flush numbers keep records apart */
};

index_catalog *
index_catalog_new(store *st, char **cause)
{
	index_catalog *c;
	char *v = NULL, *err = NULL;
	size_t vlen = 0;
	uint64_t last = 0;
	keybuf k;
	int rv;

	key_meta_flush(&k);
	rv = store_get(st, STORE_CF_META, k.b, k.len, &v, &vlen, &err);
	if (rv < 0) {
		*cause = err;
		return NULL;
	}
	if (rv == 0 && vlen != 8) {
		free(v);
		*cause = xstrdup("the store's last index flush number is "
		    "damaged (meta F is not 8 bytes)");
		return NULL;
	}
	if (rv == 0)
		last = key_be64(v);
	free(v);
	c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	atomic_store(&c->last_flush, last);
	return c;
}

void
index_catalog_free(index_catalog *c)
{
	if (c == NULL)
		return;
	hash_set_clear(&c->known);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static bool
catalog_has(index_catalog *c, uint64_t h)
{
	bool r;

	pthread_mutex_lock(&c->mu);
	r = hash_set_has(&c->known, h);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* What an entry's postings are: tposting (S, O, A; V with its value
 * hash) or dposting (D). */
enum post_kind { POST_TRACE, POST_VAL, POST_DUR };
static const size_t post_size[] = { sizeof(tposting), sizeof(tposting),
	sizeof(dposting) };

/* Postings per record: bounds a record's size. The first record of a list
 * (its newest starts, or longest durations) is small, because most
 * questions (the newest 20 traces, the slowest 20 spans) need only it. */
#define CHUNK_HEAD KEY_DUR_HEAD
#define CHUNK_MAX 1024

/* One group of postings: its key bytes (with room for the time and batch
 * at time_off) live in ib->keys at off. */
typedef struct entry {
	uint64_t h;
	uint64_t start_ns; /* the newest start; D: its minute, once prepared */
	uint32_t off;
	uint16_t len;
	uint16_t time_off;
	uint32_t n_post, cap_post;
	uint8_t kind;
	uint8_t by_ord;    /* postings in ordinal order, one record's worth */
	void *post;        /* NULL: the one posting is in first */
	tposting first;    /* most trace lists hold one posting */
} entry;

/* The trace postings of e (valid until the next posting_slot). */
static inline tposting *
tpostings(entry *e)
{
	return e->post != NULL ? e->post : &e->first;
}

static inline dposting *
dpostings(entry *e)
{
	return e->post;
}

struct index_builder {
	index_catalog *cat;
	entry *entries;
	size_t n_entries, cap_entries;
	uint64_t *table; /* hash's top 32 bits | entry index + 1; 0 = empty:
	                  * most probes never touch an entry */
	size_t table_cap;
	uint8_t *keys;
	size_t keys_len, keys_cap;
	hash_set pending; /* catalog hashes written by this batch */
	hash_set seen;    /* catalog hashes already queued in this batch */
	keybuf k;
	trace_dict *dict;
	uint64_t flush; /* this flush's number, once prepared */
	uint8_t *enc;   /* an encoded record */
	size_t enc_cap;
	uint32_t *map;  /* index_merge: this builder's ordinals in another's */
	size_t map_cap;
	struct emit_ref *order; /* entries to write, by key (prepare) */
	size_t n_order, cap_order, n_done;
	bool prepared;
};

index_builder *
index_builder_new(index_catalog *c)
{
	index_builder *ib = xcalloc(1, sizeof *ib);

	ib->cat = c;
	ib->dict = trace_dict_new();
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
	free(ib->order);
	free(ib->enc);
	free(ib->map);
	trace_dict_free(ib->dict);
	hash_set_clear(&ib->pending);
	hash_set_clear(&ib->seen);
	free(ib);
}

void
index_begin(index_builder *ib)
{
	free_postings(ib);
	ib->n_entries = 0;
	ib->keys_len = 0;
	ib->n_order = 0;
	ib->n_done = 0;
	ib->prepared = false;
	if (ib->table != NULL)
		memset(ib->table, 0, ib->table_cap * sizeof *ib->table);
	trace_dict_reset(ib->dict);
	hash_set_clear(&ib->pending);
	hash_set_clear(&ib->seen);
}

static void
table_insert(index_builder *ib, uint32_t idx)
{
	uint64_t h = ib->entries[idx].h;

	for (size_t i = h & (ib->table_cap - 1);;
	    i = (i + 1) & (ib->table_cap - 1)) {
		if (ib->table[i] == 0) {
			ib->table[i] = (h & ~0xffffffffULL) | (idx + 1);
			return;
		}
	}
}

/* Room for one more posting of e; returns where it goes. */
static void *
posting_slot(entry *e)
{
	size_t sz = post_size[e->kind];

	if (e->n_post == 0 && e->kind == POST_TRACE)
		return (void)e->n_post++, &e->first;
	if (e->post == NULL && e->n_post > 0) {
		e->cap_post = 4;
		e->post = xmalloc((size_t)e->cap_post * sz);
		memcpy(e->post, &e->first, sz);
	} else if (e->n_post == e->cap_post) {
		e->cap_post = e->cap_post ? e->cap_post * 2 : 4;
		e->post = xrealloc(e->post, (size_t)e->cap_post * sz);
	}
	return (uint8_t *)e->post + (size_t)e->n_post++ * sz;
}

/* Adds (start, trace) to a trace posting list. A trace's spans usually
 * arrive together, so only the last few are checked here; index_finish
 * removes the remaining duplicates. */
static void
add_trace_posting(entry *e, uint64_t start_ns, uint32_t ord)
{
	tposting *p;

	for (uint32_t i = e->n_post, n = 0; i-- > 0 && n < 8; n++) {
		p = &tpostings(e)[i];
		if (p->ord == ord) {
			if (start_ns < p->start_ns)
				p->start_ns = start_ns;
			return;
		}
	}
	p = posting_slot(e);
	*p = (tposting){ start_ns, ord, 0 };
}

/* The hash that identifies an entry: its key without the hour, time and
 * batch, its kind, and its group (start_ns / group_ns: a minute, or an
 * hour for V). */
static uint64_t
entry_hash(const uint8_t *key, size_t time_off, enum post_kind kind,
    uint64_t start_ns, uint64_t group_ns)
{
	return hash64(key + 4, time_off - 4, start_ns / group_ns) ^ kind;
}

/*
 * Finds or adds the entry of hash h (entry_hash) whose key is key[0..len)
 * with its time and batch (the last 16 bytes) left blank; returns its
 * index.
 */
static uint32_t
entry_find_or_add(index_builder *ib, const uint8_t *key, size_t len,
    uint64_t h, enum post_kind kind, uint64_t start_ns)
{
	entry *e;
	uint32_t idx;

	if (ib->table_cap != 0) {
		for (size_t i = h & (ib->table_cap - 1);;
		    i = (i + 1) & (ib->table_cap - 1)) {
			uint64_t t = ib->table[i];
			uint32_t at = (uint32_t)t - 1;

			if (t == 0)
				break;
			if ((t ^ h) >> 32 != 0)
				continue;
			e = &ib->entries[at];
			if (e->h == h && e->kind == kind) {
				if (start_ns > e->start_ns)
					e->start_ns = start_ns;
				return at;
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
	if (ib->keys_len + len > ib->keys_cap) {
		ib->keys_cap = (ib->keys_cap + len) * 2;
		ib->keys = xrealloc(ib->keys, ib->keys_cap);
	}
	memcpy(ib->keys + ib->keys_len, key, len);
	e = &ib->entries[ib->n_entries];
	memset(e, 0, sizeof *e);
	e->h = h;
	e->start_ns = start_ns;
	e->off = (uint32_t)ib->keys_len;
	e->len = (uint16_t)len;
	e->time_off = (uint16_t)(len - 16);
	e->kind = (uint8_t)kind;
	ib->keys_len += len;
	idx = (uint32_t)ib->n_entries++;
	table_insert(ib, idx);
	return idx;
}

/* Finds or adds the entry for key k (see entry_find_or_add). */
static uint32_t
entry_upsert(index_builder *ib, const keybuf *k, uint64_t start_ns,
    enum post_kind kind, uint64_t group_ns)
{
	uint64_t h = entry_hash(k->b, k->len - 16, kind, start_ns, group_ns);

	return entry_find_or_add(ib, k->b, k->len, h, kind, start_ns);
}

/* Adds a trace posting under k, grouped by minute. */
static void
upsert_trace(index_builder *ib, uint64_t start_ns, uint32_t ord)
{
	uint32_t i = entry_upsert(ib, &ib->k, start_ns, POST_TRACE,
	    KEY_MINUTE_NS);

	add_trace_posting(&ib->entries[i], start_ns, ord);
}

/* Adds src's postings of entry e (ordinals translated through map) to
 * dst's entry d. */
static void
merge_postings(index_builder *dst, uint32_t d, entry *e, const uint32_t *map)
{
	if (e->kind == POST_DUR) {
		for (uint32_t i = 0; i < e->n_post; i++) {
			dposting *p = posting_slot(&dst->entries[d]);

			*p = dpostings(e)[i];
			p->ord = map[p->ord];
		}
		return;
	}
	for (uint32_t i = 0; i < e->n_post; i++) {
		const tposting *p = &tpostings(e)[i];

		add_trace_posting(&dst->entries[d], p->start_ns, map[p->ord]);
	}
}

/* Starts loading what finding entry j of src in dst will read: its
 * table slot (16 entries ahead), then the entry that slot names (8
 * ahead). The shared buffer's table is megabytes: without this, merging
 * waited on two cache misses an entry. */
static inline void
merge_prefetch(const index_builder *dst, const index_builder *src, size_t j)
{
	size_t mask = dst->table_cap - 1;

	if (dst->table_cap == 0)
		return;
	if (j + 16 < src->n_entries)
		__builtin_prefetch(&dst->table[src->entries[j + 16].h & mask]);
	if (j + 8 < src->n_entries) {
		uint64_t t = dst->table[src->entries[j + 8].h & mask];

		if (t != 0)
			__builtin_prefetch(&dst->entries[(uint32_t)t - 1]);
	}
}

void
index_merge(index_builder *dst, index_builder *src)
{
	trace_dict_merge(dst->dict, src->dict, &src->map, &src->map_cap);
	for (size_t j = 0; j < src->n_entries; j++) {
		entry *e = &src->entries[j];
		uint32_t d;

		merge_prefetch(dst, src, j);
		d = entry_find_or_add(dst, src->keys + e->off, e->len, e->h,
		    e->kind, e->start_ns);
		merge_postings(dst, d, e, src->map + trace_dict_slot(src->dict,
		    key_hour(e->start_ns), 0));
	}
}

const char *
index_service_name(const Resource *res)
{
	const char *svc = otlp_service_name(res);

	return svc != NULL ? svc : OTLP_UNKNOWN_SERVICE;
}

/* Queues a catalog record unless the shared cache or this batch has it. */
static void
catalog_put(index_builder *ib, store_batch *b, const keybuf *k,
    const void *v, size_t vlen)
{
	uint64_t h = hash64(k->b, k->len, 2);

	if (hash_set_has(&ib->seen, h))
		return;
	/* Seen either way: the shared cache is asked (under its lock) once
	 * a batch, not once a span. */
	hash_set_add(&ib->seen, h);
	if (catalog_has(ib->cat, h))
		return;
	hash_set_add(&ib->pending, h);
	store_batch_put(b, STORE_CF_META, k->b, k->len, v, vlen);
}

static void
index_attrs(index_builder *ib, KeyValue *const *attrs, size_t n,
    uint64_t start_ns, uint32_t ord, bool skip_service)
{
	char buf[64];
	const char *txt;
	size_t txt_len, klen;

	for (size_t i = 0; i < n; i++) {
		const KeyValue *kv = attrs[i];

		if (kv->key == NULL || (klen = strlen(kv->key)) > KEY_STR_MAX)
			continue;
		if (skip_service && strcmp(kv->key, "service.name") == 0)
			continue;
		if (!attr_text(kv->value, buf, sizeof buf, &txt,
		    &txt_len) || txt_len > KEY_STR_MAX)
			continue;
		key_idx_attr(&ib->k, start_ns, kv->key, klen, txt, txt_len, 0);
		upsert_trace(ib, start_ns, ord);
	}
}

/* Adds (duration, start, trace) to its service, operation and minute;
 * the same list gives that minute's histogram. No span ID: slow finds
 * it in the trace (query.c). */
static void
index_duration(index_builder *ib, const char *svc, size_t svc_len,
    const Span *sp, size_t op_len,
    uint32_t ord)
{
	uint64_t start = sp->start_time_unix_nano;
	uint32_t i;
	dposting *p;

	key_idx_dur(&ib->k, start, 0, svc, svc_len, sp->name, op_len, 0);
	i = entry_upsert(ib, &ib->k, start, POST_DUR, KEY_MINUTE_NS);
	p = posting_slot(&ib->entries[i]);
	p->dur_ns = sp->end_time_unix_nano - start;
	p->start_ns = start;
	p->ord = ord;
}

void
index_span(index_builder *ib, store_batch *b, const char *svc,
    const Resource *res,
    const Span *sp)
{
	uint64_t start = sp->start_time_unix_nano;
	uint32_t ord = trace_dict_ord(ib->dict, sp->trace_id.data, start);
	size_t svc_len = strlen(svc), op_len = strlen(sp->name);
	uint8_t kind = (uint8_t)sp->kind;

	key_idx_svc(&ib->k, start, svc, svc_len, 0);
	upsert_trace(ib, start, ord);
	key_idx_op(&ib->k, start, svc, svc_len, sp->name, op_len, 0);
	upsert_trace(ib, start, ord);
	index_attrs(ib, sp->attributes, sp->n_attributes, start, ord, false);
	if (res != NULL)
		index_attrs(ib, res->attributes, res->n_attributes, start, ord,
		    true);
	index_duration(ib, svc, svc_len, sp, op_len, ord);

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

/* Sort orders, total so that the records written do not depend on the
 * sort: newest first; by trace, then earliest first; longest first; by
 * trace (a record's postings are stored in this order). */
#define START_DESC(x, y) ((x)->start_ns != (y)->start_ns ?                 \
	(x)->start_ns > (y)->start_ns : (x)->ord < (y)->ord)
#define TRACE_START(x, y) ((x)->ord != (y)->ord ? (x)->ord < (y)->ord :     \
	(x)->start_ns < (y)->start_ns)
#define DUR_DESC(x, y) ((x)->dur_ns != (y)->dur_ns ?                       \
	(x)->dur_ns > (y)->dur_ns : TRACE_START(x, y))
#define BY_ORD(x, y) ((x)->ord != (y)->ord ? (x)->ord < (y)->ord :          \
	(x)->vhash != (y)->vhash ? (x)->vhash < (y)->vhash :                \
	(x)->start_ns < (y)->start_ns)
TYPED_SORT(sort_start_desc, tposting, START_DESC)
TYPED_SORT(sort_trace_start, tposting, TRACE_START)
TYPED_SORT(sort_dur_desc, dposting, DUR_DESC)
TYPED_SORT(sort_by_ord, tposting, BY_ORD)

/* One posting per trace (its earliest start). A list that fits in one
 * record stays in ordinal order, the order it is stored in (by_ord, with
 * start_ns its newest start); a longer one is sorted newest first, to be
 * cut into records. */
static void
dedupe_traces(entry *e)
{
	tposting *v = tpostings(e);
	uint32_t n = 0;
	uint64_t newest = 0;

	if (e->n_post > 1)
		sort_trace_start(v, e->n_post);
	for (uint32_t i = 0; i < e->n_post; i++) {
		if (n > 0 && v[i].ord == v[n - 1].ord)
			continue;
		if (v[i].start_ns > newest)
			newest = v[i].start_ns;
		v[n++] = v[i];
	}
	e->n_post = n;
	if (n <= CHUNK_HEAD) {
		e->by_ord = 1;
		e->start_ns = newest;
		return;
	}
	sort_start_desc(v, e->n_post);
}

/* Encodes postings [i, i + n) of e (sorted newest or longest first) into
 * ib->enc; returns the length and sets *base to the first's start (or
 * duration), which keys the record. */
static size_t
encode_chunk(index_builder *ib, entry *e, uint32_t i, uint32_t n,
    uint64_t *base)
{
	size_t need = (size_t)n * POSTINGS_MAX_D;
	const uint64_t *starts = trace_dict_starts(ib->dict,
	    key_hour(e->start_ns));

	if (need > ib->enc_cap) {
		ib->enc_cap = need;
		ib->enc = xrealloc(ib->enc, need);
	}
	if (e->kind == POST_DUR) {
		*base = dpostings(e)[i].dur_ns;
		return postings_encode_d(dpostings(e) + i, n, *base, starts,
		    ib->enc);
	}
	if (e->by_ord) {
		*base = e->start_ns;
	} else {
		*base = tpostings(e)[i].start_ns;
		sort_by_ord(tpostings(e) + i, n);
	}
	return postings_encode_t(tpostings(e) + i, n, starts,
	    e->kind == POST_VAL, ib->enc);
}

/* Writes e's postings (sorted) as records of CHUNK_HEAD, then at most
 * CHUNK_MAX, each keyed by its first posting's start or duration. */
static void
emit_chunks(index_builder *ib, store_batch *b, entry *e)
{
	uint8_t *k = ib->keys + e->off;
	uint32_t place = 0;

	for (uint32_t i = 0, n; i < e->n_post; i += n) {
		uint32_t most = i == 0 ? CHUNK_HEAD : CHUNK_MAX;
		uint64_t base;
		size_t len;

		n = e->n_post - i < most ? e->n_post - i : most;
		len = encode_chunk(ib, e, i, n, &base);
		key_write_be64(k + e->time_off, ~base);
		key_write_be64(k + e->time_off + 8, key_batch(ib->flush,
		    place++));
		if (e->kind == POST_DUR)
			k[4] = i == 0 ? IDX_DUR : IDX_DUR_TAIL;
		store_batch_put(b, STORE_CF_INDEX, k, e->len, ib->enc, len);
	}
	if (e->kind == POST_DUR)
		k[4] = IDX_DUR;
}

/* Moves the postings of a short attribute entry into its value-hash
 * bucket (an hour-long V group): a value seen a few times in a flush (an
 * ID, say) does not cost a record of its own. */
static void
move_to_bucket(index_builder *ib, uint32_t j)
{
	entry e = ib->entries[j];
	idx_key ik;
	uint64_t vh;
	uint32_t i;

	if (key_idx_parse(ib->keys + e.off, e.len, &ik) != 0)
		return;
	vh = key_val_hash(ik.s1, ik.s1_len, ik.s2, ik.s2_len);
	key_idx_val(&ib->k, e.start_ns, ik.s1, ik.s1_len, key_val_bucket(vh),
	    0);
	i = entry_upsert(ib, &ib->k, e.start_ns, POST_VAL, KEY_HOUR_NS);
	for (uint32_t n = 0; n < e.n_post; n++) {
		tposting *p = posting_slot(&ib->entries[i]);

		*p = (e.post != NULL ? (tposting *)e.post : &e.first)[n];
		p->vhash = key_val_hash16(vh);
	}
	free(e.post);
	ib->entries[j].post = NULL;
}

/* A D group's histogram: one merge operand for its minute. */
static void
emit_hist(index_builder *ib, store_batch *b, entry *e, uint64_t *vals)
{
	idx_key ik;
	keybuf hk;
	char *enc;
	size_t len;

	if (key_idx_parse(ib->keys + e->off, e->len, &ik) != 0)
		return;
	for (uint32_t i = 0; i < e->n_post; i++)
		vals[i] = dpostings(e)[i].dur_ns;
	key_hist(&hk, ik.start_ns, ik.s1, ik.s1_len, ik.s2, ik.s2_len);
	len = hist_encode_values(vals, e->n_post, &enc);
	store_batch_merge(b, STORE_CF_HIST, hk.b, hk.len, enc, len);
	free(enc);
}

/* An entry to write, by key: RocksDB's memtable inserts keys that
 * arrive in order much faster than scattered ones. */
typedef struct emit_ref {
	const uint8_t *key;
	uint32_t len;
	uint32_t idx;
} emit_ref;

/* By key, then by entry (a total order). */
static inline bool
emit_ref_less(const emit_ref *x, const emit_ref *y)
{
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c < 0;
	return x->len != y->len ? x->len < y->len : x->idx < y->idx;
}

TYPED_SORT(sort_emit_refs, emit_ref, emit_ref_less)

/* Readies entry j to be written; false when it has nothing to write. */
static bool
prepare_entry(index_builder *ib, store_batch *b, size_t j, uint64_t **vals,
    size_t *cap_vals)
{
	entry *e = &ib->entries[j];

	switch (e->kind) {
	case POST_TRACE:
		dedupe_traces(e);
		if (e->n_post <= KEY_VAL_MAX_POSTINGS &&
		    ib->keys[e->off + 4] == IDX_ATTR) {
			move_to_bucket(ib, (uint32_t)j);
			return false;
		}
		return true;
	case POST_VAL:
		sort_start_desc(tpostings(e), e->n_post);
		return true;
	case POST_DUR:
		sort_dur_desc(dpostings(e), e->n_post);
		if (e->n_post > *cap_vals) {
			*cap_vals = e->n_post;
			*vals = xrealloc(*vals, *cap_vals * sizeof **vals);
		}
		emit_hist(ib, b, e, *vals);
		/* The key's hour is the minute's, not the longest span's. */
		e->start_ns = dpostings(e)[0].start_ns -
		    dpostings(e)[0].start_ns % KEY_MINUTE_NS;
		return true;
	default:
		return false;
	}
}

/* Numbers this flush, and adds that number and the trace dictionary to
 * b: postings refer to both. */
static void
begin_flush(index_builder *ib, store_batch *b)
{
	uint8_t v[8];
	keybuf k;

	ib->flush = atomic_fetch_add(&ib->cat->last_flush, 1) + 1;
	key_write_be64(v, ib->flush);
	key_meta_flush(&k);
	store_batch_put(b, STORE_CF_META, k.b, k.len, v, sizeof v);
	trace_dict_write(ib->dict, b, ib->flush);
}

/* Sorts the postings of every entry, moves single attribute postings to
 * their buckets, adds the histograms to b, and orders the entries to
 * write by key. */
static void
prepare(index_builder *ib, store_batch *b)
{
	uint64_t *vals = NULL;
	size_t cap_vals = 0;

	begin_flush(ib, b);
	ib->n_order = 0;
	/* V entries added on the way are prepared by the same loop. */
	for (size_t j = 0; j < ib->n_entries; j++) {
		entry *e;
		uint32_t hour;

		if (!prepare_entry(ib, b, j, &vals, &cap_vals))
			continue;
		e = &ib->entries[j];
		hour = key_hour(e->start_ns);
		ib->keys[e->off] = (uint8_t)(hour >> 24);
		ib->keys[e->off + 1] = (uint8_t)(hour >> 16);
		ib->keys[e->off + 2] = (uint8_t)(hour >> 8);
		ib->keys[e->off + 3] = (uint8_t)hour;
		if (ib->n_order == ib->cap_order) {
			ib->cap_order = ib->cap_order ? ib->cap_order * 2 :
			    1024;
			ib->order = xrealloc(ib->order,
			    ib->cap_order * sizeof *ib->order);
		}
		ib->order[ib->n_order++] = (emit_ref){ NULL, e->time_off,
			(uint32_t)j };
	}
	free(vals);
	/* Keys are stable now that no entry is added. */
	for (size_t i = 0; i < ib->n_order; i++)
		ib->order[i].key = ib->keys + ib->entries[ib->order[i].idx].off;
	sort_emit_refs(ib->order, ib->n_order);
	ib->prepared = true;
	ib->n_done = 0;
}

bool
index_finish_step(index_builder *ib, store_batch *b, size_t max_bytes)
{
	if (!ib->prepared)
		prepare(ib, b);
	while (ib->n_done < ib->n_order && store_batch_bytes(b) < max_bytes) {
		entry *e = &ib->entries[ib->order[ib->n_done++].idx];

		emit_chunks(ib, b, e);
		/* Written: give the memory back while the rest goes. */
		free(e->post);
		e->post = NULL;
	}
	return ib->n_done == ib->n_order;
}

void
index_commit(index_builder *ib)
{
	if (ib->pending.n == 0)
		return;
	pthread_mutex_lock(&ib->cat->mu);
	/* A bounded cache: forgetting only costs a rewrite of a record. */
	if (ib->cat->known.n > CATALOG_MAX)
		hash_set_clear(&ib->cat->known);
	for (size_t i = 0; i < ib->pending.cap; i++)
		if (ib->pending.slots[i] != 0)
			hash_set_add(&ib->cat->known, ib->pending.slots[i]);
	pthread_mutex_unlock(&ib->cat->mu);
}
