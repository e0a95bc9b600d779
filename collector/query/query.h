/*
 * query.h - the query engine over the RocksDB store: get trace, search,
 * slow spans with percentiles, services, operations, dependencies, tail. The
 * RocksDB backend (rocksdb_backend.c) answers the seam's queries with it.
 * Each function hides records older than now - retention_ns (0: none)
 * and returns a Response (backend.h) the caller frees with
 * backend_response_free; never NULL. Thread-safe: queries run
 * concurrently with each other and with ingest. query_impl.h is the
 * room's private header.
 */
#ifndef COLLECTOR_QUERY_H
#define COLLECTOR_QUERY_H

#include <stdint.h>

#include "store/store.h"
#include "tracequery.pb-c.h"

Tracequery__V1__Response *query_get_trace(store *st, uint64_t retention_ns,
    const Tracequery__V1__GetTrace *g);
Tracequery__V1__Response *query_search(store *st, uint64_t retention_ns,
    const Tracequery__V1__Search *s);
Tracequery__V1__Response *query_slow(store *st, uint64_t retention_ns,
    const Tracequery__V1__Slow *s);
Tracequery__V1__Response *query_services(store *st, uint64_t retention_ns);
Tracequery__V1__Response *query_operations(store *st, uint64_t retention_ns,
    const Tracequery__V1__ListOperations *lo);
/* query_tail: the traces indexed after a cursor (tail.c). */
Tracequery__V1__Response *query_tail(store *st, uint64_t retention_ns,
    const Tracequery__V1__Tail *t);
/* query_dependencies: deps.h over the window d asks (end 0: now). */
Tracequery__V1__Response *query_dependencies(store *st, uint64_t retention_ns,
    const Tracequery__V1__Dependencies *d);

#endif /* COLLECTOR_QUERY_H */
