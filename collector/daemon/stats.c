/* stats.c - self-statistics as tracequery.v1.StatsResult (see stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/stats.h"
#include "backend/backend.h"

collector_stats stats;

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
	listener_stats_bytes(ls, len);
}

void
listener_stats_bytes(listener_stats *ls, size_t len)
{
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
		backend_stat_add(r, name, (double)atomic_load(&l->requests),
		    "requests");
		snprintf(name, sizeof name, "%s.bytes", l->name);
		backend_stat_add(r, name, (double)atomic_load(&l->bytes),
		    "bytes");
		for (int i = 0; i < STATS_REJECT_COUNT; i++) {
			snprintf(name, sizeof name, "%s.rejected.%s", l->name,
			    reject_names[i]);
			backend_stat_add(r, name,
			    (double)atomic_load(&l->rejected[i]), "requests");
		}
	}
}

Tracequery__V1__StatsResult *
stats_result(int64_t backlog_requests, int64_t backlog_bytes)
{
	Tracequery__V1__StatsResult *r = xmalloc(sizeof *r);

	tracequery__v1__stats_result__init(r);
#define STATS_ADD(f, n, u) \
	backend_stat_add(r, n, (double)atomic_load(&stats.f), u);
	STATS_COUNTERS(STATS_ADD)
#undef STATS_ADD
	backend_stat_add(r, "ingest.backlog_requests",
	    (double)backlog_requests, "requests");
	backend_stat_add(r, "ingest.backlog_bytes", (double)backlog_bytes,
	    "bytes");
	backend_stat_add(r, "process.uptime", (double)(now_mono_ns() - stats.start_ns),
	    "ns");
	backend_stat_add(r, "process.rss", (double)rss_bytes(), "bytes");
	add_listeners(r);
	return r;
}

void
stats_result_free(Tracequery__V1__StatsResult *r)
{
	if (r != NULL)
		tracequery__v1__stats_result__free_unpacked(r, NULL);
}
