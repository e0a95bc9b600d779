/*
 * ch_retention.h - retention on ClickHouse: every table is partitioned by
 * day, so expiring is dropping each whole day older than the cutoff, on
 * every shard and replica (ALTER TABLE ... ON CLUSTER ... DROP PARTITION;
 * 18.16 has no TTL). Inserts into other days go on meanwhile; queries hide
 * what started before the cutoff in the day that is kept.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_RETENTION_H
#define COLLECTOR_CLICKHOUSE_CH_RETENTION_H

#include <stdint.h>

#include "clickhouse/ch_client.h"

/* ch_retention_run drops the days that ended before now - retention.
 * *dropped counts the days. Returns 0, or -1 with *cause. */
int ch_retention_run(ch_client *c, const char *db, const char *cluster, uint64_t now_ns,
    uint64_t retention_ns, unsigned *dropped, char **cause);

#endif /* COLLECTOR_CLICKHOUSE_CH_RETENTION_H */
