/*
 * trace_locator.c - the traces family in memory (store.h).
 *
 * An entry is (fingerprint << 6) | minute of the hour, where the
 * fingerprint is 26 bits of the trace ID's hash, never 0, so 0 marks an
 * empty slot. The table index is the fingerprint's low bits, so a table
 * doubles by re-placing its entries, without the trace IDs. Linear
 * probing at most three quarters full: a lookup reads a cache line or
 * two per hour.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/log.h"
#include "format/keys.h"
#include "daemon/log.h"
#include "store/store.h"

#define FP_BITS 26
#define MINUTE_BITS 6
#define MIN_SLOTS 1024u
#define MAX_SLOTS (1u << FP_BITS)
/* Pairs the load adds per hold of the lock, so ingest is not kept out. */
#define LOAD_BATCH 1024

typedef struct hour_table {
	uint32_t hour;     /* unix hours */
	bool incomplete;   /* a pair did not fit: the hour cannot answer */
	uint32_t *slots;
	size_t mask;       /* slot count - 1 */
	size_t used;
} hour_table;

struct trace_locator {
	pthread_rwlock_t lock;
	hour_table *hours; /* ascending by hour */
	size_t n_hours, cap_hours;
	size_t bytes, max_bytes;
	bool ready;        /* the traces family is loaded */
	bool warned;
	pthread_t loader;
	bool loading;
	_Atomic bool stop;
	struct store *st;
};

trace_locator *
trace_locator_new(size_t max_bytes)
{
	trace_locator *l = xcalloc(1, sizeof *l);

	pthread_rwlock_init(&l->lock, NULL);
	l->max_bytes = max_bytes ? max_bytes : TRACE_LOCATOR_DEFAULT_BYTES;
	return l;
}

void
trace_locator_wait(trace_locator *l)
{
	if (l->loading)
		pthread_join(l->loader, NULL);
	l->loading = false;
}

void
trace_locator_free(trace_locator *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stop, true);
	trace_locator_wait(l);
	for (size_t i = 0; i < l->n_hours; i++)
		free(l->hours[i].slots);
	free(l->hours);
	pthread_rwlock_destroy(&l->lock);
	free(l);
}

static uint32_t
fingerprint(const uint8_t *trace_id)
{
	uint32_t fp = (uint32_t)(hash64(trace_id, KEY_TRACE_ID_LEN, 0x10ca7e) >>
	    (64 - FP_BITS));

	return fp ? fp : 1;
}

/* Places e in slots (mask + 1 of them) unless it is there; returns 1 if
 * placed. */
static int
place(uint32_t *slots, size_t mask, uint32_t e)
{
	size_t i = (e >> MINUTE_BITS) & mask;

	for (; slots[i] != 0; i = (i + 1) & mask)
		if (slots[i] == e)
			return 0;
	slots[i] = e;
	return 1;
}

/* Gives up on h (it cannot answer while live) and frees its slots. */
static void
give_up(trace_locator *l, hour_table *h)
{
	if (!l->warned)
		log_warn("trace locator: over its %zu MiB; get-trace reads "
		    "the traces family until hour %u expires",
		    l->max_bytes >> 20, h->hour);
	l->warned = true;
	if (h->slots != NULL)
		l->bytes -= (h->mask + 1) * sizeof *h->slots;
	free(h->slots);
	h->slots = NULL;
	h->mask = 0;
	h->used = 0;
	h->incomplete = true;
}

/* Gives h a table of n slots (a power of two), re-placing its entries;
 * returns -1 when over the limit. */
static int
resize(trace_locator *l, hour_table *h, size_t n)
{
	size_t old = h->slots ? h->mask + 1 : 0;
	uint32_t *slots;

	if (n > MAX_SLOTS ||
	    l->bytes - old * sizeof *slots + n * sizeof *slots > l->max_bytes)
		return -1;
	slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < old; i++)
		if (h->slots[i] != 0)
			place(slots, n - 1, h->slots[i]);
	free(h->slots);
	l->bytes += (n - old) * sizeof *slots;
	h->slots = slots;
	h->mask = n - 1;
	return 0;
}

