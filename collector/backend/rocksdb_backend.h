/*
 * rocksdb_backend.h - the seam's first implementation: the embedded
 * RocksDB store (store/), its indexes (index/) and the query engine
 * (query/) behind backend.h. The one place that knows all three.
 */
#ifndef COLLECTOR_ROCKSDB_BACKEND_H
#define COLLECTOR_ROCKSDB_BACKEND_H

#include "backend/backend.h"
#include "store/store.h"

/* rocksdb_backend_open opens (creating if needed) the store in dir, checks
 * its format, re-indexes what a crash left unindexed and starts the index
 * flusher. Returns 0, or -1 with a malloc'd *cause. */
int rocksdb_backend_open(backend **out, const char *dir,
    const backend_options *o, char **cause);

/* rocksdb_backend_new is rocksdb_backend_open over st, opened by the
 * caller, which closes it after backend_close (tests and benchmarks that
 * look into the store). */
int rocksdb_backend_new(backend **out, store *st, const backend_options *o,
    char **cause);

#endif /* COLLECTOR_ROCKSDB_BACKEND_H */
