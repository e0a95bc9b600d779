/*
 * trace_dict.c - per-flush trace dictionaries (trace_dict.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "trace_dict.h"

typedef struct dict_entry {
	uint8_t id[KEY_TRACE_ID_LEN];
	uint32_t hour;
	uint32_t ord;
} dict_entry;

typedef struct hour_count {
	uint32_t hour;
	uint32_t n;
} hour_count;

struct trace_dict {
	dict_entry *v; /* in order of arrival */
	size_t n, cap;
	uint32_t *slots; /* index into v + 1; 0 = empty */
	size_t n_slots;
	hour_count *hours;
	size_t n_hours;
};

trace_dict *
trace_dict_new(void)
{
	return xcalloc(1, sizeof(trace_dict));
}

void
trace_dict_free(trace_dict *d)
{
	if (d == NULL)
		return;
	free(d->v);
	free(d->slots);
	free(d->hours);
	free(d);
}

void
trace_dict_reset(trace_dict *d)
{
	d->n = 0;
	d->n_hours = 0;
	if (d->slots != NULL)
		memset(d->slots, 0, d->n_slots * sizeof *d->slots);
}

static uint64_t
entry_hash(const uint8_t *id, uint32_t hour)
{
	return hash64(id, KEY_TRACE_ID_LEN, hour);
}

static void
slot_insert(trace_dict *d, uint32_t idx)
{
	uint64_t h = entry_hash(d->v[idx].id, d->v[idx].hour);

	for (size_t i = h & (d->n_slots - 1);; i = (i + 1) & (d->n_slots - 1))
		if (d->slots[i] == 0) {
			d->slots[i] = idx + 1;
			return;
		}
}

static void
grow_slots(trace_dict *d)
{
	free(d->slots);
	d->n_slots = d->n_slots ? d->n_slots * 2 : 1024;
	d->slots = xcalloc(d->n_slots, sizeof *d->slots);
	for (uint32_t i = 0; i < d->n; i++)
		slot_insert(d, i);
}

/* The next ordinal of hour. */
static uint32_t
next_ord(trace_dict *d, uint32_t hour)
{
	for (size_t i = 0; i < d->n_hours; i++)
		if (d->hours[i].hour == hour)
			return d->hours[i].n++;
	d->hours = xrealloc(d->hours, (d->n_hours + 1) * sizeof *d->hours);
	d->hours[d->n_hours++] = (hour_count){ hour, 1 };
	return 0;
}

uint32_t
trace_dict_ord(trace_dict *d, const uint8_t *trace_id, uint32_t hour)
{
	uint64_t h = entry_hash(trace_id, hour);
	dict_entry *e;

	if ((d->n + 1) * 2 > d->n_slots)
		grow_slots(d);
	for (size_t i = h & (d->n_slots - 1);;
	    i = (i + 1) & (d->n_slots - 1)) {
		uint32_t s = d->slots[i];

		if (s == 0) {
			if (d->n == d->cap) {
				d->cap = d->cap ? d->cap * 2 : 1024;
				d->v = xrealloc(d->v, d->cap * sizeof *d->v);
			}
			e = &d->v[d->n];
			memcpy(e->id, trace_id, KEY_TRACE_ID_LEN);
			e->hour = hour;
			e->ord = next_ord(d, hour);
			d->slots[i] = (uint32_t)++d->n;
			return e->ord;
		}
		e = &d->v[s - 1];
		if (e->hour == hour &&
		    memcmp(e->id, trace_id, KEY_TRACE_ID_LEN) == 0)
			return e->ord;
	}
}

