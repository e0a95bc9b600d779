/*
 * grpc_conn.c - one OTLP/gRPC connection: accepting it, TLS or plain
 * socket I/O into and out of its nghttp2 session (frames gathered into one
 * send()), the preface check, deadlines and idle timers, and an orderly
 * end (GOAWAY, then a lingering close). Loop thread only
 * (otlp_grpc_impl.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/otlp_grpc_impl.h"

static void conn_read(struct conn *c);

void
grpc_conn_free(otlp_grpc *g, struct conn *c)
{
	while (c->calls != NULL)
		grpc_call_release(g, c->calls);
	nghttp2_session_del(c->s);
	grpc_tls_close(c->tls);
	close(c->fd);
	free(c->out);
	pthread_mutex_destroy(&c->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	g->n_conns--;
	free(c);
}

/* Starts the server side of HTTP/2 on c: our SETTINGS go out first. */
static int
conn_session(otlp_grpc *g, struct conn *c)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, g->o.max_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_BYTES },
	};

	if (nghttp2_session_server_new2(&c->s, g->cbs, c, g->opt) != 0)
		return -1;
	if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv,
	    sizeof iv / sizeof iv[0]) != 0 ||
	    nghttp2_session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0,
	    CONN_WINDOW) != 0)
		return -1;
	return 0;
}

void
grpc_conn_accept(otlp_grpc *g)
{
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept(g->listen_fd, NULL, NULL)) >= 0) {
		if (g->n_conns >= g->o.max_connections) {
			STATS_INC(grpc_conn_refused, 1);
			close(fd);
			continue;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		pthread_mutex_init(&c->mu, NULL);
		c->g = g;
		c->fd = fd;
		c->last_recv_ns = c->last_call_ns = now_mono_ns();
		c->next = g->conns;
		if (g->conns != NULL)
			g->conns->prev = c;
		g->conns = c;
		g->n_conns++;
		if (g->tls != NULL) {
			c->tls = grpc_tls_accept(g->tls, fd);
			c->handshaking = true;
		}
		if ((g->tls != NULL && c->tls == NULL) ||
		    conn_session(g, c) != 0) {
			log_warn("otlp-grpc: cannot start a session");
			grpc_conn_free(g, c);
		}
	}
}

/* recv() or its TLS equivalent: bytes, 0 at EOF, -1 with errno. */
static ssize_t
conn_recv(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls == NULL)
		return recv(c->fd, buf, len, 0);
	n = grpc_tls_recv(c->tls, buf, len);
	if (n == -2)
		errno = EPROTO;
	return n < 0 ? -1 : n;
}

/* send() or its TLS equivalent: bytes or -1 with errno. */
static ssize_t
conn_send(struct conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->tls == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	n = grpc_tls_send(c->tls, buf, len);
	if (n == -2)
		errno = EPROTO;
	return n < 0 ? -1 : n;
}

/* Advances a TLS handshake; a failed or stalled one ends the connection. */
static void
conn_handshake(struct conn *c, short revents)
{
	const char *why = "stalled";
	int rv = revents != 0 ? grpc_tls_handshake(c->tls, &why) : 1;

	if (rv == 1 && now_mono_ns() - c->last_recv_ns > STALL_NS)
		rv = -1;

	if (rv == 0) {
		c->handshaking = false;
		conn_read(c); /* what arrived with the last flight */
	} else if (rv < 0) {
		STATS_INC(grpc_conn_errors, 1);
		log_debug("otlp-grpc: TLS handshake: %s", why);
		c->dead = true;
	}
}

/*
 * Ends a connection whose session is over (a GOAWAY is out). Closing at
 * once would make the kernel answer the peer's unread bytes with a TCP
 * RST, which can destroy the GOAWAY before the peer reads it; so we shut
 * our side and read until the peer closes, or LINGER_NS.
 */
static void
conn_shut(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->linger_ns = now_mono_ns();
}

