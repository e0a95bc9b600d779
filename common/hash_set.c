/* hash_set.c - see hash_set.h. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hash_set.h"

bool
hash_set_has(const hash_set *s, uint64_t h)
{
	if (s->cap == 0)
		return false;
	h |= 1;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return true;
		if (s->slots[i] == 0)
			return false;
	}
}

/* Doubles s's slots and adds back what it held. */
static void
grow(hash_set *s)
{
	hash_set old = *s;

	s->cap = s->cap ? s->cap * 2 : 256;
	s->slots = xcalloc(s->cap, sizeof *s->slots);
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i] != 0)
			hash_set_add(s, old.slots[i]);
	free(old.slots);
}

bool
hash_set_add(hash_set *s, uint64_t h)
{
	if (s->n * 2 >= s->cap)
		grow(s);
	h |= 1;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return false;
		if (s->slots[i] == 0) {
			s->slots[i] = h;
			s->n++;
			return true;
		}
	}
}

void
hash_set_clear(hash_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof *s);
}
