/*
 * index.h - index records for the spans of one request: service, operation
 * and attribute entries (one per trace per request, earliest start kept),
 * a duration entry per span, per-minute histograms, and catalog entries
 * for services and operations not yet known. An index_builder belongs to
 * one thread (a request's, or the index buffer's under its lock); the
 * catalog cache inside index_catalog is shared and locked.
 */
#ifndef COLLECTOR_INDEX_H
#define COLLECTOR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"
#include "store/store.h"

typedef struct index_builder index_builder;
typedef struct index_catalog index_catalog;

/* index_catalog_new reads the last index flush's number from st; NULL
 * with *cause when st cannot be read or holds an index of an older
 * format. */
index_catalog *index_catalog_new(store *st, char **cause);
void index_catalog_free(index_catalog *c);

index_builder *index_builder_new(index_catalog *c);
void index_builder_free(index_builder *ib);
/* index_begin forgets the previous request. */
void index_begin(index_builder *ib);
/* index_span records the entries of one valid span of service svc whose
 * resource is res (may be NULL). */
void index_span(index_builder *ib, store_batch *b, const char *svc,
    const Resource *res,
    const Span *sp);
/* index_merge adds the entries of src (one request's, built by
 * index_span outside any lock) to dst; src is left as it was. Why: a
 * request's spans share most of their entries, so dst's big table is
 * probed once per entry rather than once per span, and under its lock
 * only that. */
void index_merge(index_builder *dst, index_builder *src);
/* index_origin writes origin (hash -> bytes) unless already known. */
void index_origin(index_builder *ib, store_batch *b, uint64_t hash,
    const void *bytes, size_t len);
/* index_finish_step adds the deduplicated entries and histograms to b a
 * part at a time: it stops once b holds max_bytes, and returns true when
 * everything is in (until then b may be written and cleared, and the step
 * called again). */
bool index_finish_step(index_builder *ib, store_batch *b, size_t max_bytes);
/* index_commit tells the catalog cache that the batch was written. */
void index_commit(index_builder *ib);

/* index_service_name returns the resource's service.name, or
 * "unknown_service". */
const char *index_service_name(
    const Resource *res);

#endif /* COLLECTOR_INDEX_H */
