/*
 * test_typed_sort.c - common/typed_sort.h against qsort: random input,
 * many equal keys, sorted (and sorted but the last), reversed (and
 * descending with equal keys), organ-pipe input of every length
 * to 300 and some long ones, and the heapsort fallback on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "typed_sort.h"

typedef struct item {
	uint64_t key;
	uint32_t tie;
} item;

#define LESS(x, y) ((x)->key != (y)->key ? (x)->key < (y)->key :            \
	(x)->tie < (y)->tie)
TYPED_SORT(sort_items, item, LESS)

static int
cmp_items(const void *a, const void *b)
{
	const item *x = a, *y = b;

	return LESS(x, y) ? -1 : LESS(y, x) ? 1 : 0;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum shape { RANDOM, FEW_KEYS, SORTED, REVERSED, ORGAN_PIPE, DESC_TIES,
	SORTED_BUT_LAST, SHAPES };

static void
fill(item *v, size_t n, enum shape s)
{
	for (size_t i = 0; i < n; i++) {
		switch (s) {
		case RANDOM:
			v[i].key = next_rand();
			break;
		case FEW_KEYS:
			v[i].key = next_rand() % 3;
			break;
		case SORTED:
			v[i].key = i;
			break;
		case REVERSED:
			v[i].key = n - i;
			break;
		case DESC_TIES: /* not strictly reversed: no shortcut */
			v[i].key = (n - i) / 3;
			break;
		case SORTED_BUT_LAST:
			v[i].key = i + 1 < n ? i + 1 : 0;
			break;
		default:
			v[i].key = i < n / 2 ? i : n - i;
			break;
		}
		v[i].tie = (uint32_t)(next_rand() % 5);
	}
}

/* Sorts a copy both ways and compares. */
static void
check(size_t n, enum shape s, void (*sorter)(item *, size_t))
{
	item *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);

	fill(a, n, s);
	memcpy(b, a, n * sizeof *a);
	sorter(a, n);
	qsort(b, n, sizeof *b, cmp_items);
	for (size_t i = 0; i < n; i++) {
		assert_true(a[i].key == b[i].key);
		assert_true(a[i].tie == b[i].tie);
	}
	free(a);
	free(b);
}

static void
test_every_shape_and_length(void **state)
{
	(void)state;
	for (int s = 0; s < SHAPES; s++) {
		for (size_t n = 0; n <= 300; n++)
			check(n, (enum shape)s, sort_items);
		check(100000, (enum shape)s, sort_items);
	}
}

/* The fallback that keeps adversarial input n log n. */
static void
heap_only(item *v, size_t n)
{
	sort_items_intro(v, n, 0);
}

static void
test_heapsort_fallback(void **state)
{
	(void)state;
	for (int s = 0; s < SHAPES; s++) {
		for (size_t n = 0; n <= 100; n++)
			check(n, (enum shape)s, heap_only);
		check(5000, (enum shape)s, heap_only);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shape_and_length),
		cmocka_unit_test(test_heapsort_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
