/*
 * store.h - the store room's API: the collector's RocksDB store (column
 * families, options, batches, iterators; store.c), its layout version
 * (store_format.c), the trace locator (trace_locator.c) and retention
 * (retention.c). Only store.c sees RocksDB errors; callers get -1 and a
 * malloc'd *cause. Thread-safe: any thread may write, read or iterate
 * concurrently; a store_batch or store_iter belongs to one thread at a
 * time.
 */
#ifndef COLLECTOR_STORE_H
#define COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum store_cf {
	STORE_CF_SPANS = 0, /* minute+trace_id+span_id -> span block */
	STORE_CF_TRACES,    /* trace_id+minute: where a trace's blocks are */
	STORE_CF_INDEX,     /* hour-bucketed index records */
	STORE_CF_HIST,      /* per-minute duration histograms (merge) */
	STORE_CF_META,      /* origins (resource+scope), services, ops */
	STORE_CF_COUNT
} store_cf;

typedef struct store store;
typedef struct store_batch store_batch;
typedef struct store_iter store_iter;
typedef struct trace_locator trace_locator; /* the trace locator */

typedef struct store_options {
	bool sync;                /* fsync the WAL before a write returns */
	uint64_t retention_ns;    /* compaction drops records older; 0 = keep */
	size_t cache_bytes;       /* block cache */
	size_t write_buffer_bytes; /* all memtables together */
	size_t locator_bytes;     /* trace locator; 0: its default */
} store_options;

/* store_open opens (creating if needed) the store in dir. Returns 0, or -1
 * with *cause (e.g. "locked by another process"). */
int store_open(store **out, const char *dir, const store_options *o,
    char **cause);
/* store_flush writes every family's memtables to files and waits: the
 * WAL they needed goes, and reads stop searching them. */
void store_flush(store *s);
/* store_close flushes the memtables (so no WAL is left to replay), closes
 * the DB and frees s; NULL is a no-op. */
void store_close(store *s);

/* store_set_cutoff sets the retention cutoff (unix ns) used by compaction
 * filters; records that started before it are dropped when compacted. */
void store_set_cutoff(store *s, uint64_t cutoff_ns);

/* store_locator: the traces family in memory (the trace locator), owned by
 * s and loaded when s opens. */
trace_locator *store_locator(store *s);

/* store_batch_new makes an empty batch for s (freed by store_batch_free). */
store_batch *store_batch_new(store *s);
void store_batch_free(store_batch *b);
void store_batch_clear(store_batch *b);
void store_batch_put(store_batch *b, store_cf cf, const void *k, size_t klen,
    const void *v, size_t vlen);
void store_batch_merge(store_batch *b, store_cf cf, const void *k,
    size_t klen, const void *v, size_t vlen);
void store_batch_delete(store_batch *b, store_cf cf, const void *k,
    size_t klen);
size_t store_batch_count(const store_batch *b);
size_t store_batch_bytes(const store_batch *b);

/* store_write applies b atomically (WAL on). With no_stall, a write that
 * would stall returns 1 (retry later) without writing. Returns 0, 1, or -1
 * with *cause. */
int store_write(store *s, store_batch *b, bool no_stall, char **cause);

/* store_get reads one value into a malloc'd *val (free with free()).
 * Returns 0 when found, 1 when absent, -1 with *cause. */
int store_get(store *s, store_cf cf, const void *k, size_t klen, char **val,
    size_t *vlen, char **cause);

/* store_iter_new iterates cf over keys in [lower, upper) (upper NULL: to the
 * end); the bounds are copied. prefix_hint: the keys share the family's
 * bloom-filtered prefix (trace scans in the spans and traces families). */
store_iter *store_iter_new(store *s, store_cf cf, const void *lower,
    size_t lower_len, const void *upper, size_t upper_len, bool prefix_hint);
void store_iter_seek(store_iter *it, const void *k, size_t klen);
/* store_iter_seek_last moves to the last key below the upper bound. */
void store_iter_seek_last(store_iter *it);
bool store_iter_valid(const store_iter *it);
void store_iter_next(store_iter *it);
const void *store_iter_key(const store_iter *it, size_t *len);
const void *store_iter_value(const store_iter *it, size_t *len);
/* store_iter_failed: the iteration stopped on a read error, not the end. */
bool store_iter_failed(const store_iter *it);
void store_iter_free(store_iter *it);
/* store_read_errors counts the reads that failed on the calling thread
 * (store_get errors, and iterators freed after a read error), so a caller
 * that made many reads compares it before and after instead of checking
 * each one: the query engine answers a query during which it grew as
 * failed rather than with a partial answer. */
uint64_t store_read_errors(void);

/* store_delete_range removes [begin, end) in cf and asks RocksDB to compact
 * that range so the space comes back. Returns 0 or -1 with *cause. */
int store_delete_range(store *s, store_cf cf, const void *begin,
    size_t begin_len, const void *end, size_t end_len, char **cause);
/* store_compact compacts all of cf (compaction filters run). */
void store_compact(store *s, store_cf cf);

/* store_free_bytes: free space for unprivileged writes on the store's
 * filesystem (UINT64_MAX if unknown). RocksDB 7.8 as built by Debian
 * aborts when a WAL append hits ENOSPC, so writers check this first. */
uint64_t store_free_bytes(store *s);
/* store_disk_bytes: SST files plus memtables. */
uint64_t store_disk_bytes(store *s);
/* store_property_sum sums an integer RocksDB property over all families. */
uint64_t store_property_sum(store *s, const char *name);
/* store_stall_us: cumulative write-stall time in microseconds. */
uint64_t store_stall_us(store *s);

/* ------------------------------------------ layout (store_format.c) */

/*
 * The version of the store's layout (meta V). A store whose spans or
 * index another layout wrote is refused at start with a clear message
 * rather than read as garbage.
 *
 *   3: span blocks link a span to its parent in the block; duration
 *      postings without span IDs.
 *   (none): older layouts, before the version was recorded.
 */
#define STORE_FORMAT 3

/* store_format_check returns 0 when st holds this layout (an empty store
 * is marked with it); else -1 with *cause. */
int store_format_check(store *st, char **cause);

/* ------------------------------- trace locator (trace_locator.c) */

/*
 * The traces family (which minutes hold a trace's span blocks) mirrored
 * in memory, so a get-trace reads one spans block from disk instead of a
 * traces block and then a spans block.
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
int trace_locator_load(trace_locator *l, store *st);

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

/* trace_locator_find_any sets found[i] when the locator may hold a minute
 * ending after cutoff_ns for trace_ids[i] (16 bytes each), for n traces
 * under one lock: a batch's new traces cost no lookup each. Returns 0, or
 * -1 as trace_locator_find (found is then unset). Thread-safe. */
int trace_locator_find_any(trace_locator *l, const uint8_t *const *trace_ids,
    size_t n, uint64_t cutoff_ns, bool *found);

/* trace_locator_expire frees the hours that end at or before cutoff_ns. */
void trace_locator_expire(trace_locator *l, uint64_t cutoff_ns);

/* trace_locator_bytes: the memory the tables hold now. */
size_t trace_locator_bytes(trace_locator *l);

/* ------------------------------------------ retention (retention.c) */

/* retention_run_once expires everything of st older than
 * now - retention_ns (0: keep all); compact: compact the expired ranges
 * at once. Returns 0, or -1 with a malloc'd *cause (what could be
 * deleted was). */
int retention_run_once(store *st, uint64_t now, uint64_t retention_ns,
    bool compact, char **cause);

#endif /* COLLECTOR_STORE_H */
