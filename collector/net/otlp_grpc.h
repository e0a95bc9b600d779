/*
 * otlp_grpc.h - OTLP/gRPC receiver: the unary call
 * opentelemetry.proto.collector.trace.v1.TraceService/Export over HTTP/2
 * (h2c), libnghttp2 doing all framing, HPACK and flow control, feeding the
 * shared pipeline. docs/OTLP.md lists its answers and limits.
 */
#ifndef COLLECTOR_NET_OTLP_GRPC_H
#define COLLECTOR_NET_OTLP_GRPC_H

#include <stddef.h>

#include "common.h"
#include "pipeline/pipeline.h"

typedef struct otlp_grpc otlp_grpc;

/* Limits of one receiver. Zero fields take the defaults. */
typedef struct otlp_grpc_options {
	size_t max_message_bytes; /* one message, as sent and inflated
	                             (default 16 MiB): RESOURCE_EXHAUSTED */
	unsigned workers;         /* threads calling the pipeline (4) */
	unsigned max_connections; /* more are closed at accept (64) */
	unsigned max_streams;     /* SETTINGS_MAX_CONCURRENT_STREAMS (32) */
	unsigned idle_timeout_s;  /* no open call this long: GOAWAY (300) */
	const tls_opts *tls;      /* PEM files for an https:// address */
} otlp_grpc_options;

/* otlp_grpc_start listens on addr ("HOST:PORT" or "http://HOST:PORT" for
 * h2c, "https://HOST:PORT" for TLS with ALPN h2 from o->tls; port 0 picks
 * a free one) and serves until otlp_grpc_stop. Every
 * accepted Export is answered only after pipeline p made it durable.
 * Returns 0 with *out, or -1 with a malloc'd *cause. */
int otlp_grpc_start(otlp_grpc **out, const char *addr,
    const otlp_grpc_options *o, pipeline *p, char **cause);

/* otlp_grpc_port returns the bound TCP port (useful with port 0). */
int otlp_grpc_port(const otlp_grpc *g);

/* otlp_grpc_addr returns "HOST:PORT" with the bound port, as a client
 * would dial it (no scheme). Owned by g. */
const char *otlp_grpc_addr(const otlp_grpc *g);

/* otlp_grpc_stop closes every connection, lets the calls inside the
 * pipeline finish (their answers are dropped with the connections) and
 * frees g; NULL is a no-op. */
void otlp_grpc_stop(otlp_grpc *g);

#endif /* COLLECTOR_NET_OTLP_GRPC_H */
