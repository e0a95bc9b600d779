/*
 * index_buffer.h - gathers the index records of many requests and writes
 * them together (docs/STORAGE.md, "Writes"). A request's spans are durable
 * when it is acknowledged; its index records follow within --index-flush-ms
 * or as soon as a query asks (index_buffer_sync), so searches always see
 * every acknowledged span. A log record written with the spans names them
 * until their index is written, and index_buffer_new re-indexes whatever a
 * crash left logged. Thread-safe.
 */
#ifndef COLLECTOR_INDEX_BUFFER_H
#define COLLECTOR_INDEX_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"
#include "index/index.h"
#include "store/store.h"

typedef struct index_buffer index_buffer;

/* One accepted span and the resource it came with. */
typedef struct indexed_span {
	const char *svc;
	const Resource *res;
	const Span *sp;
} indexed_span;

typedef struct index_buffer_limits {
	size_t flush_spans;   /* write once this many spans are buffered */
	uint32_t flush_ms;    /* and at least this often */
	uint32_t idle_ms;     /* no request this long: flush the memtables */
	uint64_t min_free_bytes; /* never write below this much free disk */
} index_buffer_limits;

/* index_buffer_new re-indexes spans a crash left logged, then starts the
 * flusher thread. Returns 0, or -1 with a malloc'd *cause. */
int index_buffer_new(index_buffer **out, store *st, index_catalog *cat,
    const index_buffer_limits *lim, char **cause);
/* index_buffer_free stops the flusher and writes what is buffered. */
void index_buffer_free(index_buffer *ib);

/* index_buffer_log adds to b the log record naming the span blocks
 * (span_block.h) whose keys are keys[0..n) and returns its sequence
 * number, for index_buffer_add once b is written. */
uint64_t index_buffer_log(index_buffer *ib, store_batch *b,
    const uint8_t *keys, size_t n);
/* index_buffer_add buffers the index entries of a request's n spans
 * (built into req by index_span), which were written with log record seq;
 * writes the buffer when it is full. */
void index_buffer_add(index_buffer *ib, uint64_t seq, index_builder *req,
    size_t n);
/* index_buffer_sync writes everything added before the call, waiting as
 * long as that takes; returns 0, or -1 when it could not (logged). */
int index_buffer_sync(index_buffer *ib);
/* index_buffer_sync_within has the flusher thread write everything added
 * before the call and waits for it at most timeout_ms: 0 once written,
 * -1 on the timeout (a write stall) or when the write failed. */
int index_buffer_sync_within(index_buffer *ib, uint32_t timeout_ms);

#endif /* COLLECTOR_INDEX_BUFFER_H */
