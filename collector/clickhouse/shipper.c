/* shipper.c - ships the spool to ClickHouse in blocks (shipper.h). */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/shipper.h"
#include "daemon/log.h"

#define INSERT_TIMEOUT_MS 120000
#define QUORUM_TIMEOUT_MS 10000
#define IDLE_WAIT_MS 50
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define CODE_TOO_FEW_REPLICAS 285

struct shipper {
	spool *sp;
	ch_client *c;
	char *database, *cluster;
	int quorum;
	uint32_t flush_ms;
	uint64_t block_spans;
	ch_arrivals *arrivals;
	bool schema_ready;
	pthread_t thread;
	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stop;
	unsigned syncs;       /* shipper_sync calls waiting */
	uint64_t shipped_upto; /* every segment up to this one is shipped */
	shipper_stats stats;
};

/* One segment's rows, table by table. */
typedef struct block {
	rowbinary_buf rows[CH_ROWS_TABLES];
	uint64_t n_spans;
} block;

/* Sizes each table's rows first, so every body is allocated once at its
 * size: doubling buffers of tens of MiB left the heap fragmented (RSS
 * grew past 350 MiB while shipping). */
static void
block_presize(block *b, const uint8_t *data, size_t len)
{
	size_t off = 0, rlen, need[CH_ROWS_TABLES] = { 0 };
	const uint8_t *rec;
	ch_rows_view v;

	while (spool_next_record(data, len, &off, &rec, &rlen))
		if (ch_rows_parse(rec, rlen, &v))
			for (int t = 0; t < CH_ROWS_TABLES; t++)
				need[t] += v.len[t];
	for (int t = 0; t < CH_ROWS_TABLES; t++) {
		b->rows[t].cap = need[t] + 1;
		b->rows[t].b = xmalloc(b->rows[t].cap);
	}
}

static void
block_fill(block *b, const uint8_t *data, size_t len)
{
	size_t off = 0, rlen;
	const uint8_t *rec;
	ch_rows_view v;

	memset(b, 0, sizeof *b);
	block_presize(b, data, len);
	while (spool_next_record(data, len, &off, &rec, &rlen)) {
		/* The spool's checksum passed, so a record that does not
		 * parse was written wrong: it is skipped, and logged. */
		if (!ch_rows_parse(rec, rlen, &v)) {
			log_error("clickhouse: skipping a malformed spool record");
			continue;
		}
		b->n_spans += v.n_spans;
		for (int t = 0; t < CH_ROWS_TABLES; t++)
			rowbinary_put_bytes(&b->rows[t], v.rows[t], v.len[t]);
	}
}

static void
block_free(block *b)
{
	for (int t = 0; t < CH_ROWS_TABLES; t++)
		rowbinary_buf_free(&b->rows[t]);
}

/* Inserts one table's rows with the given quorum. */
static int
insert(shipper *s, int t, const rowbinary_buf *rows, int quorum,
    ch_reply *rep, char **cause)
{
	char sql[128], tbl[64], params[160] = "";

	snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary",
	    ch_schema_all(ch_schema_tables[t], s->cluster != NULL, tbl,
	    sizeof tbl));
	if (s->cluster != NULL)
		snprintf(params, sizeof params, "insert_distributed_sync=1"
		    "&insert_quorum=%d&insert_quorum_timeout=%d", quorum,
		    QUORUM_TIMEOUT_MS);
	return ch_client_exec(s->c, sql, rows->b, rows->len,
	    params[0] ? params : NULL, INSERT_TIMEOUT_MS, rep, cause);
}

/* Inserts a table, degrading the quorum to 1 when too few replicas are
 * alive for the one asked. */
static int
insert_table(shipper *s, int t, const rowbinary_buf *rows)
{
	ch_reply rep;
	char *cause = NULL;
	int rv = insert(s, t, rows, s->quorum, &rep, &cause);

	if (rv != 0 && rep.ch_code == CODE_TOO_FEW_REPLICAS && s->quorum > 1) {
		ch_reply_fini(&rep);
		free(cause);
		cause = NULL;
		rv = insert(s, t, rows, 1, &rep, &cause);
		pthread_mutex_lock(&s->mu);
		s->stats.quorum_degraded++;
		pthread_mutex_unlock(&s->mu);
		log_warn("clickhouse: too few live replicas for quorum %d; "
		    "inserted %s with quorum 1", s->quorum,
		    ch_schema_tables[t]);
	}
	if (rv != 0) {
		log_warn("clickhouse: insert into %s failed (will retry): %s",
		    ch_schema_tables[t], cause ? cause : "?");
		pthread_mutex_lock(&s->mu);
		s->stats.insert_errors++;
		pthread_mutex_unlock(&s->mu);
	}
	ch_reply_fini(&rep);
	free(cause);
	return rv;
}

/* Ships the oldest sealed segment. Returns 1 when one was shipped, 0 when
 * there was none, -1 when an insert failed (the segment stays). */
