/* ch_backend.c - the ClickHouse backend behind the seam (ch_backend.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/ch_backend.h"
#include "clickhouse/ch_client.h"
#include "clickhouse/ch_query.h"
#include "clickhouse/ch_retention.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_shards.h"
#include "clickhouse/ch_spec.h"
#include "clickhouse/shipper.h"
#include "clickhouse/spool.h"
#include "daemon/log.h"

#define BLOCK_SPANS 50000     /* a block ships once it holds this many */
#define STOP_SHIP_MS 5000     /* at close, ship what can go this fast */
#define RETRY_AFTER_MS 1000
#define QUERY_SYNC_MS 1000    /* a query waits this long for the spool */
#define TLS_PROBE_MS 10000
#define TLS_PROBES 3
#define TAIL_KEEP 262144      /* trace IDs kept for tail (8 MiB) */

typedef struct ch_backend {
	backend base;
	ch_spec spec;
	ch_client *c;
	spool *sp;
	shipper *sh;
	ch_arrivals *arrivals; /* what was shipped, for tail */
	uint64_t retention_ns;
	pthread_mutex_t mu;   /* guards shards */
	ch_shards *shards;    /* loaded on the first get-trace */
	uint64_t days_dropped;
} ch_backend;

static void
ch_write(backend *b, const backend_batch *batch, backend_result *res)
{
	ch_backend *cb = (ch_backend *)b;
	rowbinary_buf rec = { 0 };
	char *cause = NULL;
	int rv;

	ch_rows_encode(batch, &rec);
	rv = spool_append(cb->sp, rec.b, rec.len, (uint32_t)batch->n_spans,
	    &cause);
	rowbinary_buf_free(&rec);
	if (rv == 0) {
		shipper_appended(cb->sh);
		res->code = BACKEND_OK;
		return;
	}
	res->code = rv == 1 ? BACKEND_RETRY_LATER : BACKEND_FAILED;
	res->retry_after_ms = RETRY_AFTER_MS;
	snprintf(res->message, sizeof res->message, "%s", rv == 1 ?
	    "clickhouse spool full: ClickHouse is behind or unreachable" :
	    cause);
	free(cause);
}

static int
ch_sync(backend *b, uint32_t timeout_ms)
{
	return shipper_sync(((ch_backend *)b)->sh, timeout_ms ? timeout_ms :
	    UINT32_MAX / 2);
}

static void
ch_flush(backend *b)
{
	ch_backend *cb = (ch_backend *)b;

	spool_seal(cb->sp);
	shipper_kick(cb->sh);
}

/* A query context; on a cluster the shards are loaded once. As the
 * RocksDB backend writes its index before a query, the spool is shipped
 * first (waiting at most QUERY_SYNC_MS), so a query sees every span this
 * collector acknowledged; other collectors' spans show after their
 * flush_ms and shipping. */
static response *
make_ctx(ch_backend *cb, ch_query_ctx *q)
{
	char *cause = NULL;
	response *r = NULL;

	(void)shipper_sync(cb->sh, QUERY_SYNC_MS);
	memset(q, 0, sizeof *q);
	q->c = cb->c;
	q->cluster = cb->spec.cluster != NULL;
	q->database = cb->spec.database;
	q->now_ns = now_unix_ns();
	if (cb->retention_ns && cb->retention_ns < q->now_ns)
		q->cutoff_ns = q->now_ns - cb->retention_ns;
	if (!q->cluster)
		return NULL;
	pthread_mutex_lock(&cb->mu);
	if (cb->shards == NULL &&
	    ch_shards_load(&cb->shards, cb->c, cb->spec.cluster, &cause) != 0)
		r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__INTERNAL,
		    cause);
	q->shards = cb->shards;
	pthread_mutex_unlock(&cb->mu);
	free(cause);
	return r;
}


