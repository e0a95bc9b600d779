/*
 * otlp_grpc.c - OTLP/gRPC receiver on libnghttp2: the listener, the event
 * loop, the worker threads that call the pipeline, start and stop. How the
 * three files share the work, and the threads, are in otlp_grpc_impl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/listen_probe.h"
#include "net/otlp_grpc_impl.h"

/* ------------------------------------------------------------ workers */

/* Decodes, submits and answers one complete request (worker thread). */
static void
worker_run(otlp_grpc *g, struct call *k)
{
	pipeline_result res;
	grpc_message m;
	const char *why = NULL;
	enum grpc_code code;

	if (k->deadline_ns != 0 && now_mono_ns() >= k->deadline_ns) {
		listener_stats_reject(&otlp_grpc_stats,
		    STATS_REJECT_RETRY_LATER);
		STATS_INC(grpc_rej_deadline, 1);
		grpc_answer_status(&k->a, GRPC_DEADLINE_EXCEEDED,
		    "deadline passed before the write began: nothing written");
		return;
	}
	code = grpc_frame_unary(k->body, k->len, k->enc,
	    g->o.max_message_bytes, &m, &why);
	if (code != GRPC_OK) {
		if (code == GRPC_RESOURCE_EXHAUSTED) {
			listener_stats_reject(&otlp_grpc_stats,
			    STATS_REJECT_TOO_LARGE);
		} else {
			listener_stats_reject(&otlp_grpc_stats,
			    STATS_REJECT_INVALID);
			STATS_INC(grpc_rej_framing, 1);
		}
		grpc_answer_status(&k->a, code, why);
		return;
	}
	memset(&res, 0, sizeof res);
	pipeline_submit_protobuf(g->p, m.data, m.len, &res);
	free(m.owned);
	grpc_answer_outcome(&k->a, &res);
}

