/*
 * stats.h - the collector's self-statistics: lock-free counters bumped on
 * the ingest and query paths, served as tracequery.v1.StatsResult.
 */
#ifndef COLLECTOR_STATS_H
#define COLLECTOR_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "tracequery.pb-c.h"

/* X(field, "dotted.name", "unit") */
#define STATS_COUNTERS(X)                                                   \
	X(requests, "ingest.requests", "requests")                          \
	X(requests_ok, "ingest.requests_ok", "requests")                    \
	X(requests_partial, "ingest.requests_partial", "requests")          \
	X(rej_invalid, "ingest.requests_rejected.invalid", "requests")      \
	X(rej_too_large, "ingest.requests_rejected.too_large", "requests")  \
	X(rej_too_deep, "ingest.requests_rejected.too_deep", "requests")    \
	X(rej_empty, "ingest.requests_rejected.empty", "requests")          \
	X(rej_retry, "ingest.requests_rejected.retry_later", "requests")    \
	X(rej_internal, "ingest.requests_rejected.internal", "requests")    \
	X(bytes, "ingest.bytes_received", "bytes")                          \
	X(spans_accepted, "ingest.spans_accepted", "spans")                 \
	X(spans_rejected, "ingest.spans_rejected", "spans")                 \
	X(sp_bad_id, "ingest.spans_rejected.bad_id", "spans")               \
	X(sp_bad_time, "ingest.spans_rejected.bad_time", "spans")           \
	X(sp_too_big, "ingest.spans_rejected.too_big", "spans")             \
	X(sp_bad_utf8, "ingest.spans_rejected.bad_utf8", "spans")           \
	X(records_written, "store.records_written", "records")              \
	X(bytes_written, "store.bytes_written", "bytes")                    \
	X(spans_resent, "store.spans_resent", "spans")                      \
	X(write_ns, "store.write_time", "ns")                               \
	X(index_flushes, "index.flushes", "writes")                         \
	X(index_flush_ns, "index.flush_time", "ns")                         \
	X(index_records, "index.records_written", "records")                \
	X(index_recovered, "index.spans_recovered", "spans")                \
	X(idle_flushes, "store.idle_flushes", "flushes")                    \
	X(queries, "query.requests", "requests")                            \
	X(query_index_lag, "query.index_not_synced", "requests")            \
	X(query_errors, "query.errors", "requests")                         \
	X(query_read_errors, "query.read_errors", "requests")               \
	X(query_bad_records, "query.index_records_unreadable", "records")   \
	X(query_family_lookups, "query.traces_family_lookups", "lookups")   \
	X(retention_runs, "retention.runs", "runs")                          \
	OTLP_GRPC_COUNTERS(X)

/*
 * The OTLP/gRPC receiver's finer counters (net/otlp_grpc.c; docs/OTLP.md).
 * Its requests, bytes and rejections by reason are on its listener_stats
 * like every listener's; these break a reason down (each refusal counted
 * here is also counted under the reason its name begins with) and count
 * connections, which other listeners do not see.
 */
#define OTLP_GRPC_COUNTERS(X)                                               \
	X(grpc_rej_framing, "otlp_grpc.rejected.invalid.framing", "requests") \
	X(grpc_rej_deadline, "otlp_grpc.rejected.retry_later.deadline",     \
	    "requests")                                                     \
	X(grpc_rej_busy, "otlp_grpc.rejected.retry_later.busy", "requests") \
	X(grpc_rej_unimpl, "otlp_grpc.rejected.protocol.unimplemented",     \
	    "requests")                                                     \
	X(grpc_rej_not_grpc, "otlp_grpc.rejected.protocol.not_grpc",        \
	    "requests")                                                     \
	X(grpc_conn_refused, "otlp_grpc.connections_refused", "connections") \
	X(grpc_conn_errors, "otlp_grpc.connection_errors", "connections")

typedef struct collector_stats {
#define STATS_FIELD(f, n, u) _Atomic uint64_t f;
	STATS_COUNTERS(STATS_FIELD)
#undef STATS_FIELD
	uint64_t start_ns;
} collector_stats;

extern collector_stats stats;

#define STATS_INC(f, n) \
	atomic_fetch_add_explicit(&stats.f, (uint64_t)(n), memory_order_relaxed)

/*
 * Per-listener counters, one set for each way a client can send spans
 * (NNG, OTLP/HTTP, OTLP/gRPC, Zipkin) or query (the Jaeger API), served
 * as "<name>.requests", "<name>.bytes" and "<name>.rejected.<reason>".
 * The ingest.* counters above sum what reached the pipeline from all of
 * them; these also count what a listener refused before the pipeline.
 */
typedef enum stats_reject {
	STATS_REJECT_INVALID,     /* undecodable or invalid data */
	STATS_REJECT_TOO_LARGE,   /* over a size limit */
	STATS_REJECT_RETRY_LATER, /* backpressure: the client resends */
	STATS_REJECT_INTERNAL,    /* storage error */
	STATS_REJECT_PROTOCOL,    /* wrong method, path, type or encoding */
	STATS_REJECT_UNAUTHENTICATED, /* no valid client certificate */
	STATS_REJECT_COUNT
} stats_reject;

typedef struct listener_stats {
	const char *name; /* "nng_ingest", "otlp_http", ... */
	_Atomic uint64_t requests;
	_Atomic uint64_t bytes;
	_Atomic uint64_t rejected[STATS_REJECT_COUNT];
	struct listener_stats *next; /* registered list */
} listener_stats;

/* listener_stats_register makes ls part of every StatsResult (once;
 * ls must live as long as the process). */
void listener_stats_register(listener_stats *ls);
/* listener_stats_request counts one request of len bytes. */
void listener_stats_request(listener_stats *ls, size_t len);
/* listener_stats_bytes counts len more bytes of a request already
 * counted (a body that arrives in pieces). */
void listener_stats_bytes(listener_stats *ls, size_t len);
/* listener_stats_reject counts one refusal. */
void listener_stats_reject(listener_stats *ls, stats_reject why);
/* listener_stats_reply counts a refusal for an ingest reply code (the
 * pipeline's outcome); OK and PARTIAL count nothing. */
void listener_stats_reply(listener_stats *ls,
    Tracequery__V1__IngestReply__Code code);

/* stats_result builds a StatsResult of the counters, the pipeline's
 * backlog (pipeline_backlog) and the process's figures (free with
 * stats_result_free); the query server adds the backend's after them. */
Tracequery__V1__StatsResult *stats_result(int64_t backlog_requests,
    int64_t backlog_bytes);
void stats_result_free(Tracequery__V1__StatsResult *r);

#endif /* COLLECTOR_STATS_H */
