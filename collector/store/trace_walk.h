/*
 * trace_walk.h - visits every stored span of one trace: the minutes its
 * blocks start in (the trace locator, else the traces family), then each
 * block of each minute (keys.h, span_block.h). Get-trace and slow read a
 * trace this way, and the writer to see what a resend already stored.
 */
#ifndef COLLECTOR_STORE_TRACE_WALK_H
#define COLLECTOR_STORE_TRACE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "format/span_block.h"
#include "store/store.h"

/* Called for each span; e points into a block: valid during the call. */
typedef void (*trace_walk_visit)(const uint8_t *trace_id,
    const span_block_entry *e, void *arg);

/* A trace's blocks in more minutes than this are not all read: a trace
 * lasts seconds, a long one minutes. */
#define TRACE_WALK_MAX_MINUTES 1024

/* trace_walk visits the spans of trace_id's blocks that end after
 * cutoff_ns, minute by minute; returns the number of blocks read. */
size_t trace_walk(store *st, uint64_t cutoff_ns, const uint8_t *trace_id,
    trace_walk_visit visit, void *arg);

/* Called for each span of trace_ids[which] in trace_walk_many. */
typedef void (*trace_walk_many_visit)(size_t which,
    const span_block_entry *e, void *arg);

/* trace_walk_many visits the spans of n traces' blocks as trace_walk
 * does, with one iterator seeking their (minute, trace) prefixes in key
 * order rather than an iterator per trace and minute (the writer's
 * resend filter walks a batch's stored traces this way); returns the
 * number of blocks read. */
size_t trace_walk_many(store *st, uint64_t cutoff_ns,
    const uint8_t *const *trace_ids, size_t n, trace_walk_many_visit visit,
    void *arg);

#endif /* COLLECTOR_STORE_TRACE_WALK_H */
