/*
 * http_server.h - every HTTP/1.1 listener of the collector (OTLP/HTTP,
 * Zipkin, the Jaeger query API) on libmicrohttpd: one small wrapper that
 * owns the limits, TLS and the quirks, and hands each complete request to
 * a handler callback.
 *
 * Threads: one thread per connection (bounded by max_connections), so a
 * handler may block, e.g. until the pipeline's write is durable. The
 * handler runs on that connection's thread, with no lock of ours held;
 * several handlers run at once.
 *
 * Ownership: a request and everything it returns (strings, body) belong
 * to the server and are valid only during the handler call. A response is
 * filled by the handler; the server copies or takes what it is given as
 * each setter says.
 */
#ifndef COLLECTOR_NET_HTTP_SERVER_H
#define COLLECTOR_NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "daemon/stats.h"

typedef struct http_server http_server;
typedef struct http_request http_request;
typedef struct http_response http_response;

/* Limits and TLS for one listener. Zero fields take the defaults. */
typedef struct http_server_options {
	const char *name;          /* in errors and logs: "otlp-http" */
	size_t max_body_bytes;     /* default 16 MiB; above: 413 */
	unsigned max_connections;  /* default 64; more are refused */
	unsigned timeout_s;        /* a connection idle this long is closed
	                              (default 30) */
	const tls_opts *tls;       /* cert_file, key_file, ca_file and
	                              verify_peer as for tls+tcp://; used
	                              only when the address is https:// */
	listener_stats *stats;     /* NULL: none. The server counts requests,
	                              body bytes, bodies over the limit,
	                              unknown framing and refused client
	                              certificates; handlers count the other
	                              rejections */
} http_server_options;

/* http_handler_fn answers req by filling res. It is called once per
 * request, after the whole body has arrived (chunked bodies decoded), or
 * with no body when the body was over the limit
 * (http_request_body_too_large). A handler that sets nothing sends a 500.
 */
typedef void (*http_handler_fn)(void *arg, const http_request *req,
    http_response *res);

/* http_server_start listens on addr: "HOST:PORT", "http://HOST:PORT" or
 * "https://HOST:PORT" (TLS from o->tls), port 0 picks a free one; IPv6 as
 * "[::1]:PORT". fn(arg, ...) answers every request on every path. Returns
 * 0 with *out, or -1 with a malloc'd *cause naming o->name and addr. */
int http_server_start(http_server **out, const char *addr,
    const http_server_options *o, http_handler_fn fn, void *arg,
    char **cause);

/* http_server_port returns the bound TCP port (useful with port 0). */
int http_server_port(const http_server *s);

/* http_server_addr returns "HOST:PORT" with the bound port, as a client
 * would dial it (no scheme). Owned by s. */
const char *http_server_addr(const http_server *s);

/* http_server_stop stops accepting, lets the running handlers finish,
 * closes every connection and frees s; NULL is a no-op. */
void http_server_stop(http_server *s);

/* http_request_method returns "GET", "POST", ... */
const char *http_request_method(const http_request *r);

/* http_request_path returns the path without the query, %-decoded. */
const char *http_request_path(const http_request *r);

/* http_request_header returns the first value of header name (any case),
 * with leading and trailing spaces and tabs removed, or NULL. */
const char *http_request_header(const http_request *r, const char *name);

/* http_pair_fn receives one key and value (value NULL for "?flag");
 * returning false stops the iteration. */
typedef bool (*http_pair_fn)(void *arg, const char *key, const char *value);

/* http_request_header_each calls fn for every header line in order
 * (repeated names each time), values trimmed as above. */
void http_request_header_each(const http_request *r, http_pair_fn fn,
    void *arg);

/* http_request_query returns the first value of query argument key
 * (%-decoded; "" for "?key" or "?key="), or NULL when absent. */
const char *http_request_query(const http_request *r, const char *key);

/* http_request_query_each calls fn for every query argument in order,
 * repeated keys each time (traceID=a&traceID=b: twice). */
void http_request_query_each(const http_request *r, http_pair_fn fn,
    void *arg);

/* http_request_body returns the whole request body (*len bytes, NUL
 * after the last byte, so text bodies are C strings); "" when none. */
const uint8_t *http_request_body(const http_request *r, size_t *len);

/* http_request_body_too_large is true when the body was over
 * max_body_bytes: the handler sees no body and should answer 413 in its
 * protocol's shape (the connection is closed after the reply). */
bool http_request_body_too_large(const http_request *r);

/* http_request_body_error returns 0, 413 when the body was over the
 * limit, or 411 when its end could not be found (a Transfer-Encoding
 * other than chunked). On 411 and 413 the handler sees no body and
 * should answer that status in its protocol's shape; the connection is
 * closed after the reply. */
unsigned http_request_body_error(const http_request *r);

/* http_request_max_body returns the listener's max_body_bytes (for
 * limits on decompressed bodies and for messages). */
size_t http_request_max_body(const http_request *r);

/* http_response_set sets the status, Content-Type and body (copied; len
 * may be 0). Calling it again replaces the earlier values. */
void http_response_set(http_response *res, unsigned status,
    const char *content_type, const void *body, size_t len);

/* http_response_take is http_response_set with a malloc'd body that the
 * server frees (on every path). */
void http_response_take(http_response *res, unsigned status,
    const char *content_type, void *body, size_t len);

/* http_response_header adds a header line (both strings copied), e.g.
 * "Retry-After". Content-Length is the server's. */
void http_response_header(http_response *res, const char *name,
    const char *value);

/* http_response_retry_after adds "Retry-After" with retry_ms rounded up
 * to whole seconds (at least 1), for a 503. */
void http_response_retry_after(http_response *res, uint32_t retry_ms);

/* http_response_close asks for the connection to be closed after this
 * response (e.g. after a malformed request). */
void http_response_close(http_response *res);

#endif /* COLLECTOR_NET_HTTP_SERVER_H */
