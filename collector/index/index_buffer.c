/*
 * index_buffer.c - index records of many requests, written together
 * (index.h). Why: the index is most of what a span costs RocksDB
 * when each request writes its own records, because a request's 512 spans
 * touch about 1,500 distinct (name, minute) posting lists. Gathered over a
 * second of requests, the same lists take a fraction of the records.
 *
 * Two generations alternate: ingest threads add to the current one under
 * `mu`; a flush swaps it for the spare and writes it under `flush_mu`, so
 * flushes are serial and a sync that returns has seen every earlier swap
 * written. Each generation remembers the log records (META_LOG) of the
 * requests it holds and deletes them in the same batch as their index.
 *
 * Queries wait for the flusher thread instead of writing themselves, and
 * only so long: an index write waits out RocksDB's write stalls (a slow
 * disk), and a query must not wait as long (index_buffer_sync_within).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otlp_types.h"
#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "index/index.h"
#include "format/keys.h"
#include "format/span_block.h"


#define FLUSH_PART (4u << 20)
/* Free disk an idle flush needs: the memtables are capped at 48 MiB, and
 * RocksDB must never meet ENOSPC. */
#define IDLE_FLUSH_ROOM (64ULL << 20)

typedef struct generation {
	index_builder *ib;
	store_batch *b;
	uint64_t *seqs; /* log records to delete with this index */
	size_t n_seqs, cap_seqs;
	size_t n_spans;
} generation;

struct index_buffer {
	store *st;
	index_buffer_limits lim;
	pthread_mutex_t mu;       /* guards cur */
	pthread_mutex_t flush_mu; /* one flush at a time; guards spare */
	generation *cur, *spare;
	_Atomic uint64_t next_seq;
	pthread_t flusher;
	pthread_cond_t wake;      /* the flusher's timer, or a sync */
	pthread_cond_t done;      /* a flush ended */
	/* Under mu: generations swapped out and, of them, written (or given
	 * up on); flushes that wrote nothing for lack of disk; a sync waits. */
	uint64_t swapped, written, failures;
	bool flush_now;
	bool stop;                /* under mu */
};

static generation *
generation_new(store *st, index_catalog *cat)
{
	generation *g = xcalloc(1, sizeof *g);

	g->ib = index_builder_new(cat);
	g->b = store_batch_new(st);
	index_begin(g->ib);
	return g;
}

static void
generation_free(generation *g)
{
	if (g == NULL)
		return;
	index_builder_free(g->ib);
	store_batch_free(g->b);
	free(g->seqs);
	free(g);
}

static void
generation_reset(generation *g)
{
	index_begin(g->ib);
	store_batch_clear(g->b);
	g->n_seqs = 0;
	g->n_spans = 0;
}

/* Remembers that g holds the spans of log record seq. */
static void
generation_log(generation *g, uint64_t seq)
{
	if (g->n_seqs == g->cap_seqs) {
		g->cap_seqs = g->cap_seqs ? g->cap_seqs * 2 : 64;
		g->seqs = xrealloc(g->seqs, g->cap_seqs * sizeof *g->seqs);
	}
	g->seqs[g->n_seqs++] = seq;
}

/* Adds a request's entries (its n spans, logged as seq) to g. Caller
 * holds the lock that guards g. */
static void
generation_add(generation *g, uint64_t seq, index_builder *req, size_t n)
{
	index_merge(g->ib, req);
	generation_log(g, seq);
	g->n_spans += n;
}

/* Writes b; returns 0 or -1 (logged). */
static int
write_part(store *st, store_batch *b)
{
	char *cause = NULL;

	if (store_write(st, b, false, &cause) != 0) {
		log_error("index write failed: %s", cause ? cause : "?");
		free(cause);
		return -1;
	}
	STATS_INC(index_records, store_batch_count(b));
	STATS_INC(records_written, store_batch_count(b));
	STATS_INC(bytes_written, store_batch_bytes(b));
	store_batch_clear(b);
	return 0;
}

