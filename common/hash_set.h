/*
 * hash_set.h - a set of 64-bit hashes: open addressing, linear probing,
 * 0 marks an empty slot (a hash is stored with its low bit set, so no
 * hash is 0). Grows at half full. Not thread-safe. Used for the index's
 * catalog cache and the traces a search has seen.
 */
#ifndef COMMON_HASH_SET_H
#define COMMON_HASH_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hash_set {
	uint64_t *slots; /* cap of them (a power of two), 0 = empty */
	size_t cap, n;
} hash_set;

/* hash_set_has: h is in s. */
bool hash_set_has(const hash_set *s, uint64_t h);
/* hash_set_add adds h; returns true when it was not in s yet. */
bool hash_set_add(hash_set *s, uint64_t h);
/* hash_set_clear empties s and frees its slots. */
void hash_set_clear(hash_set *s);

#endif /* COMMON_HASH_SET_H */
