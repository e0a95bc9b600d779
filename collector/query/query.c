/*
 * query.c - the query engine's entry points (query.h): each runs one
 * question with a fresh context (qctx.c) over the store's layout (keys.h,
 * docs/STORAGE.md): get_trace.c, catalog.c, search.c (with
 * search_duration.c and duration.c), slow.c, deps.c, tail.c.
 */
#include <string.h>

#include "query/deps.h"
#include "query/query_impl.h"

/* A store read failed while r was computed: r may miss what that read
 * held, so it is replaced by an error rather than presented as complete. */
static response *
unless_read_failed(response *r, uint64_t errors_before)
{
	if (store_read_errors() == errors_before)
		return r;
	STATS_INC(query_read_errors, 1);
	backend_response_free(r);
	return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__INTERNAL,
	    "a store read failed during the query (see the collector's log "
	    "and store.* stats); no partial answer is given");
}

/* Runs one question with a fresh query context. */
#define QUERY_RUN(st, retention_ns, call)                               \
	do {                                                            \
		uint64_t errors = store_read_errors();                  \
		qctx q;                                                 \
		response *r;                                            \
									\
		qctx_init(&q, st, retention_ns);                        \
		r = call;                                               \
		qctx_fini(&q);                                          \
		return unless_read_failed(r, errors);                   \
	} while (0)

response *
query_get_trace(store *st, uint64_t retention_ns,
    const Tracequery__V1__GetTrace *g)
{
	QUERY_RUN(st, retention_ns, get_trace(&q, g));
}

response *
query_search(store *st, uint64_t retention_ns, const Tracequery__V1__Search *s)
{
	QUERY_RUN(st, retention_ns, search(&q, s));
}

response *
query_slow(store *st, uint64_t retention_ns, const Tracequery__V1__Slow *s)
{
	QUERY_RUN(st, retention_ns, slow(&q, s));
}

response *
query_services(store *st, uint64_t retention_ns)
{
	QUERY_RUN(st, retention_ns, catalog_services(&q));
}

response *
query_operations(store *st, uint64_t retention_ns,
    const Tracequery__V1__ListOperations *lo)
{
	QUERY_RUN(st, retention_ns, catalog_operations(&q, lo));
}

response *
query_tail(store *st, uint64_t retention_ns, const Tracequery__V1__Tail *t)
{
	QUERY_RUN(st, retention_ns, tail(&q, t));
}

response *
query_dependencies(store *st, uint64_t retention_ns,
    const Tracequery__V1__Dependencies *d)
{
	uint64_t errors = store_read_errors(), now = now_unix_ns();
	uint64_t cutoff = retention_ns != 0 && retention_ns < now ?
	    now - retention_ns : 0;
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");

	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES;
	r->dependencies = deps_compute(st, cutoff, d->start_unix_nano,
	    d->end_unix_nano ? d->end_unix_nano : now);
	return unless_read_failed(r, errors);
}
