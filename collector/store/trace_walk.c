/*
 * trace_walk.c - one trace's spans, read minute by minute (trace_walk.h).
 */
#include "daemon/stats.h"
#include "format/keys.h"
#include "store/store.h"
#include "store/trace_walk.h"

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

/* Visits the spans of a trace's unexpired blocks of one minute; returns
 * the number of blocks. */
static size_t
walk_minute(store *st, uint64_t cutoff, uint32_t minute,
    const uint8_t *trace_id, trace_walk_visit visit, void *arg)
{
	keybuf lo, hi;
	store_iter *it;
	size_t blocks = 0;

	key_reset(&lo);
	key_put_u32(&lo, minute);
	key_put_bytes(&lo, trace_id, KEY_TRACE_ID_LEN);
	hi = lo;
	key_prefix_next(&hi);
	it = store_iter_new(st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    true);
	for (; store_iter_valid(it); store_iter_next(it), blocks++) {
		size_t klen, vlen, off = 0;
		const uint8_t *v = store_iter_value(it, &vlen);
		span_block_entry e;

		(void)store_iter_key(it, &klen);
		if (klen != KEY_SPAN_LEN || vlen < SPAN_BLOCK_HEADER ||
		    key_be64(v) < cutoff)
			continue;
		while (span_block_next(v, vlen, &off, &e) == 1)
			visit(trace_id, &e, arg);
	}
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