/* Writes g's index records in parts of at most FLUSH_PART bytes (so the
 * batch never doubles the buffer's memory), and deletes its log records
 * with the last part. Should a part fail, the log records stay and the
 * next start re-indexes them (duplicate postings are harmless: searches
 * deduplicate traces). */
static int
generation_write(store *st, generation *g)
{
	keybuf k;
	uint64_t t0 = now_mono_ns();
	store_batch *b = g->b;

	while (!index_finish_step(g->ib, b, FLUSH_PART))
		if (write_part(st, b) != 0)
			return -1;
	for (size_t i = 0; i < g->n_seqs; i++) {
		key_meta_log(&k, g->seqs[i]);
		store_batch_delete(b, STORE_CF_META, k.b, k.len);
	}
	if (write_part(st, b) != 0)
		return -1;
	index_commit(g->ib);
	STATS_INC(index_flushes, 1);
	STATS_INC(index_flush_ns, now_mono_ns() - t0);
	return 0;
}

/* Ends a flush for waiting syncs: gen generations written, or one more
 * failure. Caller holds mu. */
static void
flush_ended(index_buffer *ib, uint64_t gen, bool failed)
{
	ib->written += gen;
	ib->failures += failed;
	pthread_cond_broadcast(&ib->done);
}

/* Swaps the current generation out and writes it. */
static int
flush(index_buffer *ib)
{
	generation *g;
	int rv = 0;

	pthread_mutex_lock(&ib->flush_mu);
	pthread_mutex_lock(&ib->mu);
	g = ib->cur;
	if (g->n_seqs == 0) {
		pthread_mutex_unlock(&ib->mu);
		pthread_mutex_unlock(&ib->flush_mu);
		return 0;
	}
	/* RocksDB aborts on ENOSPC in a WAL append: keep buffering (the
	 * pipeline already answers "retry later") until space returns. */
	if (store_free_bytes(ib->st) < ib->lim.min_free_bytes +
	    2 * (store_batch_bytes(g->b) + g->n_spans * 256)) {
		flush_ended(ib, 0, true);
		pthread_mutex_unlock(&ib->mu);
		pthread_mutex_unlock(&ib->flush_mu);
		return -1;
	}
	ib->cur = ib->spare;
	ib->spare = NULL;
	ib->swapped++;
	pthread_mutex_unlock(&ib->mu);
	rv = generation_write(ib->st, g);
	generation_reset(g);
	ib->spare = g;
	pthread_mutex_lock(&ib->mu);
	flush_ended(ib, 1, rv != 0);
	pthread_mutex_unlock(&ib->mu);
	pthread_mutex_unlock(&ib->flush_mu);
	return rv;
}

/* Writes the store's memtables to files once no request has come for
 * idle_ms (every query would otherwise search them, and the WAL they hold
 * would be replayed at the next start), unless the disk is short of room;
 * true once done. */
static bool
idle_flush(index_buffer *ib, uint64_t busy_ns)
{
	if (now_mono_ns() - busy_ns < (uint64_t)ib->lim.idle_ms * 1000000 ||
	    store_free_bytes(ib->st) < ib->lim.min_free_bytes +
	    IDLE_FLUSH_ROOM)
		return false;
	store_flush(ib->st);
	STATS_INC(idle_flushes, 1);
	return true;
}

static void *
flusher_main(void *arg)
{
	index_buffer *ib = arg;
	uint64_t seen = 0, busy_ns = now_mono_ns();
	bool store_flushed = true;

	pthread_mutex_lock(&ib->mu);
	while (!ib->stop) {
		if (!ib->flush_now) {
			struct timespec ts = deadline_after_ms(ib->lim.flush_ms);

			pthread_cond_timedwait(&ib->wake, &ib->mu, &ts);
		}
		if (ib->stop)
			break;
		ib->flush_now = false;
		if (ib->next_seq != seen) {
			seen = ib->next_seq;
			busy_ns = now_mono_ns();
			store_flushed = false;
		}
		pthread_mutex_unlock(&ib->mu);
		flush(ib);
		if (!store_flushed)
			store_flushed = idle_flush(ib, busy_ns);
		pthread_mutex_lock(&ib->mu);
	}
	pthread_mutex_unlock(&ib->mu);
	return NULL;
}

