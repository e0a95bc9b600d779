/* ch_sql.c - SQL text with quoted literals (ch_sql.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clickhouse/ch_sql.h"

void
ch_sql_add(rowbinary_buf *q, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		rowbinary_put_bytes(q, buf, (size_t)n < sizeof buf ?
		    (size_t)n : sizeof buf - 1);
}

void
ch_sql_quote(rowbinary_buf *q, const char *s)
{
	rowbinary_put_u8(q, '\'');
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			rowbinary_put_u8(q, '\\');
		rowbinary_put_u8(q, (uint8_t)*s);
	}
	rowbinary_put_u8(q, '\'');
}

void
ch_sql_id(rowbinary_buf *q, const uint8_t *id, size_t len)
{
	char hex[65];

	hex_encode(id, len < 32 ? len : 32, hex);
	ch_sql_add(q, "toFixedString(unhex('%s'), %zu)", hex, len);
}

void
ch_sql_date(rowbinary_buf *q, uint64_t unix_ns)
{
	time_t t = (time_t)(unix_ns / 1000000000ull);
	struct tm tm;
	char buf[16];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
	ch_sql_add(q, "'%s'", buf);
}

const char *
ch_sql_text(rowbinary_buf *q)
{
	rowbinary_put_u8(q, 0);
	q->len--;
	return (const char *)q->b;
}
