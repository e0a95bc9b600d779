/*
 * keys.h - byte layout of every RocksDB key and value the collector writes
 * (docs/STORAGE.md explains why). Numbers are big-endian so that byte order
 * is numeric order; strings inside keys carry a 2-byte length prefix so that
 * no value can collide with a separator. Pure functions, thread-safe.
 */
#ifndef COLLECTOR_KEYS_H
#define COLLECTOR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KEY_TRACE_ID_LEN 16
#define KEY_SPAN_ID_LEN 8
#define KEY_SPAN_MINUTE_LEN 4
/* Spans family: minute, trace_id, span_id. */
#define KEY_SPAN_LEN (KEY_SPAN_MINUTE_LEN + KEY_TRACE_ID_LEN + KEY_SPAN_ID_LEN)
#define KEY_SPAN_PREFIX_LEN (KEY_SPAN_MINUTE_LEN + KEY_TRACE_ID_LEN)
/* Traces family: trace_id, minute. */
#define KEY_TRACE_LEN (KEY_TRACE_ID_LEN + KEY_SPAN_MINUTE_LEN)
#define KEY_MAX 1024
#define KEY_STR_MAX 256 /* longer strings are not indexed */
#define KEY_HOUR_NS 3600000000000ULL
#define KEY_MINUTE_NS 60000000000ULL

/*
 * Index record types: the byte after the hour bucket in the index family.
 * Every record is a list written by one index flush (index_buffer.c) and
 * ends with a batch number, the flush's number and the record's place in
 * its list (key_batch), which keeps flushes apart. A posting names its
 * trace by an ordinal in that flush's dictionary of the hour (T records,
 * index.h); values are varint lists (postings.h). S, O and A hold one
 * name and minute: (trace, start), the list cut into records newest
 * first, each keyed by ~(its newest start) and stored in trace order. V
 * holds, for one hour, the attribute values that had at most
 * KEY_VAL_MAX_POSTINGS postings in the flush, by hash bucket: (trace,
 * start, 16 bits of value hash). D holds one service, operation and
 * minute: (duration, trace, start), longest first, keyed by
 * ~(the longest duration); a list's
 * first record is D, the rest are IDX_DUR_TAIL, so that the first records
 * of consecutive minutes sit together on disk.
 */
enum key_idx_type {
	IDX_SVC = 'S',  /* service, ~max start, batch -> postings */
	IDX_OP = 'O',   /* service, operation, ~max start, batch -> postings */
	IDX_ATTR = 'A', /* attribute key, value text, ~max start, batch */
	IDX_VAL = 'V',  /* attribute key, bucket, ~max start, batch */
	IDX_DUR = 'D',  /* service, operation, minute, ~max duration, batch */
	IDX_DUR_TAIL = 'd', /* the same for a D list's later records */
	IDX_DICT = 'T', /* flush, chunk -> trace IDs and starts */
};

#define KEY_VAL_BUCKETS 256
/* An attribute value with at most this many postings in a flush goes to
 * its bucket (V) instead of a record of its own (A). */
#define KEY_VAL_MAX_POSTINGS 4
#define KEY_DUR_HEAD 32 /* postings in a list's first record (D) */

/* A record's batch number: its flush (1 to 2^40 - 1) and its place in its
 * list. */
#define KEY_BATCH_PLACE_BITS 24
static inline uint64_t
key_batch(uint64_t flush, uint32_t place)
{
	return flush << KEY_BATCH_PLACE_BITS |
	    (place & ((1u << KEY_BATCH_PLACE_BITS) - 1));
}

static inline uint64_t
key_batch_flush(uint64_t batch)
{
	return batch >> KEY_BATCH_PLACE_BITS;
}

/* Catalog record types in the meta family. */
enum key_meta_type {
	META_ORIGIN = 'R',  /* hash -> packed ResourceSpans without spans */
	META_SERVICE = 'S', /* service */
	META_OP = 'O',      /* service, operation -> kind */
	META_LOG = 'L',     /* seq -> span keys whose index is not written */
	META_FLUSH = 'F',   /* the last index flush's number (8 bytes) */
	META_FORMAT = 'V',  /* the store's layout version (8 bytes) */
};

typedef struct keybuf {
	uint8_t b[KEY_MAX];
	size_t len;
	bool overflow; /* a put did not fit; the key is unusable */
} keybuf;

void key_reset(keybuf *k);
/* key_prefix_next makes k the smallest key above every key that starts
 * with k (an exclusive upper bound for a prefix scan). */
void key_prefix_next(keybuf *k);

/* A cursor reading a key; any short read sets err. */
typedef struct keyreader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
} keyreader;

void key_reader_init(keyreader *r, const void *p, size_t len);
uint8_t key_get_u8(keyreader *r);
uint16_t key_get_u16(keyreader *r);
uint32_t key_get_u32(keyreader *r);
uint64_t key_get_u64(keyreader *r);
/* key_get_str returns a pointer into the key (not NUL-terminated). */
const char *key_get_str(keyreader *r, size_t *n);
const uint8_t *key_get_bytes(keyreader *r, size_t n);

