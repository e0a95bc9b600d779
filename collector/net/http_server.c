/*
 * http_server.c - the collector's HTTP/1.1 listeners on libmicrohttpd
 * (see http_server.h).
 *
 * libmicrohttpd parses requests, decodes chunked bodies, answers
 * "Expect: 100-continue" and enforces the connection limit and the idle
 * timeout; this file adds what every listener needs on top: binding with
 * a clear error, the body limit, TLS from the collector's PEM flags
 * (mutual TLS checked per request, since libmicrohttpd only *requests*
 * client certificates), header values with surrounding tabs trimmed, and
 * a request/response pair that hides libmicrohttpd's types.
 *
 * Calls: on_request runs once with the headers (*con_cls NULL), then once
 * per piece of body, then once with no body: that last call runs the
 * handler. A body over the limit is counted but not kept; the handler
 * hears about it and answers 413, and the connection closes. (A chunked
 * body is read to its end first: libmicrohttpd 0.9.75 cannot queue a
 * response while a body is arriving, it drops the connection instead.
 * Discarding costs no memory; the connection limit bounds the threads.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "daemon/log.h"
#include "net/http_server.h"

#define DEFAULT_MAX_BODY (16u << 20)
#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_TIMEOUT_S 30
#define HEADER_MEMORY (64u << 10) /* request line + headers per connection */
#define LISTEN_BACKLOG 128

struct pair {
	char *key;
	char *value;
};

struct pairs {
	struct pair *v;
	size_t n;
};

struct http_server {
	struct MHD_Daemon *d;
	char *name;
	char *addr; /* HOST:PORT as bound */
	int port;
	int fd;
	size_t max_body;
	bool verify_clients;
	listener_stats *stats;
	http_handler_fn fn;
	void *arg;
	char *cert, *key, *ca; /* PEM, must outlive the daemon */
};

struct http_request {
	http_server *s;
	const char *method;
	const char *path;
	uint8_t *body;
	size_t len, cap;
	size_t received; /* body bytes, kept or not */
	bool too_large;
	bool bad_framing; /* a Transfer-Encoding other than chunked */
	struct pairs headers;
	struct pairs query;
};

struct http_response {
	unsigned status;
	char *content_type;
	void *body;
	size_t len;
	struct pairs headers;
	bool close;
};

/* ------------------------------------------------------------ pairs */

static void
pairs_add(struct pairs *p, const char *key, const char *value)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
	p->v[p->n].key = xstrdup(key);
	p->v[p->n].value = xstrdup(value != NULL ? value : "");
	p->n++;
}

static void
pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].value);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static const char *
pairs_get(const struct pairs *p, const char *key, bool any_case)
{
	for (size_t i = 0; i < p->n; i++)
		if ((any_case ? strcasecmp(p->v[i].key, key)
		              : strcmp(p->v[i].key, key)) == 0)
			return p->v[i].value;
	return NULL;
}

static void
pairs_each(const struct pairs *p, http_pair_fn fn, void *arg)
{
	for (size_t i = 0; i < p->n; i++)
		if (!fn(arg, p->v[i].key, p->v[i].value))
			return;
}

/* Adds a header with optional whitespace (spaces and tabs, RFC 9110
 * 5.5) removed from both ends: libmicrohttpd keeps trailing tabs. */
static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct pairs *p = cls;
	const char *v = value != NULL ? value : "";
	size_t n;
	char *copy;

	(void)kind;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	copy = xmalloc(n + 1);
	memcpy(copy, v, n);
	copy[n] = '\0';
	pairs_add(p, key, copy);
	free(copy);
	return MHD_YES;
}

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	pairs_add(cls, key, value);
	return MHD_YES;
}

/* ------------------------------------------------------------ request */

const char *
http_request_method(const http_request *r)
{
	return r->method;
}

const char *
http_request_path(const http_request *r)
{
	return r->path;
}

const char *
http_request_header(const http_request *r, const char *name)
{
	return pairs_get(&r->headers, name, true);
}

void
http_request_header_each(const http_request *r, http_pair_fn fn, void *arg)
{
	pairs_each(&r->headers, fn, arg);
}

const char *
http_request_query(const http_request *r, const char *key)
{
	return pairs_get(&r->query, key, false);
}

