/*
 * trace_dict.c - per-flush trace dictionaries (index.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "index/index.h"

/* The traces of one hour, by ordinal. */
typedef struct dict_hour {
	uint32_t hour;
	uint32_t n, cap;
	uint8_t *ids;     /* n * KEY_TRACE_ID_LEN */
	uint64_t *starts;
} dict_hour;

struct trace_dict {
	dict_hour *hours;
	size_t n_hours, cap_hours;
	uint64_t *slots; /* hour index << 32 | ordinal + 1; 0 = empty */
	size_t n_slots, n;
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
	for (size_t i = 0; i < d->cap_hours; i++) {
		free(d->hours[i].ids);
		free(d->hours[i].starts);
	}
	free(d->hours);
	free(d->slots);
	free(d);
}

void
trace_dict_reset(trace_dict *d)
{
	for (size_t i = 0; i < d->n_hours; i++)
		d->hours[i].n = 0;
	d->n_hours = 0;
	d->n = 0;
	if (d->slots != NULL)
		memset(d->slots, 0, d->n_slots * sizeof *d->slots);
}

static uint64_t
entry_hash(const uint8_t *id, uint32_t hour)
{
	return hash64(id, KEY_TRACE_ID_LEN, hour);
}

static const uint8_t *
slot_id(const trace_dict *d, uint64_t slot)
{
	const dict_hour *h = &d->hours[slot >> 32];

	return h->ids + (size_t)((uint32_t)slot - 1) * KEY_TRACE_ID_LEN;
}

static void
slot_insert(trace_dict *d, uint64_t slot)
{
	uint64_t h = entry_hash(slot_id(d, slot), d->hours[slot >> 32].hour);

	for (size_t i = h & (d->n_slots - 1);; i = (i + 1) & (d->n_slots - 1))
		if (d->slots[i] == 0) {
			d->slots[i] = slot;
			return;
		}
}

static void
grow_slots(trace_dict *d)
{
	free(d->slots);
	d->n_slots = d->n_slots ? d->n_slots * 2 : 1024;
	d->slots = xcalloc(d->n_slots, sizeof *d->slots);
	for (size_t hi = 0; hi < d->n_hours; hi++)
		for (uint32_t o = 0; o < d->hours[hi].n; o++)
			slot_insert(d, (uint64_t)hi << 32 | (o + 1));
}

/* The index of hour in d->hours, added when new. */
static size_t
hour_index(trace_dict *d, uint32_t hour)
{
	for (size_t i = 0; i < d->n_hours; i++)
		if (d->hours[i].hour == hour)
			return i;
	if (d->n_hours == d->cap_hours) {
		d->cap_hours = d->cap_hours ? d->cap_hours * 2 : 4;
		d->hours = xrealloc(d->hours, d->cap_hours * sizeof *d->hours);
		memset(d->hours + d->n_hours, 0,
		    (d->cap_hours - d->n_hours) * sizeof *d->hours);
	}
	d->hours[d->n_hours].hour = hour;
	d->hours[d->n_hours].n = 0;
	return d->n_hours++;
}

/* Numbers a new trace of hour index hi. */
static uint32_t
add_trace(trace_dict *d, size_t hi, const uint8_t *trace_id,
    uint64_t start_ns)
{
	dict_hour *h = &d->hours[hi];

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->ids = xrealloc(h->ids, (size_t)h->cap * KEY_TRACE_ID_LEN);
		h->starts = xrealloc(h->starts, h->cap * sizeof *h->starts);
	}
	memcpy(h->ids + (size_t)h->n * KEY_TRACE_ID_LEN, trace_id,
	    KEY_TRACE_ID_LEN);
	h->starts[h->n] = start_ns;
	d->n++;
	return h->n++;
}

