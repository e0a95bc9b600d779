/*
 * span_scan.h - every stored span that starts in a window, newest minute
 * first, straight from the spans family's blocks (no index): what a
 * question about all of a window's spans reads (deps.c, search_most.c).
 * Thread-safe like the query engine that calls it.
 */
#ifndef COLLECTOR_SPAN_SCAN_H
#define COLLECTOR_SPAN_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "format/span_block.h"
#include "store/store.h"

/* Called for each span starting in the window; the entry points into an
 * iterator's value (valid during the call only). Returns false to stop
 * the scan. */
typedef bool (*span_scan_visit)(void *arg, const uint8_t *trace_id,
    const span_block_entry *e);

/* span_scan_window visits the spans of st that start in [start_ns,
 * end_ns) in blocks that start at or after cutoff_ns, one minute at a
 * time from the newest (each minute found with one seek, so empty
 * minutes cost nothing). Returns false when visit stopped it. */
bool span_scan_window(store *st, uint64_t cutoff_ns, uint64_t start_ns,
    uint64_t end_ns, span_scan_visit visit, void *arg);

#endif /* COLLECTOR_SPAN_SCAN_H */
