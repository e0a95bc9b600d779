/*
 * collector.h - tracecollector's private header: configuration. The
 * listeners (net.h), the pipeline (pipeline.h), the storage seam
 * (backend.h), statistics (stats.h) and logging (log.h) have their own.
 */
#ifndef COLLECTOR_COLLECTOR_H
#define COLLECTOR_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/net.h"

#define CONFIG_MAX_LISTEN 8

typedef struct config {
	const char *store;          /* backend.h spec; --db DIR: its DIR */
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
	uint64_t index_flush_ns;    /* index.h, "index buffer" */
	size_t index_flush_spans;
	log_level level;
	tls_opts tls;               /* for tls+tcp:// listeners */
} config;

/* config_parse fills c from argv (defaults first). Returns 0, 1 after
 * printing --help, or -1 with a malloc'd *cause (a usage error). */
int config_parse(config *c, int argc, char **argv, char **cause);
void config_usage(FILE *f);

#endif /* COLLECTOR_COLLECTOR_H */
