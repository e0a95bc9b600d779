/*
 * query_server.c - the query service on --query-listen: one
 * tracequery.v1.Request in, one Response out, answered by query.c while
 * ingest runs. The socket and its workers are rep_server.c's.
 */
#include <stdlib.h>

#include <nng/nng.h>

#include "daemon/collector.h"
#include "query/query.h"
#include "net/rep_server.h"

#define QUERY_MAX_REQUEST (1u << 20)

/* How long a query waits for the buffered index to be written. */
#define QUERY_SYNC_WAIT_MS 1000

struct query_server {
	rep_server *rs;
	store *st;
	pipeline *p;
	uint64_t retention_ns;
};

/* Answers one query (rep_handler). */
static int
handle(void *arg, nng_msg *msg)
{
	query_server *qs = arg;
	uint8_t *out;
	size_t out_len;
	int rv;

	STATS_INC(queries, 1);
	/* Read your writes: every acknowledged span is searchable, unless
	 * the index write is stalled (a slow disk): then answer from what is
	 * indexed rather than wait out the stall. Get-trace reads the span
	 * blocks, which are written before the ack, so it never lags. */
	if (pipeline_sync_within(qs->p, QUERY_SYNC_WAIT_MS) != 0)
		STATS_INC(query_index_lag, 1);
	query_handle_bytes(qs->st, qs->retention_ns, nng_msg_body(msg),
	    nng_msg_len(msg), &out, &out_len);
	nng_msg_clear(msg);
	rv = nng_msg_append(msg, out, out_len);
	free(out);
	if (rv != 0) {
		STATS_INC(query_errors, 1);
		return -1;
	}
	return 0;
}

int
query_server_start(query_server **out, const char *url, int workers,
    store *st, pipeline *p, uint64_t retention_ns, char **cause)
{
	query_server *qs = xcalloc(1, sizeof *qs);

	*out = NULL;
	qs->st = st;
	qs->p = p;
	qs->retention_ns = retention_ns;
	if (rep_server_start(&qs->rs, "query", &url, 1, workers,
	    QUERY_MAX_REQUEST, handle, qs, cause) != 0) {
		free(qs);
		return -1;
	}
	*out = qs;
	return 0;
}

void
query_server_stop(query_server *qs)
{
	if (qs == NULL)
		return;
	rep_server_stop(qs->rs);
	free(qs);
}
