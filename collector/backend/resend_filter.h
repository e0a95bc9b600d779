/*
 * resend_filter.h - drops from a batch the spans that are stored already,
 * so each span is stored, indexed and counted once: in the duration index
 * and the histograms behind slow's percentiles, the catalog and the
 * statistics. A batch resent after a lost ack, a file imported twice and
 * a request posted twice all arrive this way. Spans are known by trace ID
 * and span ID (docs/STORAGE.md, "Resends").
 */
#ifndef COLLECTOR_BACKEND_RESEND_FILTER_H
#define COLLECTOR_BACKEND_RESEND_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "store/store.h"

/* resend_filter keeps in order[0..*n) (indexes into spans, sorted so that
 * each trace's spans are together) only the spans whose trace ID and
 * span ID are neither stored in st nor earlier in order, keeping their
 * order; returns how many it dropped. The batch's traces cost one
 * trace-locator lookup together; those with blocks are read once, by one
 * iterator. */
size_t resend_filter(store *st, const backend_span *spans, uint32_t *order,
    size_t *n);

#endif /* COLLECTOR_BACKEND_RESEND_FILTER_H */
