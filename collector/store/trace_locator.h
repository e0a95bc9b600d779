/*
 * trace_locator.h - the traces family (which minutes hold a trace's span
 * blocks) mirrored in memory, so a get-trace reads one spans block from
 * disk instead of a traces block and then a spans block.
 *
 * Per hour, an open-addressing table of 4-byte entries: 26 bits of the
 * trace ID's hash, and the minute of the hour. A lookup probes each live
 * hour and may return a minute that does not hold the trace (two IDs
 * with the same 26 bits, about one lookup in a hundred at a million
 * traces an hour); the spans family's prefix filter then skips it in
 * memory. It never misses one: every pair the store holds was added,
 * either when written (trace_locator_add, before the write) or by the
 * load of the traces family that starts with the store
 * (trace_locator_load). Until that load ends, or while an hour that did
 * not fit the memory limit is live, lookups answer -1 and the caller
 * reads the traces family as before.
 */
#ifndef COLLECTOR_TRACE_LOCATOR_H
#define COLLECTOR_TRACE_LOCATOR_H

#include <stddef.h>
#include <stdint.h>

struct store;

typedef struct trace_locator trace_locator;

/* A block of trace_id's spans starts in this minute (unix minutes). */
typedef struct trace_minute {
	const uint8_t *trace_id; /* 16 bytes */
	uint32_t minute;
} trace_minute;

/* trace_locator_new makes an empty locator using at most max_bytes for its
 * tables (0: TRACE_LOCATOR_DEFAULT_BYTES). */
#define TRACE_LOCATOR_DEFAULT_BYTES (64u << 20)
trace_locator *trace_locator_new(size_t max_bytes);
/* trace_locator_free stops a load in progress and frees l; NULL: no-op. */
void trace_locator_free(trace_locator *l);

/* trace_locator_load starts a thread that adds every key of st's traces
 * family, then makes l answer. Returns 0, or -1 (l never answers). */
int trace_locator_load(trace_locator *l, struct store *st);

/* trace_locator_wait waits for the load to end (one thread at a time). */
void trace_locator_wait(trace_locator *l);

/* trace_locator_add records n (trace, minute) pairs; repeats are kept
 * once. Thread-safe. */
void trace_locator_add(trace_locator *l, const trace_minute *tm, size_t n);

/* trace_locator_find writes to out (at most max, ascending) the minutes
 * that may hold blocks of trace_id and end after cutoff_ns. Returns their
 * number, or -1 when l cannot answer (not loaded yet, or a live hour
 * was over the memory limit). Thread-safe. */
int trace_locator_find(trace_locator *l, const uint8_t *trace_id,
    uint64_t cutoff_ns, uint32_t *out, size_t max);

/* trace_locator_expire frees the hours that end at or before cutoff_ns. */
void trace_locator_expire(trace_locator *l, uint64_t cutoff_ns);

/* trace_locator_bytes: the memory the tables hold now. */
size_t trace_locator_bytes(trace_locator *l);

#endif /* COLLECTOR_TRACE_LOCATOR_H */
