/*
 * ch_arrivals.h - the traces this collector shipped, flush by flush, for
 * the query service's Tail (ch_query_tail.c). ClickHouse keeps no
 * arrival order (no column says when a row came, and merges mix parts),
 * and the schema is not ours to widen, so the collector remembers what it
 * shipped: each segment the shipper confirmed is one "flush", numbered
 * from the collector's start time in microseconds on (so a cursor from
 * before a restart is older than every flush after it), holding the
 * trace IDs of its trace_index rows. At most max_traces IDs are kept;
 * the oldest whole flushes are forgotten first.
 * Thread-safe: the shipper adds, queries read.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_ARRIVALS_H
#define COLLECTOR_CLICKHOUSE_CH_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ch_arrivals ch_arrivals;

/* One trace of a flush: its ID and its earliest span start there. */
typedef struct ch_arrival {
	uint64_t flush;
	uint8_t id[16];
	uint64_t start;
} ch_arrival;

/* ch_arrivals_new: the first flush is numbered first. */
ch_arrivals *ch_arrivals_new(uint64_t first, size_t max_traces);
void ch_arrivals_free(ch_arrivals *a);

/* ch_arrivals_add records one shipped segment: rows are its trace_index
 * rows (RowBinary: start_date, trace_id, min_start, max_start). */
void ch_arrivals_add(ch_arrivals *a, const uint8_t *rows, size_t len);

/* The window a Tail reads: flushes from..to (inclusive). */
typedef struct ch_arrivals_read {
	ch_arrival *v;  /* malloc'd, in flush order */
	size_t n;
	uint64_t next;  /* the cursor for the next answer */
	bool more;      /* stopped at the budget before the newest flush */
} ch_arrivals_read;

/* ch_arrivals_get copies the traces of flushes from `from` on (a cursor
 * before the oldest kept flush starts there), stopping at the end of the
 * first flush that brings the count to budget. A cursor of 0, or one
 * past the newest flush, gets none and next = the newest flush + 1. */
void ch_arrivals_get(ch_arrivals *a, uint64_t from, size_t budget,
    ch_arrivals_read *out);

#endif /* COLLECTOR_CLICKHOUSE_CH_ARRIVALS_H */
