/*
 * ch_query.h - the query protocol (proto/tracequery.proto) answered from
 * ClickHouse: get-trace (ch_query_trace.c), search (ch_query_search.c),
 * slow spans and percentiles (ch_query_slow.c), services and operations
 * (ch_query_catalog.c), dependencies (ch_query_deps.c), tail
 * (ch_query_tail.c). Each builds one or two SELECTs with every request
 * string quoted (ch_sql.h), reads the RowBinary reply (rowbinary.h) and
 * fills a Response shaped as the RocksDB backend's. Thread-safe.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_QUERY_H
#define COLLECTOR_CLICKHOUSE_CH_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "clickhouse/ch_client.h"
#include "clickhouse/ch_shards.h"
#include "clickhouse/ch_sql.h"
#include "tracequery.pb-c.h"

typedef Tracequery__V1__Response response;

/* Appends v to the malloc'd pointer array arr of n (protobuf-c repeated
 * fields are such arrays). */
#define CH_APPEND(arr, n, v)                                          \
	do {                                                          \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr));  \
		(arr)[(n)++] = (v);                                   \
	} while (0)

typedef struct ch_query_ctx {
	ch_client *c;
	bool cluster;
	const char *database;
	ch_shards *shards;   /* NULL on a single server */
	uint64_t cutoff_ns;  /* retention: hide what started before */
	uint64_t now_ns;
} ch_query_ctx;

/* The span-start window a search or slow asks for, as the RocksDB
 * backend reads it: from the cutoff, to a day past now when open. */
typedef struct ch_window {
	uint64_t from, to;
} ch_window;

ch_window ch_query_window(const ch_query_ctx *q, uint64_t start,
    uint64_t end);
/* ch_query_table writes the name to read every shard through. */
const char *ch_query_table(const ch_query_ctx *q, const char *base,
    char *buf, size_t len);
/* ch_query_run runs sql (FORMAT RowBinary added) and hands back the
 * reply; on failure returns an INTERNAL Response (else NULL). */
response *ch_query_run(ch_query_ctx *q, const char *sql, ch_reply *rep);
/* ch_query_bad_reply: an INTERNAL Response for a reply that did not
 * decode. */
response *ch_query_bad_reply(void);
/* ch_query_u64 runs sql (and frees it) for one UInt64 answer into *v.
 * found NULL: a row is required; else *found says whether one came. */
response *ch_query_u64(ch_query_ctx *q, rowbinary_buf *sql, uint64_t *v,
    bool *found);

/* Search's parts (ch_query_summary.c). ch_query_span_filters appends the
 * day and start bounds of w and, unless s is NULL, s's span-level
 * filters; ch_query_span_table names the table they can run on (span_time,
 * or span_index for attributes); ch_query_add_ids appends "trace_id IN
 * (...)"; ch_query_trace_having the trace-level duration filters over the
 * alias dur. ch_query_summaries appends to sr the summaries of the traces
 * ids that pass s's trace-level filters, best by order (SQL over t0, dur)
 * first, at most limit. ch_query_ranked_summaries appends the summaries
 * of the first limit of ids (candidates best first) that pass the
 * trace-level filters, sorted by cmp (qsort over summary pointers). */
void ch_query_span_filters(rowbinary_buf *sql,
    const Tracequery__V1__Search *s, const ch_window *w);
const char *ch_query_span_table(const ch_query_ctx *q,
    const Tracequery__V1__Search *s, char *buf, size_t len);
void ch_query_add_ids(rowbinary_buf *sql, const uint8_t (*ids)[16],
    size_t n);
void ch_query_trace_having(rowbinary_buf *sql,
    const Tracequery__V1__Search *s);
response *ch_query_summaries(ch_query_ctx *q, const uint8_t (*ids)[16],
    size_t n, const Tracequery__V1__Search *s, const char *order,
    uint32_t limit, Tracequery__V1__SearchResult *sr);
