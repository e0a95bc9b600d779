/*
 * otlp_http.h - OTLP/HTTP receiver (POST /v1/traces, protobuf and JSON,
 * gzip) on the shared HTTP server (http_server.h), feeding the pipeline.
 * Counters: "otlp_http.*" (daemon/stats.h listener_stats).
 */
#ifndef COLLECTOR_OTLP_HTTP_H
#define COLLECTOR_OTLP_HTTP_H

#include <stddef.h>

#include "net/http_server.h"
#include "pipeline/pipeline.h"

typedef struct otlp_http otlp_http;

/* otlp_http_start listens on addr ("127.0.0.1:4318"; port 0 picks a free
 * one) and serves until otlp_http_stop. Bodies above max_body_bytes (after
 * decompression) get 413. Returns 0, or -1 with a malloc'd *cause. */
int otlp_http_start(otlp_http **out, const char *addr, size_t max_body_bytes,
    pipeline *p, char **cause);

/* otlp_http_start_opts is otlp_http_start with every listener option
 * (limits, TLS for an https:// addr); o->stats is ignored: the counters
 * are "otlp_http.*". */
int otlp_http_start_opts(otlp_http **out, const char *addr,
    const http_server_options *o, pipeline *p, char **cause);

/* otlp_http_port returns the bound TCP port (useful with port 0). */
int otlp_http_port(const otlp_http *h);

/* otlp_http_stop stops serving and frees h; NULL is a no-op. */
void otlp_http_stop(otlp_http *h);

#endif /* COLLECTOR_OTLP_HTTP_H */
