/*
 * ch_rows.h - one validated batch as one spool record: the RowBinary rows
 * of each table of ch_schema_tables (spans, span_index, trace_index,
 * operations, span_time, trace_spans, op_minutes), ready to be
 * concatenated into a block insert. Record: u32 span count, then per
 * section u32 length and its rows: one section per table, except that
 * span_time and trace_spans share one (same rows); a record spooled by a
 * v1 collector ends after operations, by a v2 one after span_time.
 * attr_index (schema v4) has no section: its rows are derived from
 * span_index's when a segment is shipped (ch_rows_attr_derive), so a
 * record of any version fills it.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_ROWS_H
#define COLLECTOR_CLICKHOUSE_CH_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "clickhouse/rowbinary.h"

/* The tables, in ch_schema_tables' order (a record's sections follow it
 * up to op_minutes). */
enum {
	CH_ROWS_SPANS,
	CH_ROWS_INDEX,       /* span_index */
	CH_ROWS_TRACE_INDEX, /* trace_index: start_date, trace_id, min, max */
	CH_ROWS_OPS,         /* operations */
	CH_ROWS_TIME,        /* span_time */
	CH_ROWS_BY_TRACE,    /* trace_spans */
	CH_ROWS_OP_MIN,      /* op_minutes */
	CH_ROWS_ATTR,        /* attr_index: derived from span_index's rows */
	CH_ROWS_TABLES
};
#define CH_NS_PER_DAY (86400ull * 1000000000ull)

/* A record's parts, pointing into the record. */
typedef struct ch_rows_view {
	uint32_t n_spans;
	const uint8_t *rows[CH_ROWS_TABLES];
	size_t len[CH_ROWS_TABLES];
} ch_rows_view;

/* ch_rows_encode appends batch's record to out. */
void ch_rows_encode(const backend_batch *batch, rowbinary_buf *out);
/* ch_rows_parse splits a record; false when it is malformed. Leaves
 * attr_index's part empty (derived, below). */
bool ch_rows_parse(const uint8_t *rec, size_t len, ch_rows_view *v);
/* ch_rows_attr_derive appends to out the attr_index rows (start_date,
 * key, value, service, minute, trace_id) of a record's span_index rows,
 * each distinct row once; false when those rows are malformed (out then
 * holds nothing of them). */
bool ch_rows_attr_derive(const uint8_t *index_rows, size_t len,
    rowbinary_buf *out);

#endif /* COLLECTOR_CLICKHOUSE_CH_ROWS_H */
