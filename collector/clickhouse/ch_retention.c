/* ch_retention.c - dropping expired days (ch_retention.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_retention.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_sql.h"

#define RETENTION_TIMEOUT_MS 120000

/* The oldest day any table holds (days since 1970), or UINT64_MAX. */
static int
oldest_day(ch_client *c, bool cluster, uint64_t *day, char **cause)
{
	rowbinary_buf sql = { 0 };
	rowbinary_reader r;
	ch_reply rep;
	char tbl[64];
	int rv;

	*day = UINT64_MAX;
	ch_sql_add(&sql, "SELECT toUInt64(min(d)) FROM (");
	for (size_t t = 0; t < ch_schema_n_tables; t++)
		ch_sql_add(&sql, "%sSELECT toUInt16(min(start_date)) AS d, "
		    "count() AS n FROM %s", t ? " UNION ALL " : "",
		    ch_schema_all(ch_schema_tables[t], cluster, tbl, sizeof tbl));
	ch_sql_add(&sql, ") WHERE n > 0 FORMAT RowBinary");
	rv = ch_client_exec(c, ch_sql_text(&sql), NULL, 0, NULL,
	    RETENTION_TIMEOUT_MS, &rep, cause);
	rowbinary_buf_free(&sql);
	rowbinary_reader_init(&r, rep.data, rep.len);
	if (rv == 0 && !rowbinary_get_u64(&r, day))
		*day = UINT64_MAX;
	ch_reply_fini(&rep);
	return rv;
}

static int
drop_day(ch_client *c, const char *db, const char *cluster, uint64_t day,
    char **cause)
{
	for (size_t t = 0; t < ch_schema_n_tables; t++) {
		rowbinary_buf sql = { 0 };
		ch_reply rep;
		int rv;

		/* ON CLUSTER runs on other hosts: name the database. */
		ch_sql_add(&sql, "ALTER TABLE %s.%s_local%s%s DROP PARTITION ",
		    db, ch_schema_tables[t], cluster ? " ON CLUSTER " : "",
		    cluster ? cluster : "");
		ch_sql_date(&sql, day * CH_NS_PER_DAY);
		rv = ch_client_exec(c, ch_sql_text(&sql), NULL, 0, NULL,
		    RETENTION_TIMEOUT_MS, &rep, cause);
		rowbinary_buf_free(&sql);
		ch_reply_fini(&rep);
		if (rv != 0)
			return -1;
	}
	return 0;
}

int
ch_retention_run(ch_client *c, const char *db, const char *cluster, uint64_t now_ns,
    uint64_t retention_ns, unsigned *dropped, char **cause)
{
	uint64_t first, end_day;

	*dropped = 0;
	if (retention_ns == 0 || retention_ns >= now_ns)
		return 0;
	/* Days wholly before the cutoff. */
	end_day = (now_ns - retention_ns) / CH_NS_PER_DAY;
	if (oldest_day(c, cluster != NULL, &first, cause) != 0)
		return -1;
	for (uint64_t d = first; d < end_day; d++) {
		if (drop_day(c, db, cluster, d, cause) != 0)
			return -1;
		(*dropped)++;
	}
	return 0;
}