static void
wake(otlp_grpc *g)
{
	uint64_t one = 1;

	if (write(g->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("otlp-grpc: wake: %s", strerror(errno));
}

/*
 * Answers k on its connection, under the connection's lock, unless the
 * call or the connection went away meanwhile (then k is freed here, or by
 * the loop's release of a closing connection).
 */
static void
worker_finish(otlp_grpc *g, struct call *k)
{
	struct conn *c;
	bool orphan, look = false;

	pthread_mutex_lock(&g->mu);
	c = k->c;
	if (c == NULL || c->closing) {
		k->in_worker = false;
		pthread_mutex_unlock(&g->mu);
		if (c == NULL)
			grpc_call_free(g, k);
		return;
	}
	c->refs++;
	pthread_mutex_unlock(&g->mu);
	pthread_mutex_lock(&c->mu);
	pthread_mutex_lock(&g->mu);
	k->in_worker = false;
	orphan = k->c == NULL;
	pthread_mutex_unlock(&g->mu);
	if (orphan)
		grpc_call_free(g, k);
	else
		look = grpc_conn_answer(c, k);
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_lock(&g->mu);
	c->refs--;
	pthread_mutex_unlock(&g->mu);
	if (look)
		wake(g);
}

static void *
worker_main(void *arg)
{
	otlp_grpc *g = arg;
	struct call *k;
	bool run;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (g->jobs == NULL && !g->stopping)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->jobs == NULL)
			break;
		k = g->jobs;
		g->jobs = k->qnext;
		if (g->jobs == NULL)
			g->jobs_tail = NULL;
		/* Not started before a stop: nothing written, no answer. */
		run = k->c != NULL && !g->stopping;
		pthread_mutex_unlock(&g->mu);
		if (run)
			worker_run(g, k);
		worker_finish(g, k);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* Queues k, whose request is complete, for a worker. */
void
otlp_grpc_dispatch(otlp_grpc *g, struct call *k)
{
	k->pending = true;
	k->qnext = NULL;
	pthread_mutex_lock(&g->mu);
	k->in_worker = true;
	if (g->jobs_tail != NULL)
		g->jobs_tail->qnext = k;
	else
		g->jobs = k;
	g->jobs_tail = k;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}


/* ------------------------------------------------------------ loop */

/* Empties the wake-up counter: a worker wants a pass. */
static void
loop_woken(otlp_grpc *g)
{
	uint64_t v;

	if (read(g->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("otlp-grpc: wake read: %s", strerror(errno));
}

/* One pass: poll, accept, each connection's I/O and timers, reaping. */
static void
loop_pass(otlp_grpc *g, struct pollfd *pfd, struct conn **pc)
{
	struct conn *c;
	size_t n = 2;

	pfd[0] = (struct pollfd){ g->listen_fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ g->wake_fd, POLLIN, 0 };
	for (c = g->conns; c != NULL; c = c->next, n++) {
		pc[n] = c;
		pfd[n] = (struct pollfd){ c->fd, grpc_conn_events(c), 0 };
	}
	if (poll(pfd, n, POLL_MS) < 0 && errno != EINTR)
		log_warn("otlp-grpc: poll: %s", strerror(errno));
	if (pfd[1].revents & POLLIN)
		loop_woken(g);
	for (size_t i = 2; i < n; i++)
		grpc_conn_serve(g, pc[i], pfd[i].revents);
	grpc_conn_reap(g, false);
	if (pfd[0].revents & POLLIN)
		grpc_conn_accept(g);
}

static void *
loop_main(void *arg)
{
	otlp_grpc *g = arg;
	size_t cap = g->o.max_connections + 2;
	struct pollfd *pfd = xcalloc(cap, sizeof *pfd);
	struct conn **pc = xcalloc(cap, sizeof *pc);
	bool stopping = false;

	while (!stopping) {
		loop_pass(g, pfd, pc);
		pthread_mutex_lock(&g->mu);
		stopping = g->stopping;
		pthread_mutex_unlock(&g->mu);
	}
	/* Workers still answering hold their connections: wait for them. */
	while (g->conns != NULL) {
		grpc_conn_reap(g, true);
		if (g->conns != NULL)
			poll(NULL, 0, 10);
	}
	free(pfd);
	free(pc);
	return NULL;
}

/* ------------------------------------------------------------ start, stop */

static void
options_default(otlp_grpc_options *o, const otlp_grpc_options *in)
{
	memset(o, 0, sizeof *o);
	if (in != NULL)
		*o = *in;
	if (o->max_message_bytes == 0)
		o->max_message_bytes = 16u << 20;
	if (o->workers == 0)
		o->workers = 4;
	if (o->workers > MAX_WORKERS)
		o->workers = MAX_WORKERS;
	if (o->max_connections == 0)
		o->max_connections = 64;
	if (o->max_streams == 0)
		o->max_streams = 32;
	if (o->idle_timeout_s == 0)
		o->idle_timeout_s = 300;
}

/* Binds and listens on addr; sets g->listen_fd and g->port. */
static int
listen_on(otlp_grpc *g, const char *addr, char **cause)
{
	char host[256], port[32];
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int one = 1, rv;

	if (strncmp(addr, "http://", 7) == 0)
		addr += 7;
	else if (strncmp(addr, "https://", 8) == 0) {
		addr += 8;
		if (grpc_tls_new(&g->tls, g->o.tls, cause) != 0)
			return -1;
	}
	/* A tcp:// or tls+tcp:// URL would bind plain h2c: refuse it rather
	 * than serve without the TLS it may have meant. */
	if (strstr(addr, "://") != NULL ||
	    listen_probe_split(addr, host, sizeof host, port, sizeof port) !=
	    0) {
		xasprintf(cause, "otlp-grpc %s: want HOST:PORT, http://HOST:PORT "
		    "or https://HOST:PORT", addr);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rv = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) !=
	    0) {
		xasprintf(cause, "otlp-grpc %s: %s", addr, gai_strerror(rv));
		return -1;
	}
	g->listen_fd = socket(res->ai_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->listen_fd >= 0)
		setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one);
	if (g->listen_fd < 0 ||
	    bind(g->listen_fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(g->listen_fd, 128) != 0 ||
	    getsockname(g->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
		xasprintf(cause, "otlp-grpc %s: cannot listen: %s", addr,
		    strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	g->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(g->addr, sizeof g->addr, ss.ss_family == AF_INET6 ?
	    "[%s]:%d" : "%s:%d", host[0] ? host : ss.ss_family == AF_INET6 ?
	    "::1" : "127.0.0.1", g->port);
	return 0;
}

int
otlp_grpc_start(otlp_grpc **out, const char *addr,
    const otlp_grpc_options *o, pipeline *p, char **cause)
{
	otlp_grpc *g = xcalloc(1, sizeof *g);

	g->p = p;
	g->listen_fd = g->wake_fd = -1;
	options_default(&g->o, o);
	/* Room for a few largest messages at once, and never under 64 MiB. */
	g->budget = 4 * (g->o.max_message_bytes + GRPC_PREFIX_LEN);
	if (g->budget < (64u << 20))
		g->budget = 64u << 20;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	listener_stats_register(&otlp_grpc_stats);
	if (listen_on(g, addr, cause) != 0)
		goto fail;
	if ((g->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    grpc_call_callbacks_new(g) != 0) {
		xasprintf(cause, "otlp-grpc: cannot set up: %s",
		    strerror(errno));
		goto fail;
	}
	for (; g->n_workers < g->o.workers; g->n_workers++)
		if (pthread_create(&g->workers[g->n_workers], NULL,
		    worker_main, g) != 0)
			break;
	if (g->n_workers < g->o.workers ||
	    pthread_create(&g->loop, NULL, loop_main, g) != 0) {
		xasprintf(cause, "otlp-grpc: cannot start threads");
		goto fail;
	}
	g->loop_started = true;
	*out = g;
	return 0;
fail:
	otlp_grpc_stop(g);
	return -1;
}

int
otlp_grpc_port(const otlp_grpc *g)
{
	return g->port;
}

const char *
otlp_grpc_addr(const otlp_grpc *g)
{
	return g->addr;
}

void
otlp_grpc_stop(otlp_grpc *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->loop_started) {
		wake(g);
		pthread_join(g->loop, NULL);
	}
	/* Every connection is freed and every call orphaned now: workers
	 * finish and free theirs. */
	for (unsigned i = 0; i < g->n_workers; i++)
		pthread_join(g->workers[i], NULL);
	if (g->cbs != NULL)
		nghttp2_session_callbacks_del(g->cbs);
	nghttp2_option_del(g->opt);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	grpc_tls_free(g->tls);
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}
