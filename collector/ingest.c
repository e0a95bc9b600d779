/*
 * ingest.c - the NNG REP ingest socket: one socket listening on every
 * --listen URL, several worker threads each with its own context, so a slow
 * write holds one context while the others keep receiving. Each request is
 * an ExportTraceServiceRequest; each reply a tracequery.v1.IngestReply sent
 * after the write.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "collector.h"
#include "listen_guard.h"
#include "tracequery.pb-c.h"

#define INGEST_MAX_WORKERS 64

typedef struct worker {
	struct ingest *in;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool started;
} worker;

struct ingest {
	nng_socket sock;
	bool open;
	listen_guard *guard;
	pipeline *p;
	worker w[INGEST_MAX_WORKERS];
	int n;
	atomic_bool stopping;
};

/* Encodes res as an IngestReply into msg's body. */
static int
reply(nng_msg *msg, const pipeline_result *res)
{
	Tracequery__V1__IngestReply r;
	uint8_t buf[512];
	size_t len;

	tracequery__v1__ingest_reply__init(&r);
	r.code = (Tracequery__V1__IngestReply__Code)res->code;
	r.accepted_spans = res->accepted_spans;
	r.rejected_spans = res->rejected_spans;
	r.message = (char *)(uintptr_t)res->message;
	r.retry_after_ms = res->retry_after_ms;
	len = tracequery__v1__ingest_reply__get_packed_size(&r);
	if (len > sizeof buf)
		return -1;
	tracequery__v1__ingest_reply__pack(&r, buf);
	nng_msg_clear(msg);
	return nng_msg_append(msg, buf, len);
}

static void *
worker_main(void *arg)
{
	worker *w = arg;
	ingest *in = w->in;
	pipeline_result res;
	nng_msg *msg;
	int rv;

	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED ||
		    atomic_load(&in->stopping)) {
			if (rv == 0)
				nng_msg_free(nng_aio_get_msg(w->aio));
			break;
		}
		if (rv != 0)
			continue;
		msg = nng_aio_get_msg(w->aio);
		if (nng_msg_len(msg) == LISTEN_GUARD_PING_LEN &&
		    memcmp(nng_msg_body(msg), LISTEN_GUARD_PING,
		    LISTEN_GUARD_PING_LEN) == 0) {
			/* The listener guard's probe: answer, count nothing. */
			memset(&res, 0, sizeof res);
		} else {
			pipeline_submit_protobuf(in->p, nng_msg_body(msg),
			    nng_msg_len(msg), &res);
		}
		if (res.code != PIPELINE_OK)
			log_debug("ingest: code %d: %s", (int)res.code,
			    res.message);
		if (reply(msg, &res) != 0) {
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
ingest_start(ingest **out, const char *const *urls, int n_urls, int workers,
    size_t max_message_bytes, pipeline *p, char **cause)
{
	ingest *in = xcalloc(1, sizeof *in);
	int rv;

	*out = NULL;
	in->p = p;
	if ((rv = nng_rep0_open(&in->sock)) != 0) {
		xasprintf(cause, "ingest socket: %s", nng_strerror(rv));
		goto fail;
	}
	in->open = true;
	/* Messages up to twice the limit are read and answered TOO_LARGE;
	 * beyond that NNG drops the connection without reading it. */
	nng_socket_set_size(in->sock, NNG_OPT_RECVMAXSZ,
	    max_message_bytes * 2 + 4096);
	if (listen_guard_start(&in->guard, in->sock, "ingest", urls, n_urls,
	    cause) != 0)
		goto fail;
	if (workers < 1)
		workers = 1;
	if (workers > INGEST_MAX_WORKERS)
		workers = INGEST_MAX_WORKERS;
	for (int i = 0; i < workers; i++) {
		worker *w = &in->w[i];

		w->in = in;
		if ((rv = nng_ctx_open(&w->ctx, in->sock)) != 0 ||
		    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0) {
			xasprintf(cause, "ingest context: %s",
			    nng_strerror(rv));
			goto fail;
		}
		in->n++;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			xasprintf(cause, "ingest: cannot start a thread");
			goto fail;
		}
		w->started = true;
	}
	*out = in;
	return 0;
fail:
	ingest_stop(in);
	return -1;
}

void
ingest_stop(ingest *in)
{
	if (in == NULL)
		return;
	atomic_store(&in->stopping, true);
	listen_guard_stop(in->guard);
	/* Closing the socket ends every pending receive; a worker inside a
	 * write finishes it (the WAL has it) before it notices. */
	if (in->open)
		nng_close(in->sock);
	for (int i = 0; i < in->n; i++) {
		worker *w = &in->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		nng_aio_free(w->aio);
	}
	free(in);
}