static int
ship_oldest(shipper *s)
{
	uint64_t seq, t0 = now_mono_ns();
	uint8_t *data = NULL, done;
	size_t len;
	char *cause = NULL;
	block b;
	int rv = spool_oldest(s->sp, &seq, &data, &len, &done, &cause);

	if (rv <= 0) {
		if (rv < 0)
			log_error("clickhouse: %s", cause);
		free(cause);
		return rv;
	}
	block_fill(&b, data, len);
	free(data);
	for (int t = 0; t < CH_ROWS_TABLES && rv == 1; t++) {
		if (done & (1u << t))
			continue;
		if (b.rows[t].len > 0 && insert_table(s, t, &b.rows[t]) != 0) {
			rv = -1;
			break;
		}
		done |= (uint8_t)(1u << t);
		/* On one server nothing deduplicates a resent table: remember
		 * what is in. */
		if (s->cluster == NULL && spool_set_done(s->sp, seq, done,
		    &cause) != 0) {
			log_error("clickhouse: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
	if (rv == 1) {
		/* Before shipped_upto moves: a query that waited for this
		 * segment finds its traces for tail. */
		if (s->arrivals != NULL)
			ch_arrivals_add(s->arrivals,
			    b.rows[CH_ROWS_TRACE_INDEX].b,
			    b.rows[CH_ROWS_TRACE_INDEX].len);
		spool_remove(s->sp, seq, b.n_spans);
		pthread_mutex_lock(&s->mu);
		s->shipped_upto = seq;
		s->stats.shipped_spans += b.n_spans;
		s->stats.shipped_blocks++;
		s->stats.last_ship_ms = (now_mono_ns() - t0) / 1000000;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	block_free(&b);
	/* The segment and its bodies were tens of MiB: give the pages back
	 * rather than let the heap keep them. */
	malloc_trim(0);
	return rv;
}

static void
wait_ms(shipper *s, uint32_t ms)
{
	struct timespec dl = deadline_after_ms(ms);

	pthread_mutex_lock(&s->mu);
	if (!s->stop)
		pthread_cond_timedwait(&s->cv, &s->mu, &dl);
	pthread_mutex_unlock(&s->mu);
}

/* Seals the open segment when it is due: old or big enough, or someone
 * waits in shipper_sync. */
static void
seal_if_due(shipper *s)
{
	spool_state st;
	bool syncing;

	pthread_mutex_lock(&s->mu);
	syncing = s->syncs > 0 || s->stop;
	pthread_mutex_unlock(&s->mu);
	spool_get_state(s->sp, &st);
	if (st.open_spans > 0 && (syncing || st.open_age_ms >= s->flush_ms ||
	    st.open_spans >= s->block_spans))
		spool_seal(s->sp);
}

static bool
ensure_schema(shipper *s)
{
	char *cause = NULL;

	if (s->schema_ready)
		return true;
	if (ch_schema_ensure(s->c, s->database, s->cluster, &cause) == 0) {
		s->schema_ready = true;
		log_info("clickhouse: schema ready in %s", s->database);
	} else {
		log_warn("clickhouse: schema not ready: %s", cause);
	}
	free(cause);
	return s->schema_ready;
}

static bool
stopping(shipper *s)
{
	bool stop;

	pthread_mutex_lock(&s->mu);
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *
ship_loop(void *arg)
{
	shipper *s = arg;
	uint32_t backoff = BACKOFF_MIN_MS;

	while (!stopping(s)) {
		int rv;

		if (!ensure_schema(s)) {
			wait_ms(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			continue;
		}
		seal_if_due(s);
		rv = ship_oldest(s);
		if (rv == 1) {
			backoff = BACKOFF_MIN_MS;
		} else if (rv == 0) {
			wait_ms(s, IDLE_WAIT_MS);
		} else {
			wait_ms(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
		}
	}
	return NULL;
}

int
shipper_start(shipper **out, spool *sp, ch_client *c,
    const shipper_options *o, bool schema_ready, char **cause)
{
	shipper *s = xcalloc(1, sizeof *s);
	spool_state st;

	s->sp = sp;
	s->c = c;
	s->database = xstrdup(o->database);
	s->cluster = o->cluster ? xstrdup(o->cluster) : NULL;
	s->quorum = o->quorum;
	s->flush_ms = o->flush_ms;
	s->block_spans = o->block_spans;
	s->arrivals = o->arrivals;
	s->schema_ready = schema_ready;
	spool_get_state(sp, &st);
	/* Segments below the open one that are not sealed are shipped. */
	s->shipped_upto = st.sealed > 0 ? 0 : st.open_seq - 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, ship_loop, s) != 0) {
		xasprintf(cause, "clickhouse: cannot start the shipper thread");
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s->database);
		free(s->cluster);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
shipper_sync(shipper *s, uint32_t timeout_ms)
{
	struct timespec dl = deadline_after_ms(timeout_ms);
	spool_state st;
	uint64_t target;
	int rv = 0;

	spool_get_state(s->sp, &st);
	target = st.open_spans > 0 ? st.open_seq : st.open_seq - 1;
	pthread_mutex_lock(&s->mu);
	s->syncs++;
	pthread_cond_broadcast(&s->cv);
	while (s->shipped_upto < target && rv == 0 && !s->stop)
		rv = pthread_cond_timedwait(&s->cv, &s->mu, &dl) == 0 ? 0 :
		    s->shipped_upto < target ? -1 : 0;
	s->syncs--;
	if (s->shipped_upto < target)
		rv = -1;
	pthread_mutex_unlock(&s->mu);
	return rv;
}

void
shipper_kick(shipper *s)
{
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
shipper_get_stats(shipper *s, shipper_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->stats;
	pthread_mutex_unlock(&s->mu);
}

void
shipper_stop(shipper *s, uint32_t timeout_ms)
{
	if (s == NULL)
		return;
	(void)shipper_sync(s, timeout_ms);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->database);
	free(s->cluster);
	free(s);
}
