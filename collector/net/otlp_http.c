/*
 * otlp_http.c - OTLP/HTTP receiver on NNG's own HTTP server.
 *
 * POST /v1/traces with an application/x-protobuf or application/json body,
 * optionally gzip-compressed, answered per protocol-facts.md section 2.
 * Every span goes through pipeline_submit_protobuf (JSON is first turned
 * into the same protobuf by otlp_json_decode), so there is one validator
 * and one writer for NNG ingest, OTLP/HTTP and tracecli import.
 *
 * Threads: NNG calls the handlers on its own task threads, where nothing
 * may block. A handler checks the headers, answers errors at once, and
 * otherwise starts an asynchronous read of exactly Content-Length bytes;
 * the read's completion queues a job for a small pool of our own worker
 * threads, which decompress, decode, call the pipeline (which blocks until
 * the write is durable) and finish the handler's aio with the response.
 *
 * We read bodies ourselves (nng_http_handler_collect_body(h, false, 0))
 * rather than letting NNG do it, because NNG 1.5.2 (1) answers an oversize
 * Content-Length with its own HTML page, not a 413 carrying a Status, and
 * (2) does not decode Transfer-Encoding: chunked: the handler would see an
 * empty body while the chunks were parsed as the next request. Real
 * clients send chunked bodies (the OpenTelemetry JS exporter does whenever
 * it gzips), so we decode chunked framing here, reading size lines a byte
 * at a time and data with exact-size reads, so that we never consume bytes
 * of a pipelined next request. Other transfer codings get 411. Any response
 * sent without reading the whole body closes the connection, so unread
 * bytes are never taken for a request.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "common.h"
#include "net/otlp_http.h"
#include "otlp_json.h"
#include "google/rpc/status.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    ExportResponse;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess
    PartialSuccess;

#define OTLP_PATH "/v1/traces"
#define WORKERS 4
#define BODY_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 10000

/* google.rpc.Code values for the Status body (clients do not act on them). */
enum {
	RPC_INVALID_ARGUMENT = 3,
	RPC_NOT_FOUND = 5,
	RPC_RESOURCE_EXHAUSTED = 8,
	RPC_FAILED_PRECONDITION = 9,
	RPC_OUT_OF_RANGE = 11,
	RPC_UNIMPLEMENTED = 12,
	RPC_INTERNAL = 13,
	RPC_UNAVAILABLE = 14,
};

enum body_type { BODY_PROTOBUF, BODY_JSON };

/* Where a chunked body read stands. */
enum chunk_state {
	CH_SIZE,    /* reading a chunk-size line, one byte per read */
	CH_DATA,    /* reading chunk data plus its CRLF */
	CH_TRAILER, /* reading trailer lines up to the empty line */
};

/* One request between the handler and a worker. */
struct job {
	struct job *next;
	otlp_http *h;
	nng_aio *cbaio; /* the server's handler aio: finish it exactly once */
	nng_aio *rdaio; /* our body read; NULL for an empty body */
	nng_http_conn *conn;
	uint8_t *body;
	size_t body_len, body_cap;
	enum body_type type;
	bool gzip;

	/* Set when reading failed in a way the client should hear about
	 * (bad chunked framing, too large); the worker answers it. */
	uint16_t err_status;
	const char *err_msg;

	bool continuing; /* writing "100 Continue" before the body */
	bool chunked;
	enum chunk_state ch_state;
	size_t ch_size;    /* data bytes of the current chunk */
	size_t ch_trailer; /* trailer bytes so far */
	char line[40];     /* current size or trailer line */
	size_t line_len;
	uint8_t crlf[2];
};

struct otlp_http {
	nng_http_server *srv;
	pipeline *p;
	size_t max_body;
	int port;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* jobs queued, stopping, or a handler freed */
	struct job *head, *tail;
	bool stopping;
	int handlers; /* registered handlers not yet destroyed by NNG */
	int nworkers;
	pthread_t workers[WORKERS];
};

/* ------------------------------------------------------------ responses */

static const char *
content_type(enum body_type t)
{
	return t == BODY_JSON ? "application/json" : "application/x-protobuf";
}

