/*
 * query.h - the query engine over the store: get trace, search, slow spans
 * with percentiles, services, operations, statistics. Linkable without the
 * daemon (tests and benchmarks call it directly). Thread-safe: queries run
 * concurrently with each other and with ingest.
 */
#ifndef COLLECTOR_QUERY_H
#define COLLECTOR_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "tracequery.pb-c.h"

/* query_execute answers req from st, hiding records older than
 * now - retention_ns (0: none). Returns a Response the caller frees with
 * query_response_free; never NULL. */
Tracequery__V1__Response *query_execute(store *st, uint64_t retention_ns,
    const Tracequery__V1__Request *req);
void query_response_free(Tracequery__V1__Response *r);

/* query_handle_bytes decodes a packed Request, executes it and packs the
 * Response into a malloc'd *out of *out_len bytes (caller frees). */
void query_handle_bytes(store *st, uint64_t retention_ns, const uint8_t *buf,
    size_t len, uint8_t **out, size_t *out_len);

#endif /* COLLECTOR_QUERY_H */
