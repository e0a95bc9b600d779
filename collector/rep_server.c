/*
 * rep_server.c - NNG REP with one context per worker thread (see
 * rep_server.h). The listener guard (listen_guard.c) keeps each listener
 * alive and probes it with a ping that is echoed here.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "collector.h"
#include "listen_guard.h"
#include "rep_server.h"

#define REP_MAX_WORKERS 64

typedef struct rep_worker {
	struct rep_server *rs;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool started;
} rep_worker;

struct rep_server {
	nng_socket sock;
	bool open;
	listen_guard *guard;
	rep_handler fn;
	void *arg;
	atomic_bool stopping;
	rep_worker w[REP_MAX_WORKERS];
	int n;
};

static bool
is_guard_ping(nng_msg *msg)
{
	return nng_msg_len(msg) == LISTEN_GUARD_PING_LEN &&
	    memcmp(nng_msg_body(msg), LISTEN_GUARD_PING,
		LISTEN_GUARD_PING_LEN) == 0;
}

/* Receives a request, has it answered, sends the reply; until closed. */
static void *
worker_main(void *arg)
{
	rep_worker *w = arg;
	rep_server *rs = w->rs;
	nng_msg *msg;
	int rv;

	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED ||
		    atomic_load(&rs->stopping)) {
			if (rv == 0)
				nng_msg_free(nng_aio_get_msg(w->aio));
			break;
		}
		if (rv != 0)
			continue;
		msg = nng_aio_get_msg(w->aio);
		/* A probe is echoed: an answer is all the guard needs. */
		if (!is_guard_ping(msg) && rs->fn(rs->arg, msg) != 0) {
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

/* Opens one context and starts one worker on it. */
static int
add_worker(rep_server *rs, const char *name, char **cause)
{
	rep_worker *w = &rs->w[rs->n];
	int rv;

	w->rs = rs;
	if ((rv = nng_ctx_open(&w->ctx, rs->sock)) != 0 ||
	    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0) {
		xasprintf(cause, "%s context: %s", name, nng_strerror(rv));
		return -1;
	}
	rs->n++;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		xasprintf(cause, "%s: cannot start a thread", name);
		return -1;
	}
	w->started = true;
	return 0;
}

int
rep_server_start(rep_server **out, const char *name,
    const char *const *urls, int n_urls, int workers, size_t recv_max_bytes,
    rep_handler fn, void *arg, char **cause)
{
	rep_server *rs = xcalloc(1, sizeof *rs);
	int rv;

	*out = NULL;
	rs->fn = fn;
	rs->arg = arg;
	if ((rv = nng_rep0_open(&rs->sock)) != 0) {
		xasprintf(cause, "%s socket: %s", name, nng_strerror(rv));
		goto fail;
	}
	rs->open = true;
	nng_socket_set_size(rs->sock, NNG_OPT_RECVMAXSZ, recv_max_bytes);
	if (listen_guard_start(&rs->guard, rs->sock, name, urls, n_urls,
	    cause) != 0)
		goto fail;
	if (workers < 1)
		workers = 1;
	if (workers > REP_MAX_WORKERS)
		workers = REP_MAX_WORKERS;
	while (rs->n < workers)
		if (add_worker(rs, name, cause) != 0)
			goto fail;
	*out = rs;
	return 0;
fail:
	rep_server_stop(rs);
	return -1;
}

void
rep_server_stop(rep_server *rs)
{
	if (rs == NULL)
		return;
	atomic_store(&rs->stopping, true);
	listen_guard_stop(rs->guard);
	/* Closing the socket ends every pending receive; a worker inside a
	 * request finishes it (an ingest write is in the WAL) first. */
	if (rs->open)
		nng_close(rs->sock);
	for (int i = 0; i < rs->n; i++) {
		if (rs->w[i].started)
			pthread_join(rs->w[i].thread, NULL);
		nng_aio_free(rs->w[i].aio);
	}
	free(rs);
}
