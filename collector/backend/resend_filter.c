/*
 * resend_filter.c - a batch's spans less those already stored
 * (resend_filter.h). Per trace of the batch: the stored span IDs of that
 * trace (trace_walk.h), sorted; the batch's spans of the trace, sorted by
 * ID then place, so a repeat follows its first; each new span is dropped
 * when it repeats or is found among the stored.
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

/* Scratch reused across the traces of one batch. */
typedef struct scratch {
	uint64_t *stored;
	size_t n_stored, cap_stored;
	span_ref *refs;
	bool *dup;
	size_t cap_refs;
} scratch;

#define ID_LESS(x, y) (*(x) < *(y))
TYPED_SORT(sort_ids, uint64_t, ID_LESS)
#define REF_LESS(x, y) ((x)->id != (y)->id ? (x)->id < (y)->id : (x)->at < (y)->at)
TYPED_SORT(sort_refs, span_ref, REF_LESS)

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
collect_stored(const uint8_t *trace_id, const span_block_entry *e,
    void *arg)
{
	scratch *s = arg;

	(void)trace_id;
	if (s->n_stored == s->cap_stored) {
		s->cap_stored = s->cap_stored ? s->cap_stored * 2 : 64;
		s->stored = xrealloc(s->stored,
		    s->cap_stored * sizeof *s->stored);
	}
	memcpy(&s->stored[s->n_stored++], e->span_id, sizeof *s->stored);
}

/* Marks in s->dup the spans order[from, from + k) of one trace that are
 * stored already or repeat an earlier one of the batch. */
static void
mark_trace(store *st, const backend_span *spans, const uint32_t *order,
    size_t from, size_t k, scratch *s)
{
	if (k > s->cap_refs) {
		s->cap_refs = k;
		s->refs = xrealloc(s->refs, k * sizeof *s->refs);
		s->dup = xrealloc(s->dup, k * sizeof *s->dup);
	}
	s->n_stored = 0;
	trace_walk(st, 0, spans[order[from]].sp->trace_id.data,
	    collect_stored, s);
	sort_ids(s->stored, s->n_stored);
	for (size_t i = 0; i < k; i++) {
		memcpy(&s->refs[i].id, spans[order[from + i]].sp->span_id.data,
		    sizeof s->refs[i].id);
		s->refs[i].at = (uint32_t)i;
	}
	sort_refs(s->refs, k);
	for (size_t i = 0; i < k; i++) {
		const span_ref *r = &s->refs[i];

		s->dup[r->at] = (i > 0 && s->refs[i - 1].id == r->id) ||
		    (s->n_stored > 0 && bsearch(&r->id, s->stored,
		    s->n_stored, sizeof r->id, cmp_id) != NULL);
	}
}

size_t
resend_filter(store *st, const backend_span *spans, uint32_t *order,
    size_t *n)
{
	scratch s = { 0 };
	size_t out = 0, i = 0, total = *n;

	while (i < total) {
		const uint8_t *tid = spans[order[i]].sp->trace_id.data;
		size_t j = i + 1;

		while (j < total && memcmp(tid,
		    spans[order[j]].sp->trace_id.data, KEY_TRACE_ID_LEN) == 0)
			j++;
		mark_trace(st, spans, order, i, j - i, &s);
		for (size_t a = i; a < j; a++)
			if (!s.dup[a - i])
				order[out++] = order[a];
		i = j;
	}
	free(s.stored);
	free(s.refs);
	free(s.dup);
	*n = out;
	return total - out;
}
