/*
 * spool.h - the collector's local write-ahead spool for the ClickHouse
 * backend: a directory of segment files. A batch is appended to the open
 * segment (one write(), so it survives kill -9 once the call returns;
 * fdatasync too with sync) and then acknowledged; the shipper seals the
 * open segment (a rename) and inserts each sealed segment as one block per
 * table, deleting it only when ClickHouse confirmed every table. A sealed
 * segment never changes, so a retried insert sends the identical block,
 * which ReplicatedMergeTree deduplicates.
 * Files: SEQ.open (being appended), SEQ.seg (sealed), SEQ.done (one byte:
 * the tables already inserted, and whether an insert went out; the
 * shipper's), LOCK (flock'd while open: a second
 * collector on the same spool is refused). Records: u32 length, u32 crc32, bytes.
 * At open, a torn record at the end of an .open file (a crash mid-write;
 * never acknowledged) is cut off and the file sealed.
 * Thread-safe: appends from any thread, one shipper thread.
 */
#ifndef COLLECTOR_CLICKHOUSE_SPOOL_H
#define COLLECTOR_CLICKHOUSE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spool spool;

/* spool_open opens (creating) dir. max_bytes bounds the spool's files:
 * beyond it appends are refused (retry later). Returns 0, or -1 with a
 * malloc'd *cause. */
int spool_open(spool **out, const char *dir, uint64_t max_bytes, bool sync,
    char **cause);
void spool_close(spool *s);

/* spool_append appends one record holding n_spans spans. Returns 0, 1
 * when the spool is full, or -1 with a malloc'd *cause. */
int spool_append(spool *s, const void *rec, size_t len, uint32_t n_spans,
    char **cause);

/* What the open segment holds. */
typedef struct spool_state {
	uint64_t open_seq;     /* the open segment's number */
	uint64_t open_spans, open_bytes;
	uint64_t open_age_ms;  /* since its first record; 0 when empty */
	uint64_t sealed;       /* sealed segments waiting */
	uint64_t total_bytes;  /* all files */
	uint64_t total_spans;  /* spans in all files */
} spool_state;
void spool_get_state(spool *s, spool_state *st);

/* spool_seal seals the open segment if it holds anything. */
void spool_seal(spool *s);

/* spool_oldest reads the oldest sealed segment: its number, its bytes
 * (records, malloc'd) and its done mask. Returns 1 when there is one, 0
 * when none, -1 with *cause. */
int spool_oldest(spool *s, uint64_t *seq, uint8_t **data, size_t *len,
    uint8_t *done, char **cause);
/* spool_set_done records which tables of segment seq are inserted. */
int spool_set_done(spool *s, uint64_t seq, uint8_t done, char **cause);
/* spool_remove deletes sealed segment seq (every table confirmed). */
void spool_remove(spool *s, uint64_t seq, uint64_t n_spans);

/* spool_next_record walks a segment's records: at *off, sets *rec and
 * *len and advances *off. Returns false at the end or at a bad record. */
bool spool_next_record(const uint8_t *data, size_t len, size_t *off,
    const uint8_t **rec, size_t *rec_len);

#endif /* COLLECTOR_CLICKHOUSE_SPOOL_H */
