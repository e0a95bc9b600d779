/*
 * duration.c - the duration index's cursors: per (service, operation)
 * and minute, durations sorted longest first (keys.h); hits resolved to
 * traces through the flush dictionaries, minutes ranked by the
 * histograms' maxima.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

/* The (service, operation) pairs a filter selects. */
size_t
duration_pairs(qctx *q, const char *svc, const char *op, svc_op **out)
{
	char **svcs = NULL, **ops;
	size_t n_svcs = 0, n = 0;
	svc_op *v = NULL;

	if (svc[0])
		PUSH(svcs, n_svcs, xstrdup(svc));
	else
		n_svcs = catalog_list_services(q, &svcs);
	for (size_t i = 0; i < n_svcs; i++) {
		size_t n_ops = catalog_list_ops(q, svcs[i], &ops, NULL);

		for (size_t j = 0; j < n_ops; j++) {
			if (op[0] && strcmp(op, ops[j]) != 0)
				continue;
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n].svc = xstrdup(svcs[i]);
			v[n].op = xstrdup(ops[j]);
			n++;
		}
		catalog_free_names(ops, n_ops);
	}
	catalog_free_names(svcs, n_svcs);
	*out = v;
	return n;
}

void
duration_pairs_free(svc_op *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].svc);
		free(v[i].op);
	}
	free(v);
}

void
duration_open(qctx *q, const svc_op *pair, uint32_t h, dur_cursor *c)
{
	static const uint8_t types[2] = { IDX_DUR, IDX_DUR_TAIL };

	c->q = q;
	for (int i = 0; i < 2; i++) {
		keybuf *p = &c->prefix[i];

		c->it[i] = NULL;
		key_reset(p);
		key_put_u32(p, h);
		key_put_u8(p, types[i]);
		key_put_str(p, pair->svc, strlen(pair->svc));
		key_put_str(p, pair->op, strlen(pair->op));
	}
}

void
duration_close(dur_cursor *c)
{
	store_iter_free(c->it[0]);
	store_iter_free(c->it[1]);
}

