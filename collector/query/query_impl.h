/*
 * query_impl.h - the query engine's private header (query.h is its API):
 * the per-query context, a loaded trace, the search window, the duration
 * index's hits and cursors, and what each file of the room offers the
 * others.
 */
#ifndef COLLECTOR_QUERY_IMPL_H
#define COLLECTOR_QUERY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "common.h"
#include "daemon/stats.h"
#include "format/attr_text.h"
#include "format/hist.h"
#include "format/keys.h"
#include "format/postings.h"
#include "format/span_block.h"
#include "hash_set.h"
#include "index/index.h"
#include "otlp_types.h"
#include "query/query.h"

typedef Tracequery__V1__Response response;

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000
#define SEARCH_BUDGET 5000   /* candidate traces checked per search */
#define COUNT_BUDGET 100000  /* traces a count takes from postings alone */
#define COUNT_LOAD_BUDGET 2000 /* traces a count loads to check */
#define DUR_BUDGET 20000     /* duration entries read per search */
#define STATUS_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR

/* An origin (resource + scope) loaded once per query. */
typedef struct origin {
	uint64_t hash;
	ResourceSpans *rs; /* NULL when missing from the catalog */
	const char *svc;
	uint64_t res_hash;  /* identifies the resource alone */
} origin;

typedef struct qctx {
	store *st;
	uint64_t cutoff;
	uint64_t now;
	origin *origins;
	size_t n_origins, cap_origins;
	dict_reader *dict;   /* the postings' trace dictionaries */
	tref *tdec;          /* a record's decoded postings */
	size_t n_tdec, cap_tdec;
	dref *ddec;
	size_t n_ddec, cap_ddec;
} qctx;

typedef struct lspan {
	Span *sp;
	origin *o; /* index into q->origins is stable: see qctx_origin */
	size_t oi;
} lspan;

typedef struct ltrace {
	lspan *spans;
	size_t n, cap;
} ltrace;

/* Appends to a malloc'd pointer array. */
#define PUSH(arr, n, v)                                                  \
	do {                                                             \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr));     \
		(arr)[(n)++] = (v);                                      \
	} while (0)

/* Called for each span of a trace's blocks. */
typedef void (*ltrace_visit)(qctx *q, const uint8_t *trace_id,
    const span_block_entry *e, void *arg);

typedef struct window {
	uint64_t from, to; /* inclusive span-start bounds */
} window;

typedef struct results {
	Tracequery__V1__TraceSummary **v;
	size_t n;
	size_t limit;
	size_t checked;
	hash_set seen; /* the traces considered (hash64 of their IDs) */
	/* Count the candidates without loading them: the postings alone
	 * answer the filter (search_count). */
	bool postings_only;
	size_t load_budget; /* candidates loaded at most; 0: SEARCH_BUDGET */
} results;

/* One duration-index hit. Its trace ID and start come from its flush's
 * dictionary, read only for the hits a query keeps
 * (duration_hit_resolve): a slow top 20 reads hundreds of postings and
 * needs 20 traces. It has no span ID: slow looks for it in the trace
 * (slow_find_span_id). */
typedef struct dhit {
	uint64_t dur_ns;
	uint64_t start_ns;                  /* once resolved */
	uint8_t trace_id[KEY_TRACE_ID_LEN]; /* once resolved */
	uint32_t pair; /* which (service, operation) */
	uint32_t hour, ord;
	uint64_t flush, off_ns;
	bool resolved;
} dhit;

typedef struct dhits {
	dhit *v;
	size_t n, cap;
	bool truncated; /* a budget stopped the scan */
} dhits;

typedef struct svc_op {
	char *svc;
	char *op;
} svc_op;

/* The duration records of one pair and hour: the lists' first records
 * (D) and the rest (IDX_DUR_TAIL), each with the
 * [hour][type][service][operation] prefix and an iterator made on first
 * use (most scans never read a tail, and every iterator costs a seek in
 * every level of the tree). */
typedef struct dur_cursor {
	qctx *q;
	store_iter *it[2];
	keybuf prefix[2];
} dur_cursor;

/* What one minute's scan asks for. */
typedef struct dur_ask {
	uint32_t pair;
	const window *w;
	uint64_t min_ns, max_ns;
	size_t cap, budget;
} dur_ask;

/*
 * The n longest durations found so far over every pair and minute
 * (longest first): once there are n, nothing shorter than the last can be
 * in a top-n answer, so the scan raises its lower bound to it and skips
 * whole records by their keys.
 */
typedef struct dur_floor {
	uint64_t *v;
	size_t n, cap;
} dur_floor;

/* The longest span of one pair in one minute, from its histogram. */
typedef struct minute_max {
	uint64_t max_ns;
	uint64_t minute_ns; /* the minute's start */
	uint32_t pair;
} minute_max;

