/*
 * typed_sort.h - an introsort for one element type with an inlined
 * comparison. glibc's qsort calls its comparator through a pointer and
 * merges through a buffer with memmove; sorting the index's postings
 * with it took 5% of the collector's CPU.
 *
 * TYPED_SORT(name, type, less) defines
 *   static void name(type *v, size_t n)
 * where less(a, b) is an expression on two `const type *` that is true
 * when *a sorts before *b. Quicksort with a median of three, insertion
 * sort for short runs, heapsort once the depth passes 2 log2 n, so no
 * input (start times come from clients) makes it quadratic. Not stable:
 * give less a total order when ties matter. Input already in order, or
 * strictly in reverse, takes one pass.
 */
#ifndef COMMON_TYPED_SORT_H
#define COMMON_TYPED_SORT_H

#include <stdbool.h>
#include <stddef.h>

#define TYPED_SORT(name, type, less)                                        \
	static inline void                                                  \
	name##_swap(type *a, type *b)                                       \
	{                                                                   \
		type t = *a;                                                \
		*a = *b;                                                    \
		*b = t;                                                     \
	}                                                                   \
									    \
	static void                                                         \
	name##_insertion(type *v, size_t n)                                 \
	{                                                                   \
		for (size_t i = 1; i < n; i++) {                            \
			type t = v[i];                                      \
			size_t j = i;                                       \
									    \
			for (; j > 0 && (less((&t), (&v[j - 1]))); j--)     \
				v[j] = v[j - 1];                            \
			v[j] = t;                                           \
		}                                                           \
	}                                                                   \
									    \
	static void                                                         \
	name##_sift(type *v, size_t root, size_t n)                         \
	{                                                                   \
		for (size_t c; (c = 2 * root + 1) < n; root = c) {          \
			if (c + 1 < n && (less((&v[c]), (&v[c + 1]))))      \
				c++;                                        \
			if (!(less((&v[root]), (&v[c]))))                   \
				return;                                     \
			name##_swap(&v[root], &v[c]);                       \
		}                                                           \
	}                                                                   \
									    \
	static void                                                         \
	name##_heap(type *v, size_t n)                                      \
	{                                                                   \
		for (size_t i = n / 2; i-- > 0;)                            \
			name##_sift(v, i, n);                               \
		for (size_t i = n; i-- > 1;) {                              \
			name##_swap(&v[0], &v[i]);                          \
			name##_sift(v, 0, i);                               \
		}                                                           \
	}                                                                   \
									    \
	/* Puts the median of v[0], v[n / 2], v[n - 1] at v[0] and      \
	 * partitions around it; returns its final place. */               \
	static size_t                                                       \
	name##_partition(type *v, size_t n)                                 \
	{                                                                   \
		type *a = &v[0], *m = &v[n / 2], *z = &v[n - 1];            \
		size_t i = 0, j = n;                                        \
									    \
		if (less(m, a))                                             \
			name##_swap(m, a);                                  \
		if (less(z, m)) {                                           \
			name##_swap(z, m);                                  \
			if (less(m, a))                                     \
				name##_swap(m, a);                          \
		}                                                           \
		name##_swap(a, m);                                          \
		for (;;) {                                                  \
			do                                                  \
				i++;                                        \
			while (i < n && (less((&v[i]), (&v[0]))));          \
			do                                                  \
				j--;                                        \
			while (less((&v[0]), (&v[j])));                     \
			if (i >= j)                                         \
				break;                                      \
			name##_swap(&v[i], &v[j]);                          \
		}                                                           \
		name##_swap(&v[0], &v[j]);                                  \
		return j;                                                   \
	}                                                                   \
									    \
	static void                                                         \
	name##_intro(type *v, size_t n, int depth)                          \
	{                                                                   \
		while (n > 16) {                                            \
			size_t p;                                           \
									    \
			if (depth-- == 0) {                                 \
				name##_heap(v, n);                          \
				return;                                     \
			}                                                   \
			p = name##_partition(v, n);                         \
			/* Recurse into the shorter side: O(log n) stack. */\
			if (p < n - p - 1) {                                \
				name##_intro(v, p, depth);                  \
				v += p + 1;                                 \
				n -= p + 1;                                 \
			} else {                                            \
				name##_intro(v + p + 1, n - p - 1, depth);  \
				n = p;                                      \
			}                                                   \
		}                                                           \
		name##_insertion(v, n);                                     \
	}                                                                   \
									    \
	/* True when v is in order already, or was strictly in reverse  \
	 * order and now is: one pass, where postings (added in order of \
	 * time) often are. */                                            \
	static bool                                                         \
	name##_ordered(type *v, size_t n)                                   \
	{                                                                   \
		size_t i = 1;                                               \
									    \
		while (i < n && !(less((&v[i]), (&v[i - 1]))))              \
			i++;                                                \
		if (i >= n)                                                 \
			return true;                                        \
		if (i > 1)                                                  \
			return false;                                       \
		while (i < n && (less((&v[i]), (&v[i - 1]))))               \
			i++;                                                \
		if (i < n)                                                  \
			return false;                                       \
		for (size_t a = 0, z = n - 1; a < z; a++, z--)              \
			name##_swap(&v[a], &v[z]);                          \
		return true;                                                \
	}                                                                   \
									    \
	static void                                                         \
	name(type *v, size_t n)                                             \
	{                                                                   \
		int depth = 0;                                              \
									    \
		if (name##_ordered(v, n))                                   \
			return;                                             \
		for (size_t k = n; k > 1; k >>= 1)                          \
			depth += 2;                                         \
		name##_intro(v, n, depth);                                  \
	}

#endif /* COMMON_TYPED_SORT_H */