static void
conn_linger(struct conn *c, short revents)
{
	uint8_t buf[16384];
	ssize_t n;

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		while ((n = recv(c->fd, buf, sizeof buf, 0)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			c->dead = true;
	}
	if (now_mono_ns() - c->linger_ns > LINGER_NS)
		c->dead = true;
}

/* Answers bytes that are not an HTTP/2 connection preface. An HTTP/1.x
 * client (a request line starts with a method in capitals) gets a short
 * 505 it can show; anything else is just closed. */
static void
conn_not_http2(struct conn *c, const uint8_t *buf, size_t len)
{
	STATS_INC(grpc_conn_errors, 1);
	if (len > 0 && buf[0] >= 'A' && buf[0] <= 'Z' &&
	    memcmp(buf, "PRI ", len < 4 ? len : 4) != 0 &&
	    conn_send(c, NOT_HTTP2_REPLY, sizeof NOT_HTTP2_REPLY - 1) < 0)
		log_debug("otlp-grpc: 505 reply: %s", strerror(errno));
	conn_shut(c);
}

/* Reads what the socket has into nghttp2. */
static void
conn_read(struct conn *c)
{
	uint8_t buf[65536];
	ssize_t n, rv;

	for (;;) {
		n = conn_recv(c, buf, sizeof buf);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			c->peer_done = true;
			return;
		}
		if (n < 0) {
			c->dead = true;
			return;
		}
		c->last_recv_ns = now_mono_ns();
		rv = nghttp2_session_mem_recv(c->s, buf, (size_t)n);
		if (rv >= 0 && c->received < NGHTTP2_CLIENT_MAGIC_LEN)
			c->received += (size_t)n;
		if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
			conn_not_http2(c, buf, (size_t)n);
			return;
		}
		if (rv < 0) {
			/* nghttp2 queued a GOAWAY naming the error; flush it. */
			STATS_INC(grpc_conn_errors, 1);
			log_debug("otlp-grpc: connection error: %s",
			    nghttp2_strerror((int)rv));
			return;
		}
	}
}

/* Whether c may write: our SETTINGS wait for the client's preface, so an
 * HTTP/1.1 client or a stray scanner reads a plain answer, not frames. */
static bool
conn_may_write(const struct conn *c)
{
	return c->linger_ns == 0 && c->received >= NGHTTP2_CLIENT_MAGIC_LEN &&
	    (c->out_len > 0 || nghttp2_session_want_write(c->s));
}

/*
 * Gathers nghttp2's frames into c->out, up to OUT_GATHER bytes: nghttp2
 * hands them over one at a time, and a send() per frame would wake the
 * peer for each (a gRPC answer is three frames). Returns the byte count,
 * 0 when nothing is queued, -1 after a session error.
 */
static ssize_t
conn_gather(struct conn *c)
{
	const uint8_t *p;
	ssize_t n;

	c->out_off = c->out_len = 0;
	while (c->out_len < OUT_GATHER &&
	    (n = nghttp2_session_mem_send(c->s, &p)) != 0) {
		if (n < 0) {
			c->dead = true;
			return -1;
		}
		if (c->out_len + (size_t)n > c->out_cap) {
			c->out_cap = c->out_len + (size_t)n + OUT_GATHER;
			c->out = xrealloc(c->out, c->out_cap);
		}
		memcpy(c->out + c->out_len, p, (size_t)n);
		c->out_len += (size_t)n;
	}
	return (ssize_t)c->out_len;
}