typedef struct minute_maxes {
	minute_max *v;
	size_t n, cap;
} minute_maxes;

/* qctx.c */
size_t qctx_origin(qctx *q, uint64_t hash);
void qctx_fini(qctx *q);
window qctx_window(qctx *q, uint64_t start, uint64_t end);
void qctx_init(qctx *q, store *st, uint64_t retention_ns);

/* ltrace.c */
void ltrace_free(ltrace *t);
/* Visits every span of a trace's unexpired blocks, minute by minute;
 * returns the number of blocks. The entries point into an iterator's
 * value: valid only during the call. */
size_t ltrace_walk(qctx *q, const uint8_t *trace_id, ltrace_visit visit,
    void *arg);
/* Loads every unexpired span of a trace; returns the number loaded. */
size_t ltrace_load(qctx *q, const uint8_t *trace_id, ltrace *t);

/* get_trace.c */
response *get_trace(qctx *q, const Tracequery__V1__GetTrace *g);

/* catalog.c */
size_t catalog_list_services(qctx *q, char ***names);
size_t catalog_list_ops(qctx *q, const char *svc, char ***names,
    uint8_t **kinds);
void catalog_free_names(char **names, size_t n);
response *catalog_services(qctx *q);
response *catalog_operations(qctx *q,
    const Tracequery__V1__ListOperations *lo);

/* search.c */
/* Loads and checks one candidate; returns true when the search is done. */
bool search_consider(qctx *q, results *res, const uint8_t *trace_id,
    const Tracequery__V1__Search *s, const window *w);
/* A BAD_REQUEST response when s cannot be answered, else NULL. */
response *search_refuse(const Tracequery__V1__Search *s);
response *search(qctx *q, const Tracequery__V1__Search *s);

/* tail.c */
response *tail(qctx *q, const Tracequery__V1__Tail *t);

/* search_duration.c */
/*
 * Candidates from the duration index. LONGEST: the longest spans of each
 * minute, checked longest first. A span-duration bound (newest first):
 * minute by minute from the newest, every pair, checking the hits of a
 * minute before reading the next, so a search stops as soon as it has its
 * results. Returns false when the bound matched too many spans to be
 * useful (the caller then walks the time indexes instead).
 */
bool search_duration(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, bool longest);

/* duration.c */
/* The (service, operation) pairs a filter selects. */
size_t duration_pairs(qctx *q, const char *svc, const char *op, svc_op **out);
void duration_pairs_free(svc_op *v, size_t n);
void duration_open(qctx *q, const svc_op *pair, uint32_t h, dur_cursor *c);
void duration_close(dur_cursor *c);
/* Fills in h's trace ID and start (once); false when the dictionary lacks
 * its trace (a crash between an index flush's parts). */
bool duration_hit_resolve(qctx *q, dhit *h);
/* Resolves every hit, dropping those the dictionaries lack. */
void duration_resolve_all(qctx *q, dhits *hits);
int duration_cmp_longest(const void *a, const void *b);
/*
 * Reads minute m of an hour (see scan_part): the lists' first records,
 * then the rest only when one of them could still make the cut. The first
 * records of consecutive minutes are neighbours on disk and the rest are
 * not even touched, so the common question (the slowest few) reads few
 * blocks however many spans a minute holds.
 */
bool duration_scan_minute(dur_cursor *c, int m, bool ascending,
    const dur_ask *a, dhits *out);
void duration_floor_add(dur_floor *f, uint64_t d);
/* Orders hits by start, newest first. */
int duration_cmp_newest(const void *a, const void *b);
/* Sums pair's histograms over w's minutes into h (when not NULL); with
 * mm, also lists each minute's longest span of at most cap_ns (0: any). */
void duration_hist_window(qctx *q, const svc_op *pair, uint32_t pi,
    const window *w, hist *h, minute_maxes *mm, uint64_t cap_ns);
/* Orders mm's minutes longest first (slow and search --longest visit them
 * so). */
void duration_sort_minutes(minute_maxes *mm);
/* Reads the duration lists of one (pair, minute) candidate into hits. */
void duration_scan_candidate(qctx *q, const svc_op *pairs, const minute_max *c,
    const dur_ask *a, dhits *hits);

/* search_most.c */
/* Candidates for MOST_SPANS and MOST_ERRORS: the traces of the window's
 * newest spans (at most a million read), most first; fills sr's
 * spans_ranked and ranked_truncated. */
void search_most(qctx *q, results *res, const Tracequery__V1__Search *s,
    const window *w, Tracequery__V1__SearchResult *sr);

/* slow.c */
response *slow(qctx *q, const Tracequery__V1__Slow *s);

#endif /* COLLECTOR_QUERY_IMPL_H */
