/*
 * otlp_grpc.c - OTLP/gRPC receiver over h2c on libnghttp2.
 *
 * Threads: one event-loop thread owns the listening socket, every
 * connection and every nghttp2 session (nghttp2 sessions are not
 * thread-safe). It reads bytes into nghttp2, which calls back here with
 * headers and body chunks; a call whose request is complete becomes a job
 * for a small pool of worker threads, because the pipeline blocks until
 * the write is durable. A worker takes the message apart (grpc_frame.c),
 * submits it and fills in the answer; the loop then hands the answer to
 * nghttp2 (response headers, the response message, trailers). So nothing
 * is acknowledged before it is written, and the loop never blocks on the
 * store.
 *
 * Ownership: a call (struct call) belongs to the loop, except while
 * in_worker, when only the worker touches its request and answer. A call
 * whose stream or connection goes away meanwhile is orphaned (c = NULL,
 * under mu) and freed by whoever holds it when it comes back.
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

#include <nghttp2/nghttp2.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/grpc_frame.h"
#include "net/grpc_tls.h"
#include "net/listen_probe.h"
#include "net/otlp_grpc.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    ExportResponse;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess
    PartialSuccess;

#define EXPORT_PATH \
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define MAX_WORKERS 64
#define MAX_HEADER_BYTES 16384     /* advertised and enforced per call */
#define STREAM_WINDOW (1u << 20)   /* per call, before WINDOW_UPDATEs */
#define CONN_WINDOW (16u << 20)    /* per connection */
#define STALL_NS 30000000000ULL    /* a half-sent call waits this long */
#define POLL_MS 250                /* deadline and idle checks */
#define BUSY_RETRY_MS 1000
#define OUT_GATHER 65536           /* bytes of frames per send() */
#define LINGER_NS 2000000000ULL    /* after a GOAWAY, until the peer reads it */
#define NOT_HTTP2_REPLY                                                    \
	"HTTP/1.1 505 HTTP Version Not Supported\r\n"                      \
	"Content-Type: text/plain\r\nConnection: close\r\n"                \
	"Content-Length: 52\r\n\r\n"                                       \
	"this port speaks OTLP/gRPC over HTTP/2 only (h2c)\r\n"

struct conn;

/* One gRPC call: an HTTP/2 stream. */
struct call {
	struct call *next, *prev; /* the connection's calls */
	struct call *qnext;       /* the job or done queue */
	struct conn *c;           /* NULL: orphaned */
	int32_t id;

	/* The request, from the headers. */
	bool post, path_ok, grpc_type, any_type, headers_too_big;
	size_t header_bytes;
	enum grpc_encoding enc;
	uint64_t deadline_ns; /* monotonic; 0: none */

	uint8_t *body;
	size_t len, cap;
	bool remote_closed; /* END_STREAM received */
	bool rst_after;     /* reset once our END_STREAM is out */
	bool answered;      /* a response is submitted: drop further data */
	bool pending;       /* loop's view: dispatched, answer not yet back */
	bool in_worker;     /* under mu: a worker holds it */
	bool in_done;       /* under mu: in the done queue */

	/* The answer. */
	int http_status;
	enum grpc_code code;
	char message[256];
	char *details;      /* grpc-status-details-bin, malloc'd */
	uint8_t *resp;      /* prefixed response message; NULL: trailers only */
	size_t resp_len, resp_off;
};

struct conn {
	struct conn *next, *prev;
	otlp_grpc *g;
	int fd;
	grpc_tls_session *tls;    /* NULL: h2c */
	bool handshaking;         /* TLS handshake not finished */
	nghttp2_session *s;
	struct call *calls;
	uint8_t *out;       /* frames gathered for one send(), malloc'd */
	size_t out_off, out_len, out_cap;
	uint64_t last_recv_ns, last_call_ns;
	unsigned resets, answers; /* calls the peer reset, calls answered */
	uint64_t linger_ns;       /* our side shut: discard until EOF */
	size_t received;          /* bytes so far, up to the preface's 24 */
	bool peer_done;           /* EOF read: flush what is queued, close */
	bool dead;
};

struct otlp_grpc {
	pipeline *p;
	otlp_grpc_options o;
	int listen_fd, wake_fd, port;
	grpc_tls *tls;                 /* https:// listener; NULL: h2c */
	char addr[300];                /* HOST:PORT as bound */
	size_t budget;                 /* bytes of bodies held at once */
	_Atomic size_t buffered;
	struct conn *conns;
	unsigned n_conns;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	pthread_t loop;
	bool loop_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct call *jobs, *jobs_tail, *done;
	bool stopping;
	unsigned n_workers;
	pthread_t workers[MAX_WORKERS];
};

