/*
 * index.h - the index room's API: the index records (index.c), the index
 * buffer that writes many requests' records together (index_buffer.c),
 * and each flush's trace dictionary (trace_dict.c).
 *
 * Index records for the spans of one request: service, operation
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

#include "format/keys.h"
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

/* ----------------------------------- index buffer (index_buffer.c) */

/*
 * Gathers the index records of many requests and writes
 * them together (docs/STORAGE.md, "Writes"). A request's spans are durable
 * when it is acknowledged; its index records follow within --index-flush-ms
 * or as soon as a query asks (index_buffer_sync), so searches always see
 * every acknowledged span. A log record written with the spans names them
 * until their index is written, and index_buffer_new re-indexes whatever a
 * crash left logged. Thread-safe.
 */
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

/* ------------------------------- trace dictionaries (trace_dict.c) */

/*
 * Each index flush's trace dictionary (docs/STORAGE.md).
 *
 * A flush numbers the traces it indexes, per hour of their spans' starts,
 * 0, 1, 2, ... in order of arrival, and writes each trace's ID and start
 * (its earliest span of that hour in the flush) once, in records of
 * TRACE_DICT_CHUNK entries of TRACE_DICT_ENTRY bytes keyed (hour, 'T',
 * flush, chunk). Its postings then name a trace by that ordinal and give
 * their start as an offset from the trace's: a few bytes instead of 16
 * random ones that no compression can shrink, and 8 more.
 *
 * The builder belongs to one thread. The reader (dict_reader) belongs to
 * one query and keeps the records it has read.
 */
#define TRACE_DICT_CHUNK 256
#define TRACE_DICT_ENTRY (KEY_TRACE_ID_LEN + 8)

typedef struct trace_dict trace_dict;

trace_dict *trace_dict_new(void);
void trace_dict_free(trace_dict *d);
void trace_dict_reset(trace_dict *d);
/* trace_dict_ord returns the ordinal of trace_id among the traces of the
 * hour of start_ns, numbering it when new; the trace's start is the
 * earliest start_ns given. */
uint32_t trace_dict_ord(trace_dict *d, const uint8_t *trace_id,
    uint64_t start_ns);
/* trace_dict_starts returns the starts of the hour's traces by ordinal
 * (NULL when it has none), valid until the next trace_dict_ord. */
const uint64_t *trace_dict_starts(const trace_dict *d, uint32_t hour);
/* trace_dict_merge numbers every trace of src in dst (keeping the
 * earlier start) and fills *map (grown as needed, *cap its room) so that
 * map[trace_dict_slot(src, hour, ord)] is the trace's ordinal in dst. */
void trace_dict_merge(trace_dict *dst, const trace_dict *src, uint32_t **map,
    size_t *cap);
/* trace_dict_slot: where (hour, ord) of d sits in a merge map; the hour
 * must be one of d's. */
size_t trace_dict_slot(const trace_dict *d, uint32_t hour, uint32_t ord);
/* trace_dict_write adds the dictionary's records for flush to b. */
void trace_dict_write(const trace_dict *d, store_batch *b, uint64_t flush);

typedef struct dict_reader dict_reader;

dict_reader *dict_reader_new(store *st);
void dict_reader_free(dict_reader *r);
/* dict_reader_trace copies the ID of trace ord of (hour, flush) into out
 * (unless NULL) and sets *start_ns to its start; false when the
 * dictionary has no such trace (a record lost to a crash between an index
 * flush's parts, which recovery indexes again). */
bool dict_reader_trace(dict_reader *r, uint32_t hour, uint64_t flush,
    uint32_t ord, uint8_t *out, uint64_t *start_ns);

#endif /* COLLECTOR_INDEX_H */
