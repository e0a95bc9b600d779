/*
 * search_most.c - Search orders MOST_SPANS and MOST_ERRORS over the whole
 * window. No index orders traces by their number of spans, so the
 * window's spans are read from the spans family newest minute first
 * (span_scan.c, as deps.c does), at most MOST_MAX_SPANS of them, counting
 * spans and error spans per trace; the traces are then checked against
 * the filter in order of those counts, as a search checks candidates,
 * until the limit. The counts that rank are those of the spans read (a
 * trace that straddles the window's start counts its spans inside it);
 * the summaries returned carry the whole trace's.
 */
#include <stdlib.h>
#include <string.h>

#include "query/deps.h"
#include "query/deps_status.h"
#include "query/query_impl.h"
#include "query/span_scan.h"

#define MOST_MAX_SPANS DEPS_MAX_SPANS

/* One trace's counts. */
typedef struct tcount {
	uint8_t id[KEY_TRACE_ID_LEN];
	uint32_t spans, errors;
	bool used;
} tcount;

typedef struct most {
	tcount *slots; /* open addressing by the trace ID's hash */
	size_t cap, n;
	uint64_t read;
	bool truncated;
} most;

static void
most_grow(most *m)
{
	tcount *old = m->slots;
	size_t old_cap = m->cap;

	m->cap = m->cap ? m->cap * 2 : 1024;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		j = hash64(old[i].id, KEY_TRACE_ID_LEN, 3) & (m->cap - 1);
		while (m->slots[j].used)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

/* Counts one span of the window (span_scan_visit); false once full. */
static bool
most_add(void *arg, const uint8_t *trace_id, const span_block_entry *e)
{
	most *m = arg;
	size_t j;

	if (m->read == MOST_MAX_SPANS) {
		m->truncated = true;
		return false;
	}
	m->read++;
	if ((m->n + 1) * 2 > m->cap)
		most_grow(m);
	j = hash64(trace_id, KEY_TRACE_ID_LEN, 3) & (m->cap - 1);
	while (m->slots[j].used &&
	    memcmp(m->slots[j].id, trace_id, KEY_TRACE_ID_LEN) != 0)
		j = (j + 1) & (m->cap - 1);
	if (!m->slots[j].used) {
		memcpy(m->slots[j].id, trace_id, KEY_TRACE_ID_LEN);
		m->slots[j].used = true;
		m->n++;
	}
	m->slots[j].spans++;
	m->slots[j].errors += deps_span_is_error(e->packed, e->packed_len);
	return true;
}

static int
cmp_spans(const void *a, const void *b)
{
	const tcount *x = a, *y = b;

	if (x->spans != y->spans)
		return x->spans > y->spans ? -1 : 1;
	if (x->errors != y->errors)
		return x->errors > y->errors ? -1 : 1;
	return memcmp(x->id, y->id, KEY_TRACE_ID_LEN);
}

static int
cmp_errors(const void *a, const void *b)
{
	const tcount *x = a, *y = b;

	if (x->errors != y->errors)
		return x->errors > y->errors ? -1 : 1;
	return cmp_spans(a, b);
}

void
search_most(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, Tracequery__V1__SearchResult *sr)
{
	most m = { 0 };
	size_t n = 0;

	span_scan_window(q->st, q->cutoff, w->from,
	    w->to == UINT64_MAX ? UINT64_MAX : w->to + 1, most_add, &m);
	/* Pack the used slots to the front, then rank them. */
	for (size_t i = 0; i < m.cap; i++)
		if (m.slots[i].used)
			m.slots[n++] = m.slots[i];
	if (n > 1)
		qsort(m.slots, n, sizeof *m.slots,
		    s->order == TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS ?
		    cmp_errors : cmp_spans);
	for (size_t i = 0; i < n; i++)
		if (search_consider(q, res, m.slots[i].id, s, w))
			break;
	sr->spans_ranked = m.read;
	sr->ranked_truncated = m.truncated;
	free(m.slots);
}