static response *
ch_get_trace(backend *b, const Tracequery__V1__GetTrace *g)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	return r != NULL ? r : ch_query_get_trace(&q, g);
}

static response *
ch_search(backend *b, const Tracequery__V1__Search *s)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	return r != NULL ? r : ch_query_search(&q, s);
}

static response *
ch_slow(backend *b, const Tracequery__V1__Slow *s)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	return r != NULL ? r : ch_query_slow(&q, s);
}

static response *
ch_tail(backend *b, const Tracequery__V1__Tail *t)
{
	ch_backend *cb = (ch_backend *)b;
	ch_query_ctx q;
	response *r = make_ctx(cb, &q);

	return r != NULL ? r : ch_query_tail(&q, cb->arrivals, t);
}

static response *
ch_services(backend *b, const Tracequery__V1__ListServices *ls)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	(void)ls;
	return r != NULL ? r : ch_query_services(&q);
}

static response *
ch_operations(backend *b, const Tracequery__V1__ListOperations *lo)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	return r != NULL ? r : ch_query_operations(&q, lo);
}

static response *
ch_dependencies(backend *b, const Tracequery__V1__Dependencies *d)
{
	ch_query_ctx q;
	response *r = make_ctx((ch_backend *)b, &q);

	return r != NULL ? r : ch_query_dependencies(&q, d);
}

static void
ch_stats(backend *b, Tracequery__V1__StatsResult *r)
{
	ch_backend *cb = (ch_backend *)b;
	spool_state sp;
	shipper_stats st;

	spool_get_state(cb->sp, &sp);
	shipper_get_stats(cb->sh, &st);
	backend_stat_add(r, "clickhouse.spool_bytes", (double)sp.total_bytes,
	    "bytes");
	backend_stat_add(r, "clickhouse.spool_spans", (double)sp.total_spans,
	    "spans");
	backend_stat_add(r, "clickhouse.shipped_spans",
	    (double)st.shipped_spans, "spans");
	backend_stat_add(r, "clickhouse.shipped_blocks",
	    (double)st.shipped_blocks, "");
	backend_stat_add(r, "clickhouse.insert_errors",
	    (double)st.insert_errors, "");
	backend_stat_add(r, "clickhouse.quorum_degraded",
	    (double)st.quorum_degraded, "");
	backend_stat_add(r, "clickhouse.resends_avoided",
	    (double)st.resends_avoided, "");
	backend_stat_add(r, "clickhouse.last_block_ms",
	    (double)st.last_ship_ms, "ms");
	backend_stat_add(r, "clickhouse.days_dropped",
	    (double)cb->days_dropped, "");
}

static int
ch_retention(backend *b, uint64_t now_ns, uint64_t retention_ns,
    char **cause)
{
	ch_backend *cb = (ch_backend *)b;
	unsigned dropped = 0;
	int rv = ch_retention_run(cb->c, cb->spec.database, cb->spec.cluster,
	    now_ns, retention_ns, &dropped, cause);

	cb->retention_ns = retention_ns;
	cb->days_dropped += dropped;
	if (dropped > 0)
		log_info("clickhouse: retention dropped %u day(s)", dropped);
	return rv;
}

static void
ch_close(backend *b)
{
	ch_backend *cb = (ch_backend *)b;

	shipper_stop(cb->sh, STOP_SHIP_MS);
	spool_close(cb->sp);
	ch_shards_free(cb->shards);
	ch_client_free(cb->c);
	ch_arrivals_free(cb->arrivals);
	ch_spec_fini(&cb->spec);
	pthread_mutex_destroy(&cb->mu);
	free(cb);
}

static const backend_ops ch_ops = {
	.name = "clickhouse",
	.write = ch_write,
	.sync = ch_sync,
	.flush = ch_flush,
	.get_trace = ch_get_trace,
	.search = ch_search,
	.slow = ch_slow,
	.services = ch_services,
	.operations = ch_operations,
	.dependencies = ch_dependencies,
	.tail = ch_tail,
	.stats = ch_stats,
	.retention_run = ch_retention,
	.close = ch_close,
};

