/*
 * search_duration.c - Search candidates from the duration index
 * (duration.c): LONGEST order, and span-duration bounds newest first.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

/* Considers hits longest first while they are at least bound long (no
 * minute left to read holds a longer span) and drops them from hits;
 * true once res is full. */
static bool
consider_down_to(qctx *q, results *res, dhits *hits, uint64_t bound,
    const Tracequery__V1__Search *s, const window *w)
{
	size_t i = 0;

	if (hits->n > 1)
		qsort(hits->v, hits->n, sizeof *hits->v, duration_cmp_longest);
	for (; i < hits->n && hits->v[i].dur_ns >= bound; i++)
		if (duration_hit_resolve(q, &hits->v[i]) &&
		    search_consider(q, res, hits->v[i].trace_id, s, w))
			return true;
	if (i > 0) {
		memmove(hits->v, hits->v + i, (hits->n - i) * sizeof *hits->v);
		hits->n -= i;
	}
	return false;
}

/*
 * Order longest: the (operation, minute) duration lists in order of the
 * minute's longest span (from the histograms, as slow does; with a
 * maximum duration, its longest span under it); a hit is checked once no
 * minute still to read can hold a longer span, and the search stops as
 * soon as it has its results.
 */
static void
search_longest(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, const svc_op *pairs, size_t n_pairs)
{
	minute_maxes mm = { 0 };
	dhits hits = { 0 };
	bool done = false;

	for (size_t i = 0; i < n_pairs; i++)
		duration_hist_window(q, &pairs[i], (uint32_t)i, w, NULL, &mm,
		    s->max_duration_ns);
	duration_sort_minutes(&mm);
	for (size_t i = 0; i < mm.n && !done; i++) {
		const minute_max *c = &mm.v[i];
		dur_ask a = { c->pair, w, s->min_duration_ns,
			s->max_duration_ns, res->limit * 4, DUR_BUDGET };

		if (c->max_ns < s->min_duration_ns ||
		    (done = consider_down_to(q, res, &hits, c->max_ns, s, w)))
			break;
		duration_scan_candidate(q, pairs, c, &a, &hits);
	}
	if (!done)
		consider_down_to(q, res, &hits, 0, s, w);
	free(hits.v);
	free(mm.v);
}

/*
 * Candidates from the duration index. LONGEST: the longest spans of each
 * minute, checked longest first. A span-duration bound (newest first):
 * minute by minute from the newest, every pair, checking the hits of a
 * minute before reading the next, so a search stops as soon as it has its
 * results. Returns false when the bound matched too many spans to be
 * useful (the caller then walks the time indexes instead).
 */
bool
search_duration(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, bool longest)
{
	svc_op *pairs;
	size_t n_pairs = duration_pairs(q, s->service, s->operation, &pairs);
	dhits hits = { 0 };
	uint32_t h_lo = key_hour(w->from), h_hi = key_hour(w->to);
	bool done = false;

	if (longest) {
		search_longest(q, res, s, w, pairs, n_pairs);
		duration_pairs_free(pairs, n_pairs);
		return true;
	}
	for (uint32_t h = h_hi + 1; h-- > h_lo && !done;) {
		dur_cursor *cs = xcalloc(n_pairs + 1, sizeof *cs);

		for (size_t i = 0; i < n_pairs; i++)
			duration_open(q, &pairs[i], h, &cs[i]);
		for (int m = 59; m >= 0 && !done; m--) {
			hits.n = 0;
			for (size_t i = 0; i < n_pairs; i++) {
				dur_ask a = { (uint32_t)i, w,
					s->min_duration_ns, s->max_duration_ns,
					DUR_BUDGET, DUR_BUDGET };

				if (!duration_scan_minute(&cs[i], m, false, &a, &hits))
					break;
			}
			if (hits.truncated) {
				done = true;
				break;
			}
			/* Newest first within the minute too. */
			duration_resolve_all(q, &hits);
			if (hits.n > 1)
				qsort(hits.v, hits.n, sizeof *hits.v,
				    duration_cmp_newest);
			for (size_t i = 0; i < hits.n && !done; i++)
				done = search_consider(q, res, hits.v[i].trace_id,
				    s, w);
		}
		for (size_t i = 0; i < n_pairs; i++)
			duration_close(&cs[i]);
		free(cs);
	}
	free(hits.v);
	duration_pairs_free(pairs, n_pairs);
	if (hits.truncated && res->n < res->limit) {
		/* Too broad for this index: start over by time. */
		for (size_t i = 0; i < res->n; i++)
			tracequery__v1__trace_summary__free_unpacked(res->v[i],
			    NULL);
		res->n = 0;
		res->checked = 0;
		hash_set_clear(&res->seen);
		return false;
	}
	return true;
}
