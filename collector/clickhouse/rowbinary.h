/*
 * rowbinary.h - ClickHouse's RowBinary format, both ways: a growable buffer
 * that rows are written into for INSERT ... FORMAT RowBinary, and a bounds
 * checked reader for SELECT ... FORMAT RowBinary replies (untrusted bytes:
 * every read checks what is left; tests/fuzz/fuzz_rowbinary.c).
 * Numbers are little-endian; a String is a varint length and its bytes;
 * FixedString(N) is N bytes; Array(T) is a varint count and its elements;
 * Date is a UInt16 of days since 1970-01-01.
 * Not thread-safe: a buffer or reader belongs to one thread.
 */
#ifndef COLLECTOR_CLICKHOUSE_ROWBINARY_H
#define COLLECTOR_CLICKHOUSE_ROWBINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rowbinary_buf {
	uint8_t *b;
	size_t len, cap;
} rowbinary_buf;

void rowbinary_buf_free(rowbinary_buf *w);
void rowbinary_put_bytes(rowbinary_buf *w, const void *p, size_t n);
void rowbinary_put_u8(rowbinary_buf *w, uint8_t v);
void rowbinary_put_u16(rowbinary_buf *w, uint16_t v);
void rowbinary_put_u32(rowbinary_buf *w, uint32_t v);
void rowbinary_put_u64(rowbinary_buf *w, uint64_t v);
void rowbinary_put_varint(rowbinary_buf *w, uint64_t v);
void rowbinary_put_string(rowbinary_buf *w, const void *p, size_t n);
void rowbinary_put_cstr(rowbinary_buf *w, const char *s);

/* A reader over len bytes at p (not copied). After any failed read,
 * ok is false and every later read fails too. */
typedef struct rowbinary_reader {
	const uint8_t *p;
	size_t left;
	bool ok;
} rowbinary_reader;

void rowbinary_reader_init(rowbinary_reader *r, const void *p, size_t len);
bool rowbinary_at_end(const rowbinary_reader *r);
bool rowbinary_get_u8(rowbinary_reader *r, uint8_t *v);
bool rowbinary_get_u16(rowbinary_reader *r, uint16_t *v);
bool rowbinary_get_u32(rowbinary_reader *r, uint32_t *v);
bool rowbinary_get_u64(rowbinary_reader *r, uint64_t *v);
bool rowbinary_get_varint(rowbinary_reader *r, uint64_t *v);
/* rowbinary_get_fixed reads exactly n bytes into out. */
bool rowbinary_get_fixed(rowbinary_reader *r, void *out, size_t n);
/* rowbinary_get_string points *p at a String's bytes inside the reply
 * (not NUL-terminated) and sets *n. */
bool rowbinary_get_string(rowbinary_reader *r, const uint8_t **p, size_t *n);
/* rowbinary_get_cstr copies a String into a malloc'd NUL-terminated *s. */
bool rowbinary_get_cstr(rowbinary_reader *r, char **s);

#endif /* COLLECTOR_CLICKHOUSE_ROWBINARY_H */
