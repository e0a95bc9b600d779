/*
 * test_store_format.c - the store's layout version (store_format.c) on a
 * real RocksDB: a new store is marked, a marked one is accepted again,
 * and stores of another layout, or with a damaged mark, are refused with
 * a message that says what to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "format/keys.h"
#include "store/store.h"

typedef store_fixture fixture;
STORE_FIXTURE_HOOKS("store-format")

static void
put(store *st, store_cf cf, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	assert_int_equal(store_fixture_put(st, cf, k, klen, v, vlen), 0);
}

static void
put_format(store *st, uint64_t version, size_t len)
{
	uint8_t v[8];
	keybuf k;

	key_meta_format(&k);
	key_write_be64(v, version);
	put(st, STORE_CF_META, k.b, k.len, v, len);
}

/* Swaps f's store for a new, empty one. */
static void
fresh(fixture *f)
{
	store_fixture_close(f);
	assert_int_equal(store_fixture_open(f, "store-format"), 0);
}

/* Refused, with a cause holding want. */
static void
assert_refused(store *st, const char *want)
{
	char *cause = NULL;

	assert_int_equal(store_format_check(st, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, want));
	free(cause);
}

/* An empty store is marked with this format, and accepted from then on,
 * with records. */
static void
test_new_store_marked(void **state)
{
	fixture *f = *state;
	char *cause = NULL, *v = NULL;
	size_t vlen = 0;
	keybuf k;

	assert_int_equal(store_format_check(f->st, &cause), 0);
	assert_null(cause);
	key_meta_format(&k);
	assert_int_equal(store_get(f->st, STORE_CF_META, k.b, k.len, &v,
	    &vlen, &cause), 0);
	assert_int_equal(vlen, 8);
	assert_true(key_be64(v) == STORE_FORMAT);
	free(v);
	put(f->st, STORE_CF_SPANS, "span", 4, "x", 1);
	put(f->st, STORE_CF_INDEX, "index", 5, "x", 1);
	assert_int_equal(store_format_check(f->st, &cause), 0);
}

/* Spans or index records with no mark: an older layout. The catalog
 * alone (services, origins) does not count: it did not change. */
static void
test_unmarked_records_refused(void **state)
{
	fixture *f = *state;
	char *cause = NULL;
	keybuf k;

	key_meta_service(&k, "checkout", 8);
	put(f->st, STORE_CF_META, k.b, k.len, "", 0);
	assert_int_equal(store_format_check(f->st, &cause), 0);

	fresh(f);
	put(f->st, STORE_CF_SPANS, "span", 4, "x", 1);
	assert_refused(f->st, "older");

	fresh(f);
	key_idx_svc(&k, 1735689600ULL * 1000000000ULL, "checkout", 8, 5);
	put(f->st, STORE_CF_INDEX, k.b, k.len, "0123", 4);
	assert_refused(f->st, "older");
}

/* Another version, or a mark of the wrong size, is refused. */
static void
test_other_or_damaged_mark_refused(void **state)
{
	fixture *f = *state;

	put_format(f->st, 2, 8);
	assert_refused(f->st, "has format 2");
	put_format(f->st, STORE_FORMAT, 4);
	assert_refused(f->st, "damaged");
	put_format(f->st, STORE_FORMAT, 8);
	assert_int_equal(store_format_check(f->st, &(char *){ NULL }), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_store_marked),
		T(test_unmarked_records_refused),
		T(test_other_or_damaged_mark_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
