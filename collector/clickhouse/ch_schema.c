/* ch_schema.c - create and migrate the ClickHouse schema (ch_schema.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_schema.h"

#define DDL_TIMEOUT_MS 120000
#define BACKFILL_TIMEOUT_MS 3600000

const char *const ch_schema_tables[] = { "spans", "span_index",
	"trace_index", "operations", "span_time", "trace_spans", "op_minutes",
	"attr_index" };
const size_t ch_schema_n_tables = ARRAY_LEN(ch_schema_tables);

/* One table of a migration: its columns, engine family (MergeTree or
 * ReplacingMergeTree), the rest of the definition and the Distributed
 * table's sharding key. */
typedef struct table_def {
	const char *name;
	const char *columns;
	const char *engine;
	const char *tail;
	const char *sharding;
} table_def;

/* Version 1. spans holds each span's OTLP bytes and its origin
 * (resource + scope) for get-trace, ordered by trace ID; span_index holds
 * what searches filter on, ordered for service/operation/time; trace_index
 * maps a trace to its days; operations is the catalog. All partitioned by
 * day, so retention drops whole partitions. */
static const table_def v1[] = {
	{ "spans",
	  "start_date Date, trace_id FixedString(16), span_id FixedString(8), "
	  "start_ns UInt64, origin String, span String",
	  "MergeTree",
	  "PARTITION BY start_date ORDER BY (trace_id, span_id) "
	  "SETTINGS index_granularity = 256",
	  "cityHash64(trace_id)" },
	{ "span_index",
	  "start_date Date, service String, name String, start_ns UInt64, "
	  "duration_ns UInt64, dur_bucket UInt16, trace_id FixedString(16), "
	  "span_id FixedString(8), parent_span_id FixedString(8), "
	  "is_root UInt8, status UInt8, kind UInt8, "
	  "attr_keys Array(String), attr_values Array(String)",
	  "MergeTree",
	  "PARTITION BY start_date ORDER BY (service, name, start_ns)",
	  "cityHash64(trace_id)" },
	{ "trace_index",
	  "start_date Date, trace_id FixedString(16), min_start UInt64, "
	  "max_start UInt64",
	  "MergeTree",
	  "PARTITION BY start_date ORDER BY trace_id "
	  "SETTINGS index_granularity = 1024",
	  "cityHash64(trace_id)" },
	{ "operations",
	  "start_date Date, service String, name String, kind UInt8",
	  "ReplacingMergeTree",
	  "PARTITION BY start_date ORDER BY (service, name, kind)",
	  "rand()" },
};

/* Version 2: two narrow copies of span_index without the attributes, for
 * the queries that span_index's order and width made slow at 10M spans.
 * span_time, ordered by (service, start_ns) in 1,024-row granules, gives
 * a service's newest spans and a window's slow spans by reading one
 * contiguous range (span_index's (service, name, start_ns) order read a
 * granule per operation and part); trace_spans, ordered by trace ID in
 * 256-row granules, gives the search summaries without a time range.
 * Written by the collector (ch_rows.c) in the same rows for both, not
 * by materialized views: 18.16 skips views on a deduplicated retry. */
#define V2_COLUMNS "start_date Date, service String, start_ns UInt64, " \
	"name String, duration_ns UInt64, dur_bucket UInt16, status UInt8, " \
	"is_root UInt8, trace_id FixedString(16), span_id FixedString(8)"

static const table_def v2[] = {
	{ "span_time", V2_COLUMNS, "MergeTree",
	  "PARTITION BY start_date ORDER BY (service, start_ns) "
	  "SETTINGS index_granularity = 1024",
	  "cityHash64(trace_id)" },
	{ "trace_spans", V2_COLUMNS, "MergeTree",
	  "PARTITION BY start_date ORDER BY trace_id "
	  "SETTINGS index_granularity = 256",
	  "cityHash64(trace_id)" },
};

/* The v2 columns of span_index, to fill v2's tables from v1's. */
#define V2_FROM_INDEX "start_date, service, start_ns, name, duration_ns, " \
	"dur_bucket, status, is_root, trace_id, span_id"

/* Version 3: op_minutes, the spans counted per service, operation, minute
 * and histogram bucket, for percentiles without reading every span of the
 * window (2M a service-hour at 10M spans). Each record's counts are
 * written by the collector; merges sum rows of one key (SummingMergeTree:
 * the start_date in the key, so only n is summed). */
static const table_def v3[] = {
	{ "op_minutes",
	  "start_date Date, service String, name String, minute UInt32, "
	  "dur_bucket UInt16, n UInt64",
	  "SummingMergeTree",
	  "PARTITION BY start_date ORDER BY (service, name, minute, "
	  "dur_bucket, start_date)",
	  "cityHash64(service, name)" },
};

