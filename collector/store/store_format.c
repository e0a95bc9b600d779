/*
 * store_format.c - the store's layout version (store.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "common.h"
#include "format/keys.h"
#include "store/store.h"

/* True when family cf holds any record. */
static bool
family_has_records(store *st, store_cf cf)
{
	store_iter *it = store_iter_new(st, cf, NULL, 0, NULL, 0, false);
	bool any = store_iter_valid(it);

	store_iter_free(it);
	return any;
}

/* Marks a new store with this layout. */
static int
mark(store *st, char **cause)
{
	store_batch *b = store_batch_new(st);
	uint8_t v[8];
	keybuf k;
	int rv;

	key_meta_format(&k);
	key_write_be64(v, STORE_FORMAT);
	store_batch_put(b, STORE_CF_META, k.b, k.len, v, sizeof v);
	rv = store_write(st, b, false, cause);
	store_batch_free(b);
	return rv;
}

int
store_format_check(store *st, char **cause)
{
	char *v = NULL, *err = NULL;
	size_t vlen = 0;
	uint64_t found;
	keybuf k;
	int rv;

	key_meta_format(&k);
	rv = store_get(st, STORE_CF_META, k.b, k.len, &v, &vlen, &err);
	if (rv < 0) {
		*cause = err;
		return -1;
	}
	if (rv == 1) {
		if (family_has_records(st, STORE_CF_SPANS) ||
		    family_has_records(st, STORE_CF_INDEX)) {
			*cause = xstrdup("the store was written by an older "
			    "tracecollector (a layout before format 3); start "
			    "with a new --db directory");
			return -1;
		}
		return mark(st, cause);
	}
	found = vlen == 8 ? key_be64(v) : 0;
	free(v);
	if (found == STORE_FORMAT)
		return 0;
	if (found == 0)
		*cause = xstrdup("the store's format record (meta V) is "
		    "damaged");
	else
		xasprintf(cause, "the store has format %llu and this "
		    "tracecollector reads format %d; start with a new --db "
		    "directory", (unsigned long long)found, STORE_FORMAT);
	return -1;
}
