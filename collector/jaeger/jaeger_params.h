/*
 * jaeger_params.h - the Jaeger query API's parameters (docs/JAEGER.md):
 * decoded query-string arguments in, a validated request out, or a
 * message for a 400. The v1 names (service, tags, start in microseconds,
 * ...) and the v3 names (query.serviceName or query.service_name, RFC 3339
 * times, ...) fill the same jaeger_query. Pure functions, thread-safe;
 * every parser here has a fuzz target (tests/fuzz/fuzz_jaeger_params.c).
 */
#ifndef COLLECTOR_JAEGER_PARAMS_H
#define COLLECTOR_JAEGER_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One decoded query-string argument; a key may repeat. */
typedef struct jaeger_arg {
	const char *key;
	const char *value;
} jaeger_arg;

#define JAEGER_DEFAULT_LIMIT 100   /* Jaeger's own default */
#define JAEGER_MAX_LIMIT 1000      /* the query engine's cap */
#define JAEGER_MAX_TRACE_IDS 100   /* traceID=... per request */
#define JAEGER_MAX_ATTRS 32        /* tag filters per request */
#define JAEGER_MAX_ARG_BYTES 4096  /* one value */

typedef struct jaeger_attr {
	char *key;
	char *value;
} jaeger_attr;

/* A search or multi-get, validated. Strings are malloc'd (NULL: absent). */
typedef struct jaeger_query {
	char *service;
	char *operation;
	jaeger_attr attrs[JAEGER_MAX_ATTRS];
	size_t n_attrs;
	bool errors_only;          /* the tag error=true */
	uint64_t start_ns, end_ns; /* window on span starts */
	uint64_t min_duration_ns, max_duration_ns; /* 0: none */
	uint32_t limit;            /* after the cap */
	uint64_t limit_asked;      /* as sent; > limit when capped */
	uint8_t trace_ids[JAEGER_MAX_TRACE_IDS][16];
	size_t n_trace_ids;
} jaeger_query;

/* jaeger_params_search fills q from a v1 /api/traces request (now_ns: the
 * clock, for the default window of 48 h). Returns 0, or -1 with a
 * malloc'd *err for the 400. q needs jaeger_query_fini either way. */
int jaeger_params_search(const jaeger_arg *args, size_t n, uint64_t now_ns,
    jaeger_query *q, char **err);

/* jaeger_params_search_v3 is the same for /api/v3/traces and
 * /api/v3/trace-summaries (query.* names, camelCase or snake_case). Jaeger
 * requires the window (query.startTimeMin/Max); it defaults here as in v1,
 * since the v2 UI leaves it out when its URL has no start. */
int jaeger_params_search_v3(const jaeger_arg *args, size_t n,
    uint64_t now_ns, jaeger_query *q, char **err);

void jaeger_query_fini(jaeger_query *q);

/* jaeger_params_trace_id parses a hex trace ID of 1 to 32 digits (shorter
 * IDs are left-padded with zeros, as Jaeger prints 64-bit IDs) into
 * id; rejects an all-zero ID. Returns 0 or -1. */
int jaeger_params_trace_id(const char *hex, uint8_t id[16]);

/* jaeger_params_span_kind checks a spanKind filter: "" (all), server,
 * client, producer, consumer or internal; *kind is the OTLP enum value
 * (0 for all). Returns 0 or -1. */
int jaeger_params_span_kind(const char *s, int *kind);

/* jaeger_params_dependencies reads endTs and lookback (milliseconds;
 * defaults now and 24 h) into a window [start_ns, end_ns). Returns 0, or
 * -1 with a malloc'd *err. */
int jaeger_params_dependencies(const jaeger_arg *args, size_t n,
    uint64_t now_ns, uint64_t *start_ns, uint64_t *end_ns, char **err);

/* jaeger_params_trace_hint checks the optional start/end hint of
 * /api/traces/{id}: integers, or absent. The hint never narrows the
 * lookup (Grafana sends milliseconds where Jaeger reads microseconds, and
 * finding a trace by ID costs the same without it). Returns 0, or -1 with
 * a malloc'd *err. */
int jaeger_params_trace_hint(const jaeger_arg *args, size_t n, char **err);

/* jaeger_params_get returns the first value of key (NULL: absent). */
const char *jaeger_params_get(const jaeger_arg *args, size_t n,
    const char *key);

#endif /* COLLECTOR_JAEGER_PARAMS_H */