/* op_minutes' rows from span_index, to fill it from a v1 or v2 database:
 * the SELECT list, then what follows FROM span_index. */
#define V3_FROM_INDEX "start_date, service, name, " \
	"toUInt32(intDiv(start_ns, 60000000000)) AS m, dur_bucket, count()"
#define V3_FROM_INDEX_TAIL "GROUP BY start_date, service, name, m, dur_bucket"

/* Version 4: attr_index, the attributes of span_index turned around, so
 * that a search by attribute reads the rows of its key and value instead
 * of every span's attribute arrays (1.7 s at 10M spans). One row per
 * (key, value, service, trace, minute), not per span: a resource's
 * attributes, repeated on each of its spans, and a value repeated within
 * a trace's minute, make one row. Ordered by (key, value, ...), so keys
 * and values compress to almost nothing; service is in the key too, for
 * searches that name one. ReplacingMergeTree over the whole row: rows
 * written twice (the same trace in two batches, a resent block, the
 * migration's copy) merge into one. Rows only name candidate traces;
 * search checks each candidate's spans (ch_query_attr.c). */
static const table_def v4[] = {
	{ "attr_index",
	  "start_date Date, key String, value String, service String, "
	  "minute UInt32, trace_id FixedString(16)",
	  "ReplacingMergeTree",
	  "PARTITION BY start_date ORDER BY (key, value, service, minute, "
	  "trace_id) SETTINGS index_granularity = 1024",
	  "cityHash64(trace_id)" },
};

/* attr_index's rows from span_index, to fill it from an older database
 * (rows repeated here merge away, as above). */
#define V4_FROM_INDEX "start_date, k, v, service, " \
	"toUInt32(intDiv(start_ns, 60000000000)) AS m, trace_id"
#define V4_FROM_INDEX_TAIL "ARRAY JOIN attr_keys AS k, attr_values AS v"

static const table_def version_table = {
	"schema_version", "version UInt32, applied_unix UInt64", "MergeTree",
	"ORDER BY version", "rand()"
};

const char *
ch_schema_all(const char *base, bool cluster, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", base, cluster ? "" : "_local");
	return buf;
}

static int
run(ch_client *c, const char *sql, const char *params, char **cause)
{
	ch_reply rep;
	int rv = ch_client_exec(c, sql, NULL, 0, params, DDL_TIMEOUT_MS, &rep,
	    cause);

	if (rv != 0 && rep.http_status == 0)
		rv = -2; /* no host answered */
	ch_reply_fini(&rep);
	return rv;
}

/* Creates NAME_local and, on a cluster, the Distributed NAME. */
static int
create_table(ch_client *c, const char *db, const char *cluster,
    const table_def *t, char **cause)
{
	char *sql, on[128] = "";
	int rv;

	if (cluster != NULL)
		snprintf(on, sizeof on, " ON CLUSTER %s", cluster);
	if (cluster != NULL)
		xasprintf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s_local%s (%s) "
		    "ENGINE = Replicated%s('/clickhouse/tables/{shard}/%s/%s', "
		    "'{replica}') %s", db, t->name, on, t->columns, t->engine,
		    db, t->name, t->tail);
	else
		xasprintf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s_local (%s) "
		    "ENGINE = %s %s", db, t->name, t->columns, t->engine,
		    t->tail);
	rv = run(c, sql, NULL, cause);
	free(sql);
	if (rv != 0 || cluster == NULL)
		return rv;
	xasprintf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s_local "
	    "ENGINE = Distributed(%s, %s, %s_local, %s)", db, t->name, on, db,
	    t->name, cluster, db, t->name, t->sharding);
	rv = run(c, sql, NULL, cause);
	free(sql);
	return rv;
}

/* Copies a v1 database's spans into v2's tables (through the Distributed
 * tables on a cluster, so each row lands on its trace's shard once). */
static int
backfill_v2(ch_client *c, const char *db, bool cluster, char **cause)
{
	char *sql, from[64], to[64];
	ch_reply rep;
	int rv = 0;

	for (size_t i = 0; i < ARRAY_LEN(v2) && rv == 0; i++) {
		xasprintf(&sql, "INSERT INTO %s.%s SELECT " V2_FROM_INDEX
		    " FROM %s.%s", db, ch_schema_all(v2[i].name, cluster, to,
		    sizeof to), db, ch_schema_all("span_index", cluster, from,
		    sizeof from));
		rv = ch_client_exec(c, sql, NULL, 0, cluster ?
		    "insert_distributed_sync=1" : NULL, BACKFILL_TIMEOUT_MS,
		    &rep, cause) == 0 ? 0 : -1;
		ch_reply_fini(&rep);
		free(sql);
	}
	return rv;
}