/* Adds a hit to out unless the budget is spent (then false). */
static bool
add_hit(dhits *out, const dhit *h, size_t budget)
{
	if (out->n >= budget) {
		out->truncated = true;
		return false;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 256;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	out->v[out->n++] = *h;
	return true;
}

/* Posting d of a record of (hour, flush) as a hit, not yet resolved. */
static dhit
make_hit(const dref *d, uint32_t hour, uint64_t flush, uint32_t pair)
{
	dhit h = { .dur_ns = d->dur_ns, .pair = pair, .hour = hour,
		.ord = d->ord, .flush = flush, .off_ns = d->off_ns };

	return h;
}

/* Fills in h's trace ID and start (once); false when the dictionary lacks
 * its trace (a crash between an index flush's parts). */
bool
duration_hit_resolve(qctx *q, dhit *h)
{
	uint64_t start;

	if (h->resolved)
		return true;
	if (!dict_reader_trace(q->dict, h->hour, h->flush, h->ord,
	    h->trace_id, &start))
		return false;
	h->start_ns = start + h->off_ns;
	h->resolved = true;
	return true;
}

/* Resolves every hit, dropping those the dictionaries lack. */
void
duration_resolve_all(qctx *q, dhits *hits)
{
	size_t n = 0;

	for (size_t i = 0; i < hits->n; i++)
		if (duration_hit_resolve(q, &hits->v[i]))
			hits->v[n++] = hits->v[i];
	hits->n = n;
}

int
duration_cmp_longest(const void *a, const void *b)
{
	const dhit *x = a, *y = b;

	return x->dur_ns > y->dur_ns ? -1 : x->dur_ns < y->dur_ns;
}

/*
 * Moves it to the first record of minute m. Walking minutes in ascending
 * order the iterator is already there or a few records before (the rest
 * of the minute before), and stepping is much cheaper than a seek.
 */
static void
dur_goto_minute(store_iter *it, const keybuf *prefix, int m, bool ascending)
{
	size_t plen = prefix->len;
	keybuf sk;

	for (int steps = 0; ascending && steps < 16; steps++) {
		size_t klen;
		const uint8_t *k;

		if (!store_iter_valid(it))
			return;
		k = store_iter_key(it, &klen);
		if (klen <= plen || k[plen] >= m)
			return;
		store_iter_next(it);
	}
	sk = *prefix;
	key_put_u8(&sk, (uint8_t)m);
	store_iter_seek(it, sk.b, sk.len);
}

/* Part i's iterator at the first record of minute m: made there on
 * first use, moved there after. */
static store_iter *
dur_part(dur_cursor *c, int i, int m, bool ascending)
{
	keybuf lo, hi;

	if (c->it[i] != NULL) {
		dur_goto_minute(c->it[i], &c->prefix[i], m, ascending);
		return c->it[i];
	}
	lo = c->prefix[i];
	key_put_u8(&lo, (uint8_t)m);
	hi = c->prefix[i];
	key_prefix_next(&hi);
	c->it[i] = store_iter_new(c->q->st, STORE_CF_INDEX, lo.b, lo.len,
	    hi.b, hi.len, false);
	return c->it[i];
}

/*
 * Reads minute m's records of one part (heads or tails) through it: hits
 * with durations in [min_ns, max_ns] and starts in w, longest first, at
 * most cap of the minute's (kept from out->v[first] on). Records are
 * sorted by their longest duration, each longest first, so reading stops
 * at the first record whose longest cannot make the cut. Returns false
 * when the budget of hits ran out.
 */
/* The longest posting the tail records (IDX_DUR_TAIL) of the first
 * records read may hold. */
typedef struct tail_bound {
	bool any;
	uint64_t dur_ns;
} tail_bound;

static bool
scan_part(dur_cursor *c, int part, store_iter *it, int m, const dur_ask *a,
    size_t first, dhits *out, tail_bound *tb)
{
	qctx *q = c->q;
	size_t plen = c->prefix[part].len, cap = a->cap;
	uint32_t hour = (uint32_t)(key_be64(c->prefix[part].b) >> 32);
	uint64_t minute_ns = (uint64_t)hour * KEY_HOUR_NS +
	    (uint64_t)m * KEY_MINUTE_NS;
	const window *w = a->w;
	/* Only a minute at the window's edge needs the hits' starts now. */
	bool inside = minute_ns >= w->from &&
	    minute_ns + KEY_MINUTE_NS - 1 <= w->to;
	uint64_t min_ns = a->min_ns, max_ns = a->max_ns;

	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v;
		size_t got = out->n - first;
		uint64_t longest, flush;

		if (klen != plen + 1 + 16 || k[plen] != m)
			break;
		longest = ~key_be64(k + plen + 1);
		flush = key_batch_flush(key_be64(k + plen + 9));
		/* The cut: the cap-th longest so far beats this record. */
		if (longest < min_ns || (got >= cap &&
		    longest <= out->v[first + cap - 1].dur_ns))
			break;
		v = store_iter_value(it, &vlen);
		q->n_ddec = 0;
		if (postings_decode_d(v, vlen, longest, &q->ddec, &q->n_ddec,
		    &q->cap_ddec) < 0) {
			STATS_INC(query_bad_records, 1);
			continue;
		}
		/* A full first record may have more of its list in the tail
		 * records, none longer than its own last posting. */
		if (tb != NULL && q->n_ddec == KEY_DUR_HEAD) {
			uint64_t last = q->ddec[q->n_ddec - 1].dur_ns;

			if (!tb->any || last > tb->dur_ns)
				tb->dur_ns = last;
			tb->any = true;
		}
		for (size_t i = 0, n = 0; i < q->n_ddec && n < cap; i++) {
			const dref *d = &q->ddec[i];
			dhit h = make_hit(d, hour, flush, a->pair);

			if (d->dur_ns < min_ns)
				break;
			if ((max_ns && d->dur_ns > max_ns) || (!inside &&
			    (!duration_hit_resolve(q, &h) || h.start_ns < w->from ||
			    h.start_ns > w->to)))
				continue;
			if (!add_hit(out, &h, a->budget))
				return false;
			n++;
		}
		got = out->n - first;
		if (got > 1)
			qsort(out->v + first, got, sizeof *out->v,
			    duration_cmp_longest);
		if (got > cap)
			out->n = first + cap;
	}
	return true;
}

/*
 * Reads minute m of an hour (see scan_part): the lists' first records,
 * then the rest only when one of them could still make the cut. The first
 * records of consecutive minutes are neighbours on disk and the rest are
 * not even touched, so the common question (the slowest few) reads few
 * blocks however many spans a minute holds.
 */
bool
duration_scan_minute(dur_cursor *c, int m, bool ascending, const dur_ask *a,
    dhits *out)
{
	uint64_t hour_ns =
	    (uint64_t)(key_be64(c->prefix[0].b) >> 32) * KEY_HOUR_NS;
	uint64_t mstart = hour_ns + (uint64_t)m * KEY_MINUTE_NS;
	size_t first = out->n, got;
	tail_bound tb = { false, 0 };

	if (mstart > a->w->to || mstart + KEY_MINUTE_NS <= a->w->from)
		return true;
	if (!scan_part(c, 0, dur_part(c, 0, m, ascending), m, a, first, out,
	    &tb))
		return false;
	got = out->n - first;
	if (!tb.any || tb.dur_ns < a->min_ns || (got >= a->cap &&
	    tb.dur_ns <= out->v[first + a->cap - 1].dur_ns))
		return true;
	/* A seek: stepping would read earlier minutes' long tails. */
	return scan_part(c, 1, dur_part(c, 1, m, false), m, a, first, out,
	    NULL);
}