/* With TLS, a failed session is a setting to fix (a CA that does not
 * sign the server's certificate, a plain-HTTP port), not an outage to
 * spool through: the collector refuses to start and says why. */
static int
check_tls(ch_backend *cb, char **cause)
{
	int rv = 0;

	if (!cb->spec.secure)
		return 0;
	/* A few tries: a handshake cut short (a reset) says nothing yet. */
	for (int i = 0; i < TLS_PROBES && rv == 0; i++) {
		ch_reply rep;
		char *why = NULL;
		bool answered = ch_client_exec(cb->c, "SELECT 1", NULL, 0, NULL,
		    TLS_PROBE_MS, &rep, &why) == 0 || rep.http_status != 0;

		if (!answered && rep.tls_failed) {
			*cause = why;
			why = NULL;
			rv = -1;
		} else if (!answered) {
			log_info("clickhouse: TLS probe: %s", why ? why : "?");
		}
		ch_reply_fini(&rep);
		free(why);
		if (answered)
			break;
	}
	return rv;
}

/* Creates the schema now when ClickHouse answers; when no host can be
 * reached, the shipper creates it before its first insert. */
static int
first_schema(ch_backend *cb, bool *ready, char **cause)
{
	int rv = ch_schema_ensure(cb->c, cb->spec.database, cb->spec.cluster,
	    cause);

	*ready = rv == 0;
	if (rv == -2) {
		log_warn("clickhouse: %s; spans are spooled until it answers",
		    *cause);
		free(*cause);
		*cause = NULL;
		return 0;
	}
	return rv;
}

int
ch_backend_open(backend **out, const char *spec, const backend_options *o,
    char **cause)
{
	ch_backend *cb = xcalloc(1, sizeof *cb);
	shipper_options so = { 0 };
	bool ready = false;

	cb->base.ops = &ch_ops;
	cb->retention_ns = o->retention_ns;
	pthread_mutex_init(&cb->mu, NULL);
	if (ch_spec_parse(&cb->spec, spec, cause) != 0) {
		pthread_mutex_destroy(&cb->mu);
		free(cb);
		return -1;
	}
	if (ch_client_new(&cb->c, &cb->spec, cause) != 0 ||
	    check_tls(cb, cause) != 0 ||
	    first_schema(cb, &ready, cause) != 0 ||
	    spool_open(&cb->sp, cb->spec.spool_dir,
	    (uint64_t)cb->spec.spool_max_mb << 20, o->sync, cause) != 0)
		goto fail;
	so.database = cb->spec.database;
	so.cluster = cb->spec.cluster;
	so.quorum = cb->spec.quorum;
	so.flush_ms = cb->spec.flush_ms;
	so.block_spans = BLOCK_SPANS;
	so.insert_timeout_ms = cb->spec.timeout_ms;
	/* Flushes numbered from the start time in microseconds: a tail
	 * cursor from before a restart is older than every later flush. */
	cb->arrivals = ch_arrivals_new(now_unix_ns() / 1000, TAIL_KEEP);
	so.arrivals = cb->arrivals;
	if (shipper_start(&cb->sh, cb->sp, cb->c, &so, ready, cause) != 0)
		goto fail;
	*out = &cb->base;
	return 0;
fail:
	spool_close(cb->sp);
	ch_client_free(cb->c);
	ch_arrivals_free(cb->arrivals);
	ch_spec_fini(&cb->spec);
	pthread_mutex_destroy(&cb->mu);
	free(cb);
	return -1;
}

int
ch_backend_open_tls(backend **out, const char *spec,
    const backend_options *o, char **cause)
{
	char *full;
	int rv;

	xasprintf(&full, "clickhouses://%s", spec);
	rv = ch_backend_open(out, full, o, cause);
	free(full);
	return rv;
}
