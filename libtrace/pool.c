/*
 * pool.c - the preallocated record pool and the per-thread rings.
 *
 * The pool is one allocation of nrec fixed-size records (the memory bound)
 * made at trace_init. Free records sit on a lock-free stack of *chains*
 * (up to 32 records each): a thread takes a whole chain with one CAS and
 * then serves spans from it with plain pointer operations, and the exporter
 * returns records a chain at a time. The stack top packs a 32-bit ABA tag
 * with the chain head's index + 1 (0: empty).
 *
 * Each thread state owns a single-producer ring of ended records, read by
 * the exporter. A ring holds a power of two >= nrec slots, and a record is
 * in at most one ring, so a push can never find its ring full.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

#define CHAIN_MAX 32

static struct trace__rec *
rec_at(const struct trace__tracer *tr, uint32_t i)
{
	return (struct trace__rec *)(tr->pool + (size_t)i * tr->stride);
}

int
trace__pool_init(struct trace__tracer *tr, size_t nrec, size_t span_bytes)
{
	struct trace__rec *r, *first = NULL, *last = NULL;
	uint32_t in_chain = 0;

	tr->stride = (sizeof(struct trace__rec) + span_bytes + 63) &
	    ~(size_t)63;
	tr->nrec = (uint32_t)nrec;
	tr->chain_len = (uint32_t)(nrec / 64);
	if (tr->chain_len < 1)
		tr->chain_len = 1;
	if (tr->chain_len > CHAIN_MAX)
		tr->chain_len = CHAIN_MAX;
	/* calloc of a large block maps zero pages lazily: untouched
	 * records cost address space, not memory. */
	if ((tr->pool = calloc(nrec, tr->stride)) == NULL)
		return TRACE_ENOMEM;
	atomic_init(&tr->free_top, 0);
	for (uint32_t i = 0; i < nrec; i++) {
		r = rec_at(tr, i);
		r->tr = tr;
		r->index = i;
		r->cap = (uint32_t)span_bytes;
		r->fast_attrs = tr->limits.attr_value_len == TRACE_NO_LIMIT ?
		    tr->limits.attr_count : 0;
		r->h.recording = 1;
		r->next = NULL;
		if (first == NULL)
			first = r;
		else
			last->next = r;
		last = r;
		if (++in_chain == tr->chain_len || i + 1 == nrec) {
			trace__pool_put_chain(tr, first);
			first = NULL;
			in_chain = 0;
		}
	}
	return TRACE_OK;
}

void
trace__pool_put_chain(struct trace__tracer *tr, struct trace__rec *first)
{
	uint64_t old, top;

	old = atomic_load_explicit(&tr->free_top, memory_order_relaxed);
	do {
		atomic_store_explicit(&first->next_chain, (uint32_t)old,
		    memory_order_relaxed);
		top = ((old >> 32) + 1) << 32 | (uint64_t)(first->index + 1);
	} while (!atomic_compare_exchange_weak_explicit(&tr->free_top, &old,
	    top, memory_order_release, memory_order_relaxed));
}

struct trace__rec *
trace__pool_get_chain(struct trace__tracer *tr)
{
	uint64_t old, top;
	struct trace__rec *r;

	old = atomic_load_explicit(&tr->free_top, memory_order_acquire);
	do {
		if ((uint32_t)old == 0)
			return NULL;
		r = rec_at(tr, (uint32_t)old - 1);
		top = ((old >> 32) + 1) << 32 |
		    atomic_load_explicit(&r->next_chain, memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(&tr->free_top, &old,
	    top, memory_order_acquire, memory_order_acquire));
	return r;
}

void
trace__pool_release(struct trace__tracer *tr, struct trace__rec **recs,
    size_t n)
{
	size_t i = 0;

	while (i < n) {
		struct trace__rec *first = recs[i], *last = recs[i];
		uint32_t k = 1;

		for (i++; i < n && k < tr->chain_len; i++, k++) {
			last->next = recs[i];
			last = recs[i];
		}
		last->next = NULL;
		trace__pool_put_chain(tr, first);
	}
}

size_t
trace__ring_depth(struct trace__tstate *ts)
{
	return (size_t)(atomic_load_explicit(&ts->pub_head,
	    memory_order_acquire) -
	    atomic_load_explicit(&ts->tail, memory_order_relaxed));
}
