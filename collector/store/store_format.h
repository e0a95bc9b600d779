/*
 * store_format.h - the version of the store's layout (meta V). A store
 * whose spans or index another layout wrote is refused at start with a
 * clear message rather than read as garbage.
 *
 *   3: span blocks link a span to its parent in the block; duration
 *      postings without span IDs.
 *   (none): older layouts, before the version was recorded.
 */
#ifndef COLLECTOR_STORE_FORMAT_H
#define COLLECTOR_STORE_FORMAT_H

#include "store/store.h"

#define STORE_FORMAT 3

/* store_format_check returns 0 when st holds this layout (an empty store
 * is marked with it); else -1 with *cause. */
int store_format_check(store *st, char **cause);

#endif /* COLLECTOR_STORE_FORMAT_H */
