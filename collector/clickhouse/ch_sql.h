/*
 * ch_sql.h - building SQL text for ClickHouse safely: every string from a
 * request goes in as a quoted literal (backslash and quote escaped), every
 * ID as unhex() of its hex, never spliced raw.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_SQL_H
#define COLLECTOR_CLICKHOUSE_CH_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "clickhouse/rowbinary.h"

/* ch_sql_add appends formatted text (no request data in fmt's args). */
void ch_sql_add(rowbinary_buf *q, const char *fmt, ...) PRINTFLIKE(2, 3);
/* ch_sql_quote appends s as a string literal. */
void ch_sql_quote(rowbinary_buf *q, const char *s);
/* ch_sql_id appends toFixedString(unhex('..'), len) for a binary ID. */
void ch_sql_id(rowbinary_buf *q, const uint8_t *id, size_t len);
/* ch_sql_date appends the Date literal of the day unix_ns falls in. */
void ch_sql_date(rowbinary_buf *q, uint64_t unix_ns);
/* ch_sql_text NUL-terminates q and returns its text. */
const char *ch_sql_text(rowbinary_buf *q);

#endif /* COLLECTOR_CLICKHOUSE_CH_SQL_H */
