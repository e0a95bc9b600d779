/* stats.c - self-statistics as tracequery.v1.StatsResult (see stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/stats.h"
#include "store/store.h"
#include "store/trace_locator.h"

collector_stats stats;

static void
add(Tracequery__V1__StatsResult *r, const char *name, double v,
    const char *unit)
{
	Tracequery__V1__Stat *st = xmalloc(sizeof *st);

	tracequery__v1__stat__init(st);
	st->name = xstrdup(name);
	st->unit = xstrdup(unit);
	st->value = v;
	r->stats = xrealloc(r->stats, (r->n_stats + 1) * sizeof *r->stats);
	r->stats[r->n_stats++] = st;
}

/* Reads the resident set size of this process in bytes (0 if unknown). */
static uint64_t
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * 4096;
}

static const char *const reject_names[STATS_REJECT_COUNT] = {
	[STATS_REJECT_INVALID] = "invalid",
	[STATS_REJECT_TOO_LARGE] = "too_large",
	[STATS_REJECT_RETRY_LATER] = "retry_later",
	[STATS_REJECT_INTERNAL] = "internal",
	[STATS_REJECT_PROTOCOL] = "protocol",
	[STATS_REJECT_UNAUTHENTICATED] = "unauthenticated",
};

/* Listeners register once at start, before any StatsResult is built
 * concurrently with a registration; the head is atomic all the same. */
static _Atomic(listener_stats *) listeners;

void
listener_stats_register(listener_stats *ls)
{
	for (listener_stats *l = atomic_load(&listeners); l; l = l->next)
		if (l == ls)
			return;
	ls->next = atomic_load(&listeners);
	while (!atomic_compare_exchange_weak(&listeners, &ls->next, ls))
		;
}

void
listener_stats_request(listener_stats *ls, size_t len)
{
	atomic_fetch_add_explicit(&ls->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ls->bytes, len, memory_order_relaxed);
}

void
listener_stats_reject(listener_stats *ls, stats_reject why)
{
	atomic_fetch_add_explicit(&ls->rejected[why], 1,
	    memory_order_relaxed);
}

void
listener_stats_reply(listener_stats *ls,
    Tracequery__V1__IngestReply__Code code)
{
	switch (code) {
	case TRACEQUERY__V1__INGEST_REPLY__CODE__INVALID:
		listener_stats_reject(ls, STATS_REJECT_INVALID);
		break;
	case TRACEQUERY__V1__INGEST_REPLY__CODE__TOO_LARGE:
		listener_stats_reject(ls, STATS_REJECT_TOO_LARGE);
		break;
	case TRACEQUERY__V1__INGEST_REPLY__CODE__RETRY_LATER:
		listener_stats_reject(ls, STATS_REJECT_RETRY_LATER);
		break;
	case TRACEQUERY__V1__INGEST_REPLY__CODE__INTERNAL:
		listener_stats_reject(ls, STATS_REJECT_INTERNAL);
		break;
	default:
		break;
	}
}

/* Adds every registered listener's counters to r. */
static void
add_listeners(Tracequery__V1__StatsResult *r)
{
	char name[96];

	for (listener_stats *l = atomic_load(&listeners); l; l = l->next) {
		snprintf(name, sizeof name, "%s.requests", l->name);
		add(r, name, (double)atomic_load(&l->requests), "requests");
		snprintf(name, sizeof name, "%s.bytes", l->name);
		add(r, name, (double)atomic_load(&l->bytes), "bytes");
		for (int i = 0; i < STATS_REJECT_COUNT; i++) {
			snprintf(name, sizeof name, "%s.rejected.%s", l->name,
			    reject_names[i]);
			add(r, name, (double)atomic_load(&l->rejected[i]),
			    "requests");
		}
	}
}

Tracequery__V1__StatsResult *
stats_result(store *s)
{
	Tracequery__V1__StatsResult *r = xmalloc(sizeof *r);

	tracequery__v1__stats_result__init(r);
#define STATS_ADD(f, n, u) \
	add(r, n, (double)atomic_load(&stats.f), u);
	STATS_COUNTERS(STATS_ADD)
#undef STATS_ADD
	add(r, "ingest.backlog_requests",
	    (double)atomic_load(&stats.backlog_requests), "requests");
	add(r, "ingest.backlog_bytes",
	    (double)atomic_load(&stats.backlog_bytes), "bytes");
	add(r, "process.uptime", (double)(now_mono_ns() - stats.start_ns),
	    "ns");
	add(r, "process.rss", (double)rss_bytes(), "bytes");
	add_listeners(r);
	if (s != NULL) {
		add(r, "store.disk_size", (double)store_disk_bytes(s),
		    "bytes");
		add(r, "store.stall_time", (double)store_stall_us(s) * 1000.0,
		    "ns");
		add(r, "store.estimated_keys",
		    (double)store_property_sum(s, "rocksdb.estimate-num-keys"),
		    "records");
		add(r, "store.pending_compaction",
		    (double)store_property_sum(s,
		    "rocksdb.estimate-pending-compaction-bytes"), "bytes");
		add(r, "store.trace_locator_size",
		    (double)trace_locator_bytes(store_locator(s)), "bytes");
	}
	return r;
}

void
stats_result_free(Tracequery__V1__StatsResult *r)
{
	if (r != NULL)
		tracequery__v1__stats_result__free_unpacked(r, NULL);
}
