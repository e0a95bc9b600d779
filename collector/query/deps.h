/*
 * deps.h - service dependencies: how often a span of one service was the
 * parent of a span of another, over a window of span starts, computed
 * from the stored spans (the Jaeger API's /api/dependencies, tracecli
 * deps). Thread-safe like the query engine that calls it.
 */
#ifndef COLLECTOR_DEPS_H
#define COLLECTOR_DEPS_H

#include <stdint.h>

#include "store/store.h"
#include "tracequery.pb-c.h"

/* DEPS_MAX_SPANS bounds the spans one answer reads (newest minutes
 * first), so a wide window costs bounded memory and time; past it the
 * result says truncated. */
#define DEPS_MAX_SPANS 1000000

/* deps_compute counts parent service -> child service calls among the
 * spans of st that start in [start_ns, end_ns) and not before cutoff_ns.
 * A span's parent counts when it is stored too (in any minute of the
 * window) and belongs to another service. Returns a result the caller
 * frees with tracequery__v1__dependencies_result__free_unpacked. */
Tracequery__V1__DependenciesResult *deps_compute(store *st, uint64_t cutoff_ns,
    uint64_t start_ns, uint64_t end_ns);

#endif /* COLLECTOR_DEPS_H */
