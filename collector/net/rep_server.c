/*
 * rep_server.c - NNG REP with one context per worker thread (see
 * rep_server.h). The listener guard (listen_guard.c) keeps each listener
 * alive and probes it with a ping that is echoed here.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common.h"
#include "daemon/log.h"
#include "net/listen_guard.h"
#include "daemon/log.h"
#include "net/rep_server.h"

#define REP_MAX_WORKERS 64
/* A reply the peer does not take in this long is dropped, so a stop
 * never waits on a stuck client. */
#define REP_SEND_TIMEOUT_MS 10000
/* How long a stop waits for NNG to close the socket (see close_bounded). */
#define REP_CLOSE_WAIT_MS 3000

typedef struct rep_worker {
	struct rep_server *rs;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool started;
	/* Held while starting or ending a receive and while stopping: a
	 * worker either sees stopping or has a receive the stop can cancel,
	 * and a reply being sent is never cancelled. */
	pthread_mutex_t mu;
	bool receiving;
} rep_worker;

struct rep_server {
	nng_socket sock;
	bool open;
	listen_guard *guard;
	rep_handler fn;
	void *arg;
	atomic_bool stopping;
	char name[32];
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

/* Starts a receive unless the server is stopping; returns false then. */
static bool
start_recv(rep_worker *w)
{
	bool go;

	pthread_mutex_lock(&w->mu);
	go = !atomic_load(&w->rs->stopping);
	if (go) {
		nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
		nng_ctx_recv(w->ctx, w->aio);
		w->receiving = true;
	}
	pthread_mutex_unlock(&w->mu);
	return go;
}

/* Receives a request, has it answered, sends the reply; until stopped.
 * A request received before the stop is still answered. */
static void *
worker_main(void *arg)
{
	rep_worker *w = arg;
	rep_server *rs = w->rs;
	nng_msg *msg;
	int rv;

	while (start_recv(w)) {
		nng_aio_wait(w->aio);
		pthread_mutex_lock(&w->mu);
		w->receiving = false;
		pthread_mutex_unlock(&w->mu);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0)
			continue;
		msg = nng_aio_get_msg(w->aio);
		/* A probe is echoed: an answer is all the guard needs. */
		if (!is_guard_ping(msg) && rs->fn(rs->arg, msg) != 0) {
			nng_msg_free(msg);
			continue;
		}
		nng_aio_set_msg(w->aio, msg);
		nng_aio_set_timeout(w->aio, REP_SEND_TIMEOUT_MS);
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
	pthread_mutex_init(&w->mu, NULL);
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
	snprintf(rs->name, sizeof rs->name, "%s", name);
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

static void *
close_main(void *arg)
{
	nng_socket *sock = arg;

	nng_close(*sock);
	free(sock);
	return NULL;
}

/* Closes sock, waiting at most REP_CLOSE_WAIT_MS. NNG 1.5.2's nng_close
 * can wait forever for a pipe to be reaped when peers were mid-request
 * (nanomsg/nng#1543, #1813); the workers are joined by then, so a stop
 * may go on without it. Returns false if it gave up. */
static bool
close_bounded(nng_socket sock)
{
	nng_socket *arg = xmalloc(sizeof *arg);
	pthread_t t;

	*arg = sock;
	if (pthread_create(&t, NULL, close_main, arg) != 0) {
		close_main(arg);
		return true;
	}
	return thread_join_within(t, REP_CLOSE_WAIT_MS);
}

void
rep_server_stop(rep_server *rs)
{
	if (rs == NULL)
		return;
	atomic_store(&rs->stopping, true);
	listen_guard_stop(rs->guard);
	/* Cancel each pending receive and join every worker (one inside a
	 * request answers it) before closing the socket: NNG panics when a
	 * context is used while its socket closes. */
	for (int i = 0; i < rs->n; i++) {
		pthread_mutex_lock(&rs->w[i].mu);
		if (rs->w[i].receiving)
			nng_aio_cancel(rs->w[i].aio);
		pthread_mutex_unlock(&rs->w[i].mu);
	}
	for (int i = 0; i < rs->n; i++)
		if (rs->w[i].started)
			pthread_join(rs->w[i].thread, NULL);
	if (rs->open && !close_bounded(rs->sock))
		log_warn("%s: NNG did not close the socket in %d ms; going on "
		    "without it", rs->name, REP_CLOSE_WAIT_MS);
	for (int i = 0; i < rs->n; i++) {
		nng_aio_free(rs->w[i].aio);
		pthread_mutex_destroy(&rs->w[i].mu);
	}
	free(rs);
}
