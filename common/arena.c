/*
 * arena.c - a bump allocator (arena.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "common.h"

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *
arena_alloc(arena *a, size_t size)
{
	arena_chunk *c = a->chunks;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (c == NULL || c->cap - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = xmalloc(sizeof *c + cap);
		c->next = a->chunks;
		c->used = 0;
		c->cap = cap;
		a->chunks = c;
	}
	p = (unsigned char *)c->data + c->used;
	c->used += size;
	return p;
}

char *
arena_strndup(arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
arena_reset(arena *a)
{
	arena_chunk *keep = NULL;

	while (a->chunks != NULL) {
		arena_chunk *next = a->chunks->next;

		/* Keep one ordinary chunk (the oldest) for the next use. */
		if (next == NULL && a->chunks->cap == ARENA_CHUNK) {
			keep = a->chunks;
			keep->used = 0;
		} else {
			free(a->chunks);
		}
		a->chunks = next;
	}
	a->chunks = keep;
}

void
arena_free(arena *a)
{
	while (a->chunks != NULL) {
		arena_chunk *next = a->chunks->next;

		free(a->chunks);
		a->chunks = next;
	}
}

static void *
pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size ? size : 1);
}

static void
pb_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

ProtobufCAllocator *
arena_protobuf(arena *a)
{
	a->pb.alloc = pb_alloc;
	a->pb.free = pb_free;
	a->pb.allocator_data = a;
	return &a->pb;
}
