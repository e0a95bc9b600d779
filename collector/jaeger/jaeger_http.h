/*
 * jaeger_http.h - the Jaeger-compatible query listener (--jaeger-http,
 * default 127.0.0.1:16686; docs/JAEGER.md): the API of jaeger_api.h over
 * HTTP (net/http_server.h), and optionally a Jaeger UI build at /.
 */
#ifndef COLLECTOR_JAEGER_HTTP_H
#define COLLECTOR_JAEGER_HTTP_H

#include "common.h"
#include "jaeger/jaeger_api.h"

/* Requests answered at once; more get 503 with Retry-After, so a flood
 * on this port cannot take every query thread of the store. */
#define JAEGER_HTTP_MAX_INFLIGHT 8
/* Query arguments one request may carry. */
#define JAEGER_HTTP_MAX_ARGS 256

typedef struct jaeger_http jaeger_http;

typedef struct jaeger_http_options {
	const char *addr;     /* HOST:PORT, http:// or https:// */
	const char *ui_dir;   /* NULL: no UI */
	const tls_opts *tls;  /* for https:// */
	jaeger_source source; /* what answers the queries */
} jaeger_http_options;

/* jaeger_http_start listens and serves until jaeger_http_stop. Returns 0
 * with *out, or -1 with a malloc'd *cause. */
int jaeger_http_start(jaeger_http **out, const jaeger_http_options *o,
    char **cause);

/* jaeger_http_addr: "HOST:PORT" as bound (port 0 resolved). */
const char *jaeger_http_addr(const jaeger_http *h);

/* jaeger_http_stop lets running requests finish and frees h (NULL: no-op). */
void jaeger_http_stop(jaeger_http *h);

#endif /* COLLECTOR_JAEGER_HTTP_H */
