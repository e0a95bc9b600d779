/*
 * retention.c - keeps the store within --retention while ingest runs.
 * Every pass (a tenth of the retention, between 1 s and 10 min):
 *  - moves the compaction filters' cutoff to now - retention, so every
 *    compaction drops expired spans, index entries and histograms;
 *  - deletes whole expired hours of the index and histogram families with
 *    DeleteRange (their keys start with the hour) and compacts that range;
 *  - for short retentions (under an hour) compacts the spans family too, so
 *    the space comes back promptly; long ones rely on RocksDB's periodic
 *    compaction (store.c) and normal compactions.
 * Queries hide expired records at once (query.c uses the same cutoff).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/collector.h"
#include "format/keys.h"

struct retention {
	store *st;
	uint64_t retention_ns;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

void
retention_run_once(store *st, uint64_t retention_ns, bool compact)
{
	uint64_t now = now_unix_ns(), cutoff;
	keybuf lo, hi;
	char *cause = NULL;

	if (retention_ns == 0 || retention_ns >= now)
		return;
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
		    hi.len, &cause) != 0 ||
		    store_delete_range(st, STORE_CF_HIST, lo.b, lo.len, hi.b,
		    hi.len, &cause) != 0) {
			log_warn("retention: %s", cause);
			free(cause);
		}
	}
	/* Span blocks are keyed by the minute they start in: the minutes
	 * that ended before the cutoff go as a range too. */
	key_reset(&lo);
	key_put_u32(&lo, 0);
	key_reset(&hi);
	key_put_u32(&hi, key_minute(cutoff));
	if (store_delete_range(st, STORE_CF_SPANS, lo.b, lo.len, hi.b, hi.len,
	    &cause) != 0) {
		log_warn("retention: %s", cause);
		free(cause);
	}
	if (compact) {
		store_compact(st, STORE_CF_SPANS);
		store_compact(st, STORE_CF_TRACES);
		store_compact(st, STORE_CF_INDEX);
		store_compact(st, STORE_CF_HIST);
	}
}

static void *
retention_main(void *arg)
{
	retention *r = arg;
	uint64_t period = r->retention_ns / 10;
	bool compact = r->retention_ns < KEY_HOUR_NS;

	if (period < 1000000000ULL)
		period = 1000000000ULL;
	if (period > 600000000000ULL)
		period = 600000000000ULL;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts = deadline_after_ms(period / 1000000ULL);
		int rv = 0;

		while (!r->stop && rv != ETIMEDOUT)
			rv = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		retention_run_once(r->st, r->retention_ns, compact);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int
retention_start(retention **out, store *st, uint64_t retention_ns,
    char **cause)
{
	retention *r = xcalloc(1, sizeof *r);

	*out = NULL;
	r->st = st;
	r->retention_ns = retention_ns;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (retention_ns != 0)
		store_set_cutoff(st, now_unix_ns() - retention_ns);
	if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
		xasprintf(cause, "retention: cannot start a thread");
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void
retention_stop(retention *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
