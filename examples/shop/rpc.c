/*
 * rpc.c - request/reply over NNG with the trace context in every request.
 *
 * Server: a REP socket served by a pool of worker threads, each with its
 * own nng_ctx, so one slow request does not hold up the others. Each
 * request becomes a SERVER span whose parent is the caller's CLIENT span,
 * read from the message by trace_nng_msg_extract().
 *
 * Client: a REQ socket; each call opens its own nng_ctx, so a thread can
 * have several calls in flight (rpc_call_begin ... rpc_call_end) for a
 * parallel fan-out. Each call is a detached CLIENT span, injected into the
 * request with trace_nng_msg_inject().
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "shop.h"

#define RPC_SYSTEM "nng"

struct rpc_server {
	nng_socket sock;
	char url[256];
	char method[128]; /* rpc.method and span name: "shop.Orders/Place" */
	rpc_handler_fn fn;
	int nworkers;
	pthread_t *threads;
};

struct rpc_client {
	nng_socket sock;
	char url[256];
	char method[128];
};

/*
 * Set server.address, server.port and network.transport from an NNG URL:
 * "tcp://127.0.0.1:5555" gives 127.0.0.1, 5555, tcp; "ipc:///tmp/x.sock"
 * gives /tmp/x.sock, unix (a Unix socket's address is its path).
 */
void
rpc_url_attrs(trace_span *s, const char *url)
{
	char host[256];
	const char *p, *colon;

	if (strncmp(url, "ipc://", 6) == 0) {
		trace_span_set_str(s, "server.address", url + 6);
		trace_span_set_str(s, "network.transport", "unix");
		return;
	}
	if ((p = strstr(url, "://")) == NULL)
		return;
	p += 3;
	colon = strrchr(p, ':');
	if (colon == NULL || (size_t)(colon - p) >= sizeof host) {
		trace_span_set_str(s, "server.address", p);
		return;
	}
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	trace_span_set_str(s, "server.address", host);
	trace_span_set_int(s, "server.port", strtol(colon + 1, NULL, 10));
	trace_span_set_str(s, "network.transport", "tcp");
}

/* Attributes every RPC span carries, client or server. */
static void
rpc_attrs(trace_span *s, const char *method, const char *url)
{
	trace_span_set_str(s, "rpc.system.name", RPC_SYSTEM);
	trace_span_set_str(s, "rpc.method", method);
	rpc_url_attrs(s, url);
}

void
rpc_result_ok(rpc_result *res, const char *fmt, ...)
{
	va_list ap;

	res->ok = true;
	va_start(ap, fmt);
	vsnprintf(res->text, sizeof res->text, fmt, ap);
	va_end(ap);
}

void
rpc_result_err(rpc_result *res, const char *type, const char *fmt, ...)
{
	va_list ap;

	res->ok = false;
	snprintf(res->error_type, sizeof res->error_type, "%s", type);
	va_start(ap, fmt);
	vsnprintf(res->error_msg, sizeof res->error_msg, fmt, ap);
	va_end(ap);
}

/* Mark s failed the OpenTelemetry way: error.type, an exception event with
 * exception.type and exception.message, status ERROR. */
static void
mark_error(trace_span *s, const rpc_result *res)
{
	trace_span_set_str(s, "error.type", res->error_type);
	trace_span_record_exception(s, res->error_type, res->error_msg);
}

/* Serve one request: msg holds the request and is rewritten as the reply. */
static void
serve_one(rpc_server *srv, nng_msg *msg)
{
	trace_span_options opts = {.kind = TRACE_KIND_SERVER};
	trace_context remote;
	char body[SHOP_BODY_MAX];
	rpc_result res;
	trace_span *s;
	size_t n;

	if (trace_nng_msg_extract(msg, &remote) == TRACE_OK)
		opts.remote = &remote;
	else
		opts.new_root = true; /* an untraced caller starts a trace */
	n = nng_msg_len(msg) < sizeof body ? nng_msg_len(msg)
	                                   : sizeof body - 1;
	memcpy(body, nng_msg_body(msg), n);
	body[n] = '\0';

	s = trace_span_start_opts(srv->method, &opts);
	rpc_attrs(s, srv->method, srv->url);
	memset(&res, 0, sizeof res);
	srv->fn(body, &res);
	if (!res.ok)
		mark_error(s, &res);
	trace_span_end(s);

	nng_msg_clear(msg);
	if (res.ok)
		snprintf(body, sizeof body, "OK %s", res.text);
	else
		snprintf(body, sizeof body, "ERR %s %s", res.error_type,
		    res.error_msg);
	if (nng_msg_append(msg, body, strlen(body)) != 0)
		nng_msg_clear(msg);
}

