/* shipper.c - ships the spool to ClickHouse in blocks (shipper.h). */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/ch_blocks.h"
#include "clickhouse/ch_landed.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/shipper.h"
#include "daemon/log.h"

#define INSERT_TIMEOUT_MS 120000 /* default */
#define DONE_SENT 0x80 /* in the done mask: an insert went out */
#define QUORUM_TIMEOUT_MS 10000
#define IDLE_WAIT_MS 50
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define CODE_TOO_FEW_REPLICAS 285
#define BACKLOG_GROWTH 4 /* block_spans times this while segments wait */
#define SEGMENT_MAX_BYTES (96u << 20)

struct shipper {
	spool *sp;
	ch_client *c;
	char *database, *cluster;
	int quorum;
	uint32_t flush_ms;
	uint64_t block_spans;
	uint32_t insert_timeout_ms;
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

/* Inserts one unit with the given quorum. On a single server the query
 * ID is the unit's: a resend while the first is still running there is
 * refused (code 216) instead of racing it. */
static int
insert(shipper *s, const ch_unit *u, int quorum, ch_reply *rep,
    char **cause)
{
	char sql[128], tbl[64], params[160], qid[64];

	snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary",
	    ch_schema_all(ch_schema_tables[u->table], s->cluster != NULL, tbl,
	    sizeof tbl));
	if (s->cluster != NULL)
		snprintf(params, sizeof params, "insert_distributed_sync=1"
		    "&insert_quorum=%d&insert_quorum_timeout=%d", quorum,
		    QUORUM_TIMEOUT_MS);
	else {
		/* log_queries: the probe for a table without row keys reads
		 * the outcome in system.query_log (ch_landed.c). */
		ch_unit_query_id(u, qid, sizeof qid);
		snprintf(params, sizeof params, "query_id=%s&log_queries=1",
		    qid);
	}
	return ch_client_exec(s->c, sql, u->rows.b, u->rows.len, params,
	    s->insert_timeout_ms, rep, cause);
}

/* Inserts a table, degrading the quorum to 1 when too few replicas are
 * alive for the one asked. */
