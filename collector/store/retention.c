/*
 * retention.c - keeps the store within --retention while ingest runs
 * (store.h). Each pass (retention_timer.c runs one every tenth of
 * the retention, between 1 s and 10 min):
 *  - moves the compaction filters' cutoff to now - retention, so every
 *    compaction drops expired spans, index entries and histograms;
 *  - deletes whole expired hours of the index and histogram families with
 *    DeleteRange (their keys start with the hour) and compacts that range;
 *  - for short retentions (under an hour) compacts the spans family too, so
 *    the space comes back promptly; long ones rely on RocksDB's periodic
 *    compaction (store.c) and normal compactions.
 * Queries hide expired records at once (query.c uses the same cutoff).
 */
#include <stdlib.h>

#include "common.h"
#include "daemon/stats.h"
#include "format/keys.h"
#include "store/store.h"

int
retention_run_once(store *st, uint64_t now, uint64_t retention_ns,
    bool compact, char **cause)
{
	uint64_t cutoff;
	keybuf lo, hi;
	char *later = NULL;
	int rv = 0;

	if (retention_ns == 0 || retention_ns >= now)
		return 0;
	cutoff = now - retention_ns;
	store_set_cutoff(st, cutoff);
	STATS_INC(retention_runs, 1);
	/* Hours that ended before the cutoff go as a range. */
	if (key_hour(cutoff) > 0) {
		key_reset(&lo);
		key_put_u32(&lo, 0);
		key_reset(&hi);
		key_put_u32(&hi, key_hour(cutoff));
		if (store_delete_range(st, STORE_CF_INDEX, lo.b, lo.len, hi.b,
		    hi.len, cause) != 0 ||
		    store_delete_range(st, STORE_CF_HIST, lo.b, lo.len, hi.b,
		    hi.len, cause) != 0)
			rv = -1;
	}
	/* Span blocks are keyed by the minute they start in: the minutes
	 * that ended before the cutoff go as a range too. */
	key_reset(&lo);
	key_put_u32(&lo, 0);
	key_reset(&hi);
	key_put_u32(&hi, key_minute(cutoff));
	/* Still tried when the index failed; *cause is its first error. */
	if (store_delete_range(st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    rv == 0 ? cause : &later) != 0) {
		free(later);
		rv = -1;
	}
	if (compact) {
		store_compact(st, STORE_CF_SPANS);
		store_compact(st, STORE_CF_TRACES);
		store_compact(st, STORE_CF_INDEX);
		store_compact(st, STORE_CF_HIST);
	}
	return rv;
}
