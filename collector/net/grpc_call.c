/*
 * grpc_call.c - one OTLP/gRPC call (an HTTP/2 stream): nghttp2's callbacks
 * that read its headers and body, the checks on them, and its answer
 * (headers, the response message, trailers). Loop thread only
 * (otlp_grpc_impl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/otlp_grpc_impl.h"

#define NV(n, v) \
	((nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), \
	    NGHTTP2_NV_FLAG_NONE })

void
grpc_call_free(otlp_grpc *g, struct call *k)
{
	atomic_fetch_sub(&g->buffered, k->cap);
	free(k->body);
	grpc_answer_fini(&k->a);
	free(k);
}

static void
call_unlink(struct call *k)
{
	if (k->c == NULL)
		return;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		k->c->calls = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	k->next = k->prev = NULL;
}

/* Detaches k from its connection: freed now, or by its worker. */
void
grpc_call_release(otlp_grpc *g, struct call *k)
{
	bool held;

	call_unlink(k);
	pthread_mutex_lock(&g->mu);
	held = k->in_worker;
	k->c = NULL;
	pthread_mutex_unlock(&g->mu);
	if (!held)
		grpc_call_free(g, k);
}

static ssize_t
resp_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct call *k = src->ptr;
	size_t n = k->a.resp_len - k->resp_off;
	nghttp2_nv tr[3];
	size_t ntr = 0;
	char code[12];

	(void)user;
	if (n > len)
		n = len;
	memcpy(buf, k->a.resp + k->resp_off, n);
	k->resp_off += n;
	if (k->resp_off < k->a.resp_len)
		return (ssize_t)n;
	/* The message is out: end with trailers rather than END_STREAM. */
	*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	snprintf(code, sizeof code, "%d", (int)k->a.code);
	tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)code,
		11, strlen(code), NGHTTP2_NV_FLAG_NONE };
	if (k->a.message[0] != '\0')
		tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-message",
			(uint8_t *)k->a.message, 12, strlen(k->a.message),
			NGHTTP2_NV_FLAG_NONE };
	if (nghttp2_submit_trailer(s, id, tr, ntr) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)n;
}

/*
 * Hands k's answer to nghttp2: headers, then the response message and
 * trailers, or everything in one HEADERS (a "trailers-only" answer, as
 * gRPC sends errors). A client still sending is told to stop with
 * RST_STREAM(NO_ERROR), which gRPC defines for this case.
 */
void
grpc_call_answer(struct conn *c, struct call *k)
{
	char status[8], code[12];
	nghttp2_nv h[8];
	size_t n = 0;
	nghttp2_data_provider dp;

	k->answered = true;
	c->answers++;
	snprintf(status, sizeof status, "%d", k->a.http_status);
	snprintf(code, sizeof code, "%d", (int)k->a.code);
	h[n++] = NV(":status", status);
	if (k->a.http_status == 200) {
		h[n++] = NV("content-type", "application/grpc");
		h[n++] = NV("grpc-accept-encoding", "identity,gzip");
	}
	if (k->a.resp != NULL) {
		dp.source.ptr = k;
		dp.read_callback = resp_read;
		nghttp2_submit_response(c->s, k->id, h, n, &dp);
		return;
	}
	if (k->a.http_status == 200) {
		h[n++] = NV("grpc-status", code);
		if (k->a.message[0] != '\0')
			h[n++] = NV("grpc-message", k->a.message);
		if (k->a.details != NULL)
			h[n++] = NV("grpc-status-details-bin", k->a.details);
	}
	/* A reset submitted now would overtake the HEADERS (nghttp2 drops
	 * a response for a stream it is closing): on_frame_send sends it. */
	k->rst_after = !k->remote_closed;
	nghttp2_submit_response(c->s, k->id, h, n, NULL);
}

/* Answers k at once with an HTTP error (no gRPC status: not a gRPC call). */
static void
call_refuse_http(struct conn *c, struct call *k, int http_status)
{
	listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_PROTOCOL);
	STATS_INC(grpc_rej_not_grpc, 1);
	grpc_answer_http(&k->a, http_status);
	grpc_call_answer(c, k);
}

/* Answers k at once with a gRPC error status. */
void
grpc_call_refuse(struct conn *c, struct call *k, enum grpc_code code,
    const char *msg)
{
	grpc_answer_status(&k->a, code, msg);
	grpc_call_answer(c, k);
}

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct conn *c = user;
	struct call *k;

	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	k = xcalloc(1, sizeof *k);
	k->c = c;
	k->id = f->hd.stream_id;
	k->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = k;
	c->calls = k;
	c->last_call_ns = now_mono_ns();
	nghttp2_session_set_stream_user_data(s, k->id, k);
	return 0;
}

static bool
eq(const uint8_t *v, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(v, s, len) == 0;
}

