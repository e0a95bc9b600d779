/*
 * jaeger_api.h - the Jaeger query API's endpoints (docs/JAEGER.md) as
 * functions from a path and its decoded arguments to a status and a JSON
 * body, over whatever answers the project's query protocol. No HTTP here:
 * jaeger_http.c carries these over the wire, and tests and benchmarks call
 * them directly. Thread-safe when the source's ask is.
 */
#ifndef COLLECTOR_JAEGER_API_H
#define COLLECTOR_JAEGER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jaeger/jaeger_params.h"
#include "tracequery.pb-c.h"

/* jaeger_ask_fn answers one query-protocol request (the storage seam, or
 * the query engine directly); the caller frees the Response with
 * tracequery__v1__response__free_unpacked. Never NULL. */
typedef Tracequery__V1__Response *(*jaeger_ask_fn)(void *arg,
    const Tracequery__V1__Request *req);

typedef struct jaeger_source {
	jaeger_ask_fn ask;
	void *arg;
} jaeger_source;

/* What an endpoint answers. */
typedef struct jaeger_reply {
	unsigned status;   /* 200, 400, 404, 500, 503 */
	char *body;        /* malloc'd JSON text */
	char warning[128]; /* "" or a Warning header's text (a capped limit) */
} jaeger_reply;

/* jaeger_api_handle answers a GET of path (decoded, without the query)
 * under /api/ (v1 and v3). now_ns is the clock for default windows.
 * Returns true with *out filled, or false when path is not an API path
 * (out untouched: the caller serves the UI or a 404). */
bool jaeger_api_handle(const jaeger_source *src, const char *path,
    const jaeger_arg *args, size_t n, uint64_t now_ns, jaeger_reply *out);

/* jaeger_api_transform answers POST /api/transform: the OTLP JSON
 * document body (len bytes) as Jaeger traces, one per trace ID, stored
 * nowhere (jaeger_transform.c). */
void jaeger_api_transform(const char *body, size_t len, jaeger_reply *out);

/* jaeger_api_error fills out with a v1 error envelope (or v3's
 * {"error":{...}} when v3) of status and msg. */
void jaeger_api_error(jaeger_reply *out, bool v3, unsigned status,
    const char *msg);

/* Internals shared by the v1 and v3 files. */
Tracequery__V1__Response *jaeger_api_ask(const jaeger_source *src,
    Tracequery__V1__Request *req);
/* jaeger_api_get_trace fetches one trace; NULL when it is not there
 * (*status 404) or the source failed (*status 500 or 503). */
Tracequery__V1__Response *jaeger_api_get_trace(const jaeger_source *src,
    const uint8_t id[16], unsigned *status);
/* jaeger_api_search runs q as a Search (traceID ignored). */
Tracequery__V1__Response *jaeger_api_search(const jaeger_source *src,
    const jaeger_query *q);
/* jaeger_api_services lists the services as a JSON array; NULL with *err
 * filled (v3: in v3's shape) when the source failed. */
json_t *jaeger_api_services(const jaeger_source *src, bool v3,
    jaeger_reply *err);
/* jaeger_api_operations lists service's operations of kind (0: all) as
 * [{"name","spanKind"}], an unset kind named "" (v1) or "internal" (v3);
 * NULL with *err filled when the source failed. */
json_t *jaeger_api_operations(const jaeger_source *src, const char *service,
    int kind, bool v3, jaeger_reply *err);
/* jaeger_api_status maps a Response code to an HTTP status. */
unsigned jaeger_api_status(const Tracequery__V1__Response *r);
/* jaeger_api_dump serialises j (consumed) into out->body with status. */
void jaeger_api_dump(jaeger_reply *out, unsigned status, json_t *j,
    bool pretty);
/* jaeger_api_v3 answers paths under /api/v3/ (jaeger_v3.c). */
bool jaeger_api_v3(const jaeger_source *src, const char *path,
    const jaeger_arg *args, size_t n, jaeger_reply *out);

#endif /* COLLECTOR_JAEGER_API_H */