response *ch_query_ranked_summaries(ch_query_ctx *q,
    const uint8_t (*ids)[16], size_t n, const Tracequery__V1__Search *s,
    uint32_t limit, int (*cmp)(const void *, const void *),
    Tracequery__V1__SearchResult *sr);
/* MOST_SPANS and MOST_ERRORS into sr (ch_query_search_most.c); the count
 * of Search.count_total into sr (ch_query_search_count.c). */
response *ch_query_search_most(ch_query_ctx *q,
    const Tracequery__V1__Search *s, const ch_window *w, uint32_t limit,
    Tracequery__V1__SearchResult *sr);
response *ch_query_search_count(ch_query_ctx *q,
    const Tracequery__V1__Search *s, const ch_window *w,
    Tracequery__V1__SearchResult *sr);
/* ch_query_newest_match: the newest start of a span in stretch that
 * passes s's span-level filters into *start_ns; *found false when none
 * does (ch_query_newest.c). */
response *ch_query_newest_match(ch_query_ctx *q,
    const Tracequery__V1__Search *s, const ch_window *stretch,
    uint64_t *start_ns, bool *found);

/* ch_query_attr_candidates (ch_query_attr.c): newest-first candidates of
 * a search with attribute filters from attr_index: up to k traces with a
 * row of every filter in w, best first, into ids (*n) and bound (the
 * latest start a span of them that passes can have; a trace left out can
 * have none after bound[*n - 1]); then the *n_ok of them that have a span
 * passing every span-level filter, checked on their spans, moved to the
 * front of ids. ids and bound hold k. */
response *ch_query_attr_candidates(ch_query_ctx *q,
    const Tracequery__V1__Search *s, const ch_window *w, uint32_t k,
    uint8_t (*ids)[16], uint64_t *bound, size_t *n, size_t *n_ok);

response *ch_query_get_trace(ch_query_ctx *q,
    const Tracequery__V1__GetTrace *g);
response *ch_query_search(ch_query_ctx *q, const Tracequery__V1__Search *s);
response *ch_query_slow(ch_query_ctx *q, const Tracequery__V1__Slow *s);
response *ch_query_services(ch_query_ctx *q);
response *ch_query_operations(ch_query_ctx *q,
    const Tracequery__V1__ListOperations *lo);
response *ch_query_dependencies(ch_query_ctx *q,
    const Tracequery__V1__Dependencies *d);
struct ch_arrivals;
/* ch_query_tail answers Tail from the traces this collector shipped. */
response *ch_query_tail(ch_query_ctx *q, struct ch_arrivals *a,
    const Tracequery__V1__Tail *t);

/* The reply decoders (RowBinary from the server: untrusted, fuzzed by
 * tests/fuzz/fuzz_clickhouse_reply.c). Each appends what it decoded to
 * the result and returns false when the reply is malformed. */
bool ch_query_trace_decode(const uint8_t *p, size_t len,
    Tracequery__V1__TraceResult *tr);
bool ch_query_search_decode(const uint8_t *p, size_t len,
    Tracequery__V1__SearchResult *sr);
bool ch_query_slow_decode_top(const uint8_t *p, size_t len,
    Tracequery__V1__SlowResult *sr);
/* The candidates' (trace_id, origin, span) rows: the traces with a span
 * matching every attribute filter of s appended to *matched (*n). */
bool ch_query_attr_decode(const uint8_t *p, size_t len,
    const Tracequery__V1__Search *s, uint8_t (**matched)[16], size_t *n);
struct hist;
bool ch_query_deps_decode(const uint8_t *p, size_t len,
    Tracequery__V1__DependenciesResult *dr);
/* all (NULL: none) sums every pair's histogram. */
bool ch_query_slow_decode_hists(const uint8_t *p, size_t len,
    Tracequery__V1__SlowResult *sr, struct hist *all);

#endif /* COLLECTOR_CLICKHOUSE_CH_QUERY_H */