/* Notes one request header; the checks run once all have arrived. */
static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *user)
{
	struct call *k = nghttp2_session_get_stream_user_data(s,
	    f->hd.stream_id);
	uint64_t ns;

	(void)flags;
	(void)user;
	if (k == NULL || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* RFC 7541's accounting: name + value + 32 per field. */
	k->header_bytes += namelen + valuelen + 32;
	if (k->header_bytes > MAX_HEADER_BYTES) {
		k->headers_too_big = true;
		return 0;
	}
	if (eq(name, namelen, ":method"))
		k->post = eq(value, valuelen, "POST");
	else if (eq(name, namelen, ":path"))
		k->path_ok = eq(value, valuelen, EXPORT_PATH);
	else if (eq(name, namelen, "content-type")) {
		k->any_type = true;
		/* application/grpc, optionally +proto or ;params. */
		k->grpc_type = (valuelen >= 16 &&
		    memcmp(value, "application/grpc", 16) == 0 &&
		    (valuelen == 16 || value[16] == ';' ||
		    eq(value + 16, valuelen - 16, "+proto")));
	} else if (eq(name, namelen, "grpc-encoding"))
		k->enc = grpc_frame_encoding(value, valuelen);
	else if (eq(name, namelen, "grpc-timeout") &&
	    grpc_frame_timeout(value, valuelen, &ns) == 0)
		k->deadline_ns = ns > UINT64_MAX / 2 ? 0 : now_mono_ns() + ns;
	return 0;
}

/* Checks a call's headers: false when it was answered with an error. */
static bool
call_check_headers(struct conn *c, struct call *k)
{
	listener_stats_request(&otlp_grpc_stats, 0);
	if (k->headers_too_big) {
		call_refuse_http(c, k, 431);
		return false;
	}
	if (!k->post) {
		call_refuse_http(c, k, 405);
		return false;
	}
	if (!k->grpc_type) {
		call_refuse_http(c, k, 415);
		return false;
	}
	if (!k->path_ok) {
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_PROTOCOL);
		STATS_INC(grpc_rej_unimpl, 1);
		grpc_call_refuse(c, k, GRPC_UNIMPLEMENTED,
		    "unknown method: this port serves " EXPORT_PATH);
		return false;
	}
	if (k->enc == GRPC_ENC_UNSUPPORTED) {
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_PROTOCOL);
		STATS_INC(grpc_rej_unimpl, 1);
		grpc_call_refuse(c, k, GRPC_UNIMPLEMENTED,
		    "grpc-encoding not supported: use identity or gzip");
		return false;
	}
	return true;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct conn *c = user;
	struct call *k;

	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	k = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (k == NULL)
		return 0;
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
		k->remote_closed = true;
	if (f->hd.type == NGHTTP2_HEADERS &&
	    f->headers.cat == NGHTTP2_HCAT_REQUEST &&
	    !call_check_headers(c, k))
		return 0;
	if (k->remote_closed && !k->answered && !k->pending)
		otlp_grpc_dispatch(c->g, k);
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *user)
{
	struct conn *c = user;
	otlp_grpc *g = c->g;
	struct call *k = nghttp2_session_get_stream_user_data(s, id);
	size_t need;

	(void)flags;
	listener_stats_bytes(&otlp_grpc_stats, len);
	if (k == NULL || k->answered || k->pending || len == 0)
		return 0;
	need = k->len + len;
	if (need > g->o.max_message_bytes + GRPC_PREFIX_LEN) {
		listener_stats_reject(&otlp_grpc_stats, STATS_REJECT_TOO_LARGE);
		grpc_call_refuse(c, k, GRPC_RESOURCE_EXHAUSTED,
		    "message is larger than the size limit "
		    "(--max-message-bytes)");
		return 0;
	}
	if (need > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;

		while (cap < need)
			cap *= 2;
		if (atomic_load(&g->buffered) + cap - k->cap > g->budget) {
			listener_stats_reject(&otlp_grpc_stats,
			    STATS_REJECT_RETRY_LATER);
			STATS_INC(grpc_rej_busy, 1);
			grpc_answer_retry(&k->a,
			    "receiver busy: too many request bytes held",
			    BUSY_RETRY_MS);
			grpc_call_answer(c, k);
			return 0;
		}
		atomic_fetch_add(&g->buffered, cap - k->cap);
		k->body = xrealloc(k->body, cap);
		k->cap = cap;
	}
	memcpy(k->body + k->len, data, len);
	k->len += len;
	return 0;
}

/* Resets a call whose answer ended our side while the peer still sends. */
static int
on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct call *k = nghttp2_session_get_stream_user_data(s,
	    f->hd.stream_id);

	(void)user;
	if (k != NULL && k->rst_after &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		k->rst_after = false;
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, k->id,
		    NGHTTP2_NO_ERROR);
	}
	return 0;
}

/*
 * A peer that resets far more calls than it lets us answer is flooding
 * (HTTP/2 "rapid reset"): nghttp2's rate limit bounds the rate, this
 * bounds the total, and the connection ends with ENHANCE_YOUR_CALM.
 */
static void
conn_count_reset(struct conn *c)
{
	if (++c->resets == 100 + 2 * c->answers) {
		STATS_INC(grpc_conn_errors, 1);
		nghttp2_session_terminate_session(c->s,
		    NGHTTP2_ENHANCE_YOUR_CALM);
	}
}

static int
on_stream_close(nghttp2_session *s, int32_t id, uint32_t err, void *user)
{
	struct call *k = nghttp2_session_get_stream_user_data(s, id);
	struct conn *c = user;

	if (k != NULL && err != NGHTTP2_NO_ERROR && !k->answered)
		conn_count_reset(c);
	if (k != NULL) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		grpc_call_release(c->g, k);
	}
	c->last_call_ns = now_mono_ns();
	return 0;
}

int
grpc_call_callbacks_new(otlp_grpc *g)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    on_frame_send);
	g->cbs = cb;
	if (nghttp2_option_new(&g->opt) != 0)
		return -1;
	/* Rapid reset (CVE-2023-44487): at most 1000 resets, then 33/s. */
	nghttp2_option_set_stream_reset_rate_limit(g->opt, 1000, 33);
	nghttp2_option_set_max_continuations(g->opt, 8);
	return 0;
}
