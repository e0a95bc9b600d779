/* ch_landed.c - asks whether an insert unit landed (ch_landed.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hash_set.h"
#include "clickhouse/ch_landed.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_sql.h"
#include "format/keys.h"

#define PROBE_KEYS 1000 /* keys per SELECT: about 100 KiB of SQL */

static uint64_t
key_hash(int table, const ch_row *row)
{
	uint8_t k[32];

	memcpy(k, row->trace_id, 16);
	if (table == CH_ROWS_TRACE_INDEX) {
		memcpy(k + 16, &row->min_start, 8);
		memcpy(k + 24, &row->max_start, 8);
	} else {
		memcpy(k + 16, row->span_id, 8);
		memset(k + 24, 0, 8);
	}
	return hash64(k, sizeof k, 11);
}

static void
start_sql(rowbinary_buf *sql, const ch_unit *u)
{
	const char *cols = u->table == CH_ROWS_TRACE_INDEX ?
	    "trace_id, min_start, max_start" : "trace_id, span_id";
	char tbl[64];

	sql->len = 0;
	ch_sql_add(sql, "SELECT uniqExact(%s) FROM %s WHERE start_date = ",
	    cols, ch_schema_all(ch_schema_tables[u->table], false, tbl,
	    sizeof tbl));
	ch_sql_date(sql, (uint64_t)u->day * CH_NS_PER_DAY);
	ch_sql_add(sql, " AND (%s) IN (", cols);
}

static void
add_key(rowbinary_buf *sql, int table, const ch_row *row, bool first)
{
	ch_sql_add(sql, first ? "(" : ", (");
	ch_sql_id(sql, row->trace_id, 16);
	if (table == CH_ROWS_TRACE_INDEX) {
		ch_sql_add(sql, ", %llu, %llu)",
		    (unsigned long long)row->min_start,
		    (unsigned long long)row->max_start);
	} else {
		ch_sql_add(sql, ", ");
		ch_sql_id(sql, row->span_id, 8);
		ch_sql_add(sql, ")");
	}
}

/* Runs one probe SELECT; adds the keys it found to *found. */
static int
count_found(ch_client *c, rowbinary_buf *sql, uint32_t timeout_ms,
    uint64_t *found, char **cause)
{
	rowbinary_reader r;
	ch_reply rep;
	uint64_t n = 0;
	int rv;

	ch_sql_add(sql, ") FORMAT RowBinary");
	rv = ch_client_exec(c, ch_sql_text(sql), NULL, 0,
	    "max_query_size=4194304", timeout_ms, &rep, cause);
	if (rv == 0) {
		rowbinary_reader_init(&r, rep.data, rep.len);
		if (rowbinary_get_u64(&r, &n)) {
			*found += n;
		} else {
			xasprintf(cause, "clickhouse: probe reply did not "
			    "decode");
			rv = -1;
		}
	}
	ch_reply_fini(&rep);
	return rv;
}

/* For op_minutes (counts, no row key): the insert's outcome from
 * system.query_log, by the unit's query ID (the insert asked for
 * log_queries). Finished there: landed. Otherwise (failed, never logged,
 * or a server that keeps no query log) it is resent; one still running
 * refuses the resend (code 216) until it ends. */
static int
landed_by_log(ch_client *c, const ch_unit *u, uint32_t timeout_ms,
    bool *landed, char **cause)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	char qid[64];
	uint64_t n = 0;
	int rv;

	/* A refusal (a user without SYSTEM rights) still lets the log be
	 * read; only a server that did not answer ends the probe. */
	rv = ch_client_exec(c, "SYSTEM FLUSH LOGS", NULL, 0, NULL, timeout_ms,
	    &rep, cause);
	if (rv != 0 && rep.http_status == 0) {
		ch_reply_fini(&rep);
		return -1;
	}
	ch_reply_fini(&rep);
	free(*cause);
	*cause = NULL;
	ch_unit_query_id(u, qid, sizeof qid);
	ch_sql_add(&sql, "SELECT count() FROM system.query_log WHERE "
	    "event_date >= yesterday() AND type = 2 AND query_id = ");
	ch_sql_quote(&sql, qid);
	ch_sql_add(&sql, " FORMAT RowBinary");
	rv = ch_client_exec(c, ch_sql_text(&sql), NULL, 0, NULL, timeout_ms,
	    &rep, cause);
	rowbinary_buf_free(&sql);
	if (rv != 0 && rep.http_status != 0) {
		/* No query log here: resend, as before this probe. */
		free(*cause);
		*cause = NULL;
		rv = 0;
	} else if (rv == 0) {
		rowbinary_reader_init(&r, rep.data, rep.len);
		rowbinary_get_u64(&r, &n);
	}
	ch_reply_fini(&rep);
	*landed = rv == 0 && n > 0;
	return rv;
}

int
ch_landed(ch_client *c, const ch_unit *u, uint32_t timeout_ms,
    bool *landed, char **cause)
{
	rowbinary_buf sql = { 0 };
	hash_set seen = { 0 };
	rowbinary_reader r;
	ch_row row;
	uint64_t distinct = 0, found = 0;
	size_t in_sql = 0;
	int rv = 0;

	*landed = false;
	if (u->table == CH_ROWS_OPS || u->table == CH_ROWS_ATTR)
		return 0;
	if (u->table == CH_ROWS_OP_MIN)
		return landed_by_log(c, u, timeout_ms, landed, cause);
	rowbinary_reader_init(&r, u->rows.b, u->rows.len);
	while (rv == 0 && ch_row_next(u->table, &r, &row)) {
		if (!hash_set_add(&seen, key_hash(u->table, &row)))
			continue;
		distinct++;
		if (in_sql == 0)
			start_sql(&sql, u);
		add_key(&sql, u->table, &row, in_sql++ == 0);
		if (in_sql == PROBE_KEYS) {
			rv = count_found(c, &sql, timeout_ms, &found, cause);
			in_sql = 0;
		}
	}
	if (rv == 0 && in_sql > 0)
		rv = count_found(c, &sql, timeout_ms, &found, cause);
	hash_set_clear(&seen);
	rowbinary_buf_free(&sql);
	*landed = rv == 0 && distinct > 0 && found == distinct;
	return rv;
}