void
trace_dict_write(const trace_dict *d, store_batch *b, uint64_t flush)
{
	uint8_t rec[TRACE_DICT_CHUNK * KEY_TRACE_ID_LEN];
	keybuf k;

	for (size_t hi = 0; hi < d->n_hours; hi++) {
		uint32_t hour = d->hours[hi].hour, n = 0;

		/* Ordinals were given in order of arrival within an hour. */
		for (size_t i = 0; i < d->n; i++) {
			if (d->v[i].hour != hour)
				continue;
			memcpy(rec + (size_t)(n % TRACE_DICT_CHUNK) *
			    KEY_TRACE_ID_LEN, d->v[i].id, KEY_TRACE_ID_LEN);
			n++;
			if (n % TRACE_DICT_CHUNK == 0 || n == d->hours[hi].n) {
				uint32_t chunk = (n - 1) / TRACE_DICT_CHUNK;

				key_idx_dict(&k, hour, flush, chunk);
				store_batch_put(b, STORE_CF_INDEX, k.b, k.len,
				    rec, (size_t)(n - chunk * TRACE_DICT_CHUNK) *
				    KEY_TRACE_ID_LEN);
			}
		}
	}
}

/* ------------------------------------------------------------- reader */

typedef struct dict_rec {
	uint32_t hour, chunk;
	uint64_t flush;
	char *v; /* NULL: not in the store */
	size_t vlen;
} dict_rec;

struct dict_reader {
	store *st;
	dict_rec *recs;
	size_t n, cap; /* open addressing; cap a power of two */
};

dict_reader *
dict_reader_new(store *st)
{
	dict_reader *r = xcalloc(1, sizeof *r);

	r->st = st;
	return r;
}

void
dict_reader_free(dict_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->cap; i++)
		free(r->recs[i].v);
	free(r->recs);
	free(r);
}

static size_t
rec_slot(const dict_reader *r, uint32_t hour, uint64_t flush, uint32_t chunk)
{
	uint64_t h = (flush * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)hour << 20) ^
	    chunk;

	h ^= h >> 29;
	for (size_t i = h & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
		const dict_rec *d = &r->recs[i];

		if (d->flush == 0 || (d->flush == flush && d->hour == hour &&
		    d->chunk == chunk))
			return i;
	}
}

static void
grow_recs(dict_reader *r)
{
	dict_rec *old = r->recs;
	size_t old_cap = r->cap;

	r->cap = r->cap ? r->cap * 2 : 64;
	r->recs = xcalloc(r->cap, sizeof *r->recs);
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].flush != 0)
			r->recs[rec_slot(r, old[i].hour, old[i].flush,
			    old[i].chunk)] = old[i];
	free(old);
}

/* The record (hour, flush, chunk), read on first use. */
static const dict_rec *
get_rec(dict_reader *r, uint32_t hour, uint64_t flush, uint32_t chunk)
{
	dict_rec *d;
	keybuf k;
	char *cause = NULL;

	if ((r->n + 1) * 2 > r->cap)
		grow_recs(r);
	d = &r->recs[rec_slot(r, hour, flush, chunk)];
	if (d->flush != 0)
		return d;
	d->hour = hour;
	d->flush = flush;
	d->chunk = chunk;
	r->n++;
	key_idx_dict(&k, hour, flush, chunk);
	if (store_get(r->st, STORE_CF_INDEX, k.b, k.len, &d->v, &d->vlen,
	    &cause) != 0) {
		free(cause);
		d->v = NULL;
		d->vlen = 0;
	}
	return d;
}

bool
dict_reader_trace(dict_reader *r, uint32_t hour, uint64_t flush,
    uint32_t ord, uint8_t out[KEY_TRACE_ID_LEN])
{
	const dict_rec *d;
	size_t off = (size_t)(ord % TRACE_DICT_CHUNK) * KEY_TRACE_ID_LEN;

	if (flush == 0)
		return false;
	d = get_rec(r, hour, flush, ord / TRACE_DICT_CHUNK);
	if (d->v == NULL || off + KEY_TRACE_ID_LEN > d->vlen)
		return false;
	memcpy(out, d->v + off, KEY_TRACE_ID_LEN);
	return true;
}