/* Writes what nghttp2 has to send; stops when the socket is full. */
static void
conn_write(struct conn *c)
{
	ssize_t n;

	if (!conn_may_write(c))
		return;
	for (;;) {
		if (c->out_len == 0 && conn_gather(c) <= 0)
			return;
		n = conn_send(c, c->out + c->out_off, c->out_len);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->dead = true;
			return;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
}

/* Whether any call of c waits for a worker (the connection must not be
 * idled out from under it). */
static bool
conn_has_job(const struct conn *c)
{
	for (const struct call *k = c->calls; k != NULL; k = k->next)
		if (k->pending)
			return true;
	return false;
}

/* Deadlines of calls still arriving, and idle or stalled connections. */
static void
conn_timers(otlp_grpc *g, struct conn *c)
{
	struct call *k, *next;
	uint64_t now = now_mono_ns(), quiet = now - c->last_recv_ns;

	for (k = c->calls; k != NULL; k = next) {
		next = k->next;
		if (k->deadline_ns != 0 && now >= k->deadline_ns &&
		    !k->answered && !k->pending) {
			listener_stats_reject(&otlp_grpc_stats,
			    STATS_REJECT_RETRY_LATER);
			STATS_INC(grpc_rej_deadline, 1);
			grpc_call_refuse(c, k, GRPC_DEADLINE_EXCEEDED,
			    "deadline passed while the request was arriving");
		}
	}
	if (conn_has_job(c))
		return;
	if ((c->calls == NULL &&
	    now - c->last_call_ns > g->o.idle_timeout_s * 1000000000ULL) ||
	    (c->calls != NULL && quiet > STALL_NS))
		nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR);
}

short
grpc_conn_events(struct conn *c)
{
	short ev;

	pthread_mutex_lock(&c->mu);
	if (c->linger_ns != 0)
		ev = POLLIN;
	else if (c->handshaking)
		ev = grpc_tls_wants_write(c->tls) ? POLLOUT : POLLIN;
	else
		ev = (short)((c->peer_done ? 0 : POLLIN) |
		    (conn_may_write(c) ? POLLOUT : 0));
	pthread_mutex_unlock(&c->mu);
	return ev;
}

/* grpc_conn_serve's work, with c->mu held. */
static void
conn_serve(otlp_grpc *g, struct conn *c, short revents)
{
	if (c->linger_ns != 0) {
		conn_linger(c, revents);
		return;
	}
	if (c->handshaking) {
		conn_handshake(c, revents);
		if (c->handshaking || c->dead)
			return;
	}
	if (!c->peer_done && (revents & (POLLIN | POLLHUP | POLLERR)))
		conn_read(c);
	if (!c->dead)
		conn_timers(g, c);
	if (!c->dead)
		conn_write(c);
}

void
grpc_conn_serve(otlp_grpc *g, struct conn *c, short revents)
{
	pthread_mutex_lock(&c->mu);
	conn_serve(g, c, revents);
	pthread_mutex_unlock(&c->mu);
}

bool
grpc_conn_answer(struct conn *c, struct call *k)
{
	k->pending = false;
	grpc_call_answer(c, k);
	conn_write(c);
	return c->dead || c->peer_done || conn_may_write(c);
}

/* Whether c is over: dead, or the peer left and nothing is pending. */
static bool
conn_over(struct conn *c)
{
	return c->dead || (c->peer_done && !conn_may_write(c) &&
	    !conn_has_job(c));
}

/* Marks c closing unless a worker holds it; true when it may be freed. */
static bool
conn_claim(otlp_grpc *g, struct conn *c)
{
	bool ok;

	pthread_mutex_lock(&g->mu);
	ok = c->refs == 0;
	if (ok)
		c->closing = true;
	pthread_mutex_unlock(&g->mu);
	return ok;
}

void
grpc_conn_reap(otlp_grpc *g, bool stopping)
{
	struct conn *c, *next;
	bool over;

	for (c = g->conns; c != NULL; c = next) {
		next = c->next;
		pthread_mutex_lock(&c->mu);
		over = stopping || conn_over(c);
		if (!over && c->linger_ns == 0 && c->out_len == 0 &&
		    !nghttp2_session_want_read(c->s) &&
		    !nghttp2_session_want_write(c->s))
			conn_shut(c);
		pthread_mutex_unlock(&c->mu);
		/* A worker answering on c keeps it until it is done; a later
		 * pass (the worker wakes the loop) frees it. */
		if (over && conn_claim(g, c))
			grpc_conn_free(g, c);
	}
}
