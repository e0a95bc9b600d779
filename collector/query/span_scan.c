/*
 * span_scan.c - a window's spans from the spans family (span_scan.h).
 * The family is keyed by the minute a block starts in, so a window is a
 * range of minutes, read newest first.
 */
#include "common.h"
#include "format/keys.h"
#include "query/span_scan.h"

typedef struct scan {
	store *st;
	uint64_t cutoff_ns, start_ns, end_ns;
	span_scan_visit visit;
	void *arg;
	bool stopped;
} scan;

/* Reads the blocks of one minute. */
static void
scan_minute(scan *s, uint32_t minute)
{
	keybuf lo, hi;
	store_iter *it;

	key_reset(&lo);
	key_put_u32(&lo, minute);
	key_reset(&hi);
	key_put_u32(&hi, minute + 1);
	it = store_iter_new(s->st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    false);
	for (; store_iter_valid(it) && !s->stopped; store_iter_next(it)) {
		size_t klen, vlen, off = 0;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);
		span_block_entry e;

		if (klen != KEY_SPAN_LEN || vlen < SPAN_BLOCK_HEADER ||
		    key_be64(v) < s->cutoff_ns)
			continue;
		while (!s->stopped && span_block_next(v, vlen, &off, &e) == 1)
			if (e.start_ns >= s->start_ns && e.start_ns < s->end_ns)
				s->stopped = !s->visit(s->arg,
				    k + KEY_SPAN_MINUTE_LEN, &e);
	}
	store_iter_free(it);
}

/* The newest minute in [lo, hi] holding a block, or -1. */
static int64_t
last_minute(scan *s, uint32_t lo_minute, uint32_t hi_minute)
{
	keybuf lo, hi;
	store_iter *it;
	int64_t m = -1;

	key_reset(&lo);
	key_put_u32(&lo, lo_minute);
	key_reset(&hi);
	key_put_u32(&hi, hi_minute);
	key_put_u8(&hi, 0xff); /* past every key of hi_minute */
	it = store_iter_new(s->st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    false);
	store_iter_seek_last(it);
	if (store_iter_valid(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);
		keyreader r;

		key_reader_init(&r, k, klen);
		m = key_get_u32(&r);
		if (r.err)
			m = -1;
	}
	store_iter_free(it);
	return m;
}

bool
span_scan_window(store *st, uint64_t cutoff_ns, uint64_t start_ns,
    uint64_t end_ns, span_scan_visit visit, void *arg)
{
	scan s = { st, cutoff_ns, start_ns, end_ns, visit, arg, false };
	/* A block is keyed by its earliest span: one minute earlier may
	 * hold spans that start in the window. */
	uint64_t lo_ns = start_ns > KEY_MINUTE_NS ? start_ns - KEY_MINUTE_NS :
	    0;
	uint64_t lo = lo_ns / KEY_MINUTE_NS, hi;
	int64_t m;

	if (end_ns <= start_ns)
		return true;
	hi = (end_ns - 1) / KEY_MINUTE_NS;
	if (hi > UINT32_MAX - 1)
		hi = UINT32_MAX - 1;
	while (hi >= lo && !s.stopped &&
	    (m = last_minute(&s, (uint32_t)lo, (uint32_t)hi)) >= 0) {
		scan_minute(&s, (uint32_t)m);
		if ((uint64_t)m == 0)
			break;
		hi = (uint64_t)m - 1;
	}
	return !s.stopped;
}