uint64_t
index_buffer_log(index_buffer *ib, store_batch *b, const uint8_t *keys,
    size_t n)
{
	uint64_t seq = atomic_fetch_add(&ib->next_seq, 1);
	keybuf k;

	key_meta_log(&k, seq);
	store_batch_put(b, STORE_CF_META, k.b, k.len, keys, n * KEY_SPAN_LEN);
	return seq;
}

void
index_buffer_add(index_buffer *ib, uint64_t seq, index_builder *req,
    size_t n)
{
	bool full;

	pthread_mutex_lock(&ib->mu);
	generation_add(ib->cur, seq, req, n);
	full = ib->cur->n_spans >= ib->lim.flush_spans;
	pthread_mutex_unlock(&ib->mu);
	if (full)
		flush(ib);
}

int
index_buffer_sync(index_buffer *ib)
{
	return flush(ib);
}

int
index_buffer_sync_within(index_buffer *ib, uint32_t timeout_ms)
{
	struct timespec dl = deadline_after_ms(timeout_ms);
	uint64_t target, failures;
	int rv = 0;

	pthread_mutex_lock(&ib->mu);
	target = ib->swapped + (ib->cur->n_seqs != 0);
	failures = ib->failures;
	if (ib->written < target) {
		ib->flush_now = true;
		pthread_cond_signal(&ib->wake);
	}
	while (ib->written < target && ib->failures == failures && rv == 0)
		rv = pthread_cond_timedwait(&ib->done, &ib->mu, &dl);
	rv = ib->written >= target ? 0 : -1;
	pthread_mutex_unlock(&ib->mu);
	return rv;
}

/* ------------------------------------------------------------- recovery */

/* The resource of an origin (NULL when unknown); *rs to free. */
static const Resource *
origin_resource(store *st, uint64_t hash, ResourceSpans **rs)
{
	char *v = NULL, *cause = NULL;
	size_t vlen;
	keybuf k;

	*rs = NULL;
	key_meta_origin(&k, hash);
	if (store_get(st, STORE_CF_META, k.b, k.len, &v, &vlen, &cause) == 0)
		*rs = opentelemetry__proto__trace__v1__resource_spans__unpack(
		    NULL, vlen, (const uint8_t *)v);
	free(v);
	free(cause);
	return *rs != NULL ? (*rs)->resource : NULL;
}

/* Re-adds one span of a logged block to g. */
static void
recover_span(store *st, generation *g, const uint8_t *trace_id,
    const span_block_entry *e)
{
	uint8_t ids[KEY_SPAN_LEN];
	ResourceSpans *rs;
	indexed_span is;
	Span *sp = span_block_unpack(e);

	if (sp == NULL)
		return;
	/* The IDs live beside the packed span; lend them to it. */
	memcpy(ids, trace_id, KEY_TRACE_ID_LEN);
	memcpy(ids + KEY_TRACE_ID_LEN, e->span_id, KEY_SPAN_ID_LEN);
	sp->trace_id.data = ids;
	sp->trace_id.len = KEY_TRACE_ID_LEN;
	sp->span_id.data = ids + KEY_TRACE_ID_LEN;
	sp->span_id.len = KEY_SPAN_ID_LEN;
	is.res = origin_resource(st, e->origin_hash, &rs);
	is.svc = index_service_name(is.res);
	is.sp = sp;
	index_span(g->ib, g->b, is.svc, is.res, is.sp);
	g->n_spans++;
	STATS_INC(index_recovered, 1);
	sp->trace_id.data = sp->span_id.data = NULL;
	sp->trace_id.len = sp->span_id.len = 0;
	opentelemetry__proto__trace__v1__span__free_unpacked(sp, NULL);
	if (rs != NULL)
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    rs, NULL);
}

