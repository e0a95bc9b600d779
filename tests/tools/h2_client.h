/*
 * h2_client.h - a small blocking HTTP/2 (h2c) client on libnghttp2's client
 * side, for the OTLP/gRPC tests (tests/tools/grpc_client.c) and benchmark
 * (bench/bench_otlp_grpc.c): one TCP connection, any number of calls at
 * once, each with a request body sent from memory and its response
 * headers, trailers, body and reset code recorded. nghttp2 does all the
 * framing, HPACK and flow control.
 *
 * Static functions only: the header is included by one program each.
 */
#ifndef TESTS_TOOLS_H2_CLIENT_H
#define TESTS_TOOLS_H2_CLIENT_H

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

/* One call (stream). Fill body/len, submit, run; then read the rest. */
typedef struct h2_call {
	const uint8_t *body;
	size_t len, off;
	bool hold_open;       /* send the body without END_STREAM */
	int32_t id;
	int http_status;      /* 0: no response headers */
	int grpc_status;      /* -1: none */
	char grpc_message[512];
	char details[1024];   /* grpc-status-details-bin as sent (base64) */
	uint8_t *resp;        /* response body, malloc'd */
	size_t resp_len;
	uint32_t rst_code;    /* the stream's close code (0: NO_ERROR) */
	bool closed;
} h2_call;

typedef struct h2_client {
	int fd;
	nghttp2_session *s;
	int open_calls;
	bool goaway, eof, ping_acked;
	uint32_t goaway_code;
	uint32_t max_streams; /* the server's SETTINGS_MAX_CONCURRENT_STREAMS */
	uint8_t *out;         /* frames gathered for one send() */
	size_t out_len, out_cap;
} h2_client;

static ssize_t
h2_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	h2_call *k = src->ptr;
	size_t n = k->len - k->off;

	(void)s;
	(void)id;
	(void)user;
	if (n > len)
		n = len;
	if (n > 0) /* an empty body is NULL: memcpy may not take it */
		memcpy(buf, k->body + k->off, n);
	k->off += n;
	if (k->off == k->len) {
		if (k->hold_open)
			return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

static void
h2_copy(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static int
h2_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *user)
{
	h2_call *k = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	char v[16];

	(void)flags;
	(void)user;
	if (k == NULL)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		h2_copy(v, sizeof v, value, valuelen);
		k->http_status = atoi(v);
	} else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
		h2_copy(v, sizeof v, value, valuelen);
		k->grpc_status = atoi(v);
	} else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		h2_copy(k->grpc_message, sizeof k->grpc_message, value,
		    valuelen);
	} else if (namelen == 23 &&
	    memcmp(name, "grpc-status-details-bin", 23) == 0) {
		h2_copy(k->details, sizeof k->details, value, valuelen);
	}
	return 0;
}

static int
h2_on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *user)
{
	h2_call *k = nghttp2_session_get_stream_user_data(s, id);

	(void)flags;
	(void)user;
	if (k == NULL)
		return 0;
	k->resp = realloc(k->resp, k->resp_len + len);
	if (k->resp == NULL)
		abort();
	memcpy(k->resp + k->resp_len, data, len);
	k->resp_len += len;
	return 0;
}

static int
h2_on_close(nghttp2_session *s, int32_t id, uint32_t err, void *user)
{
	h2_client *c = user;
	h2_call *k = nghttp2_session_get_stream_user_data(s, id);

	if (k != NULL && !k->closed) {
		k->closed = true;
		k->rst_code = err;
		c->open_calls--;
	}
	return 0;
}

static int
h2_on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	h2_client *c = user;

	(void)s;
	if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK))
		c->ping_acked = true;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		c->goaway = true;
		c->goaway_code = f->goaway.error_code;
	}
	if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK))
		for (size_t i = 0; i < f->settings.niv; i++)
			if (f->settings.iv[i].settings_id ==
			    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
				c->max_streams = f->settings.iv[i].value;
	return 0;
}