/* Builds a response with body (copied); NULL when out of memory. An empty
 * body is set, not copied: NNG cannot copy zero bytes. */
static nng_http_res *
make_res(uint16_t status, enum body_type t, const void *body, size_t len,
    bool close)
{
	nng_http_res *res;

	if (nng_http_res_alloc(&res) != 0)
		return NULL;
	if (nng_http_res_set_status(res, status) != 0 ||
	    nng_http_res_set_header(res, "Content-Type", content_type(t)) !=
	        0 ||
	    (len > 0 ? nng_http_res_copy_data(res, body, len)
	             : nng_http_res_set_data(res, NULL, 0)) != 0 ||
	    (close &&
	        nng_http_res_set_header(res, "Connection", "close") != 0)) {
		nng_http_res_free(res);
		return NULL;
	}
	return res;
}

/* Copies msg as printable ASCII: messages quote client input, which may be
 * cut mid-character or hold control bytes, and both the JSON and the
 * protobuf string fields of a response must be valid UTF-8. */
static void
ascii_msg(char *dst, size_t len, const char *msg)
{
	size_t i;

	for (i = 0; msg != NULL && msg[i] != '\0' && i < len - 1; i++)
		dst[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	dst[i] = '\0';
}

/* Builds an error response whose body is a google.rpc.Status. */
static nng_http_res *
status_res(uint16_t status, int rpc_code, const char *msg, enum body_type t,
    bool close)
{
	nng_http_res *res = NULL;
	char safe[640];

	ascii_msg(safe, sizeof safe, msg);
	msg = safe;
	if (t == BODY_JSON) {
		json_t *o =
		    json_pack("{s:i, s:s}", "code", rpc_code, "message", msg);
		char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s != NULL)
			res = make_res(status, t, s, strlen(s), close);
		free(s);
		json_decref(o);
	} else {
		Google__Rpc__Status st;
		size_t len;
		uint8_t *buf;
		char *m = xstrdup(msg);
		google__rpc__status__init(&st);
		st.code = rpc_code;
		st.message = m;
		len = google__rpc__status__get_packed_size(&st);
		buf = xmalloc(len);
		google__rpc__status__pack(&st, buf);
		res = make_res(status, t, buf, len, close);
		free(buf);
		free(m);
	}
	return res;
}

/* Builds the 200 ExportTraceServiceResponse; partial_success is set only
 * when spans were rejected or there is a message. */
static nng_http_res *
success_res(enum body_type t, int64_t rejected, const char *msg)
{
	bool partial = rejected > 0 || (msg != NULL && *msg != '\0');
	nng_http_res *res = NULL;
	char safe[640];

	ascii_msg(safe, sizeof safe, msg);
	msg = safe;

	if (t == BODY_JSON) {
		json_t *o = json_object();
		char num[24], *s;
		if (partial) {
			json_t *ps = json_object();
			if (rejected > 0) {
				snprintf(
				    num, sizeof num, "%" PRId64, rejected);
				json_object_set_new(
				    ps, "rejectedSpans", json_string(num));
			}
			if (msg != NULL && *msg != '\0')
				json_object_set_new(
				    ps, "errorMessage", json_string(msg));
			json_object_set_new(o, "partialSuccess", ps);
		}
		s = json_dumps(o, JSON_COMPACT);
		if (s != NULL)
			res = make_res(200, t, s, strlen(s), false);
		free(s);
		json_decref(o);
	} else {
		ExportResponse r;
		PartialSuccess ps;
		char *m = xstrdup(msg != NULL ? msg : "");
		uint8_t *buf;
		size_t len;

		opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(
		    &r);
		opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(
		    &ps);
		if (partial) {
			ps.rejected_spans = rejected;
			ps.error_message = m;
			r.partial_success = &ps;
		}
		len =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
		        &r);
		buf = xmalloc(len);
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
		    &r, buf);
		res = make_res(200, t, buf, len, false);
		free(buf);
		free(m);
	}
	return res;
}