/* Fills table from span_index: SELECT cols FROM span_index tail. */
static int
backfill_from_index(ch_client *c, const char *db, bool cluster,
    const char *table, const char *cols, const char *tail, char **cause)
{
	char *sql, to[64], idx[64];
	ch_reply rep;
	int rv;

	xasprintf(&sql, "INSERT INTO %s.%s SELECT %s FROM %s.%s %s", db,
	    ch_schema_all(table, cluster, to, sizeof to), cols, db,
	    ch_schema_all("span_index", cluster, idx, sizeof idx), tail);
	rv = ch_client_exec(c, sql, NULL, 0, cluster ?
	    "insert_distributed_sync=1" : NULL, BACKFILL_TIMEOUT_MS, &rep,
	    cause) == 0 ? 0 : -1;
	ch_reply_fini(&rep);
	free(sql);
	return rv;
}

/* The highest version applied, 0 for a new database. */
static int
current_version(ch_client *c, bool cluster, unsigned *out, char **cause)
{
	char sql[128], tbl[64];
	ch_reply rep;
	int rv;

	snprintf(sql, sizeof sql, "SELECT max(version) FROM %s",
	    ch_schema_all("schema_version", cluster, tbl, sizeof tbl));
	rv = ch_client_exec(c, sql, NULL, 0, NULL, DDL_TIMEOUT_MS, &rep,
	    cause);
	if (rv == 0)
		*out = (unsigned)strtoul((const char *)rep.data, NULL, 10);
	ch_reply_fini(&rep);
	return rv;
}

static int
record_version(ch_client *c, bool cluster, unsigned v, char **cause)
{
	char sql[256], tbl[64];

	snprintf(sql, sizeof sql, "INSERT INTO %s (version, applied_unix) "
	    "VALUES (%u, %llu)", ch_schema_all("schema_version", cluster,
	    tbl, sizeof tbl), v, (unsigned long long)(now_unix_ns() / 1000000000));
	return run(c, sql, cluster ? "insert_distributed_sync=1" : NULL,
	    cause);
}

int
ch_schema_ensure(ch_client *c, const char *db, const char *cluster,
    char **cause)
{
	char *sql;
	unsigned have = 0;
	int rv;

	xasprintf(&sql, "CREATE DATABASE IF NOT EXISTS %s%s%s", db,
	    cluster ? " ON CLUSTER " : "", cluster ? cluster : "");
	rv = run(c, sql, "database=default", cause);
	free(sql);
	if (rv != 0)
		return rv;
	if (create_table(c, db, cluster, &version_table, cause) != 0 ||
	    current_version(c, cluster != NULL, &have, cause) != 0)
		return -1;
	if (have > CH_SCHEMA_VERSION) {
		xasprintf(cause, "clickhouse database %s has schema version %u; "
		    "this collector knows up to %u: upgrade it", db, have,
		    CH_SCHEMA_VERSION);
		return -1;
	}
	if (have >= CH_SCHEMA_VERSION)
		return 0;
	/* Migrations run in order; each is idempotent (IF NOT EXISTS), so two
	 * collectors starting at once both succeed. */
	for (size_t i = 0; have < 1 && i < ARRAY_LEN(v1); i++)
		if (create_table(c, db, cluster, &v1[i], cause) != 0)
			return -1;
	if (have < 1 && record_version(c, cluster != NULL, 1, cause) != 0)
		return -1;
	for (size_t i = 0; have < 2 && i < ARRAY_LEN(v2); i++)
		if (create_table(c, db, cluster, &v2[i], cause) != 0)
			return -1;
	/* An older database's spans are copied once (collectors upgraded
	 * should start one at a time: two copying at once would count the
	 * copied spans twice in percentiles). */
	if (have == 1 && backfill_v2(c, db, cluster != NULL, cause) != 0)
		return -1;
	if (have < 2 && record_version(c, cluster != NULL, 2, cause) != 0)
		return -1;
	for (size_t i = 0; have < 3 && i < ARRAY_LEN(v3); i++)
		if (create_table(c, db, cluster, &v3[i], cause) != 0)
			return -1;
	if (have >= 1 && have < 3 && backfill_from_index(c, db, cluster !=
	    NULL, "op_minutes", V3_FROM_INDEX, V3_FROM_INDEX_TAIL, cause) != 0)
		return -1;
	if (have < 3 && record_version(c, cluster != NULL, 3, cause) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(v4); i++)
		if (create_table(c, db, cluster, &v4[i], cause) != 0)
			return -1;
	if (have >= 1 && backfill_from_index(c, db, cluster != NULL,
	    "attr_index", V4_FROM_INDEX, V4_FROM_INDEX_TAIL, cause) != 0)
		return -1;
	return record_version(c, cluster != NULL, 4, cause);
}
