/*
 * query_server.c - the query service on --query-listen: one
 * tracequery.v1.Request in, one Response out, answered through the
 * storage seam (backend.h) while ingest runs. The socket and its workers
 * are rep_server.c's.
 */
#include <stdlib.h>

#include <nng/nng.h>

#include "common.h"
#include "daemon/stats.h"
#include "net/net.h"
#include "net/rep_server.h"

#define QUERY_MAX_REQUEST (1u << 20)

/* How long a query waits for the buffered index to be written. */
#define QUERY_SYNC_WAIT_MS 1000

struct query_server {
	rep_server *rs;
	backend *b;
	pipeline *p;
};

typedef Tracequery__V1__Response response;

/* GetStats: the collector's own counters, then the backend's figures. */
static response *
stats_response(backend *b, pipeline *p)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");
	int64_t requests, bytes;

	pipeline_backlog(p, &requests, &bytes);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_STATS;
	r->stats = stats_result(requests, bytes);
	backend_stats(b, r->stats);
	return r;
}

response *
query_server_answer(backend *b, pipeline *p,
    const Tracequery__V1__Request *req)
{
	/* Read your writes: every acknowledged span is searchable, unless
	 * the index write is stalled (a slow disk): then answer from what is
	 * indexed rather than wait out the stall. Get-trace reads the span
	 * blocks, which are written before the ack, so it never lags. */
	if (backend_sync(b, QUERY_SYNC_WAIT_MS) != 0)
		STATS_INC(query_index_lag, 1);
	if (req->query_case == TRACEQUERY__V1__REQUEST__QUERY_STATS)
		return stats_response(b, p);
	return backend_query(b, req);
}

void
query_server_handle_bytes(backend *b, pipeline *p, const uint8_t *buf,
    size_t len, uint8_t **out, size_t *out_len)
{
	Tracequery__V1__Request *req;
	response *r;

	req = tracequery__v1__request__unpack(NULL, len, buf);
	if (req == NULL)
		r = backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "malformed request");
	else
		r = query_server_answer(b, p, req);
	if (req != NULL)
		tracequery__v1__request__free_unpacked(req, NULL);
	*out_len = tracequery__v1__response__get_packed_size(r);
	*out = xmalloc(*out_len + 1);
	tracequery__v1__response__pack(r, *out);
	backend_response_free(r);
}

/* Answers one query (rep_handler). */
static int
handle(void *arg, nng_msg *msg)
{
	query_server *qs = arg;
	uint8_t *out;
	size_t out_len;
	int rv;

	STATS_INC(queries, 1);
	query_server_handle_bytes(qs->b, qs->p, nng_msg_body(msg),
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
    backend *b, pipeline *p, char **cause)
{
	query_server *qs = xcalloc(1, sizeof *qs);

	*out = NULL;
	qs->b = b;
	qs->p = p;
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