/* Completes the handler aio with res (NULL: drop the connection). */
static void
reply(nng_aio *cbaio, nng_http_res *res)
{
	if (res == NULL) {
		nng_aio_finish(cbaio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(cbaio, 0, res);
	nng_aio_finish(cbaio, 0);
}

/* ------------------------------------------------------------ headers */

/* Compares the media type of a Content-Type value (parameters such as
 * "; charset=utf-8" and surrounding spaces ignored) with want. */
static bool
media_type_is(const char *v, const char *want)
{
	size_t n = strlen(want);

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, want, n) != 0)
		return false;
	v += n;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0' || *v == ';';
}

static bool
token_is(const char *v, const char *want)
{
	size_t n = strlen(want);

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, want, n) != 0)
		return false;
	for (v += n; *v == ' ' || *v == '\t'; v++)
		;
	return *v == '\0';
}

/* Parses a Content-Length value: digits only. */
static int
parse_length(const char *v, uint64_t *out)
{
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* ------------------------------------------------------------ workers */

/* Joins the decoder's and the pipeline's messages for partial_success. */
static void
join_msg(char *dst, size_t len, const char *a, const char *b)
{
	bool ha = a != NULL && *a != '\0', hb = b != NULL && *b != '\0';

	snprintf(dst, len, "%s%s%s", ha ? a : "", ha && hb ? "; " : "",
	    hb ? b : "");
}

/* Decodes and submits one request body; returns the response. */
static nng_http_res *
handle_body(otlp_http *h, struct job *j)
{
	const uint8_t *data = j->body;
	size_t len = j->body_len, pb_len = 0, json_rejected = 0;
	uint8_t *plain = NULL, *pb = NULL;
	char *cause = NULL, msg[512], retry[16];
	pipeline_result res;
	nng_http_res *r;
	int rv;

	if (j->gzip) {
		rv = gzip_inflate(data, len, h->max_body, &plain, &len);
		if (rv == -2)
			return status_res(413, RPC_RESOURCE_EXHAUSTED,
			    "body larger than the limit after decompression",
			    j->type, false);
		if (rv != 0)
			return status_res(400, RPC_INVALID_ARGUMENT,
			    "corrupt gzip body", j->type, false);
		data = plain;
	}
	if (j->type == BODY_JSON) {
		rv = otlp_json_decode((const char *)data, len, &pb, &pb_len,
		    &json_rejected, &cause);
		free(plain);
		plain = NULL;
		if (rv != 0) {
			snprintf(msg, sizeof msg, "invalid OTLP JSON: %s",
			    cause ? cause : "unknown");
			free(cause);
			return status_res(
			    400, RPC_INVALID_ARGUMENT, msg, j->type, false);
		}
		data = pb;
		len = pb_len;
	}
	memset(&res, 0, sizeof res);
	pipeline_submit_protobuf(h->p, data, len, &res);
	free(plain);
	free(pb);
	switch (res.code) {
	case PIPELINE_OK:
	case PIPELINE_PARTIAL:
		join_msg(msg, sizeof msg, cause, res.message);
		r = success_res(
		    j->type, res.rejected_spans + (int64_t)json_rejected, msg);
		break;
	case PIPELINE_INVALID:
		join_msg(msg, sizeof msg, "invalid ExportTraceServiceRequest",
		    res.message);
		r = status_res(400, RPC_INVALID_ARGUMENT, msg, j->type, false);
		break;
	case PIPELINE_TOO_LARGE:
		r = status_res(413, RPC_RESOURCE_EXHAUSTED,
		    res.message[0] ? res.message : "request too large",
		    j->type, false);
		break;
	case PIPELINE_RETRY_LATER:
		r = status_res(503, RPC_UNAVAILABLE,
		    res.message[0] ? res.message : "store busy, retry later",
		    j->type, false);
		snprintf(retry, sizeof retry, "%" PRIu32,
		    res.retry_after_ms == 0
		        ? 1
		        : (res.retry_after_ms + 999) / 1000);
		if (r != NULL)
			nng_http_res_set_header(r, "Retry-After", retry);
		break;
	default:
		r = status_res(500, RPC_INTERNAL,
		    res.message[0] ? res.message : "internal error", j->type,
		    false);
		break;
	}
	free(cause);
	return r;
}

static void
job_free(struct job *j)
{
	if (j->rdaio != NULL)
		nng_aio_free(j->rdaio);
	free(j->body);
	free(j);
}

static void *
worker_main(void *arg)
{
	otlp_http *h = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&h->mu);
		while (h->head == NULL && !h->stopping)
			pthread_cond_wait(&h->cv, &h->mu);
		if ((j = h->head) == NULL) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		if ((h->head = j->next) == NULL)
			h->tail = NULL;
		pthread_mutex_unlock(&h->mu);

		if (j->err_status != 0) {
			reply(j->cbaio,
			    status_res(j->err_status,
			        j->err_status == 413 ? RPC_RESOURCE_EXHAUSTED
			                             : RPC_INVALID_ARGUMENT,
			        j->err_msg, j->type, true));
		} else if (j->rdaio != NULL && nng_aio_result(j->rdaio) != 0) {
			/* The client went away or stalled: drop the
			 * connection, there is no one to answer. */
			nng_aio_finish(j->cbaio, nng_aio_result(j->rdaio));
		} else {
			reply(j->cbaio, handle_body(h, j));
		}
		job_free(j);
	}
}

