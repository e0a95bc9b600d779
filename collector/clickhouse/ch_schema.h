/*
 * ch_schema.h - the ClickHouse schema (docs/STORAGE.md, "ClickHouse"):
 * created on first start and migrated by version. Each table exists as
 * NAME_local (a MergeTree, or on a cluster a ReplicatedMergeTree) and, on
 * a cluster, as NAME, a Distributed table over the local ones sharded by
 * cityHash64(trace_id), so a trace lives on one shard. Only SQL that
 * ClickHouse 18.16 and current versions both accept.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_SCHEMA_H
#define COLLECTOR_CLICKHOUSE_CH_SCHEMA_H

#include <stdbool.h>

#include "clickhouse/ch_client.h"

/* The schema version this collector writes; a database of a newer one is
 * refused (its collectors are newer than this one). */
#define CH_SCHEMA_VERSION 4

/* The tables that hold spans; retention drops their day partitions. */
extern const char *const ch_schema_tables[];
extern const size_t ch_schema_n_tables;

/* ch_schema_ensure creates the database and brings the schema to
 * CH_SCHEMA_VERSION (cluster: NULL for a single server). Returns 0, -2
 * with *cause when no host could be reached, or -1 with *cause. */
int ch_schema_ensure(ch_client *c, const char *db, const char *cluster,
    char **cause);

/* ch_schema_all: the name to read or write every shard through
 * ("spans" on a cluster, "spans_local" on one server) in buf. */
const char *ch_schema_all(const char *base, bool cluster, char *buf,
    size_t len);

#endif /* COLLECTOR_CLICKHOUSE_CH_SCHEMA_H */