void
http_request_query_each(const http_request *r, http_pair_fn fn, void *arg)
{
	pairs_each(&r->query, fn, arg);
}

const uint8_t *
http_request_body(const http_request *r, size_t *len)
{
	*len = r->len;
	return r->body != NULL ? r->body : (const uint8_t *)"";
}

bool
http_request_body_too_large(const http_request *r)
{
	return r->too_large;
}

unsigned
http_request_body_error(const http_request *r)
{
	return r->too_large ? 413 : r->bad_framing ? 411 : 0;
}

size_t
http_request_max_body(const http_request *r)
{
	return r->s->max_body;
}

static void
request_free(http_request *r)
{
	if (r == NULL)
		return;
	free(r->body);
	pairs_free(&r->headers);
	pairs_free(&r->query);
	free(r);
}

/* ------------------------------------------------------------ response */

static void
response_body(http_response *res, unsigned status, const char *ctype,
    void *body, size_t len)
{
	free(res->body);
	free(res->content_type);
	res->status = status;
	res->content_type = ctype != NULL ? xstrdup(ctype) : NULL;
	res->body = body;
	res->len = len;
}

void
http_response_set(http_response *res, unsigned status,
    const char *content_type, const void *body, size_t len)
{
	void *copy = NULL;

	if (len > 0) {
		copy = xmalloc(len);
		memcpy(copy, body, len);
	}
	response_body(res, status, content_type, copy, len);
}

void
http_response_take(http_response *res, unsigned status,
    const char *content_type, void *body, size_t len)
{
	response_body(res, status, content_type, body, len);
}

void
http_response_header(http_response *res, const char *name, const char *value)
{
	pairs_add(&res->headers, name, value);
}

void
http_response_retry_after(http_response *res, uint32_t retry_ms)
{
	char secs[16];

	snprintf(secs, sizeof secs, "%u",
	    retry_ms == 0 ? 1u : (unsigned)((retry_ms + 999u) / 1000u));
	http_response_header(res, "Retry-After", secs);
}

void
http_response_close(http_response *res)
{
	res->close = true;
}

static void
response_fini(http_response *res)
{
	free(res->body);
	free(res->content_type);
	pairs_free(&res->headers);
}

/* Sends res on c; the body passes to libmicrohttpd. */
static enum MHD_Result
response_send(struct MHD_Connection *c, http_response *res)
{
	static const char no_reply[] = "the handler set no response\n";
	struct MHD_Response *m;
	enum MHD_Result rv;

	if (res->status == 0)
		http_response_set(res, 500, "text/plain", no_reply,
		    sizeof no_reply - 1);
	m = MHD_create_response_from_buffer(res->len, res->body,
	    res->body != NULL ? MHD_RESPMEM_MUST_FREE
	                      : MHD_RESPMEM_PERSISTENT);
	if (m == NULL)
		return MHD_NO;
	res->body = NULL;
	if (res->content_type != NULL)
		MHD_add_response_header(
		    m, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	for (size_t i = 0; i < res->headers.n; i++)
		MHD_add_response_header(
		    m, res->headers.v[i].key, res->headers.v[i].value);
	if (res->close)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
	rv = MHD_queue_response(c, res->status, m);
	MHD_destroy_response(m);
	return rv;
}

/* ------------------------------------------------------------ serving */

/* True when the peer presented a certificate that --tls-ca signed. */
static bool
client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned int status = 0;

	if (ci == NULL || ci->tls_session == NULL)
		return false;
	return gnutls_certificate_verify_peers2(
	           (gnutls_session_t)ci->tls_session, &status) == 0 &&
	       status == 0;
}

/* Runs the handler on the complete request and queues its response. */
static enum MHD_Result
request_answer(http_request *r, struct MHD_Connection *c)
{
	http_response res;
	enum MHD_Result rv;

	memset(&res, 0, sizeof res);
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header,
	    &r->headers);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query,
	    &r->query);
	if (r->s->stats != NULL) {
		listener_stats_request(r->s->stats, r->received);
		if (r->too_large)
			listener_stats_reject(r->s->stats,
			    STATS_REJECT_TOO_LARGE);
		if (r->bad_framing)
			listener_stats_reject(r->s->stats,
			    STATS_REJECT_PROTOCOL);
	}
	r->s->fn(r->s->arg, r, &res);
	if (r->too_large || r->bad_framing)
		res.close = true;
	rv = response_send(c, &res);
	response_fini(&res);
	return rv;
}