/* h2_connect dials host:port and starts the session (client preface,
 * settings with a 16 MiB window). Returns 0 or -1 (printed). */
static int
h2_connect(h2_client *c, const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *res = NULL;
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16u << 20 },
	};
	int one = 1;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof host) {
		fprintf(stderr, "want HOST:PORT, got %s\n", hostport);
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 ||
	    (c->fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0 ||
	    connect(c->fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr, "connect %s: %s\n", hostport, strerror(errno));
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    h2_on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame);
	nghttp2_option_new(&opt);
	/* Let the tests send header blocks beyond nghttp2's 64 KiB default. */
	nghttp2_option_set_max_send_header_block_length(opt, 1u << 20);
	nghttp2_session_client_new2(&c->s, cb, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 1);
	nghttp2_session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0,
	    64u << 20);
	return 0;
}

/* h2_submit starts call k with headers h (n of them); its body follows. */
static int
h2_submit(h2_client *c, h2_call *k, const nghttp2_nv *h, size_t n)
{
	nghttp2_data_provider dp;

	k->grpc_status = -1;
	dp.source.ptr = k;
	dp.read_callback = h2_read_body;
	k->id = nghttp2_submit_request(c->s, NULL, h, n, &dp, k);
	if (k->id < 0)
		return -1;
	c->open_calls++;
	return 0;
}

/* h2_pump sends what nghttp2 has and reads one batch of bytes. Returns 0,
 * or -1 when the connection ended. */
static int
h2_pump(h2_client *c)
{
	const uint8_t *out;
	uint8_t buf[65536];
	ssize_t n;

	/* Gather the frames nghttp2 hands over one by one into one send(). */
	while ((n = nghttp2_session_mem_send(c->s, &out)) > 0) {
		if (c->out_len + (size_t)n > c->out_cap) {
			c->out_cap = c->out_len + (size_t)n + 65536;
			if ((c->out = realloc(c->out, c->out_cap)) == NULL)
				abort();
		}
		memcpy(c->out + c->out_len, out, (size_t)n);
		c->out_len += (size_t)n;
	}
	for (size_t w = 0; w < c->out_len;) {
		ssize_t r = send(c->fd, c->out + w, c->out_len - w,
		    MSG_NOSIGNAL);
		if (r < 0) {
			c->eof = true;
			return -1;
		}
		w += (size_t)r;
	}
	c->out_len = 0;
	if (n < 0 || (!nghttp2_session_want_read(c->s) &&
	    !nghttp2_session_want_write(c->s))) {
		c->eof = true;
		return -1;
	}
	n = recv(c->fd, buf, sizeof buf, 0);
	if (n <= 0 || nghttp2_session_mem_recv(c->s, buf, (size_t)n) < 0) {
		c->eof = true;
		return -1;
	}
	return 0;
}

/* h2_run pumps until every call is closed or the connection ends.
 * Returns 0 when all calls closed. */
static int
h2_run(h2_client *c)
{
	while (c->open_calls > 0)
		if (h2_pump(c) != 0)
			return c->open_calls > 0 ? -1 : 0;
	/* Flush what is queued (e.g. acks) before the caller moves on. */
	{
		const uint8_t *out;
		ssize_t n;

		while ((n = nghttp2_session_mem_send(c->s, &out)) > 0)
			if (send(c->fd, out, (size_t)n, MSG_NOSIGNAL) != n)
				break;
	}
	return 0;
}

static void
h2_close(h2_client *c)
{
	if (c->s != NULL)
		nghttp2_session_del(c->s);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->s = NULL;
	c->fd = -1;
}

#define H2_NV(n, v)                                                        \
	((nghttp2_nv){ (uint8_t *)(uintptr_t)(n), (uint8_t *)(uintptr_t)(v), \
	    strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE })

#endif /* TESTS_TOOLS_H2_CLIENT_H */
