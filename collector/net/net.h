/*
 * net.h - the NNG listeners the daemon starts: ingest (spans in, to the
 * pipeline) and the query service (questions in, to the backend). The
 * HTTP listeners have their own headers (otlp_http.h, ...).
 */
#ifndef COLLECTOR_NET_H
#define COLLECTOR_NET_H

#include <stddef.h>

#include "backend/backend.h"
#include "pipeline/pipeline.h"

/* ingest.c: NNG REP on every --listen URL, workers feeding p. */
typedef struct ingest ingest;
int ingest_start(ingest **out, const char *const *urls, int n_urls,
    int workers, size_t max_message_bytes, pipeline *p, char **cause);
void ingest_stop(ingest *in);

/* query_server.c: NNG REP on --query-listen, answering from b; p: whose
 * backlog GetStats reports. */
typedef struct query_server query_server;
int query_server_start(query_server **out, const char *url, int workers,
    backend *b, pipeline *p, char **cause);
void query_server_stop(query_server *q);

/* query_server_answer answers req from b once b has indexed every span
 * acknowledged before (waiting at most 1 s for that); GetStats with the
 * collector's counters and p's backlog, then b's figures. Never NULL. */
Tracequery__V1__Response *query_server_answer(backend *b, pipeline *p,
    const Tracequery__V1__Request *req);
/* query_server_handle_bytes decodes a packed tracequery.v1.Request,
 * answers it and packs the Response into a malloc'd *out of *out_len
 * bytes (caller frees). */
void query_server_handle_bytes(backend *b, pipeline *p, const uint8_t *buf,
    size_t len, uint8_t **out, size_t *out_len);

#endif /* COLLECTOR_NET_H */