static void
enqueue(otlp_http *h, struct job *j)
{
	pthread_mutex_lock(&h->mu);
	j->next = NULL;
	if (h->tail != NULL)
		h->tail->next = j;
	else
		h->head = j;
	h->tail = j;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* Starts reading n bytes into buf (exactly n when all is set). */
static void
read_into(struct job *j, void *buf, size_t n, bool all)
{
	nng_iov iov;

	iov.iov_buf = buf;
	iov.iov_len = n;
	nng_aio_set_iov(j->rdaio, 1, &iov);
	nng_aio_set_timeout(j->rdaio, BODY_TIMEOUT_MS);
	if (all)
		nng_http_conn_read_all(j->conn, j->rdaio);
	else
		nng_http_conn_read(j->conn, j->rdaio);
}

/* Ends a chunked read with an error the worker will answer. */
static void
chunk_fail(struct job *j, uint16_t status, const char *msg)
{
	j->err_status = status;
	j->err_msg = msg;
	enqueue(j->h, j);
}

/* Parses a chunk-size line ("1a2b", "1a2b;ext=v", CRLF already removed). */
static int
chunk_size(const char *line, size_t *out)
{
	size_t n = 0;
	int digits = 0;

	for (; isxdigit((unsigned char)*line); line++, digits++) {
		if (n > (SIZE_MAX >> 4))
			return -1;
		n = n << 4 |
		    (size_t)(isdigit((unsigned char)*line)
		                 ? *line - '0'
		                 : (tolower((unsigned char)*line) - 'a' + 10));
	}
	while (*line == ' ' || *line == '\t')
		line++;
	if (digits == 0 || (*line != '\0' && *line != ';'))
		return -1;
	*out = n;
	return 0;
}

/* Advances the chunked-body state machine after a read completed. */
static void
chunk_step(struct job *j)
{
	size_t need;

	switch (j->ch_state) {
	case CH_DATA:
		if (j->crlf[0] != '\r' || j->crlf[1] != '\n') {
			chunk_fail(j, 400, "bad chunked framing");
			return;
		}
		j->body_len += j->ch_size;
		j->ch_state = CH_SIZE;
		j->line_len = 0;
		read_into(j, j->line, 1, false);
		return;
	case CH_SIZE:
	case CH_TRAILER:
		j->line_len++; /* one byte arrived */
		if (j->ch_state == CH_TRAILER && ++j->ch_trailer > 8192) {
			chunk_fail(j, 400, "chunked trailer too long");
			return;
		}
		if (j->line_len >= 2 && j->line[j->line_len - 2] == '\r' &&
		    j->line[j->line_len - 1] == '\n')
			break; /* a whole line */
		if (j->line_len == sizeof j->line) {
			if (j->ch_state == CH_SIZE) {
				chunk_fail(j, 400, "bad chunk size line");
				return;
			}
			j->line_len = 0; /* skip a long trailer line */
		}
		read_into(j, j->line + j->line_len, 1, false);
		return;
	}
	j->line[j->line_len - 2] = '\0';
	if (j->ch_state == CH_TRAILER) {
		if (j->line_len == 2) {
			enqueue(j->h, j); /* the empty line: body complete */
			return;
		}
		j->line_len = 0;
		read_into(j, j->line, 1, false);
		return;
	}
	if (chunk_size(j->line, &j->ch_size) != 0) {
		chunk_fail(j, 400, "bad chunk size");
		return;
	}
	j->line_len = 0;
	if (j->ch_size == 0) {
		j->ch_state = CH_TRAILER;
		read_into(j, j->line, 1, false);
		return;
	}
	if (j->ch_size > j->h->max_body - j->body_len) {
		chunk_fail(j, 413, "chunked body exceeds the size limit");
		return;
	}
	need = j->body_len + j->ch_size;
	if (need > j->body_cap) {
		size_t cap = j->body_cap ? j->body_cap : 16384;
		while (cap < need)
			cap *= 2;
		if (cap > j->h->max_body)
			cap = j->h->max_body;
		j->body = xrealloc(j->body, cap);
		j->body_cap = cap;
	}
	j->ch_state = CH_DATA;
	{
		nng_iov iov[2];
		iov[0].iov_buf = j->body + j->body_len;
		iov[0].iov_len = j->ch_size;
		iov[1].iov_buf = j->crlf;
		iov[1].iov_len = 2;
		nng_aio_set_iov(j->rdaio, 2, iov);
		nng_aio_set_timeout(j->rdaio, BODY_TIMEOUT_MS);
		nng_http_conn_read_all(j->conn, j->rdaio);
	}
}

static char continue_msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* Starts reading the body; first, when the client sent "Expect:
 * 100-continue" (curl does above 1 MiB), tells it to go on. */
static void
start_body(struct job *j, bool expect)
{
	if (expect) {
		nng_iov iov;
		iov.iov_buf = continue_msg;
		iov.iov_len = sizeof continue_msg - 1;
		j->continuing = true;
		nng_aio_set_iov(j->rdaio, 1, &iov);
		nng_aio_set_timeout(j->rdaio, BODY_TIMEOUT_MS);
		nng_http_conn_write_all(j->conn, j->rdaio);
		return;
	}
	if (j->chunked)
		read_into(j, j->line, 1, false);
	else
		read_into(j, j->body, j->body_len, true);
}

/* Body read completion (NNG thread): continue a chunked body, or hand the
 * complete body (or the failure) to a worker. */
static void
read_done(void *arg)
{
	struct job *j = arg;

	if (j->continuing && nng_aio_result(j->rdaio) == 0) {
		j->continuing = false;
		start_body(j, false);
		return;
	}
	if (j->chunked && nng_aio_result(j->rdaio) == 0) {
		chunk_step(j);
		return;
	}
	enqueue(j->h, j);
}

/* ------------------------------------------------------------ handlers */

/* POST /v1/traces: check headers, then read the body asynchronously. */
static void
traces_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *hd = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	otlp_http *h = nng_http_handler_get_data(hd);
	const char *ct = nng_http_req_get_header(req, "Content-Type");
	const char *ce = nng_http_req_get_header(req, "Content-Encoding");
	const char *te = nng_http_req_get_header(req, "Transfer-Encoding");
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	enum body_type t = BODY_PROTOBUF;
	uint64_t len = 0;
	bool has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;
	const char *ex = nng_http_req_get_header(req, "Expect");
	struct job *j;
	bool gzip, expect;
	char msg[160];

	if (ct != NULL && media_type_is(ct, "application/json"))
		t = BODY_JSON;
	if (strcmp(nng_http_req_get_method(req), "POST") != 0) {
		nng_http_res *r = status_res(405, RPC_UNIMPLEMENTED,
		    "only POST is allowed on " OTLP_PATH, t, has_body);
		if (r != NULL)
			nng_http_res_set_header(r, "Allow", "POST");
		reply(aio, r);
		return;
	}
	if (ct == NULL ||
	    (t != BODY_JSON && !media_type_is(ct, "application/x-protobuf") &&
	        !media_type_is(ct, "application/protobuf"))) {
		snprintf(msg, sizeof msg,
		    "unsupported Content-Type \"%.64s\"; "
		    "use application/x-protobuf or application/json",
		    ct ? ct : "");
		reply(aio,
		    status_res(415, RPC_INVALID_ARGUMENT, msg, t, has_body));
		return;
	}
	if (ce != NULL && !token_is(ce, "gzip") && !token_is(ce, "x-gzip") &&
	    !token_is(ce, "identity") && !token_is(ce, "")) {
		snprintf(msg, sizeof msg,
		    "unsupported Content-Encoding "
		    "\"%.64s\"; use gzip or none",
		    ce);
		reply(aio,
		    status_res(415, RPC_INVALID_ARGUMENT, msg, t, has_body));
		return;
	}
	gzip = ce != NULL && (token_is(ce, "gzip") || token_is(ce, "x-gzip"));
	expect = ex != NULL && token_is(ex, "100-continue") &&
	         strcmp(nng_http_req_get_version(req), "HTTP/1.1") == 0;
	if (te != NULL && !token_is(te, "chunked")) {
		reply(aio, status_res(411, RPC_INVALID_ARGUMENT,
		               "only chunked Transfer-Encoding is supported; "
		               "send Content-Length",
		               t, true));
		return;
	}
	if (te != NULL && cl != NULL) {
		/* RFC 9112 6.3: a request smuggling vector; refuse it. */
		reply(aio,
		    status_res(400, RPC_INVALID_ARGUMENT,
		        "both Transfer-Encoding and Content-Length", t, true));
		return;
	}
	if (te != NULL) {
		j = xcalloc(1, sizeof *j);
		j->h = h;
		j->cbaio = aio;
		j->conn = conn;
		j->type = t;
		j->gzip = gzip;
		j->chunked = true;
		j->ch_state = CH_SIZE;
		if (nng_aio_alloc(&j->rdaio, read_done, j) != 0) {
			free(j);
			reply(aio, status_res(503, RPC_UNAVAILABLE,
			               "out of memory", t, true));
			return;
		}
		start_body(j, expect);
		return;
	}
	if (cl == NULL) {
		reply(aio, status_res(411, RPC_INVALID_ARGUMENT,
		               "Content-Length required", t, true));
		return;
	}
	if (parse_length(cl, &len) != 0) {
		reply(aio, status_res(400, RPC_INVALID_ARGUMENT,
		               "invalid Content-Length", t, true));
		return;
	}
	if (len > h->max_body) {
		snprintf(msg, sizeof msg,
		    "body of %" PRIu64 " bytes exceeds "
		    "the limit of %zu bytes",
		    len, h->max_body);
		reply(aio,
		    status_res(413, RPC_RESOURCE_EXHAUSTED, msg, t, true));
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->h = h;
	j->cbaio = aio;
	j->conn = conn;
	j->type = t;
	j->gzip = gzip;
	j->body_len = (size_t)len;
	if (len == 0) {
		enqueue(h, j);
		return;
	}
	j->body = malloc((size_t)len);
	if (j->body == NULL || nng_aio_alloc(&j->rdaio, read_done, j) != 0) {
		free(j->body);
		free(j);
		reply(aio, status_res(503, RPC_UNAVAILABLE, "out of memory", t,
		               true));
		return;
	}
	start_body(j, expect);
}

/* Every other path: 404 with a Status body. */
static void
other_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	const char *ct = nng_http_req_get_header(req, "Content-Type");
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	bool has_body =
	    (cl != NULL && strcmp(cl, "0") != 0) ||
	    nng_http_req_get_header(req, "Transfer-Encoding") != NULL;
	enum body_type t = ct != NULL && media_type_is(ct, "application/json")
	                       ? BODY_JSON
	                       : BODY_PROTOBUF;

	reply(aio,
	    status_res(404, RPC_NOT_FOUND,
	        "not found; OTLP traces go to POST " OTLP_PATH, t, has_body));
}