/* ------------------------------------------------------------ calls */

static void
call_free(otlp_grpc *g, struct call *k)
{
	atomic_fetch_sub(&g->buffered, k->cap);
	free(k->body);
	free(k->details);
	free(k->resp);
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
static void
call_release(otlp_grpc *g, struct call *k)
{
	bool held;

	call_unlink(k);
	pthread_mutex_lock(&g->mu);
	held = k->in_worker || k->in_done;
	k->c = NULL;
	pthread_mutex_unlock(&g->mu);
	if (!held)
		call_free(g, k);
}

/* Sets the answer of k: a gRPC status (HTTP 200) and its message. */
static void
call_status(struct call *k, enum grpc_code code, const char *msg)
{
	k->http_status = 200;
	k->code = code;
	grpc_frame_message(msg != NULL ? msg : "", k->message,
	    sizeof k->message);
}

/* ------------------------------------------------------------ answers */

static ssize_t
resp_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct call *k = src->ptr;
	size_t n = k->resp_len - k->resp_off;
	nghttp2_nv tr[3];
	size_t ntr = 0;
	char code[12];

	(void)user;
	if (n > len)
		n = len;
	memcpy(buf, k->resp + k->resp_off, n);
	k->resp_off += n;
	if (k->resp_off < k->resp_len)
		return (ssize_t)n;
	/* The message is out: end with trailers rather than END_STREAM. */
	*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	snprintf(code, sizeof code, "%d", (int)k->code);
	tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)code,
		11, strlen(code), NGHTTP2_NV_FLAG_NONE };
	if (k->message[0] != '\0')
		tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-message",
			(uint8_t *)k->message, 12, strlen(k->message),
			NGHTTP2_NV_FLAG_NONE };
	if (nghttp2_submit_trailer(s, id, tr, ntr) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)n;
}

#define NV(n, v) \
	((nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), \
	    NGHTTP2_NV_FLAG_NONE })

/*
 * Hands k's answer to nghttp2: headers, then the response message and
 * trailers, or everything in one HEADERS (a "trailers-only" answer, as
 * gRPC sends errors). A client still sending is told to stop with
 * RST_STREAM(NO_ERROR), which gRPC defines for this case.
 */
static void
call_answer(struct conn *c, struct call *k)
{
	char status[8], code[12];
	nghttp2_nv h[8];
	size_t n = 0;
	nghttp2_data_provider dp;

	k->answered = true;
	c->answers++;
	snprintf(status, sizeof status, "%d", k->http_status);
	snprintf(code, sizeof code, "%d", (int)k->code);
	h[n++] = NV(":status", status);
	if (k->http_status == 200) {
		h[n++] = NV("content-type", "application/grpc");
		h[n++] = NV("grpc-accept-encoding", "identity,gzip");
	}
	if (k->resp != NULL) {
		dp.source.ptr = k;
		dp.read_callback = resp_read;
		nghttp2_submit_response(c->s, k->id, h, n, &dp);
		return;
	}
	if (k->http_status == 200) {
		h[n++] = NV("grpc-status", code);
		if (k->message[0] != '\0')
			h[n++] = NV("grpc-message", k->message);
		if (k->details != NULL)
			h[n++] = NV("grpc-status-details-bin", k->details);
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
	STATS_INC(grpc_rej_not_grpc, 1);
	k->http_status = http_status;
	call_answer(c, k);
}

/* Answers k at once with a gRPC error status. */
static void
call_refuse(struct conn *c, struct call *k, enum grpc_code code,
    const char *msg)
{
	call_status(k, code, msg);
	call_answer(c, k);
}

/* ------------------------------------------------------------ workers */

/* Builds the framed ExportTraceServiceResponse of an accepted request. */
static void
worker_response(struct call *k, const pipeline_result *res)
{
	ExportResponse r;
	PartialSuccess ps;
	size_t len;

	opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(
	    &r);
	if (res->code == PIPELINE_PARTIAL) {
		opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(
		    &ps);
		ps.rejected_spans = res->rejected_spans;
		ps.error_message = (char *)(uintptr_t)res->message;
		r.partial_success = &ps;
	}
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
	    &r);
	k->resp = xmalloc(len + GRPC_PREFIX_LEN);
	grpc_frame_prefix(k->resp, (uint32_t)len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
	    &r, k->resp + GRPC_PREFIX_LEN);
	k->resp_len = len + GRPC_PREFIX_LEN;
}

