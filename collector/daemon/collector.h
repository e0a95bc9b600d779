/*
 * collector.h - tracecollector's private header: configuration, and the
 * modules' entry points (pipeline, ingest, query server, retention). The
 * store (store.h), keys (keys.h), query engine (query.h), histograms
 * (hist.h), statistics (stats.h) and logging (log.h) have their own.
 */
#ifndef COLLECTOR_COLLECTOR_H
#define COLLECTOR_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "daemon/log.h"
#include "pipeline/pipeline.h"
#include "daemon/stats.h"
#include "store/store.h"

#define CONFIG_MAX_LISTEN 8

typedef struct config {
	const char *db_dir;
	const char *listen[CONFIG_MAX_LISTEN];
	int n_listen;
	const char *query_listen;
	const char *otlp_http;      /* "none" disables */
	const char *otlp_grpc;      /* NULL: off */
	const char *jaeger_http;    /* NULL: off */
	const char *zipkin;         /* NULL: off */
	const char *ui_dir;         /* NULL: no Jaeger UI */
	const char *ready_file;     /* NULL: none */
	uint64_t retention_ns;
	bool sync;
	size_t max_message_bytes;
	int ingest_workers;
	int query_workers;
	uint64_t index_flush_ns;    /* index_buffer.h */
	size_t index_flush_spans;
	log_level level;
	tls_opts tls;               /* for tls+tcp:// listeners */
} config;

/* config_parse fills c from argv (defaults first). Returns 0, 1 after
 * printing --help, or -1 with a malloc'd *cause (a usage error). */
int config_parse(config *c, int argc, char **argv, char **cause);
void config_usage(FILE *f);

/* Limits the pipeline enforces on every request and span. */
typedef struct pipeline_limits {
	size_t max_message_bytes;
	size_t max_depth;          /* AnyValue nesting */
	size_t max_attrs;          /* per span, event, link, resource, scope */
	size_t max_events;
	size_t max_links;
	size_t max_string_bytes;   /* any one string or bytes value */
	size_t max_span_bytes;     /* one packed span */
	size_t max_backlog_bytes;  /* requests in flight before RETRY_LATER */
	uint64_t max_future_ns;    /* how far past now a timestamp may be */
	uint64_t min_free_bytes;   /* keep this much disk free: RETRY_LATER */
	size_t index_flush_spans;  /* index_buffer.h */
	uint32_t index_flush_ms;
	uint32_t idle_flush_ms;   /* no request this long: flush memtables */
} pipeline_limits;

/* pipeline_limits_default fills l with the documented defaults. */
void pipeline_limits_default(pipeline_limits *l);
/* pipeline_new makes the decode/validate/write path over st. */
int pipeline_new(pipeline **out, store *st, const pipeline_limits *l,
    char **cause);
/* pipeline_free writes the buffered index records, then frees p. */
void pipeline_free(pipeline *p);
/* pipeline_sync returns once the index covers every span accepted before
 * the call. Returns 0, or -1 (logged). */
int pipeline_sync(pipeline *p);
/* pipeline_sync_within is pipeline_sync bounded to timeout_ms (queries
 * call it first): -1 when the index is not written by then. */
int pipeline_sync_within(pipeline *p, uint32_t timeout_ms);
/* pipeline_prescan checks the protobuf wire format of an
 * ExportTraceServiceRequest without unpacking: returns 0, -1 when nested
 * deeper than max_depth, -2 when malformed. No recursion. */
int pipeline_prescan(const uint8_t *buf, size_t len, size_t max_depth);

/* ingest.c: NNG REP on every --listen URL, workers feeding p. */
typedef struct ingest ingest;
int ingest_start(ingest **out, const char *const *urls, int n_urls,
    int workers, size_t max_message_bytes, pipeline *p, char **cause);
void ingest_stop(ingest *in);

/* query_server.c: NNG REP on --query-listen. */
typedef struct query_server query_server;
int query_server_start(query_server **out, const char *url, int workers,
    store *st, pipeline *p, uint64_t retention_ns, char **cause);
void query_server_stop(query_server *q);

/* retention.c: a thread that keeps the store within --retention. */
typedef struct retention retention;
int retention_start(retention **out, store *st, uint64_t retention_ns,
    char **cause);
void retention_stop(retention *r);
/* retention_run_once expires everything older than now - retention_ns
 * (used by the thread and by tests). */
void retention_run_once(store *st, uint64_t retention_ns, bool compact);

#endif /* COLLECTOR_COLLECTOR_H */
