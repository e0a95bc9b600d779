/*
 * zipkin.h - the Zipkin v2 receiver: POST /api/v2/spans with a JSON list
 * of spans (optionally gzip), decoded by zipkin_json.c into OTLP and
 * submitted to the pipeline like OTLP/HTTP; answered 202 after the write.
 * Counters: "zipkin.*" (daemon/stats.h listener_stats). docs/ZIPKIN.md.
 */
#ifndef COLLECTOR_NET_ZIPKIN_H
#define COLLECTOR_NET_ZIPKIN_H

#include "net/http_server.h"
#include "pipeline/pipeline.h"

typedef struct zipkin zipkin;

/* zipkin_start listens on addr ("127.0.0.1:9411", port 0 picks one,
 * https:// for TLS) with o's limits; o->stats is ignored. Returns 0, or
 * -1 with a malloc'd *cause. */
int zipkin_start(zipkin **out, const char *addr,
    const http_server_options *o, pipeline *p, char **cause);

/* zipkin_port returns the bound TCP port. */
int zipkin_port(const zipkin *z);

/* zipkin_addr returns "HOST:PORT" as bound (owned by z). */
const char *zipkin_addr(const zipkin *z);

/* zipkin_stop stops serving (requests in flight finish) and frees z;
 * NULL is a no-op. */
void zipkin_stop(zipkin *z);

#endif /* COLLECTOR_NET_ZIPKIN_H */
