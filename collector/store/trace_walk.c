/*
 * trace_walk.c - one trace's spans, read minute by minute (trace_walk.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/stats.h"
#include "format/keys.h"
#include "store/store.h"
#include "store/trace_walk.h"
#include "typed_sort.h"

/* The minutes that hold blocks of a trace, at most max, skipping those
 * wholly before the retention cutoff; returns how many. From memory when
 * the trace locator can answer, else from the traces family: a disk read
 * when the page cache does not hold its block. */
static size_t
trace_minutes(store *st, uint64_t cutoff, const uint8_t *trace_id,
    uint32_t *out, size_t max)
{
	keybuf lo, hi;
	store_iter *it;
	size_t n = 0;
	int found = trace_locator_find(store_locator(st), trace_id,
	    cutoff, out, max);

	if (found >= 0)
		return (size_t)found;
	STATS_INC(query_family_lookups, 1);
	key_reset(&lo);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	key_prefix_next(&hi);
	it = store_iter_new(st, STORE_CF_TRACES, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it) && n < max; store_iter_next(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);
		uint32_t m;

		if (klen != KEY_TRACE_LEN)
			continue;
		m = key_trace_minute(k);
		if ((uint64_t)m * KEY_MINUTE_NS + KEY_MINUTE_NS > cutoff)
			out[n++] = m;
	}
	store_iter_free(it);
	return n;
}

/* The key prefix of a trace's blocks of one minute. */
static void
minute_prefix(keybuf *k, uint32_t minute, const uint8_t *trace_id)
{
	key_reset(k);
	key_put_u32(k, minute);
	key_put_bytes(k, trace_id, KEY_TRACE_ID_LEN);
}

/* A visit of either kind: trace_walk's or trace_walk_many's. */
typedef struct visitor {
	trace_walk_visit one;
	const uint8_t *trace_id; /* the caller's, for one */
	trace_walk_many_visit many;
	size_t which;
	void *arg;
} visitor;

/* Visits the spans of the unexpired blocks from it's position while the
 * key has prefix p (KEY_SPAN_PREFIX_LEN bytes); returns the number of
 * blocks. */
static size_t
walk_prefix(store_iter *it, const uint8_t *p, uint64_t cutoff,
    const visitor *vis)
{
	size_t blocks = 0;

	for (; store_iter_valid(it); store_iter_next(it), blocks++) {
		size_t klen, vlen, off = 0;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);
		span_block_entry e;

		if (klen < KEY_SPAN_PREFIX_LEN ||
		    memcmp(k, p, KEY_SPAN_PREFIX_LEN) != 0)
			break;
		if (klen != KEY_SPAN_LEN || vlen < SPAN_BLOCK_HEADER ||
		    key_be64(v) < cutoff)
			continue;
		while (span_block_next(v, vlen, &off, &e) == 1) {
			if (vis->one != NULL)
				vis->one(vis->trace_id, &e, vis->arg);
			else
				vis->many(vis->which, &e, vis->arg);
		}
	}
	return blocks;
}

/* Visits the spans of a trace's unexpired blocks of one minute; returns
 * the number of blocks. */
static size_t
walk_minute(store *st, uint64_t cutoff, uint32_t minute,
    const uint8_t *trace_id, trace_walk_visit visit, void *arg)
{
	visitor vis = { visit, trace_id, NULL, 0, arg };
	keybuf lo, hi;
	store_iter *it;
	size_t blocks;

	minute_prefix(&lo, minute, trace_id);
	hi = lo;
	key_prefix_next(&hi);
	it = store_iter_new(st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    true);
	blocks = walk_prefix(it, lo.b, cutoff, &vis);
	store_iter_free(it);
	return blocks;
}

size_t
trace_walk(store *st, uint64_t cutoff_ns, const uint8_t *trace_id,
    trace_walk_visit visit, void *arg)
{
	uint32_t minutes[TRACE_WALK_MAX_MINUTES];
	size_t n = trace_minutes(st, cutoff_ns, trace_id, minutes,
	    TRACE_WALK_MAX_MINUTES);
	size_t blocks = 0;

	for (size_t i = 0; i < n; i++)
		blocks += walk_minute(st, cutoff_ns, minutes[i], trace_id,
		    visit, arg);
	return blocks;
}

/* One (minute, trace) prefix of trace_walk_many. */
typedef struct walk_stop {
	uint32_t minute;
	uint32_t which;
	const uint8_t *trace_id;
} walk_stop;

#define STOP_LESS(x, y) ((x)->minute != (y)->minute ? \
	(x)->minute < (y)->minute : \
	memcmp((x)->trace_id, (y)->trace_id, KEY_TRACE_ID_LEN) < 0)
TYPED_SORT(sort_stops, walk_stop, STOP_LESS)

/* Lists the (minute, trace) prefixes of the n traces, in key order;
 * returns how many (a malloc'd *out). */
static size_t
list_stops(store *st, uint64_t cutoff_ns, const uint8_t *const *trace_ids,
    size_t n, walk_stop **out)
{
	uint32_t minutes[TRACE_WALK_MAX_MINUTES];
	walk_stop *stops = NULL;
	size_t n_stops = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		size_t m = trace_minutes(st, cutoff_ns, trace_ids[i], minutes,
		    TRACE_WALK_MAX_MINUTES);

		if (n_stops + m > cap) {
			cap = (n_stops + m) * 2;
			stops = xrealloc(stops, cap * sizeof *stops);
		}
		for (size_t k = 0; k < m; k++)
			stops[n_stops++] = (walk_stop){ minutes[k],
			    (uint32_t)i, trace_ids[i] };
	}
	sort_stops(stops, n_stops);
	*out = stops;
	return n_stops;
}

size_t
trace_walk_many(store *st, uint64_t cutoff_ns,
    const uint8_t *const *trace_ids, size_t n, trace_walk_many_visit visit,
    void *arg)
{
	visitor vis = { NULL, NULL, visit, 0, arg };
	walk_stop *stops;
	size_t n_stops = list_stops(st, cutoff_ns, trace_ids, n, &stops);
	size_t blocks = 0;
	store_iter *it = NULL;
	keybuf p;

	/* The spans family's prefix extractor is (minute, trace): with
	 * prefix_same_as_start every seek reads only files that may hold
	 * that prefix, as an iterator of its own would. */
	for (size_t i = 0; i < n_stops; i++) {
		minute_prefix(&p, stops[i].minute, stops[i].trace_id);
		if (it == NULL)
			it = store_iter_new(st, STORE_CF_SPANS, p.b, p.len,
			    NULL, 0, true);
		else
			store_iter_seek(it, p.b, p.len);
		vis.which = stops[i].which;
		blocks += walk_prefix(it, p.b, cutoff_ns, &vis);
	}
	if (it != NULL)
		store_iter_free(it);
	free(stops);
	return blocks;
}