/* Big-endian 64-bit reads and writes (inline: the index's hot path). */
static inline uint64_t
key_be64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline void
key_write_be64(void *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

/* Appending to a key: inline, since every span builds a dozen keys. A put
 * that does not fit sets overflow and writes nothing. key_put_str
 * appends a 2-byte length and min(n, KEY_STR_MAX) bytes. */
static inline void
key_put_bytes(keybuf *k, const void *p, size_t n)
{
	if (k->overflow || n > sizeof k->b - k->len) {
		k->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(k->b + k->len, p, n);
	k->len += n;
}

static inline void
key_put_u8(keybuf *k, uint8_t v)
{
	key_put_bytes(k, &v, 1);
}

static inline void
key_put_u16(keybuf *k, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	key_put_bytes(k, b, 2);
}

static inline void
key_put_u32(keybuf *k, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	key_put_bytes(k, b, 4);
}

static inline void
key_put_u64(keybuf *k, uint64_t v)
{
	uint8_t b[8];

	key_write_be64(b, v);
	key_put_bytes(k, b, 8);
}

static inline void
key_put_str(keybuf *k, const char *s, size_t n)
{
	if (n > KEY_STR_MAX)
		n = KEY_STR_MAX;
	key_put_u16(k, (uint16_t)n);
	key_put_bytes(k, s, n);
}
uint32_t key_hour(uint64_t unix_ns);

/*
 * Spans family: the minute of the block's earliest start (unix minutes),
 * trace_id, span_id. Spans arrive roughly in order of time, so new
 * records land after the old ones and compaction moves files down instead
 * of rewriting them. The traces family says which minutes hold a trace:
 * trace_id + minute, no value. Get-trace is a 16-byte prefix scan there,
 * then a 20-byte prefix scan (minute, trace) here per minute.
 */
void key_span(keybuf *k, uint32_t minute, const uint8_t *trace_id,
    const uint8_t *span_id);
void key_trace(keybuf *k, const uint8_t *trace_id, uint32_t minute);
static inline uint32_t
key_minute(uint64_t unix_ns)
{
	return (uint32_t)(unix_ns / KEY_MINUTE_NS);
}

/* The minute of a traces-family key (KEY_TRACE_LEN bytes). */
static inline uint32_t
key_trace_minute(const uint8_t *key)
{
	return (uint32_t)(key_be64(key + KEY_TRACE_LEN - 8) & 0xffffffffu);
}

/* Index family builders. Each writes the full key. */
void key_idx_svc(keybuf *k, uint64_t start_ns, const char *svc, size_t svc_len,
    uint64_t batch);
void key_idx_op(keybuf *k, uint64_t start_ns, const char *svc, size_t svc_len,
    const char *op, size_t op_len, uint64_t batch);
void key_idx_attr(keybuf *k, uint64_t start_ns, const char *key, size_t key_len,
    const char *val, size_t val_len, uint64_t batch);
void key_idx_val(keybuf *k, uint64_t start_ns, const char *key,
    size_t key_len, uint32_t bucket, uint64_t batch);
void key_idx_dur(keybuf *k, uint64_t start_ns, uint64_t max_dur_ns,
    const char *svc, size_t svc_len, const char *op, size_t op_len,
    uint64_t batch);
/* A trace dictionary record (index.h). */
void key_idx_dict(keybuf *k, uint32_t hour, uint64_t flush, uint32_t chunk);
/* The hash a V posting carries, and its bucket, for attribute key=val. */
uint64_t key_val_hash(const char *key, size_t key_len, const char *val,
    size_t val_len);
uint32_t key_val_bucket(uint64_t val_hash);
/* The 16 bits of the value hash a V posting keeps (not the bucket's). */
static inline uint16_t
key_val_hash16(uint64_t val_hash)
{
	return (uint16_t)val_hash;
}

/* A parsed index key; string pointers point into the key. */
typedef struct idx_key {
	uint32_t hour;
	int type;
	const char *s1, *s2; /* service/op or attr key/value */
	size_t s1_len, s2_len;
	uint64_t start_ns;   /* S, O, A, V: the newest start in the record;
	                      * D: the start of its minute */
	uint64_t batch;      /* T: the flush */
	uint32_t minute;     /* D: minute of the hour (0-59) */
	uint32_t bucket;     /* V; T: the chunk */
	uint64_t dur_ns;     /* D: the longest duration in the record */
} idx_key;

/* key_idx_parse decodes an index key; returns 0, or -1 if malformed. */
int key_idx_parse(const void *key, size_t len, idx_key *out);

/* Histogram family: hour, service, operation, minute. */
void key_hist(keybuf *k, uint64_t minute_ns, const char *svc, size_t svc_len,
    const char *op, size_t op_len);
/* key_hist_parse returns 0 and the absolute minute start in ns, or -1. */
int key_hist_parse(const void *key, size_t len, uint64_t *minute_start_ns);

/* Meta family. */
void key_meta_origin(keybuf *k, uint64_t hash);
void key_meta_service(keybuf *k, const char *svc, size_t svc_len);
void key_meta_op(keybuf *k, const char *svc, size_t svc_len, const char *op,
    size_t op_len);

void key_meta_flush(keybuf *k);
void key_meta_format(keybuf *k);
/* The log record of a request whose index records are buffered. */
void key_meta_log(keybuf *k, uint64_t seq);
/* A span block's earliest start (span_block.h): its first 8 bytes. */
uint64_t key_span_value_start(const void *v, size_t len);

/* hash64: 64-bit words multiplied in, then a final avalanche. Stored
 * (origin keys, V postings): do not change it. */
uint64_t hash64(const void *p, size_t n, uint64_t seed);

#endif /* COLLECTOR_KEYS_H */
