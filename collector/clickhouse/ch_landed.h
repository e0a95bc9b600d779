/*
 * ch_landed.h - did an insert unit (ch_blocks.h) land? On a single server
 * (plain MergeTree) nothing deduplicates a resent block, so after a
 * failure whose outcome is unknown (a timeout, a connection cut after the
 * request went out, a collector killed mid-insert) the shipper asks
 * before sending again. A unit is one part, committed whole or not at
 * all, so it landed exactly when every row's key is in its partition
 * (spans, span_index, span_time, trace_spans: trace and span ID;
 * trace_index: trace ID and its start range). If every key is there for
 * another reason (a client that resent the same spans), skipping the
 * unit loses nothing either.
 * operations and attr_index are never probed: resending them is
 * harmless (ReplacingMergeTrees; operations is read with DISTINCT,
 * attr_index only names candidate traces, read with GROUP BY). op_minutes holds counts with
 * no row key: its insert's outcome is read from system.query_log by the
 * unit's query ID (ch_unit_query_id); a server with no query log gets it
 * resent, which may double a count in the percentiles.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_LANDED_H
#define COLLECTOR_CLICKHOUSE_CH_LANDED_H

#include <stdbool.h>
#include <stdint.h>

#include "clickhouse/ch_blocks.h"
#include "clickhouse/ch_client.h"

/* ch_landed sets *landed. Returns 0, or -1 with a malloc'd *cause when
 * ClickHouse could not be asked (the caller tries again later). */
int ch_landed(ch_client *c, const ch_unit *u, uint32_t timeout_ms,
    bool *landed, char **cause);

#endif /* COLLECTOR_CLICKHOUSE_CH_LANDED_H */
