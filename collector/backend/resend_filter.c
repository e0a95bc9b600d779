/*
 * resend_filter.c - a batch's spans less those already stored
 * (resend_filter.h). For the whole batch at once: one trace-locator
 * lookup for its traces under one lock (most traces of a batch are new
 * and are not read), then one walk of those the locator may hold, their
 * blocks read in key order by one iterator (trace_walk_many), rather than
 * a lookup and an iterator per trace. Then per trace: the batch's spans
 * sorted by ID then place, so a repeat follows its first; each is dropped
 * when it repeats or is among the trace's stored span IDs.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend/resend_filter.h"
#include "common.h"
#include "format/keys.h"
#include "store/trace_walk.h"
#include "typed_sort.h"

/* A span of the batch by its ID (an 8-byte integer: only equality
 * matters) and its place among its trace's spans. */
typedef struct span_ref {
	uint64_t id;
	uint32_t at;
} span_ref;

/* A stored span of one of the batch's traces (its place among them). */
typedef struct stored_ref {
	uint64_t id;
	size_t trace;
} stored_ref;

/* What the filter keeps for one batch. */
typedef struct scratch {
	/* The batch's traces: where each starts in order (one more for the
	 * end), its ID, and whether the locator may hold it. */
	size_t *starts;
	const uint8_t **ids;
	bool *stored_maybe;
	size_t n_traces;
	/* Those walked (their trace numbers), and what the walk found,
	 * sorted by trace then ID. */
	size_t *walked;
	stored_ref *stored;
	size_t n_stored, cap_stored;
	/* One trace's spans at a time. */
	span_ref *refs;
	bool *dup;
	size_t cap_refs;
} scratch;

#define REF_LESS(x, y) ((x)->id != (y)->id ? (x)->id < (y)->id : (x)->at < (y)->at)
TYPED_SORT(sort_refs, span_ref, REF_LESS)
#define STORED_LESS(x, y) \
	((x)->trace != (y)->trace ? (x)->trace < (y)->trace : (x)->id < (y)->id)
TYPED_SORT(sort_stored, stored_ref, STORED_LESS)

/* Lists the batch's traces in s (order[0..total) keeps each trace's
 * spans together) and asks the locator about all of them at once; when
 * it cannot answer, every trace is read. */
static void
find_traces(store *st, const backend_span *spans, const uint32_t *order,
    size_t total, scratch *s)
{
	size_t cap = total ? total : 1;

	s->starts = xmalloc((total + 1) * sizeof *s->starts);
	s->ids = xmalloc(cap * sizeof *s->ids);
	s->stored_maybe = xmalloc(cap * sizeof *s->stored_maybe);
	s->walked = xmalloc(cap * sizeof *s->walked);
	for (size_t i = 0; i < total; i++) {
		const uint8_t *tid = spans[order[i]].sp->trace_id.data;

		if (s->n_traces > 0 && memcmp(tid, s->ids[s->n_traces - 1],
		    KEY_TRACE_ID_LEN) == 0)
			continue;
		s->starts[s->n_traces] = i;
		s->ids[s->n_traces++] = tid;
	}
	s->starts[s->n_traces] = total;
	if (trace_locator_find_any(store_locator(st), s->ids, s->n_traces, 0,
	    s->stored_maybe) != 0)
		for (size_t t = 0; t < s->n_traces; t++)
			s->stored_maybe[t] = true;
}

static void
collect_stored(size_t which, const span_block_entry *e, void *arg)
{
	scratch *s = arg;

	if (s->n_stored == s->cap_stored) {
		s->cap_stored = s->cap_stored ? s->cap_stored * 2 : 64;
		s->stored = xrealloc(s->stored,
		    s->cap_stored * sizeof *s->stored);
	}
	memcpy(&s->stored[s->n_stored].id, e->span_id, sizeof(uint64_t));
	s->stored[s->n_stored++].trace = s->walked[which];
}

/* Reads the stored span IDs of the traces the locator may hold. */
static void
read_stored(store *st, scratch *s)
{
	const uint8_t **ids = xmalloc((s->n_traces ? s->n_traces : 1) *
	    sizeof *ids);
	size_t n = 0;

	for (size_t t = 0; t < s->n_traces; t++)
		if (s->stored_maybe[t]) {
			s->walked[n] = t;
			ids[n++] = s->ids[t];
		}
	if (n > 0)
		trace_walk_many(st, 0, ids, n, collect_stored, s);
	free(ids);
	sort_stored(s->stored, s->n_stored);
}

/* True when id is among r[0..n) (sorted by ID). */
static bool
has_id(const stored_ref *r, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].id == id)
			return true;
		if (r[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Marks in s->dup the spans order[from, from + k) of one trace that are
 * among its stored ones (stored[0..n_stored)) or repeat an earlier one of
 * the batch. */
static void
mark_trace(const backend_span *spans, const uint32_t *order, size_t from,
    size_t k, const stored_ref *stored, size_t n_stored, scratch *s)
{
	if (k > s->cap_refs) {
		s->cap_refs = k;
		s->refs = xrealloc(s->refs, k * sizeof *s->refs);
		s->dup = xrealloc(s->dup, k * sizeof *s->dup);
	}
	for (size_t i = 0; i < k; i++) {
		memcpy(&s->refs[i].id, spans[order[from + i]].sp->span_id.data,
		    sizeof s->refs[i].id);
		s->refs[i].at = (uint32_t)i;
	}
	sort_refs(s->refs, k);
	for (size_t i = 0; i < k; i++) {
		const span_ref *r = &s->refs[i];

		s->dup[r->at] = (i > 0 && s->refs[i - 1].id == r->id) ||
		    has_id(stored, n_stored, r->id);
	}
}

static void
scratch_free(scratch *s)
{
	free(s->starts);
	free(s->ids);
	free(s->stored_maybe);
	free(s->walked);
	free(s->stored);
	free(s->refs);
	free(s->dup);
}

size_t
resend_filter(store *st, const backend_span *spans, uint32_t *order,
    size_t *n)
{
	scratch s = { 0 };
	size_t out = 0, total = *n, p = 0;

	find_traces(st, spans, order, total, &s);
	read_stored(st, &s);
	for (size_t t = 0; t < s.n_traces; t++) {
		size_t i = s.starts[t], j = s.starts[t + 1], q;

		while (p < s.n_stored && s.stored[p].trace < t)
			p++;
		for (q = p; q < s.n_stored && s.stored[q].trace == t; q++)
			;
		/* stored is NULL when nothing is stored: no offset from it. */
		mark_trace(spans, order, i, j - i, q > p ? s.stored + p : NULL,
		    q - p, &s);
		for (size_t a = i; a < j; a++)
			if (!s.dup[a - i])
				order[out++] = order[a];
	}
	scratch_free(&s);
	*n = out;
	return total - out;
}