/* The table of hour, made if missing (sized for as many pairs as the
 * hour before it held). Caller holds the write lock. */
static hour_table *
hour_get(trace_locator *l, uint32_t hour)
{
	size_t lo = 0, hi = l->n_hours, n = MIN_SLOTS;
	hour_table *h;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->hours[mid].hour < hour)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->n_hours && l->hours[lo].hour == hour)
		return &l->hours[lo];
	if (l->n_hours == l->cap_hours) {
		l->cap_hours = l->cap_hours ? l->cap_hours * 2 : 8;
		l->hours = xrealloc(l->hours, l->cap_hours * sizeof *l->hours);
	}
	memmove(&l->hours[lo + 1], &l->hours[lo],
	    (l->n_hours - lo) * sizeof *l->hours);
	l->n_hours++;
	h = &l->hours[lo];
	memset(h, 0, sizeof *h);
	h->hour = hour;
	if (lo > 0)
		while (n < MAX_SLOTS && n * 3 / 4 <= l->hours[lo - 1].used)
			n *= 2;
	if (resize(l, h, n) != 0)
		give_up(l, h);
	return h;
}

static void
add_locked(trace_locator *l, const uint8_t *trace_id, uint32_t minute)
{
	hour_table *h = hour_get(l, minute / 60);
	uint32_t e = fingerprint(trace_id) << MINUTE_BITS | minute % 60;

	if (h->incomplete)
		return;
	if ((h->used + 1) * 4 > (h->mask + 1) * 3 &&
	    resize(l, h, (h->mask + 1) * 2) != 0) {
		give_up(l, h);
		return;
	}
	h->used += (size_t)place(h->slots, h->mask, e);
}

void
trace_locator_add(trace_locator *l, const trace_minute *tm, size_t n)
{
	pthread_rwlock_wrlock(&l->lock);
	for (size_t i = 0; i < n; i++)
		add_locked(l, tm[i].trace_id, tm[i].minute);
	pthread_rwlock_unlock(&l->lock);
}

static bool
hour_live(const hour_table *h, uint64_t cutoff_ns)
{
	return (uint64_t)h->hour * KEY_HOUR_NS + KEY_HOUR_NS > cutoff_ns;
}

/* Adds to out the minutes of h whose entry matches fp; returns the new
 * count. */
static size_t
find_in_hour(const hour_table *h, uint32_t fp, uint64_t cutoff_ns,
    uint32_t *out, size_t n, size_t max)
{
	for (size_t i = fp & h->mask; h->slots[i] != 0 && n < max;
	    i = (i + 1) & h->mask) {
		uint32_t minute;

		if (h->slots[i] >> MINUTE_BITS != fp)
			continue;
		minute = h->hour * 60 + (h->slots[i] & ((1u << MINUTE_BITS) - 1));
		if ((uint64_t)minute * KEY_MINUTE_NS + KEY_MINUTE_NS > cutoff_ns)
			out[n++] = minute;
	}
	return n;
}

static void
sort_minutes(uint32_t *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = m[i];
		size_t j = i;

		for (; j > 0 && m[j - 1] > v; j--)
			m[j] = m[j - 1];
		m[j] = v;
	}
}

int
trace_locator_find(trace_locator *l, const uint8_t *trace_id,
    uint64_t cutoff_ns, uint32_t *out, size_t max)
{
	uint32_t fp = fingerprint(trace_id);
	size_t n = 0;
	int rv = 0;

	pthread_rwlock_rdlock(&l->lock);
	if (!l->ready)
		rv = -1;
	for (size_t i = 0; i < l->n_hours && rv == 0; i++) {
		const hour_table *h = &l->hours[i];

		if (!hour_live(h, cutoff_ns))
			continue;
		if (h->incomplete)
			rv = -1;
		else
			n = find_in_hour(h, fp, cutoff_ns, out, n, max);
	}
	pthread_rwlock_unlock(&l->lock);
	if (rv != 0)
		return -1;
	sort_minutes(out, n);
	return (int)n;
}

