/*
 * pb_write.h - writes protobuf wire format into a growing buffer, for
 * producers that have no protobuf-c struct to pack (the OTLP JSON
 * decoder writes straight from the parsed JSON, so strings keep their
 * NUL bytes, which protobuf-c's char * strings cannot).
 *
 * A nested message is written as pb_write_begin, its fields, then
 * pb_write_end, which inserts the minimal length prefix, so the output is
 * byte for byte what protobuf-c packs for the same fields in field order.
 */
#ifndef COMMON_PB_WRITE_H
#define COMMON_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pb_write {
	uint8_t *buf; /* malloc'd; the caller takes it when done */
	size_t len, cap;
} pb_write;

/* Where a nested message's tag and body start (for end or rollback). */
typedef struct pb_mark {
	size_t tag_at, body_at;
} pb_mark;

void pb_write_varint_field(pb_write *w, uint32_t field, uint64_t v);
void pb_write_fixed64_field(pb_write *w, uint32_t field, uint64_t v);
void pb_write_fixed32_field(pb_write *w, uint32_t field, uint32_t v);
void pb_write_bytes_field(
    pb_write *w, uint32_t field, const void *data, size_t len);
/* pb_write_bytes_reserve writes a length-delimited field of len bytes and
 * returns where the caller fills them in. */
uint8_t *pb_write_bytes_reserve(pb_write *w, uint32_t field, size_t len);

pb_mark pb_write_begin(pb_write *w, uint32_t field);
void pb_write_end(pb_write *w, pb_mark m);
/* pb_write_rollback forgets everything from the message's tag on. */
void pb_write_rollback(pb_write *w, pb_mark m);

#endif /* COMMON_PB_WRITE_H */
