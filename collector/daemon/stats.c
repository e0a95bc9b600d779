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

/* Adds one HTTP listener's counters under prefix. */
static void
add_http(Tracequery__V1__StatsResult *r, const char *prefix,
    stats_http *h)
{
	char name[96];

	snprintf(name, sizeof name, "%s.requests", prefix);
	add(r, name, (double)atomic_load(&h->requests), "requests");
	snprintf(name, sizeof name, "%s.bytes", prefix);
	add(r, name, (double)atomic_load(&h->bytes), "bytes");
#define STATS_ADD_REJ(f, n)                                                 \
	snprintf(name, sizeof name, "%s.rejected." n, prefix);              \
	add(r, name, (double)atomic_load(&h->rej_##f), "requests");
	STATS_HTTP_REJECTIONS(STATS_ADD_REJ)
#undef STATS_ADD_REJ
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
#define STATS_ADD_HTTP(f, n) add_http(r, n, &stats.f);
	STATS_HTTP_LISTENERS(STATS_ADD_HTTP)
#undef STATS_ADD_HTTP
	add(r, "ingest.backlog_requests",
	    (double)atomic_load(&stats.backlog_requests), "requests");
	add(r, "ingest.backlog_bytes",
	    (double)atomic_load(&stats.backlog_bytes), "bytes");
	add(r, "process.uptime", (double)(now_mono_ns() - stats.start_ns),
	    "ns");
	add(r, "process.rss", (double)rss_bytes(), "bytes");
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