/* Maps the pipeline's outcome to k's answer. */
static void
worker_outcome(struct call *k, const pipeline_result *res)
{
	switch (res->code) {
	case PIPELINE_OK:
	case PIPELINE_PARTIAL:
		call_status(k, GRPC_OK, NULL);
		worker_response(k, res);
		return;
	case PIPELINE_INVALID:
		STATS_INC(grpc_rej_invalid, 1);
		call_status(k, GRPC_INVALID_ARGUMENT, res->message);
		return;
	case PIPELINE_TOO_LARGE:
		STATS_INC(grpc_rej_too_large, 1);
		call_status(k, GRPC_RESOURCE_EXHAUSTED, res->message);
		return;
	case PIPELINE_RETRY_LATER:
		STATS_INC(grpc_rej_retry, 1);
		call_status(k, GRPC_UNAVAILABLE, res->message[0] != '\0' ?
		    res->message : "the store pushes back: retry later");
		k->details = grpc_frame_retry_details(k->message,
		    res->retry_after_ms > 0 ? res->retry_after_ms :
		    BUSY_RETRY_MS);
		return;
	case PIPELINE_INTERNAL:
	default:
		STATS_INC(grpc_rej_internal, 1);
		call_status(k, GRPC_INTERNAL, res->message[0] != '\0' ?
		    res->message : "storage error: nothing was written");
		return;
	}
}

/* Decodes, submits and answers one complete request (worker thread). */
static void
worker_run(otlp_grpc *g, struct call *k)
{
	pipeline_result res;
	grpc_message m;
	const char *why = NULL;
	enum grpc_code code;

	if (k->deadline_ns != 0 && now_mono_ns() >= k->deadline_ns) {
		STATS_INC(grpc_rej_deadline, 1);
		call_status(k, GRPC_DEADLINE_EXCEEDED,
		    "deadline passed before the write began: nothing written");
		return;
	}
	code = grpc_frame_unary(k->body, k->len, k->enc,
	    g->o.max_message_bytes, &m, &why);
	if (code != GRPC_OK) {
		if (code == GRPC_RESOURCE_EXHAUSTED)
			STATS_INC(grpc_rej_too_large, 1);
		else
			STATS_INC(grpc_rej_framing, 1);
		call_status(k, code, why);
		return;
	}
	memset(&res, 0, sizeof res);
	pipeline_submit_protobuf(g->p, m.data, m.len, &res);
	free(m.owned);
	worker_outcome(k, &res);
}