void
duration_floor_add(dur_floor *f, uint64_t d)
{
	size_t i;

	if (f->n == f->cap && d <= f->v[f->n - 1])
		return;
	if (f->n < f->cap)
		f->n++;
	for (i = f->n - 1; i > 0 && f->v[i - 1] < d; i--)
		f->v[i] = f->v[i - 1];
	f->v[i] = d;
}

/* Orders hits by start, newest first. */
int
duration_cmp_newest(const void *a, const void *b)
{
	const dhit *x = a, *y = b;

	return x->start_ns > y->start_ns ? -1 : x->start_ns < y->start_ns;
}

/* Lists the minute of histogram (key, v) with the longest span it holds
 * of at most cap_ns (0: no cap); nothing when it holds none. */
static void
add_minute_max(minute_maxes *mm, const void *key, size_t klen,
    const void *v, size_t vlen, uint32_t pair, uint64_t cap_ns)
{
	uint64_t minute_ns, count, max;

	if (key_hist_parse(key, klen, &minute_ns) != 0 ||
	    !hist_peek(v, vlen, &count, &max) || count == 0)
		return;
	if (cap_ns != 0 && max > cap_ns &&
	    (max = hist_longest_at_most(v, vlen, cap_ns)) == 0)
		return;
	if (mm->n == mm->cap) {
		mm->cap = mm->cap ? mm->cap * 2 : 256;
		mm->v = xrealloc(mm->v, mm->cap * sizeof *mm->v);
	}
	mm->v[mm->n++] = (minute_max){ max, minute_ns, pair };
}

/* Sums pair's histograms over w's minutes into h (when not NULL); with
 * mm, also lists each minute's longest span of at most cap_ns (0: any). */
void
duration_hist_window(qctx *q, const svc_op *pair, uint32_t pi, const window *w,
    hist *h, minute_maxes *mm, uint64_t cap_ns)
{
	uint64_t m_lo = w->from / KEY_MINUTE_NS, m_hi = w->to / KEY_MINUTE_NS;
	uint32_t h_lo = key_hour(w->from), h_hi = key_hour(w->to);

	for (uint32_t hr = h_lo; hr <= h_hi; hr++) {
		keybuf lo, hi;
		store_iter *it;
		uint64_t first = (uint64_t)hr * 60, last = first + 59;

		if (first < m_lo)
			first = m_lo;
		if (last > m_hi)
			last = m_hi;
		key_hist(&lo, first * KEY_MINUTE_NS, pair->svc,
		    strlen(pair->svc), pair->op, strlen(pair->op));
		key_hist(&hi, last * KEY_MINUTE_NS, pair->svc,
		    strlen(pair->svc), pair->op, strlen(pair->op));
		key_prefix_next(&hi);
		it = store_iter_new(q->st, STORE_CF_HIST, lo.b, lo.len, hi.b,
		    hi.len, false);
		for (; store_iter_valid(it); store_iter_next(it)) {
			size_t klen, vlen;
			const void *k = store_iter_key(it, &klen);
			const void *v = store_iter_value(it, &vlen);

			if (h != NULL)
				hist_decode_add(h, v, vlen);
			if (mm != NULL)
				add_minute_max(mm, k, klen, v, vlen, pi, cap_ns);
		}
		store_iter_free(it);
	}
}

static int
cmp_minute_max(const void *a, const void *b)
{
	const minute_max *x = a, *y = b;

	return x->max_ns > y->max_ns ? -1 : x->max_ns < y->max_ns;
}

/* Orders mm's minutes longest first (slow and search --longest visit them
 * so). */
void
duration_sort_minutes(minute_maxes *mm)
{
	if (mm->n > 1)
		qsort(mm->v, mm->n, sizeof *mm->v, cmp_minute_max);
}

/* Reads the duration lists of one (pair, minute) candidate into hits. */
void
duration_scan_candidate(qctx *q, const svc_op *pairs, const minute_max *c,
    const dur_ask *a, dhits *hits)
{
	dur_cursor dc;

	duration_open(q, &pairs[c->pair], key_hour(c->minute_ns), &dc);
	duration_scan_minute(&dc, (int)(c->minute_ns / KEY_MINUTE_NS % 60), true, a,
	    hits);
	duration_close(&dc);
}
