/*
 * ch_shards.h - where a trace lives on a cluster: the shards and replicas
 * of system.clusters, and the shard that cityHash64(trace_id) picks as the
 * Distributed table does (the hash modulo the sum of shard weights, each
 * shard owning as many slots as its weight). 18.16 has no
 * optimize_skip_unused_shards, so a get-trace through the Distributed
 * table would read every shard; remote('r1|r2', db, table) on the owning
 * shard reads one, failing over between its replicas.
 * Read-only after ch_shards_load: thread-safe.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_SHARDS_H
#define COLLECTOR_CLICKHOUSE_CH_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_client.h"

typedef struct ch_shards ch_shards;

/* ch_shards_load reads cluster's layout. Returns 0, or -1 with *cause. */
int ch_shards_load(ch_shards **out, ch_client *c, const char *cluster,
    char **cause);
void ch_shards_free(ch_shards *s);
/* ch_shards_count: the number of shards. */
size_t ch_shards_count(const ch_shards *s);
/* ch_shards_of: the index of the shard that holds trace_id. */
size_t ch_shards_of(const ch_shards *s, const uint8_t *trace_id);
/* ch_shards_replicas: "host:port|host:port" (native ports) of shard i. */
const char *ch_shards_replicas(const ch_shards *s, size_t i);

#endif /* COLLECTOR_CLICKHOUSE_CH_SHARDS_H */
