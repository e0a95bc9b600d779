/* ch_arrivals.c - the traces this collector shipped, per flush
 * (ch_arrivals.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hash_set.h"
#include "format/keys.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/rowbinary.h"

struct ch_arrivals {
	pthread_mutex_t mu;   /* guards what follows */
	ch_arrival *v;        /* oldest first */
	size_t n, cap, max;
	uint64_t next;        /* the number of the next flush */
};

ch_arrivals *
ch_arrivals_new(uint64_t first, size_t max_traces)
{
	ch_arrivals *a = xcalloc(1, sizeof *a);

	pthread_mutex_init(&a->mu, NULL);
	a->next = first ? first : 1;
	a->max = max_traces;
	return a;
}

void
ch_arrivals_free(ch_arrivals *a)
{
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->mu);
	free(a->v);
	free(a);
}

/* Forgets the oldest whole flushes until n fits under max, keeping a
 * quarter free so that this runs once per many flushes. */
static void
forget_oldest(ch_arrivals *a)
{
	size_t keep = a->max - a->max / 4, cut;

	if (a->n <= a->max)
		return;
	cut = a->n - keep;
	while (cut < a->n && a->v[cut].flush == a->v[cut - 1].flush)
		cut++;
	memmove(a->v, a->v + cut, (a->n - cut) * sizeof *a->v);
	a->n -= cut;
}

static void
push(ch_arrivals *a, const ch_arrival *x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 1024;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = *x;
}

void
ch_arrivals_add(ch_arrivals *a, const uint8_t *rows, size_t len)
{
	rowbinary_reader r;
	hash_set seen = { 0 };
	ch_arrival x;
	uint16_t day;
	uint64_t max_start;

	pthread_mutex_lock(&a->mu);
	x.flush = a->next++;
	rowbinary_reader_init(&r, rows, len);
	/* A trace has one row per batch of the segment: listed once, at the
	 * earliest start. */
	while (r.left > 0 && rowbinary_get_u16(&r, &day) &&
	    rowbinary_get_fixed(&r, x.id, 16) &&
	    rowbinary_get_u64(&r, &x.start) &&
	    rowbinary_get_u64(&r, &max_start)) {
		uint64_t h = hash64(x.id, 16, 7);

		if (hash_set_add(&seen, h)) {
			push(a, &x);
			continue;
		}
		for (size_t i = a->n; i-- > 0 && a->v[i].flush == x.flush;)
			if (memcmp(a->v[i].id, x.id, 16) == 0 &&
			    x.start < a->v[i].start)
				a->v[i].start = x.start;
	}
	hash_set_clear(&seen);
	forget_oldest(a);
	pthread_mutex_unlock(&a->mu);
}

/* The index of the first trace of flush `from` or later. */
static size_t
first_of(const ch_arrivals *a, uint64_t from)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->v[mid].flush < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
ch_arrivals_get(ch_arrivals *a, uint64_t from, size_t budget,
    ch_arrivals_read *out)
{
	size_t i, end;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&a->mu);
	out->next = a->next;
	if (from == 0 || from >= a->next) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	i = first_of(a, from);
	end = i;
	while (end < a->n && end - i < budget) {
		uint64_t f = a->v[end].flush;

		while (end < a->n && a->v[end].flush == f)
			end++;
	}
	if (end < a->n) {
		out->next = a->v[end].flush;
		out->more = true;
	}
	out->n = end - i;
	out->v = xmalloc((out->n ? out->n : 1) * sizeof *out->v);
	memcpy(out->v, a->v + i, out->n * sizeof *out->v);
	pthread_mutex_unlock(&a->mu);
}
