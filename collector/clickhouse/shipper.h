/*
 * shipper.h - the thread that moves the spool (spool.h) into ClickHouse:
 * it seals the open segment when it is old enough (flush_ms) or big
 * enough (block_spans; larger while a backlog waits), inserts each sealed
 * segment as one RowBinary block per table (oldest segment first, its
 * tables at once, a thread each; on a cluster with
 * insert_distributed_sync=1 and insert_quorum), and deletes the segment
 * only when every table confirmed. A failed insert is retried with the
 * identical block (deduplicated by ReplicatedMergeTree). On a single
 * server (plain MergeTree: no deduplication) tables already confirmed are
 * remembered in the spool, and once a segment was sent, every later
 * attempt first asks which of its blocks landed (ch_landed.h): a timeout
 * after the server committed, or a collector killed mid-insert, does not
 * store a block twice. Blocks are per table and day (ch_blocks.h). When a quorum insert is refused because too few replicas
 * are alive (code 285), the same block goes with quorum 1: ingest goes on
 * through the live replica.
 * Thread-safe: shipper_sync and shipper_stats from any thread.
 */
#ifndef COLLECTOR_CLICKHOUSE_SHIPPER_H
#define COLLECTOR_CLICKHOUSE_SHIPPER_H

#include <stdbool.h>
#include <stdint.h>

#include "clickhouse/ch_client.h"
#include "clickhouse/spool.h"

typedef struct shipper shipper;

typedef struct shipper_options {
	const char *database;
	const char *cluster;   /* NULL: a single server */
	int quorum;            /* insert_quorum on a cluster; 0: none */
	uint32_t flush_ms;     /* seal the open segment after this long */
	uint64_t block_spans;  /* or once it holds this many spans (more
	                        * while sealed segments wait: shipper.c) */
	uint32_t insert_timeout_ms; /* one insert's bound; 0: 120 s */
	struct ch_arrivals *arrivals; /* told each shipped segment's traces */
} shipper_options;

typedef struct shipper_stats {
	uint64_t shipped_spans, shipped_blocks, insert_errors;
	uint64_t quorum_degraded; /* inserts sent with quorum 1 */
	uint64_t resends_avoided; /* blocks found in after an unknown outcome */
	uint64_t last_ship_ms;    /* how long the last segment took */
} shipper_stats;

/* shipper_start starts the thread; it creates the schema before the
 * first insert if schema_ready is false. Returns 0, or -1 with *cause. */
int shipper_start(shipper **out, spool *sp, ch_client *c,
    const shipper_options *o, bool schema_ready, char **cause);
/* shipper_stop ships what it can within timeout_ms, then stops the
 * thread and frees s; what is left stays in the spool for the next start. */
void shipper_stop(shipper *s, uint32_t timeout_ms);
/* shipper_sync seals the open segment and waits until everything appended
 * before the call is in ClickHouse. Returns 0, or -1 after timeout_ms. */
int shipper_sync(shipper *s, uint32_t timeout_ms);
/* shipper_kick wakes the thread (the open segment was sealed). */
void shipper_kick(shipper *s);
/* shipper_appended: a batch went into the spool. Seals the open segment
 * when it is full (block_spans; more while a backlog waits) and wakes the
 * thread. Any thread. */
void shipper_appended(shipper *s);
void shipper_get_stats(shipper *s, shipper_stats *st);

#endif /* COLLECTOR_CLICKHOUSE_SHIPPER_H */