/* One worker: receive, serve, reply, until the socket closes. */
static void *
server_worker(void *arg)
{
	rpc_server *srv = arg;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg;
	int rv;

	if ((rv = nng_ctx_open(&ctx, srv->sock)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		fatalx("%s: %s", srv->url, nng_strerror(rv));
	for (;;) {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) == NNG_ECLOSED)
			break;
		if (rv != 0)
			continue;
		msg = nng_aio_get_msg(aio);
		serve_one(srv, msg);
		nng_aio_set_msg(aio, msg);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			nng_msg_free(msg);
			if (rv == NNG_ECLOSED)
				break;
		}
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return NULL;
}

/* Listen on url and serve `service/method` with fn on `workers` threads.
 * Exits the process when the socket cannot listen. */
rpc_server *
rpc_server_start(const char *url, const char *service, const char *method,
    rpc_handler_fn fn, int workers)
{
	rpc_server *srv;
	int rv;

	if ((srv = calloc(1, sizeof *srv)) == NULL ||
	    (srv->threads = calloc((size_t)workers, sizeof(pthread_t))) ==
	        NULL)
		fatal("calloc");
	snprintf(srv->url, sizeof srv->url, "%s", url);
	snprintf(srv->method, sizeof srv->method, "%s/%s", service, method);
	srv->fn = fn;
	srv->nworkers = workers;
	if ((rv = nng_rep0_open(&srv->sock)) != 0 ||
	    (rv = nng_socket_set_size(
	         srv->sock, NNG_OPT_RECVMAXSZ, 64 * 1024)) != 0 ||
	    (rv = nng_listen(srv->sock, url, NULL, 0)) != 0)
		fatalx("listen %s: %s", url, nng_strerror(rv));
	for (int i = 0; i < workers; i++) {
		if ((rv = pthread_create(
		         &srv->threads[i], NULL, server_worker, srv)) != 0)
			fatalx("pthread_create: %s", strerror(rv));
	}
	return srv;
}

/* Stop listening, wait for the workers (in-flight requests finish first),
 * and free srv. NULL is a no-op. */
void
rpc_server_stop(rpc_server *srv)
{
	if (srv == NULL)
		return;
	nng_close(srv->sock);
	for (int i = 0; i < srv->nworkers; i++)
		pthread_join(srv->threads[i], NULL);
	free(srv->threads);
	free(srv);
}

/* Open a client of `service/method` at url. The dial retries in the
 * background, so the server may start later. */
