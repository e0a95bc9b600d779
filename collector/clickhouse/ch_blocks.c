/* ch_blocks.c - a segment's rows per table and day (ch_blocks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_blocks.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/spool.h"
#include "daemon/log.h"
#include "format/keys.h"

static bool
skip_string(rowbinary_reader *r)
{
	const uint8_t *p;
	size_t n;

	return rowbinary_get_string(r, &p, &n);
}

static bool
skip_strings(rowbinary_reader *r)
{
	uint64_t n;

	if (!rowbinary_get_varint(r, &n) || n > r->left)
		return r->ok = false;
	for (uint64_t i = 0; i < n; i++)
		if (!skip_string(r))
			return false;
	return true;
}

/* Points *p at the next n bytes. */
static bool
take(rowbinary_reader *r, const uint8_t **p, size_t n)
{
	if (r->left < n)
		return r->ok = false;
	*p = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

/* The columns after start_date, as ch_rows.c writes each table. */
static bool
read_row(int table, rowbinary_reader *r, ch_row *row)
{
	const uint8_t *skip;
	uint64_t u;

	switch (table) {
	case CH_ROWS_SPANS:
		return take(r, &row->trace_id, 16) &&
		    take(r, &row->span_id, 8) && rowbinary_get_u64(r, &u) &&
		    skip_string(r) && skip_string(r);
	case CH_ROWS_INDEX:
		return skip_string(r) && skip_string(r) &&
		    take(r, &skip, 8 + 8 + 2) && take(r, &row->trace_id, 16) &&
		    take(r, &row->span_id, 8) && take(r, &skip, 8 + 3) &&
		    skip_strings(r) && skip_strings(r);
	case CH_ROWS_TRACE_INDEX:
		return take(r, &row->trace_id, 16) &&
		    rowbinary_get_u64(r, &row->min_start) &&
		    rowbinary_get_u64(r, &row->max_start);
	case CH_ROWS_OPS:
		return skip_string(r) && skip_string(r) && take(r, &skip, 1);
	case CH_ROWS_TIME:
	case CH_ROWS_BY_TRACE:
		/* service, start_ns, name, duration_ns, dur_bucket, status,
		 * is_root, trace_id, span_id (schema v2). */
		return skip_string(r) && take(r, &skip, 8) && skip_string(r) &&
		    take(r, &skip, 8 + 2 + 1 + 1) &&
		    take(r, &row->trace_id, 16) && take(r, &row->span_id, 8);
	case CH_ROWS_OP_MIN:
		/* service, name, minute, dur_bucket, n (schema v3). */
		return skip_string(r) && skip_string(r) &&
		    take(r, &skip, 4 + 2 + 8);
	case CH_ROWS_ATTR:
		/* key, value, service, minute, trace_id (schema v4). */
		return skip_string(r) && skip_string(r) && skip_string(r) &&
		    take(r, &skip, 4) && take(r, &row->trace_id, 16);
	default:
		return r->ok = false;
	}
}

bool
ch_row_next(int table, rowbinary_reader *r, ch_row *row)
{
	memset(row, 0, sizeof *row);
	if (!r->ok || r->left == 0)
		return false;
	row->p = r->p;
	if (!rowbinary_get_u16(r, &row->day) || !read_row(table, r, row))
		return false;
	row->len = (size_t)(r->p - row->p);
	return true;
}

/* The unit of (table, day), added at the end when new. */
static ch_unit *
unit_of(ch_units *u, int table, uint16_t day)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].table == table && u->v[i].day == day)
			return &u->v[i];
	u->v = xrealloc(u->v, (u->n + 1) * sizeof *u->v);
	memset(&u->v[u->n], 0, sizeof u->v[u->n]);
	u->v[u->n].table = table;
	u->v[u->n].day = day;
	return &u->v[u->n++];
}

/* Every record's parts, each record read (and its CRC checked) once: the
 * passes below walk these views, not the segment (a walk per table and
 * pass made crc32 a third of the collector's CPU while shipping). */
static ch_rows_view *
parse_records(const uint8_t *seg, size_t len, size_t *n)
{
	size_t off = 0, rlen, cap = 0;
	const uint8_t *rec;
	ch_rows_view *v = NULL;

	*n = 0;
	while (spool_next_record(seg, len, &off, &rec, &rlen)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof *v);
		}
		if (ch_rows_parse(rec, rlen, &v[*n]))
			(*n)++;
	}
	return v;
}

/* Adds every record's rows of one table to that table's units; with
 * sizing, only adds up each unit's size (in rows.cap), so that each body
 * is allocated once at its size: doubling buffers of tens of MiB left the
 * heap fragmented (RSS grew past 350 MiB while shipping). */
static void
split_table(ch_units *u, int table, const ch_rows_view *views, size_t n,
    bool sizing)
{
	rowbinary_buf derived = { 0 };

	for (size_t i = 0; i < n; i++) {
		rowbinary_reader r;
		ch_row row;

		if (table == CH_ROWS_ATTR) {
			derived.len = 0;
			(void)ch_rows_attr_derive(views[i].rows[CH_ROWS_INDEX],
			    views[i].len[CH_ROWS_INDEX], &derived);
			rowbinary_reader_init(&r, derived.b, derived.len);
		} else {
			rowbinary_reader_init(&r, views[i].rows[table],
			    views[i].len[table]);
		}
		while (ch_row_next(table, &r, &row)) {
			rowbinary_buf *b = &unit_of(u, table, row.day)->rows;

			if (sizing)
				b->cap += row.len;
			else
				rowbinary_put_bytes(b, row.p, row.len);
		}
		if (!r.ok && !sizing)
			log_error("clickhouse: skipping malformed rows of a "
			    "spool record");
	}
	rowbinary_buf_free(&derived);
}

void
ch_units_build(ch_units *u, const uint8_t *seg, size_t len)
{
	size_t n;
	ch_rows_view *views = parse_records(seg, len, &n);

	memset(u, 0, sizeof *u);
	for (size_t i = 0; i < n; i++)
		u->n_spans += views[i].n_spans;
	for (int t = 0; t < CH_ROWS_TABLES; t++)
		split_table(u, t, views, n, true);
	for (size_t i = 0; i < u->n; i++) {
		u->v[i].rows.cap += 1;
		u->v[i].rows.b = xmalloc(u->v[i].rows.cap);
	}
	for (int t = 0; t < CH_ROWS_TABLES; t++)
		split_table(u, t, views, n, false);
	free(views);
}

int
ch_unit_step(int table)
{
	return table == CH_ROWS_ATTR ? CH_ROWS_INDEX : table;
}

void
ch_units_free(ch_units *u)
{
	for (size_t i = 0; i < u->n; i++)
		rowbinary_buf_free(&u->v[i].rows);
	free(u->v);
	memset(u, 0, sizeof *u);
}

void
ch_unit_query_id(const ch_unit *u, char *buf, size_t len)
{
	snprintf(buf, len, "trace-insert-%016llx-%d-%u",
	    (unsigned long long)hash64(u->rows.b, u->rows.len, 3), u->table,
	    (unsigned)u->day);
}