static int
insert_unit(shipper *s, const ch_unit *u)
{
	ch_reply rep;
	char *cause = NULL;
	int t = u->table;
	int rv = insert(s, u, s->quorum, &rep, &cause);

	if (rv != 0 && rep.ch_code == CODE_TOO_FEW_REPLICAS && s->quorum > 1) {
		ch_reply_fini(&rep);
		free(cause);
		cause = NULL;
		rv = insert(s, u, 1, &rep, &cause);
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

/* Sends unit u unless an earlier attempt of its segment may have
 * landed it (probe): on a single server nothing else would stop a
 * duplicate. Returns 0 when it is in, -1 to retry later. */
static int
send_unit(shipper *s, const ch_unit *u, bool probe)
{
	bool landed = false;
	char *cause = NULL;

	if (probe && ch_landed(s->c, u, s->insert_timeout_ms, &landed,
	    &cause) != 0) {
		log_warn("clickhouse: cannot tell whether a block of %s "
		    "landed (will retry): %s", ch_schema_tables[u->table],
		    cause);
		free(cause);
		return -1;
	}
	if (landed) {
		pthread_mutex_lock(&s->mu);
		s->stats.resends_avoided++;
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	return u->rows.len > 0 ? insert_unit(s, u) : 0;
}

/* Records done (a mask of tables, and SENT) for a single server. */
static void
save_done(shipper *s, uint64_t seq, uint8_t done)
{
	char *cause = NULL;

	if (s->cluster == NULL && spool_set_done(s->sp, seq, done,
	    &cause) != 0) {
		log_error("clickhouse: %s", cause);
		free(cause);
	}
}

/* One segment's inserts: a thread per table not done yet. */
typedef struct segment_job {
	shipper *s;
	uint64_t seq;
	const ch_units *us;
	bool probe;
	pthread_mutex_t mu; /* guards done and the SEQ.done file */
	uint8_t done;
} segment_job;

typedef struct table_job {
	segment_job *seg;
	int table;
	int rv;
	pthread_t thread;
} table_job;

/* Inserts one table's units (one per day), then records the table done. */
static void *
table_run(void *arg)
{
	table_job *j = arg;
	segment_job *g = j->seg;

	j->rv = 0;
	for (size_t i = 0; i < g->us->n && j->rv == 0; i++)
		if (ch_unit_step(g->us->v[i].table) == j->table)
			j->rv = send_unit(g->s, &g->us->v[i], g->probe);
	if (j->rv == 0) {
		pthread_mutex_lock(&g->mu);
		g->done |= (uint8_t)(1u << j->table);
		save_done(g->s, g->seq, g->done);
		pthread_mutex_unlock(&g->mu);
	}
	return NULL;
}

/* Inserts the units of the tables not done yet, the tables at once: each
 * insert is parsed, sorted and compressed by one server thread and waits
 * on its own round trip, so seven in a row left the server's cores and
 * the collector idle in turns. Within a segment the tables land in no set
 * order (as across the shards of a cluster insert). */
static int
send_units(shipper *s, uint64_t seq, const ch_units *us, uint8_t done)
{
	/* On one server nothing deduplicates a resent block: once a
	 * segment was sent, a later attempt asks what landed first. */
	segment_job g = { .s = s, .seq = seq, .us = us, .done = done,
	    .probe = s->cluster == NULL && (done & DONE_SENT) };
	table_job jobs[CH_ROWS_TABLES];
	int rv = 0;

	if (s->cluster == NULL && !(done & DONE_SENT))
		save_done(s, seq, g.done |= DONE_SENT);
	pthread_mutex_init(&g.mu, NULL);
	for (int t = 0; t < CH_ROWS_TABLES; t++) {
		jobs[t] = (table_job){ .seg = &g, .table = t };
		if (done & (1u << t))
			continue;
		/* attr_index's units go out with span_index's (ch_unit_step):
		 * no thread of their own. */
		if (ch_unit_step(t) != t) {
			jobs[t].table = -1;
			continue;
		}
		/* No thread to be had: this one inserts the table. */
		if (pthread_create(&jobs[t].thread, NULL, table_run,
		    &jobs[t]) != 0) {
			table_run(&jobs[t]);
			jobs[t].table = -1;
		}
	}
	for (int t = 0; t < CH_ROWS_TABLES; t++) {
		if (!(done & (1u << t)) && jobs[t].table >= 0)
			pthread_join(jobs[t].thread, NULL);
		if (jobs[t].rv != 0)
			rv = -1;
	}
	pthread_mutex_destroy(&g.mu);
	return rv;
}

/* Tells arrivals the segment's traces (its trace_index rows). */
static void
tell_arrivals(shipper *s, const ch_units *us)
{
	rowbinary_buf all = { 0 };

	if (s->arrivals == NULL)
		return;
	for (size_t i = 0; i < us->n; i++)
		if (us->v[i].table == CH_ROWS_TRACE_INDEX)
			rowbinary_put_bytes(&all, us->v[i].rows.b,
			    us->v[i].rows.len);
	ch_arrivals_add(s->arrivals, all.b, all.len);
	rowbinary_buf_free(&all);
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
	ch_units us;
	int rv = spool_oldest(s->sp, &seq, &data, &len, &done, &cause);

	if (rv <= 0) {
		if (rv < 0)
			log_error("clickhouse: %s", cause);
		free(cause);
		return rv;
	}
	ch_units_build(&us, data, len);
	free(data);
	rv = send_units(s, seq, &us, done) == 0 ? 1 : -1;
	if (rv == 1) {
		/* Before shipped_upto moves: a query that waited for this
		 * segment finds its traces for tail. */
		tell_arrivals(s, &us);
		spool_remove(s->sp, seq, us.n_spans);
		pthread_mutex_lock(&s->mu);
		s->shipped_upto = seq;
		s->stats.shipped_spans += us.n_spans;
		s->stats.shipped_blocks++;
		s->stats.last_ship_ms = (now_mono_ns() - t0) / 1000000;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	ch_units_free(&us);
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

/* Whether the open segment is full: at block_spans, or while sealed
 * segments wait (ClickHouse is behind) at BACKLOG_GROWTH times that, so
 * that a backlog goes in fewer, larger inserts (fewer parts for ClickHouse
 * to write and merge); and at SEGMENT_MAX_BYTES, as the shipper holds a
 * segment and its blocks in memory. 4 x 50,000 spans keeps every block
 * under max_insert_block_size (1,048,576 rows): still one part. */
static bool
segment_full(const shipper *s, const spool_state *st)
{
	uint64_t spans = s->block_spans * (st->sealed > 0 ? BACKLOG_GROWTH :
	    1);

	return st->open_spans >= spans || st->open_bytes >= SEGMENT_MAX_BYTES;
}

/* Seals the open segment when it is due: full, or old enough with
 * nothing else to ship, or someone waits in shipper_sync. */
static void
seal_if_due(shipper *s)
{
	spool_state st;
	bool syncing;

	pthread_mutex_lock(&s->mu);
	syncing = s->syncs > 0 || s->stop;
	pthread_mutex_unlock(&s->mu);
	spool_get_state(s->sp, &st);
	if (st.open_spans > 0 && (syncing || segment_full(s, &st) ||
	    (st.sealed == 0 && st.open_age_ms >= s->flush_ms)))
		spool_seal(s->sp);
}

void
shipper_appended(shipper *s)
{
	spool_state st;

	/* Seal here, not only in the shipper: while it ships one block
	 * the open segment would grow without bound (a 2M-span burst
	 * made one segment of 600 MB, read whole into memory). */
	spool_get_state(s->sp, &st);
	if (segment_full(s, &st)) {
		spool_seal(s->sp);
		shipper_kick(s);
	}
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
	s->insert_timeout_ms = o->insert_timeout_ms ? o->insert_timeout_ms :
	    INSERT_TIMEOUT_MS;
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