/* Handler data destructor: NNG calls it once no callback can run. */
static void
handler_gone(void *arg)
{
	otlp_http *h = arg;

	pthread_mutex_lock(&h->mu);
	h->handlers--;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static int
add_handler(otlp_http *h, const char *path, void (*cb)(nng_aio *), bool tree)
{
	nng_http_handler *hd;
	int rv;

	if ((rv = nng_http_handler_alloc(&hd, path, cb)) != 0)
		return rv;
	if ((rv = nng_http_handler_set_method(hd, NULL)) != 0 ||
	    (rv = nng_http_handler_collect_body(hd, false, 0)) != 0 ||
	    (tree && (rv = nng_http_handler_set_tree(hd)) != 0) ||
	    (rv = nng_http_handler_set_data(hd, h, handler_gone)) != 0) {
		nng_http_handler_free(hd);
		return rv;
	}
	pthread_mutex_lock(&h->mu);
	h->handlers++;
	pthread_mutex_unlock(&h->mu);
	if ((rv = nng_http_server_add_handler(h->srv, hd)) != 0)
		nng_http_handler_free(hd); /* runs handler_gone */
	return rv;
}

/* ------------------------------------------------------------ lifecycle */

/* Stops the workers after draining the queue. */
static void
workers_stop(otlp_http *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	h->nworkers = 0;
}

/* Waits until NNG has destroyed our handlers; false on timeout. */
static bool
handlers_wait(otlp_http *h)
{
	struct timespec deadline;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&h->mu);
	while (h->handlers > 0 &&
	       pthread_cond_timedwait(&h->cv, &h->mu, &deadline) == 0)
		;
	ok = h->handlers == 0;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

int
otlp_http_start(otlp_http **out, const char *addr, size_t max_body_bytes,
    pipeline *p, char **cause)
{
	otlp_http *h;
	nng_url *url = NULL;
	nng_sockaddr sa;
	char *urlstr;
	int rv;

	*out = NULL;
	*cause = NULL;
	h = xcalloc(1, sizeof *h);
	h->p = p;
	h->max_body = max_body_bytes;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (strncmp(addr, "http://", 7) == 0)
		urlstr = xstrdup(addr);
	else
		xasprintf(&urlstr, "http://%s", addr);
	if ((rv = nng_url_parse(&url, urlstr)) != 0) {
		xasprintf(
		    cause, "otlp-http address %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_hold(&h->srv, url)) != 0) {
		xasprintf(cause, "otlp-http %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	for (int i = 0; i < WORKERS; i++) {
		if (pthread_create(&h->workers[i], NULL, worker_main, h) !=
		    0) {
			xasprintf(cause, "otlp-http: cannot start threads");
			goto fail;
		}
		h->nworkers++;
	}
	if ((rv = add_handler(h, OTLP_PATH, traces_cb, false)) != 0 ||
	    (rv = add_handler(h, "/", other_cb, true)) != 0) {
		xasprintf(cause, "otlp-http handler: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_start(h->srv)) != 0) {
		xasprintf(
		    cause, "otlp-http listen %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_get_addr(h->srv, &sa)) != 0) {
		xasprintf(cause, "otlp-http %s: %s", addr, nng_strerror(rv));
		nng_http_server_stop(h->srv);
		goto fail;
	}
	h->port = sa.s_family == NNG_AF_INET6 ? ntohs(sa.s_in6.sa_port)
	                                      : ntohs(sa.s_in.sa_port);
	nng_url_free(url);
	free(urlstr);
	*out = h;
	return 0;
fail:
	if (h->srv != NULL) {
		nng_http_server_release(h->srv);
		if (!handlers_wait(h)) {
			/* NNG still holds h: leak it rather than free it. */
			nng_url_free(url);
			free(urlstr);
			return -1;
		}
	}
	workers_stop(h);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	if (url != NULL)
		nng_url_free(url);
	free(urlstr);
	free(h);
	return -1;
}

int
otlp_http_port(const otlp_http *h)
{
	return h->port;
}

void
otlp_http_stop(otlp_http *h)
{
	if (h == NULL)
		return;
	/* Stop accepting and close every connection; requests in flight
	 * finish on the workers (their reads fail fast), then NNG drops its
	 * last handler reference and handler_gone runs. */
	nng_http_server_stop(h->srv);
	nng_http_server_release(h->srv);
	if (!handlers_wait(h))
		return; /* NNG still references h: leak it, never free it */
	workers_stop(h);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
