/*
 * query_server.c - the query service: NNG REP on --query-listen, a few
 * worker threads each with its own context, one tracequery.v1.Request in,
 * one Response out. Queries read RocksDB snapshots-free iterators and run
 * alongside ingest.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "collector.h"
#include "listen_guard.h"
#include "query.h"

#define QUERY_MAX_WORKERS 16
#define QUERY_MAX_REQUEST (1u << 20)

typedef struct qworker {
	struct query_server *qs;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool started;
} qworker;

struct query_server {
	nng_socket sock;
	bool open;
	listen_guard *guard;
	store *st;
	uint64_t retention_ns;
	qworker w[QUERY_MAX_WORKERS];
	int n;
};

static void *
qworker_main(void *arg)
{
	qworker *w = arg;
	nng_msg *msg;
	uint8_t *out;
	size_t out_len;
	int rv;

	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0)
			continue;
		msg = nng_aio_get_msg(w->aio);
		if (nng_msg_len(msg) != LISTEN_GUARD_PING_LEN ||
		    memcmp(nng_msg_body(msg), LISTEN_GUARD_PING,
		    LISTEN_GUARD_PING_LEN) != 0)
			STATS_INC(queries, 1);
		query_handle_bytes(w->qs->st, w->qs->retention_ns,
		    nng_msg_body(msg), nng_msg_len(msg), &out, &out_len);
		nng_msg_clear(msg);
		rv = nng_msg_append(msg, out, out_len);
		free(out);
		if (rv != 0) {
			STATS_INC(query_errors, 1);
			nng_msg_free(msg);
			continue;
		}
		nng_aio_set_msg(w->aio, msg);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if (nng_aio_result(w->aio) != 0)
			nng_msg_free(msg);
	}
	return NULL;
}

int
query_server_start(query_server **out, const char *url, int workers,
    store *st, uint64_t retention_ns, char **cause)
{
	query_server *qs = xcalloc(1, sizeof *qs);
	int rv;

	*out = NULL;
	qs->st = st;
	qs->retention_ns = retention_ns;
	if ((rv = nng_rep0_open(&qs->sock)) != 0) {
		xasprintf(cause, "query socket: %s", nng_strerror(rv));
		goto fail;
	}
	qs->open = true;
	nng_socket_set_size(qs->sock, NNG_OPT_RECVMAXSZ, QUERY_MAX_REQUEST);
	if (listen_guard_start(&qs->guard, qs->sock, "query", &url, 1,
	    cause) != 0)
		goto fail;
	if (workers < 1)
		workers = 1;
	if (workers > QUERY_MAX_WORKERS)
		workers = QUERY_MAX_WORKERS;
	for (int i = 0; i < workers; i++) {
		qworker *w = &qs->w[i];

		w->qs = qs;
		if ((rv = nng_ctx_open(&w->ctx, qs->sock)) != 0 ||
		    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0) {
			xasprintf(cause, "query context: %s", nng_strerror(rv));
			goto fail;
		}
		qs->n++;
		if (pthread_create(&w->thread, NULL, qworker_main, w) != 0) {
			xasprintf(cause, "query: cannot start a thread");
			goto fail;
		}
		w->started = true;
	}
	*out = qs;
	return 0;
fail:
	query_server_stop(qs);
	return -1;
}

void
query_server_stop(query_server *qs)
{
	if (qs == NULL)
		return;
	listen_guard_stop(qs->guard);
	if (qs->open)
		nng_close(qs->sock);
	for (int i = 0; i < qs->n; i++) {
		if (qs->w[i].started)
			pthread_join(qs->w[i].thread, NULL);
		nng_aio_free(qs->w[i].aio);
	}
	free(qs);
}
