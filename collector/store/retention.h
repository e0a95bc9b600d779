/*
 * retention.h - expiry of the RocksDB store: what started before the
 * cutoff goes, by compaction filters, range deletes and (for short
 * retentions) compactions.
 */
#ifndef COLLECTOR_RETENTION_H
#define COLLECTOR_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* retention_run_once expires everything of st older than
 * now - retention_ns (0: keep all); compact: compact the expired ranges
 * at once. Returns 0, or -1 with a malloc'd *cause (what could be
 * deleted was). */
int retention_run_once(store *st, uint64_t now, uint64_t retention_ns,
    bool compact, char **cause);

#endif /* COLLECTOR_RETENTION_H */
