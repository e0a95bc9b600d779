/*
 * backend.h - the storage seam: where validated spans go and where queries
 * are answered. The pipeline (pipeline/) receives, decodes and validates;
 * a backend makes the valid spans durable and answers the query protocol
 * (proto/tracequery.proto) over them. Nothing above this header knows
 * where spans live: the RocksDB store, index and query engine
 * (rocksdb_backend.c) are one implementation, a ClickHouse cluster
 * another. docs/ARCHITECTURE.md, "The storage seam", says why this shape.
 *
 * A backend is a struct of function pointers (backend_ops) behind a base
 * struct that each implementation embeds first, as nng's transports and
 * libuv's handles are. Callers use the backend_* wrappers (backend.c).
 *
 * Threads: every operation may be called from any number of threads at
 * once, except close, which runs once, after all other calls returned.
 */
#ifndef COLLECTOR_BACKEND_H
#define COLLECTOR_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"
#include "tracequery.pb-c.h"

typedef struct backend backend;
typedef struct backend_ops backend_ops;

/* One span that passed validation, with what it came with. The pointers
 * point into the batch's request and stay valid during write only. */
typedef struct backend_span {
	const char *service;       /* its resource's service.name */
	const ResourceSpans *rs;   /* its resource (rs->resource may be NULL) */
	const ScopeSpans *ss;      /* its scope */
	const Span *sp;
	/* Its Span message's bytes in the batch's wire bytes (without tag and
	 * length), or NULL when the batch came unpacked or the bytes could
	 * not be matched to the unpacked spans: then pack sp. */
	const uint8_t *wire;
	size_t wire_len;
	/* The span's size without its IDs and times (span_wire_stripped_len
	 * of wire, or span_block_packed_len of sp), already computed to
	 * check the span size limit. */
	size_t stripped_len;
} backend_span;

/* One request's valid spans, handed over in one call. */
typedef struct backend_batch {
	const ExportRequest *req;  /* the whole unpacked request */
	const backend_span *spans; /* the valid ones, in request order */
	size_t n_spans;            /* > 0 */
	size_t n_rejected;         /* spans of req that failed validation */
	const uint8_t *wire;       /* the bytes req was unpacked from, or */
	size_t wire_len;           /* NULL, 0 when it came unpacked */
	uint64_t received_unix_ns;
} backend_batch;

/* What a write did. Anything but BACKEND_OK means nothing was written. */
typedef enum backend_code {
	BACKEND_OK = 0,          /* every span of the batch is durable */
	BACKEND_RETRY_LATER = 1, /* pushes back (stalled, full): resend later */
	BACKEND_FAILED = 2,      /* storage error: resend later */
} backend_code;

typedef struct backend_result {
	backend_code code;
	uint32_t retry_after_ms; /* a hint for RETRY_LATER and FAILED */
	char message[256];       /* why, when not BACKEND_OK */
} backend_result;

/* Settings every backend is given; each uses those that apply to it. */
typedef struct backend_options {
	bool sync;                /* fsync before a write returns */
	uint64_t retention_ns;    /* queries hide older records; 0 = keep */
	size_t index_flush_spans; /* index written after this many spans */
	uint32_t index_flush_ms;  /* or this long */
	uint32_t idle_flush_ms;   /* no write this long: flush to files */
	uint64_t min_free_bytes;  /* keep this much disk free: RETRY_LATER */
} backend_options;

/*
 * The operations. Queries return a Response the caller frees with
 * backend_response_free, never NULL: code OK with the result matching the
 * request (trace, search, slow, services, operations), NOT_FOUND,
 * BAD_REQUEST for a request the backend cannot answer, INTERNAL or BUSY
 * with a message when it failed, never a partial answer.
 */
