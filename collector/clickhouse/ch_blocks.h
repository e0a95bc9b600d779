/*
 * ch_blocks.h - a sealed spool segment's rows as insert units: one per
 * table and day. Every table is partitioned by day, and an INSERT of one
 * partition's rows (fewer than max_insert_block_size, 1,048,576) writes
 * one part, committed whole or not at all; an INSERT over several days
 * writes one part per day, one after the other. So a unit either landed
 * or did not, which is what the shipper asks ClickHouse after a failure
 * whose outcome it cannot know (ch_landed.h). Units come in a fixed order
 * (table, then day as first seen), so a retry sends identical blocks.
 * Also the row walker that reads back the rows ch_rows.c wrote.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_BLOCKS_H
#define COLLECTOR_CLICKHOUSE_CH_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickhouse/rowbinary.h"

typedef struct ch_unit {
	int table;          /* index in ch_schema_tables */
	uint16_t day;       /* the partition: days since 1970-01-01 */
	rowbinary_buf rows; /* RowBinary, ready to insert */
} ch_unit;

typedef struct ch_units {
	ch_unit *v;
	size_t n;
	uint64_t n_spans;
} ch_units;

/* ch_unit_query_id writes the unit's query ID (from its bytes: the same
 * on every retry) into buf (at least 64 bytes). */
void ch_unit_query_id(const ch_unit *u, char *buf, size_t len);

/* ch_units_build splits a segment (spool records, ch_rows.h) into units;
 * a record or row that does not parse is skipped and logged. */
void ch_units_build(ch_units *u, const uint8_t *seg, size_t len);
void ch_units_free(ch_units *u);
/* ch_unit_step: the table whose bit in a segment's done mask (spool.h)
 * also covers table's units: attr_index's rows, derived from span_index's,
 * go out with them (the one-byte mask has no room for an eighth table). */
int ch_unit_step(int table);

/* One row as ch_rows.c wrote it: its bytes and what identifies it. */
typedef struct ch_row {
	const uint8_t *p;
	size_t len;
	uint16_t day;
	const uint8_t *trace_id;        /* all but operations */
	const uint8_t *span_id;         /* all but trace_index, operations */
	uint64_t min_start, max_start;  /* trace_index */
} ch_row;

/* ch_row_next reads table's next row from r; false at the end or when
 * the row is malformed (r->ok tells which). */
bool ch_row_next(int table, rowbinary_reader *r, ch_row *row);

#endif /* COLLECTOR_CLICKHOUSE_CH_BLOCKS_H */