static void
wake(otlp_grpc *g)
{
	uint64_t one = 1;

	if (write(g->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("otlp-grpc: wake: %s", strerror(errno));
}

static void *
worker_main(void *arg)
{
	otlp_grpc *g = arg;
	struct call *k;
	bool orphan, run;

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
		pthread_mutex_lock(&g->mu);
		k->in_worker = false;
		orphan = k->c == NULL;
		if (!orphan) {
			k->in_done = true;
			k->qnext = g->done;
			g->done = k;
		}
		pthread_mutex_unlock(&g->mu);
		if (orphan)
			call_free(g, k);
		else
			wake(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* Queues k, whose request is complete, for a worker. */
static void
call_dispatch(otlp_grpc *g, struct call *k)
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

/* ------------------------------------------------------------ nghttp2 */

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
	STATS_INC(grpc_requests, 1);
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
		STATS_INC(grpc_rej_unimpl, 1);
		call_refuse(c, k, GRPC_UNIMPLEMENTED,
		    "unknown method: this port serves " EXPORT_PATH);
		return false;
	}
	if (k->enc == GRPC_ENC_UNSUPPORTED) {
		STATS_INC(grpc_rej_unimpl, 1);
		call_refuse(c, k, GRPC_UNIMPLEMENTED,
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
		call_dispatch(c->g, k);
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
	STATS_INC(grpc_bytes, len);
	if (k == NULL || k->answered || k->pending)
		return 0;
	need = k->len + len;
	if (need > g->o.max_message_bytes + GRPC_PREFIX_LEN) {
		STATS_INC(grpc_rej_too_large, 1);
		call_refuse(c, k, GRPC_RESOURCE_EXHAUSTED,
		    "message is larger than the size limit "
		    "(--max-message-bytes)");
		return 0;
	}
	if (need > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;

		while (cap < need)
			cap *= 2;
		if (atomic_load(&g->buffered) + cap - k->cap > g->budget) {
			STATS_INC(grpc_rej_busy, 1);
			call_status(k, GRPC_UNAVAILABLE,
			    "receiver busy: too many request bytes held");
			k->details = grpc_frame_retry_details(k->message,
			    BUSY_RETRY_MS);
			call_answer(c, k);
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
		call_release(c->g, k);
	}
	c->last_call_ns = now_mono_ns();
	return 0;
}

static int
callbacks_new(otlp_grpc *g)
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

/* ------------------------------------------------------------ connections */

static void
conn_free(otlp_grpc *g, struct conn *c)
{
	while (c->calls != NULL)
		call_release(g, c->calls);
	nghttp2_session_del(c->s);
	grpc_tls_close(c->tls);
	close(c->fd);
	free(c->out);
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

static void
conn_accept(otlp_grpc *g)
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
			conn_free(g, c);
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

static void conn_read(struct conn *c);

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
			STATS_INC(grpc_rej_deadline, 1);
			call_refuse(c, k, GRPC_DEADLINE_EXCEEDED,
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

/* ------------------------------------------------------------ loop */

/* Hands the workers' answers to their sessions. */
static void
loop_done(otlp_grpc *g)
{
	struct call *k, *next;
	uint64_t v;

	if (read(g->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("otlp-grpc: wake read: %s", strerror(errno));
	pthread_mutex_lock(&g->mu);
	k = g->done;
	g->done = NULL;
	for (struct call *d = k; d != NULL; d = d->qnext)
		d->in_done = false;
	pthread_mutex_unlock(&g->mu);
	/* Only this thread orphans calls, so c is stable here. */
	for (; k != NULL; k = next) {
		next = k->qnext;
		k->pending = false;
		if (k->c == NULL)
			call_free(g, k);
		else
			call_answer(k->c, k);
	}
}

/* One pass: poll, accept, read, write, timers; closes finished conns. */
static void
loop_pass(otlp_grpc *g, struct pollfd *pfd, struct conn **pc)
{
	struct conn *c, *next;
	size_t n = 2, i;

	pfd[0] = (struct pollfd){ g->listen_fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ g->wake_fd, POLLIN, 0 };
	for (c = g->conns; c != NULL; c = c->next, n++) {
		pc[n] = c;
		pfd[n].fd = c->fd;
		pfd[n].events = c->peer_done ? 0 : POLLIN;
		if (c->handshaking)
			pfd[n].events = grpc_tls_wants_write(c->tls) ?
			    POLLOUT : POLLIN;
		else if (conn_may_write(c))
			pfd[n].events |= POLLOUT;
		pfd[n].revents = 0;
	}
	if (poll(pfd, n, POLL_MS) < 0 && errno != EINTR)
		log_warn("otlp-grpc: poll: %s", strerror(errno));
	if (pfd[1].revents & POLLIN)
		loop_done(g);
	for (i = 2; i < n; i++) {
		c = pc[i];
		if (c->linger_ns != 0) {
			conn_linger(c, pfd[i].revents);
			continue;
		}
		if (c->handshaking) {
			conn_handshake(c, pfd[i].revents);
			if (c->handshaking || c->dead)
				continue;
		}
		if (!c->peer_done &&
		    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			conn_read(c);
		if (!c->dead)
			conn_timers(g, c);
		if (!c->dead)
			conn_write(c);
	}
	for (c = g->conns; c != NULL; c = next) {
		next = c->next;
		if (c->dead || (c->peer_done && !conn_may_write(c) &&
		    !conn_has_job(c)))
			conn_free(g, c);
		else if (c->linger_ns == 0 && c->out_len == 0 &&
		    !nghttp2_session_want_read(c->s) &&
		    !nghttp2_session_want_write(c->s))
			conn_shut(c);
	}
	if (pfd[0].revents & POLLIN)
		conn_accept(g);
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
	while (g->conns != NULL)
		conn_free(g, g->conns);
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
	if (listen_probe_split(addr, host, sizeof host, port, sizeof port) !=
	    0) {
		xasprintf(cause, "otlp-grpc %s: want HOST:PORT", addr);
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
	if (listen_on(g, addr, cause) != 0)
		goto fail;
	if ((g->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    callbacks_new(g) != 0) {
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
	struct call *k;

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
	/* Every call is orphaned now: workers finish and free theirs. */
	for (unsigned i = 0; i < g->n_workers; i++)
		pthread_join(g->workers[i], NULL);
	while ((k = g->done) != NULL) {
		g->done = k->qnext;
		call_free(g, k);
	}
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
