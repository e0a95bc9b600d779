/*
 * arena.h - a bump allocator for data that dies all at once: a decoded
 * request and everything hanging off it. Freeing one object is a no-op;
 * arena_reset keeps the first chunk for the next use, arena_free returns
 * everything. arena_protobuf gives protobuf-c an allocator on the arena,
 * so unpacking a request costs no malloc per field and no free_unpacked.
 * Not thread-safe: one arena per thread.
 */
#ifndef COMMON_ARENA_H
#define COMMON_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
	arena_chunk *chunks;
	ProtobufCAllocator pb; /* filled by arena_protobuf */
} arena;

/* arena_alloc returns size bytes aligned for any type (never NULL). */
void *arena_alloc(arena *a, size_t size);
char *arena_strndup(arena *a, const char *s, size_t len);
/* arena_reset forgets every allocation, keeping one chunk for reuse. */
void arena_reset(arena *a);
void arena_free(arena *a);
/* arena_protobuf returns a protobuf-c allocator that allocates on a. */
ProtobufCAllocator *arena_protobuf(arena *a);

#endif /* COMMON_ARENA_H */