rpc_client *
rpc_client_open(const char *url, const char *service, const char *method)
{
	rpc_client *cl;
	int rv;

	if ((cl = calloc(1, sizeof *cl)) == NULL)
		fatal("calloc");
	snprintf(cl->url, sizeof cl->url, "%s", url);
	snprintf(cl->method, sizeof cl->method, "%s/%s", service, method);
	/* Redial quickly (10 ms, backing off to 200 ms) while the server is
	 * not up yet or restarts; requests wait in the socket meanwhile. */
	if ((rv = nng_req0_open(&cl->sock)) != 0 ||
	    (rv = nng_socket_set_size(
	         cl->sock, NNG_OPT_RECVMAXSZ, 64 * 1024)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMINT, 10)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMAXT, 200)) != 0 ||
	    (rv = nng_dial(cl->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		fatalx("dial %s: %s", url, nng_strerror(rv));
	return cl;
}

/* Close cl; NULL is a no-op. */
void
rpc_client_close(rpc_client *cl)
{
	if (cl == NULL)
		return;
	nng_close(cl->sock);
	free(cl);
}

/* Completion callback (an nng thread): remember when the step finished, so
 * the CLIENT span ends when the reply arrived, not when we looked. */
static void
call_done(void *arg)
{
	rpc_call *c = arg;

	c->done_ns = trace_now_unix_ns();
}

/*
 * Start a call: a CLIENT span under the thread's current span (detached, so
 * several calls can be in flight), the request sent with the span's context
 * injected, and the reply awaited in the background. `attempt` > 1 marks a
 * retry. Finish with rpc_call_end().
 */
void
rpc_call_begin(
    rpc_call *c, rpc_client *cl, const char *body, int attempt, int timeout_ms)
{
	trace_span_options opts = {
	    .kind = TRACE_KIND_CLIENT, .detached = true};
	nng_msg *msg = NULL;
	int rv;

	memset(c, 0, sizeof *c);
	c->client = cl;
	c->span = trace_span_start_opts(cl->method, &opts);
	rpc_attrs(c->span, cl->method, cl->url);
	if (attempt > 1)
		trace_span_set_int(c->span, "app.rpc.attempt", attempt);

	if ((rv = nng_msg_alloc(&msg, 0)) != 0 ||
	    (rv = nng_msg_append(msg, body, strlen(body))) != 0)
		fatalx("nng_msg: %s", nng_strerror(rv));
	/* Without a span (tracing off) the request just goes untraced. */
	trace_nng_msg_inject(c->span, msg);

	if ((rv = nng_ctx_open(&c->ctx, cl->sock)) != 0 ||
	    (rv = nng_aio_alloc(&c->aio, call_done, c)) != 0)
		fatalx("%s: %s", cl->url, nng_strerror(rv));
	nng_aio_set_timeout(c->aio, timeout_ms);
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	nng_aio_wait(c->aio);
	if ((c->rv = nng_aio_result(c->aio)) != 0) {
		nng_msg_free(msg);
		return;
	}
	nng_ctx_recv(c->ctx, c->aio);
}

/* Wait for the reply of a call begun with rpc_call_begin, end its span and
 * return whether it succeeded; c->res holds the reply or the error. */
bool
rpc_call_end(rpc_call *c)
{
	char body[SHOP_BODY_MAX], type[64];
	nng_msg *msg;
	size_t n;
	int off = 0;

	if (c->rv == 0) {
		nng_aio_wait(c->aio);
		c->rv = nng_aio_result(c->aio);
	}
	if (c->rv == NNG_ETIMEDOUT) {
		rpc_result_err(
		    &c->res, "timeout", "no reply from %s", c->client->url);
	} else if (c->rv != 0) {
		rpc_result_err(&c->res, "nng.Error", "%s: %s", c->client->url,
		    nng_strerror(c->rv));
	} else {
		msg = nng_aio_get_msg(c->aio);
		n = nng_msg_len(msg) < sizeof body ? nng_msg_len(msg)
		                                   : sizeof body - 1;
		memcpy(body, nng_msg_body(msg), n);
		body[n] = '\0';
		nng_msg_free(msg);
		if (strncmp(body, "OK ", 3) == 0)
			rpc_result_ok(&c->res, "%s", body + 3);
		else if (sscanf(body, "ERR %63s %n", type, &off) == 1 &&
		         off > 0)
			rpc_result_err(&c->res, type, "%s", body + off);
		else
			rpc_result_err(&c->res, "shop.BadReply",
			    "malformed reply from %s", c->client->url);
	}
	if (!c->res.ok)
		mark_error(c->span, &c->res);
	trace_span_end_at(
	    c->span, c->done_ns != 0 ? c->done_ns : trace_now_unix_ns());
	nng_aio_free(c->aio);
	nng_ctx_close(c->ctx);
	return c->res.ok;
}

/* One call, start to finish. */
bool
rpc_call_once(
    rpc_client *cl, const char *body, int timeout_ms, rpc_result *res)
{
	rpc_call c;
	bool ok;

	rpc_call_begin(&c, cl, body, 1, timeout_ms);
	ok = rpc_call_end(&c);
	*res = c.res;
	return ok;
}