/* True when a live hour of l cannot answer (over the memory limit). */
static bool
any_incomplete(const trace_locator *l, uint64_t cutoff_ns)
{
	for (size_t i = 0; i < l->n_hours; i++)
		if (hour_live(&l->hours[i], cutoff_ns) && l->hours[i].incomplete)
			return true;
	return false;
}

/* True when a live hour of l may hold a minute of the trace fp. */
static bool
find_one(const trace_locator *l, uint32_t fp, uint64_t cutoff_ns)
{
	uint32_t minute;

	for (size_t i = 0; i < l->n_hours; i++)
		if (hour_live(&l->hours[i], cutoff_ns) &&
		    find_in_hour(&l->hours[i], fp, cutoff_ns, &minute, 0, 1))
			return true;
	return false;
}

int
trace_locator_find_any(trace_locator *l, const uint8_t *const *trace_ids,
    size_t n, uint64_t cutoff_ns, bool *found)
{
	int rv = 0;

	pthread_rwlock_rdlock(&l->lock);
	if (!l->ready || any_incomplete(l, cutoff_ns))
		rv = -1;
	for (size_t t = 0; t < n && rv == 0; t++)
		found[t] = find_one(l, fingerprint(trace_ids[t]), cutoff_ns);
	pthread_rwlock_unlock(&l->lock);
	return rv;
}

void
trace_locator_expire(trace_locator *l, uint64_t cutoff_ns)
{
	size_t kept = 0;

	pthread_rwlock_wrlock(&l->lock);
	for (size_t i = 0; i < l->n_hours; i++) {
		hour_table *h = &l->hours[i];

		if (hour_live(h, cutoff_ns)) {
			l->hours[kept++] = *h;
			continue;
		}
		l->bytes -= h->slots ? (h->mask + 1) * sizeof *h->slots : 0;
		free(h->slots);
	}
	l->n_hours = kept;
	pthread_rwlock_unlock(&l->lock);
}

size_t
trace_locator_bytes(trace_locator *l)
{
	size_t b;

	pthread_rwlock_rdlock(&l->lock);
	b = l->bytes;
	pthread_rwlock_unlock(&l->lock);
	return b;
}

/* ---------------------------------------------------------------- load */

/* Adds the traces family's keys, LOAD_BATCH at a time, then answers. */
static void *
load_main(void *arg)
{
	trace_locator *l = arg;
	store_iter *it = store_iter_new(l->st, STORE_CF_TRACES, NULL, 0, NULL,
	    0, false);
	uint8_t ids[LOAD_BATCH][KEY_TRACE_ID_LEN];
	trace_minute tm[LOAD_BATCH];
	size_t n = 0;
	bool done = true;

	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen;
		const uint8_t *k = store_iter_key(it, &klen);

		if (klen != KEY_TRACE_LEN)
			continue;
		memcpy(ids[n], k, KEY_TRACE_ID_LEN);
		tm[n] = (trace_minute){ ids[n], key_trace_minute(k) };
		if (++n == LOAD_BATCH) {
			trace_locator_add(l, tm, n);
			n = 0;
			if (atomic_load(&l->stop)) {
				done = false;
				break;
			}
		}
	}
	/* A read error ends the scan early: the traces family then stays the
	 * answer, rather than a locator that could miss a minute. */
	if (store_iter_failed(it))
		done = false;
	store_iter_free(it);
	trace_locator_add(l, tm, n);
	pthread_rwlock_wrlock(&l->lock);
	l->ready = done;
	pthread_rwlock_unlock(&l->lock);
	return NULL;
}

int
trace_locator_load(trace_locator *l, struct store *st)
{
	l->st = st;
	if (pthread_create(&l->loader, NULL, load_main, l) != 0)
		return -1;
	l->loading = true;
	return 0;
}