/* Answers 403 to a client without a valid certificate (mutual TLS). */
static enum MHD_Result
refuse_client(http_server *s, struct MHD_Connection *c)
{
	static const char msg[] =
	    "a client certificate signed by the collector's CA is required\n";
	http_response res;
	enum MHD_Result rv;

	if (s->stats != NULL) {
		listener_stats_request(s->stats, 0);
		listener_stats_reject(s->stats, STATS_REJECT_UNAUTHENTICATED);
	}
	memset(&res, 0, sizeof res);
	http_response_set(&res, 403, "text/plain", msg, sizeof msg - 1);
	res.close = true;
	rv = response_send(c, &res);
	response_fini(&res);
	return rv;
}

/* Keeps a piece of body, or only counts it once over the limit. */
static void
request_append(http_request *r, const char *data, size_t n)
{
	size_t cap;

	r->received += n;
	if (r->too_large)
		return;
	if (n > r->s->max_body - r->len) {
		r->too_large = true;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		r->body = xrealloc(r->body, cap);
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

/* True when the body's end cannot be found: libmicrohttpd decodes only
 * chunked, and would read any other Transfer-Encoding to the end of the
 * connection. */
static bool
framing_unknown(struct MHD_Connection *c)
{
	const char *te = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	return te != NULL && strcasecmp(te, "chunked") != 0;
}

/* True when Content-Length announces more than the limit. */
static bool
announced_too_large(struct MHD_Connection *c, size_t max)
{
	const char *cl = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (cl == NULL)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return end != cl && errno == 0 && n > max;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	http_server *s = cls;
	http_request *r = *con_cls;

	(void)version;
	if (r == NULL) {
		if (s->verify_clients && !client_verified(c))
			return refuse_client(s, c);
		r = xcalloc(1, sizeof *r);
		r->s = s;
		r->method = method;
		r->path = url;
		*con_cls = r;
		/* Answer before "100 Continue" when the body cannot be
		 * taken: too large, or no way to find its end. */
		r->too_large = announced_too_large(c, s->max_body);
		r->bad_framing = framing_unknown(c);
		if (r->too_large || r->bad_framing)
			return request_answer(r, c);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		request_append(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return request_answer(r, c);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	request_free(*con_cls);
	*con_cls = NULL;
}

/* libmicrohttpd's own messages (bad requests, dropped connections). */
static void PRINTFLIKE(2, 0)
on_log(void *cls, const char *fmt, va_list ap)
{
	http_server *s = cls;
	char line[512];
	size_t n;

	if (log_current < LOG_DEBUG)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("%s: %s", s->name, line);
}

/* ------------------------------------------------------------ lifecycle */

/* Splits "[scheme://]HOST:PORT" into host and port; tls is set for
 * https://. Returns 0, or -1 with *cause. */
static int
addr_split(const char *addr, char *host, size_t hostlen, char *port,
    size_t portlen, bool *tls, char **cause)
{
	const char *h = addr, *colon, *end;

	*tls = false;
	if (strncmp(h, "https://", 8) == 0) {
		*tls = true;
		h += 8;
	} else if (strncmp(h, "http://", 7) == 0) {
		h += 7;
	}
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			goto bad;
		colon = end + 1;
		h++;
	} else {
		if ((colon = strrchr(h, ':')) == NULL)
			goto bad;
		end = colon;
	}
	if (end == h || (size_t)(end - h) >= hostlen ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	strcpy(port, colon + 1);
	return 0;
bad:
	xasprintf(cause, "bad address '%s': want HOST:PORT, e.g. "
	    "127.0.0.1:4318", addr);
	return -1;
}

/* Binds and listens on host:port ourselves, so that errors name the
 * reason (libmicrohttpd only logs them). Returns the socket or -1. */
static int
listen_on(http_server *s, const char *host, const char *port,
    char **cause)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char bound[64];
	int fd = -1, one = 1, rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, port, &hints, &ai)) != 0) {
		xasprintf(cause, "%s %s:%s: %s", s->name, host, port,
		    gai_strerror(rv));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
		xasprintf(cause, "%s listen %s:%s: %s", s->name, host, port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		s->port = ntohs(a->sin6_port);
		inet_ntop(AF_INET6, &a->sin6_addr, bound, sizeof bound);
		xasprintf(&s->addr, "[%s]:%d", bound, s->port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		s->port = ntohs(a->sin_port);
		inet_ntop(AF_INET, &a->sin_addr, bound, sizeof bound);
		xasprintf(&s->addr, "%s:%d", bound, s->port);
	}
	freeaddrinfo(ai);
	return fd;
}

/* Reads the PEM files for an https:// listener. */
static int
tls_load(http_server *s, const tls_opts *o, char **cause)
{
	if (o == NULL || o->cert_file == NULL || o->key_file == NULL) {
		xasprintf(cause, "%s: an https:// listener needs a certificate "
		    "and a key (--tls-cert, --tls-key)", s->name);
		return -1;
	}
	if (o->verify_peer && o->ca_file == NULL) {
		xasprintf(cause, "--tls-verify-clients needs --tls-ca");
		return -1;
	}
	if ((s->cert = tls_read_pem("certificate", o->cert_file, cause)) ==
	        NULL ||
	    (s->key = tls_read_pem("key", o->key_file, cause)) == NULL)
		return -1;
	if (o->ca_file != NULL &&
	    (s->ca = tls_read_pem("CA file", o->ca_file, cause)) == NULL)
		return -1;
	s->verify_clients = o->verify_peer;
	return 0;
}

static void
server_free(http_server *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->name);
	free(s->addr);
	free(s->cert);
	free(s->key);
	free(s->ca);
	free(s);
}

/* Starts libmicrohttpd on the bound socket. */
static int
daemon_start(http_server *s, const http_server_options *o, bool tls,
    char **cause)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	                 MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_LISTEN_SOCKET, s->fd, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT,
		    o->max_connections ? o->max_connections
		                       : DEFAULT_MAX_CONNECTIONS,
		    NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT,
		    o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, s },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, s->key },
		{ MHD_OPTION_HTTPS_MEM_TRUST, 0, s->ca },
		{ MHD_OPTION_END, 0, NULL },
	};
	size_t n = sizeof opts / sizeof opts[0];

	if (!tls) {
		opts[n - 4].option = MHD_OPTION_END; /* no TLS options */
	} else {
		flags |= MHD_USE_TLS;
		if (s->ca == NULL)
			opts[n - 2].option = MHD_OPTION_END;
	}
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->d == NULL) {
		xasprintf(cause, "%s %s: cannot start the HTTP server%s",
		    s->name, s->addr,
		    tls ? " (certificate and key unusable?)" : "");
		return -1;
	}
	s->fd = -1; /* the daemon owns it now */
	return 0;
}

int
http_server_start(http_server **out, const char *addr,
    const http_server_options *o, http_handler_fn fn, void *arg,
    char **cause)
{
	http_server *s;
	char host[256], port[16];
	bool tls;

	*out = NULL;
	*cause = NULL;
	s = xcalloc(1, sizeof *s);
	s->fd = -1;
	s->name = xstrdup(o->name != NULL ? o->name : "http");
	s->max_body = o->max_body_bytes ? o->max_body_bytes : DEFAULT_MAX_BODY;
	s->stats = o->stats;
	s->fn = fn;
	s->arg = arg;
	if (addr_split(addr, host, sizeof host, port, sizeof port, &tls,
	        cause) != 0 ||
	    (tls && tls_load(s, o->tls, cause) != 0) ||
	    (s->fd = listen_on(s, host, port, cause)) < 0 ||
	    daemon_start(s, o, tls, cause) != 0) {
		if (*cause == NULL)
			xasprintf(cause, "%s %s: failed", s->name, addr);
		server_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
http_server_port(const http_server *s)
{
	return s->port;
}

const char *
http_server_addr(const http_server *s)
{
	return s->addr;
}

void
http_server_stop(http_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d); /* joins every connection thread */
	server_free(s);
}