struct backend_ops {
	const char *name; /* "rocksdb", "clickhouse" */
	/* write makes b's spans durable, or refuses the whole batch. */
	void (*write)(backend *b, const backend_batch *batch,
	    backend_result *res);
	/* sync: every span written before the call is visible to queries
	 * within timeout_ms (0: no bound). Returns 0, or -1 if not. */
	int (*sync)(backend *b, uint32_t timeout_ms);
	/* flush moves what is buffered in memory to its files or server. */
	void (*flush)(backend *b);
	Tracequery__V1__Response *(*get_trace)(backend *b,
	    const Tracequery__V1__GetTrace *q);
	Tracequery__V1__Response *(*search)(backend *b,
	    const Tracequery__V1__Search *q);
	Tracequery__V1__Response *(*slow)(backend *b,
	    const Tracequery__V1__Slow *q);
	Tracequery__V1__Response *(*services)(backend *b,
	    const Tracequery__V1__ListServices *q);
	Tracequery__V1__Response *(*operations)(backend *b,
	    const Tracequery__V1__ListOperations *q);
	/* dependencies counts calls between services (deps.h); NULL when
	 * the backend cannot (the query answers BAD_REQUEST). */
	Tracequery__V1__Response *(*dependencies)(backend *b,
	    const Tracequery__V1__Dependencies *q);
	/* tail lists the traces indexed after a cursor, for live views
	 * (proto Tail); NULL when the backend cannot (BAD_REQUEST). */
	Tracequery__V1__Response *(*tail)(backend *b,
	    const Tracequery__V1__Tail *q);
	/* stats appends the backend's own figures to r (backend_stat_add). */
	void (*stats)(backend *b, Tracequery__V1__StatsResult *r);
	/* retention_run expires what started before now - retention_ns.
	 * Returns 0, or -1 with a malloc'd *cause. */
	int (*retention_run)(backend *b, uint64_t now_unix_ns,
	    uint64_t retention_ns, char **cause);
	/* close flushes, closes and frees b. */
	void (*close)(backend *b);
};

/* The base every implementation embeds as its first member. */
struct backend {
	const backend_ops *ops;
};

/* backend_options_default fills o with the documented defaults. */
void backend_options_default(backend_options *o);
/* backend_open (daemon/backend_open.c, the one place that knows every
 * backend) opens the backend spec names: "rocksdb:DIR", a bare DIR (the
 * --db shorthand), "clickhouse://...". Returns 0, or -1 with a malloc'd
 * *cause. */
int backend_open(backend **out, const char *spec, const backend_options *o,
    char **cause);
/* backend_close closes b (NULL: no-op). */
void backend_close(backend *b);
const char *backend_name(const backend *b);

void backend_write(backend *b, const backend_batch *batch,
    backend_result *res);
int backend_sync(backend *b, uint32_t timeout_ms);
void backend_flush(backend *b);
int backend_retention_run(backend *b, uint64_t now_unix_ns,
    uint64_t retention_ns, char **cause);

/* backend_query answers one Request with the operation it names; for
 * GetStats, with the backend's figures only (the query server puts the
 * collector's own counters before them). Never NULL. */
Tracequery__V1__Response *backend_query(backend *b,
    const Tracequery__V1__Request *req);
Tracequery__V1__Response *backend_get_trace(backend *b,
    const Tracequery__V1__GetTrace *q);
Tracequery__V1__Response *backend_search(backend *b,
    const Tracequery__V1__Search *q);
Tracequery__V1__Response *backend_slow(backend *b,
    const Tracequery__V1__Slow *q);
Tracequery__V1__Response *backend_services(backend *b,
    const Tracequery__V1__ListServices *q);
Tracequery__V1__Response *backend_operations(backend *b,
    const Tracequery__V1__ListOperations *q);
Tracequery__V1__Response *backend_dependencies(backend *b,
    const Tracequery__V1__Dependencies *q);
Tracequery__V1__Response *backend_tail(backend *b,
    const Tracequery__V1__Tail *q);
/* backend_stats appends b's figures to r. */
void backend_stats(backend *b, Tracequery__V1__StatsResult *r);

/* backend_response_new makes a Response with code and message (copied),
 * and no result; backend_response_free frees one (NULL: no-op). */
Tracequery__V1__Response *backend_response_new(
    Tracequery__V1__Response__Code code, const char *message);
void backend_response_free(Tracequery__V1__Response *r);
/* backend_slow_histogram appends h to sr's histogram as coarse buckets
 * (eight of hist.h's per power of two are plenty on a terminal), leaving
 * out empty ones. */
struct hist;
void backend_slow_histogram(Tracequery__V1__SlowResult *sr,
    const struct hist *h);
/* backend_stat_add appends one figure (name and unit copied) to r. */
void backend_stat_add(Tracequery__V1__StatsResult *r, const char *name,
    double value, const char *unit);

/* retention_timer.c: a thread that runs backend_retention_run every
 * tenth of retention_ns (between 1 s and 10 min); 0: none. */
typedef struct retention_timer retention_timer;
int retention_timer_start(retention_timer **out, backend *b,
    uint64_t retention_ns, char **cause);
void retention_timer_stop(retention_timer *t);

#endif /* COLLECTOR_BACKEND_H */