uint32_t
trace_dict_ord(trace_dict *d, const uint8_t *trace_id, uint64_t start_ns)
{
	uint32_t hour = key_hour(start_ns);
	uint64_t h = entry_hash(trace_id, hour);
	size_t hi;

	if ((d->n + 1) * 2 > d->n_slots)
		grow_slots(d);
	for (size_t i = h & (d->n_slots - 1);;
	    i = (i + 1) & (d->n_slots - 1)) {
		uint64_t s = d->slots[i];
		dict_hour *dh;
		uint32_t ord;

		if (s == 0) {
			hi = hour_index(d, hour);
			ord = add_trace(d, hi, trace_id, start_ns);
			d->slots[i] = (uint64_t)hi << 32 | (ord + 1);
			return ord;
		}
		dh = &d->hours[s >> 32];
		ord = (uint32_t)s - 1;
		if (dh->hour == hour && memcmp(slot_id(d, s), trace_id,
		    KEY_TRACE_ID_LEN) == 0) {
			if (start_ns < dh->starts[ord])
				dh->starts[ord] = start_ns;
			return ord;
		}
	}
}

const uint64_t *
trace_dict_starts(const trace_dict *d, uint32_t hour)
{
	for (size_t i = 0; i < d->n_hours; i++)
		if (d->hours[i].hour == hour)
			return d->hours[i].starts;
	return NULL;
}

void
trace_dict_merge(trace_dict *dst, const trace_dict *src, uint32_t **map,
    size_t *cap)
{
	size_t at = 0;

	if (src->n > *cap) {
		*cap = src->n;
		*map = xrealloc(*map, *cap * sizeof **map);
	}
	for (size_t hi = 0; hi < src->n_hours; hi++) {
		const dict_hour *h = &src->hours[hi];

		for (uint32_t o = 0; o < h->n; o++)
			(*map)[at++] = trace_dict_ord(dst,
			    h->ids + (size_t)o * KEY_TRACE_ID_LEN, h->starts[o]);
	}
}

size_t
trace_dict_slot(const trace_dict *d, uint32_t hour, uint32_t ord)
{
	size_t at = 0;

	for (size_t hi = 0; hi < d->n_hours && d->hours[hi].hour != hour;
	    hi++)
		at += d->hours[hi].n;
	return at + ord;
}

void
trace_dict_write(const trace_dict *d, store_batch *b, uint64_t flush)
{
	uint8_t rec[TRACE_DICT_CHUNK * TRACE_DICT_ENTRY];
	keybuf k;

	for (size_t hi = 0; hi < d->n_hours; hi++) {
		const dict_hour *h = &d->hours[hi];

		for (uint32_t c = 0; c * TRACE_DICT_CHUNK < h->n; c++) {
			uint32_t o = c * TRACE_DICT_CHUNK, n = 0;

			for (; o < h->n && n < TRACE_DICT_CHUNK; o++, n++) {
				uint8_t *e = rec + (size_t)n * TRACE_DICT_ENTRY;

				memcpy(e, h->ids + (size_t)o * KEY_TRACE_ID_LEN,
				    KEY_TRACE_ID_LEN);
				key_write_be64(e + KEY_TRACE_ID_LEN,
				    h->starts[o]);
			}
			key_idx_dict(&k, h->hour, flush, c);
			store_batch_put(b, STORE_CF_INDEX, k.b, k.len, rec,
			    (size_t)n * TRACE_DICT_ENTRY);
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
    uint32_t ord, uint8_t *out, uint64_t *start_ns)
{
	const dict_rec *d;
	size_t off = (size_t)(ord % TRACE_DICT_CHUNK) * TRACE_DICT_ENTRY;

	if (flush == 0)
		return false;
	d = get_rec(r, hour, flush, ord / TRACE_DICT_CHUNK);
	if (d->v == NULL || off + TRACE_DICT_ENTRY > d->vlen)
		return false;
	if (out != NULL)
		memcpy(out, d->v + off, KEY_TRACE_ID_LEN);
	*start_ns = key_be64(d->v + off + KEY_TRACE_ID_LEN);
	return true;
}
