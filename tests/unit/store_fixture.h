/*
 * store_fixture.h - a real RocksDB store in a fresh temporary directory
 * for a unit test, and its removal, directory and all.
 */
#ifndef TESTS_STORE_FIXTURE_H
#define TESTS_STORE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "backend/rocksdb_backend.h"
#include "store/store.h"

typedef struct store_fixture {
	char dir[64];
	store *st;
	backend *be; /* store_fixture_backend's, over st */
} store_fixture;

static int
store_fixture_rm(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* store_fixture_open_with opens a new store with options o in
 * /tmp/test-<name>.XXXXXX; returns 0, or -1 (said on stderr). */
static int
store_fixture_open_with(store_fixture *f, const char *name,
    const store_options *o)
{
	char *cause = NULL;

	f->be = NULL;
	snprintf(f->dir, sizeof f->dir, "/tmp/test-%s.XXXXXX", name);
	if (mkdtemp(f->dir) == NULL) {
		perror(f->dir);
		return -1;
	}
	if (store_open(&f->st, f->dir, o, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* store_fixture_open: store_fixture_open_with default options. */
static int
store_fixture_open(store_fixture *f, const char *name)
{
	store_options o = { 0 };

	return store_fixture_open_with(f, name, &o);
}

/* store_fixture_backend_with opens the RocksDB backend over f's store
 * with o (NULL: the defaults) unless open; returns it, or NULL with
 * *cause. */
static inline backend *
store_fixture_backend_with(store_fixture *f, const backend_options *o,
    char **cause)
{
	backend_options d;

	if (f->be != NULL)
		return f->be;
	if (o == NULL) {
		backend_options_default(&d);
		o = &d;
	}
	if (rocksdb_backend_new(&f->be, f->st, o, cause) != 0)
		return NULL;
	return f->be;
}

/* store_fixture_backend: store_fixture_backend_with the defaults; NULL
 * (said on stderr) when it cannot open. */
static inline backend *
store_fixture_backend(store_fixture *f)
{
	char *cause = NULL;
	backend *b = store_fixture_backend_with(f, NULL, &cause);

	if (b == NULL)
		fprintf(stderr, "store_fixture_backend: %s\n", cause);
	free(cause);
	return b;
}

/* store_fixture_close closes the backend and the store and removes the
 * store's directory. */
static void
store_fixture_close(store_fixture *f)
{
	backend_close(f->be);
	f->be = NULL;
	store_close(f->st);
	f->st = NULL;
	nftw(f->dir, store_fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* store_fixture_put writes one record (its own batch); returns
 * store_write's result. */
static inline int
store_fixture_put(store *st, store_cf cf, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	store_batch *b = store_batch_new(st);
	char *cause = NULL;
	int rv;

	store_batch_put(b, cf, k, klen, v, vlen);
	rv = store_write(st, b, false, &cause);
	if (rv != 0)
		fprintf(stderr, "store_fixture_put: %s\n", cause);
	free(cause);
	store_batch_free(b);
	return rv;
}

/* STORE_FIXTURE_HOOKS(name) defines cmocka's setup and teardown: each
 * test finds a store_fixture with an open store in *state. */
#define STORE_FIXTURE_HOOKS(name)                                           \
	static int                                                          \
	setup(void **state)                                                 \
	{                                                                   \
		store_fixture *f = calloc(1, sizeof *f);                    \
									    \
		if (store_fixture_open(f, name) != 0) {                     \
			free(f);                                            \
			return -1;                                          \
		}                                                           \
		*state = f;                                                 \
		return 0;                                                   \
	}                                                                   \
									    \
	static int                                                          \
	teardown(void **state)                                              \
	{                                                                   \
		store_fixture_close(*state);                                \
		free(*state);                                               \
		return 0;                                                   \
	}

#endif /* TESTS_STORE_FIXTURE_H */
