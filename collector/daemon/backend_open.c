/*
 * backend_open.c - the one place that knows every backend (backend.h):
 * opens the one a --store spec names. It lives with the daemon, above
 * the seam, so no room below needs to know more than one backend.
 */
#include <string.h>

#include "backend/backend.h"
#include "backend/rocksdb_backend.h"
#include "clickhouse/ch_backend.h"
#include "common.h"

/* The backends a --store spec can name: "scheme:rest". */
static const struct {
	const char *scheme;
	int (*open)(backend **out, const char *rest, const backend_options *o,
	    char **cause);
} backend_kinds[] = {
	{ "rocksdb:", rocksdb_backend_open },
	{ "clickhouse://", ch_backend_open },
	{ "clickhouses://", ch_backend_open_tls },
};

int
backend_open(backend **out, const char *spec, const backend_options *o,
    char **cause)
{
	*out = NULL;
	for (size_t i = 0; i < ARRAY_LEN(backend_kinds); i++) {
		size_t n = strlen(backend_kinds[i].scheme);

		if (strncmp(spec, backend_kinds[i].scheme, n) == 0)
			return backend_kinds[i].open(out, spec + n, o, cause);
	}
	/* No scheme: a directory, as --db gives it. */
	return rocksdb_backend_open(out, spec, o, cause);
}