/* Re-adds the spans of one logged block (gone when expired) to g. */
static void
recover_block(store *st, generation *g, const uint8_t *key)
{
	char *v = NULL, *cause = NULL;
	size_t vlen, off = 0;
	span_block_entry e;

	if (store_get(st, STORE_CF_SPANS, key, KEY_SPAN_LEN, &v, &vlen,
	    &cause) == 0) {
		while (span_block_next((const uint8_t *)v, vlen, &off, &e) == 1)
			recover_span(st, g, key + KEY_SPAN_MINUTE_LEN, &e);
	}
	free(v);
	free(cause);
}

/* Re-indexes every logged request (left by a crash) into ib->cur, then
 * writes it (or leaves that to the flusher when the disk is full); sets
 * next_seq past the last log record. */
static void
recover(index_buffer *ib)
{
	uint8_t lo = META_LOG, hi = META_LOG + 1;
	store_iter *it = store_iter_new(ib->st, STORE_CF_META, &lo, 1, &hi, 1,
	    false);
	generation *g = ib->cur;
	uint64_t last = 0;

	for (store_iter_seek(it, &lo, 1); store_iter_valid(it);
	    store_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *key = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);

		if (klen != 9)
			continue;
		last = key_be64(key + 1);
		for (size_t off = 0; off + KEY_SPAN_LEN <= vlen;
		    off += KEY_SPAN_LEN)
			recover_block(ib->st, g, v + off);
		generation_log(g, last);
	}
	store_iter_free(it);
	atomic_store(&ib->next_seq, last + 1);
	if (g->n_seqs == 0)
		return;
	log_info("re-indexing %zu spans of %zu requests logged before a "
	    "crash", g->n_spans, g->n_seqs);
	if (flush(ib) != 0)
		log_warn("could not write the re-built index yet; will retry");
}

int
index_buffer_new(index_buffer **out, store *st, index_catalog *cat,
    const index_buffer_limits *lim, char **cause)
{
	index_buffer *ib = xcalloc(1, sizeof *ib);
	int rv;

	*out = NULL;
	ib->st = st;
	ib->lim = *lim;
	if (ib->lim.flush_ms == 0)
		ib->lim.flush_ms = 1;
	pthread_mutex_init(&ib->mu, NULL);
	pthread_mutex_init(&ib->flush_mu, NULL);
	pthread_cond_init(&ib->wake, NULL);
	pthread_cond_init(&ib->done, NULL);
	ib->cur = generation_new(st, cat);
	ib->spare = generation_new(st, cat);
	recover(ib);
	if ((rv = pthread_create(&ib->flusher, NULL, flusher_main, ib)) != 0) {
		xasprintf(cause, "index flusher: %s", strerror(rv));
		goto fail;
	}
	*out = ib;
	return 0;
fail:
	generation_free(ib->cur);
	generation_free(ib->spare);
	free(ib);
	return -1;
}

void
index_buffer_free(index_buffer *ib)
{
	if (ib == NULL)
		return;
	pthread_mutex_lock(&ib->mu);
	ib->stop = true;
	pthread_cond_signal(&ib->wake);
	pthread_mutex_unlock(&ib->mu);
	pthread_join(ib->flusher, NULL);
	flush(ib);
	generation_free(ib->cur);
	generation_free(ib->spare);
	pthread_cond_destroy(&ib->wake);
	pthread_cond_destroy(&ib->done);
	pthread_mutex_destroy(&ib->mu);
	pthread_mutex_destroy(&ib->flush_mu);
	free(ib);
}
