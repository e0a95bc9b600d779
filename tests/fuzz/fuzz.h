/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz/ share. Each
 * fuzz_X.c defines LLVMFuzzerTestOneInput (renamed by a macro when
 * tests/unit/test_fuzz_regress.c includes several of them in one file), so
 * helpers here are static inline and the targets' own statics carry a
 * prefix of their target's name.
 *
 * FUZZ_CHECK is the invariant check: unlike assert() it stays on in every
 * build, and it aborts, which libFuzzer reports as a crash with the input
 * saved.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",  \
			    __FILE__, __LINE__, #cond);                   \
			abort();                                          \
		}                                                         \
	} while (0)

/* fuzz_strndup returns a malloc'd NUL-terminated copy of n bytes. */
static inline char *
fuzz_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* fuzz_rmdir removes dir and the files in it (a RocksDB store makes no
 * subdirectories). */
static inline void
fuzz_rmdir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			remove(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

#endif /* TESTS_FUZZ_FUZZ_H */
