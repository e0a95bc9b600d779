/*
 * cityhash.h - ClickHouse's cityHash64 (CityHash v1.0.2) for inputs of at
 * most 16 bytes: enough to compute a trace ID's shard the way the
 * Distributed table does (cityHash64(trace_id)), so a get-trace goes to
 * the owning shard only.
 */
#ifndef COLLECTOR_CLICKHOUSE_CITYHASH_H
#define COLLECTOR_CLICKHOUSE_CITYHASH_H

#include <stddef.h>
#include <stdint.h>

/* cityhash64_short hashes len bytes, 9 <= len <= 16. */
uint64_t cityhash64_short(const uint8_t *p, size_t len);

#endif /* COLLECTOR_CLICKHOUSE_CITYHASH_H */
