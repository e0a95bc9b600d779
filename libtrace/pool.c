/*
 * pool.c - the preallocated record pool and the per-thread rings.
 *
 * The pool is one allocation of nrec fixed-size records (the memory bound)
 * made at trace_init. The free records are a stack of pointers kept
 * outside the records: the exporter, which has just read a batch's records
 * to encode them, hands them back without writing into them. (The former
 * free list, chains linked through the records, made the exporter write a
 * link into every record, and made each thread walk those links, a cache
 * miss per record when the exporter ran on another core; see
 * docs/LIBTRACE.md, "Where the exporter runs".) The stack is last in,
 * first out: records freed last are the likeliest to be in a cache, and a
 * first-in-first-out ring, which lets records cool, measured slower on
 * every placement.
 *
 * Threads take up to chain_len records at once, lock-free: read them below
 * the top, then move the top down with one CAS. The top packs a count with
 * a tag that every take and release bumps, so a CAS succeeds only if
 * nothing moved since the pointers were read. Releases are serialized by
 * free_mu (the exporter once per batch; a thread that exits with records
 * in its cache; a span ended after its tracer stopped), so no span start
 * waits on a lock.
 *
 * Each thread state owns a single-producer ring of ended records, read by
 * the exporter. A ring holds a power of two >= nrec slots, and a record is
 * in at most one ring, so a push can never find its ring full.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

static struct trace__rec *
rec_at(const struct trace__tracer *tr, uint32_t i)
{
	return (struct trace__rec *)(tr->pool + (size_t)i * tr->stride);
}

/* The free stack's top: a tag bumped by every change, and the count. */
static uint64_t
top_pack(uint64_t old, uint32_t count)
{
	return ((old >> 32) + 1) << 32 | count;
}

int
trace__pool_init(struct trace__tracer *tr, size_t nrec, size_t span_bytes)
{
	tr->stride = (sizeof(struct trace__rec) + span_bytes + 63) &
	    ~(size_t)63;
	tr->nrec = (uint32_t)nrec;
	tr->chain_len = (uint32_t)(nrec / 64);
	if (tr->chain_len < 1)
		tr->chain_len = 1;
	if (tr->chain_len > TRACE__CHAIN_MAX)
		tr->chain_len = TRACE__CHAIN_MAX;
	/* calloc of a large block maps zero pages lazily: untouched
	 * records cost address space, not memory. Records start on a cache
	 * line: glibc puts a large block 16 bytes past a page, which made
	 * every record straddle one line more than its bytes need (a
	 * 2-attribute span wrote 5 lines, not 4) and share its first line
	 * with the previous record. */
	if (tr->stride > (SIZE_MAX - 63) / nrec ||
	    (tr->pool_mem = calloc(nrec * tr->stride + 63, 1)) == NULL ||
	    (tr->free_stack = calloc(nrec, sizeof *tr->free_stack)) ==
	    NULL ||
	    pthread_mutex_init(&tr->free_mu, NULL) != 0) {
		free(tr->pool_mem);
		free(tr->free_stack);
		tr->pool_mem = NULL;
		tr->free_stack = NULL;
		return TRACE_ENOMEM;
	}
	tr->pool = (unsigned char *)(((uintptr_t)tr->pool_mem + 63) &
	    ~(uintptr_t)63);
	for (uint32_t i = 0; i < nrec; i++) {
		struct trace__rec *r = rec_at(tr, i);

		r->tr = tr;
		r->index = i;
		r->cap = (uint32_t)span_bytes;
		r->fast_attrs = tr->limits.attr_value_len == TRACE_NO_LIMIT ?
		    tr->limits.attr_count : 0;
		r->h.recording = 1;
		atomic_init(&tr->free_stack[nrec - 1 - i], r);
	}
	atomic_init(&tr->free_top, nrec);
	return TRACE_OK;
}

void
trace__pool_free(struct trace__tracer *tr)
{
	if (tr->free_stack != NULL)
		pthread_mutex_destroy(&tr->free_mu);
	free(tr->free_stack);
	free(tr->pool_mem);
}

size_t
trace__pool_take(struct trace__tracer *tr, struct trace__rec **out,
    size_t max)
{
	uint64_t old;
	uint32_t count, n;

	old = atomic_load_explicit(&tr->free_top, memory_order_acquire);
	do {
		count = (uint32_t)old;
		if (count == 0)
			return 0;
		n = count < max ? count : (uint32_t)max;
		/* Into out at once: a failed CAS just writes it again. */
		for (uint32_t i = 0; i < n; i++)
			out[i] = atomic_load_explicit(
			    &tr->free_stack[count - 1 - i],
			    memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(&tr->free_top, &old,
	    top_pack(old, count - n), memory_order_acq_rel,
	    memory_order_acquire));
	return n;
}

void
trace__pool_release(struct trace__tracer *tr, struct trace__rec *const *recs,
    size_t n)
{
	uint64_t old;
	uint32_t count;

	/* Acquire and release both ways: a take's reads of the slots come
	 * before its CAS, and a release's writes after the CAS it sees. */
	pthread_mutex_lock(&tr->free_mu);
	old = atomic_load_explicit(&tr->free_top, memory_order_acquire);
	do {
		/* Above the count: no take reads there unless the top
		 * moved, and then its CAS fails. */
		count = (uint32_t)old;
		for (size_t i = 0; i < n; i++)
			atomic_store_explicit(&tr->free_stack[count + i],
			    recs[i], memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(&tr->free_top, &old,
	    top_pack(old, count + (uint32_t)n), memory_order_acq_rel,
	    memory_order_acquire));
	pthread_mutex_unlock(&tr->free_mu);
}

size_t
trace__ring_depth(struct trace__tstate *ts)
{
	return (size_t)(atomic_load_explicit(&ts->pub_head,
	    memory_order_acquire) -
	    atomic_load_explicit(&ts->tail, memory_order_relaxed));
}
