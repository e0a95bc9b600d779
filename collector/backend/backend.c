/*
 * backend.c - the seam's entry points (backend.h): forwards each call to
 * the backend's operations; Response and statistics helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "common.h"
#include "format/hist.h"

typedef Tracequery__V1__Response response;

void
backend_options_default(backend_options *o)
{
	memset(o, 0, sizeof *o);
	o->index_flush_spans = 32768;
	o->index_flush_ms = 1000;
	o->idle_flush_ms = 5000;
	o->min_free_bytes = 16u << 20;
}

void
backend_close(backend *b)
{
	if (b != NULL)
		b->ops->close(b);
}

const char *
backend_name(const backend *b)
{
	return b->ops->name;
}

void
backend_write(backend *b, const backend_batch *batch, backend_result *res)
{
	memset(res, 0, sizeof *res);
	b->ops->write(b, batch, res);
}

int
backend_sync(backend *b, uint32_t timeout_ms)
{
	return b->ops->sync(b, timeout_ms);
}

void
backend_flush(backend *b)
{
	b->ops->flush(b);
}

int
backend_retention_run(backend *b, uint64_t now_unix_ns, uint64_t retention_ns,
    char **cause)
{
	return b->ops->retention_run(b, now_unix_ns, retention_ns, cause);
}

response *
backend_get_trace(backend *b, const Tracequery__V1__GetTrace *q)
{
	return b->ops->get_trace(b, q);
}

response *
backend_search(backend *b, const Tracequery__V1__Search *q)
{
	return b->ops->search(b, q);
}

response *
backend_slow(backend *b, const Tracequery__V1__Slow *q)
{
	return b->ops->slow(b, q);
}

response *
backend_services(backend *b, const Tracequery__V1__ListServices *q)
{
	return b->ops->services(b, q);
}

response *
backend_operations(backend *b, const Tracequery__V1__ListOperations *q)
{
	return b->ops->operations(b, q);
}

response *
backend_dependencies(backend *b, const Tracequery__V1__Dependencies *q)
{
	if (b->ops->dependencies == NULL)
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "dependencies are not available from this backend");
	return b->ops->dependencies(b, q);
}

response *
backend_tail(backend *b, const Tracequery__V1__Tail *q)
{
	if (b->ops->tail == NULL)
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "tail is not available from this backend");
	return b->ops->tail(b, q);
}

void
backend_stats(backend *b, Tracequery__V1__StatsResult *r)
{
	b->ops->stats(b, r);
}

/* Answers GetStats with the backend's own figures. */
static response *
stats_response(backend *b)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK,
	    "");

	r->stats = xmalloc(sizeof *r->stats);
	tracequery__v1__stats_result__init(r->stats);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_STATS;
	backend_stats(b, r->stats);
	return r;
}

response *
backend_query(backend *b, const Tracequery__V1__Request *req)
{
	switch (req->query_case) {
	case TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE:
		return backend_get_trace(b, req->get_trace);
	case TRACEQUERY__V1__REQUEST__QUERY_SEARCH:
		return backend_search(b, req->search);
	case TRACEQUERY__V1__REQUEST__QUERY_SLOW:
		return backend_slow(b, req->slow);
	case TRACEQUERY__V1__REQUEST__QUERY_SERVICES:
		return backend_services(b, req->services);
	case TRACEQUERY__V1__REQUEST__QUERY_OPERATIONS:
		return backend_operations(b, req->operations);
	case TRACEQUERY__V1__REQUEST__QUERY_DEPENDENCIES:
		return backend_dependencies(b, req->dependencies);
	case TRACEQUERY__V1__REQUEST__QUERY_TAIL:
		return backend_tail(b, req->tail);
	case TRACEQUERY__V1__REQUEST__QUERY_STATS:
		return stats_response(b);
	default:
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "empty or unknown request");
	}
}

response *
backend_response_new(Tracequery__V1__Response__Code code, const char *message)
{
	response *r = xmalloc(sizeof *r);

	tracequery__v1__response__init(r);
	r->code = code;
	r->message = xstrdup(message);
	return r;
}

void
backend_response_free(response *r)
{
	if (r != NULL)
		tracequery__v1__response__free_unpacked(r, NULL);
}

void
backend_stat_add(Tracequery__V1__StatsResult *r, const char *name,
    double value, const char *unit)
{
	Tracequery__V1__Stat *st = xmalloc(sizeof *st);

	tracequery__v1__stat__init(st);
	st->name = xstrdup(name);
	st->unit = xstrdup(unit);
	st->value = value;
	r->stats = xrealloc(r->stats, (r->n_stats + 1) * sizeof *r->stats);
	r->stats[r->n_stats++] = st;
}

void
backend_slow_histogram(Tracequery__V1__SlowResult *sr, const hist *h)
{
	for (int b = 0; b < HIST_BUCKETS; b += 8) {
		uint64_t c = 0;
		Tracequery__V1__HistogramBucket *hb;

		for (int j = b; j < b + 8 && j < HIST_BUCKETS; j++)
			c += h->n[j];
		if (c == 0)
			continue;
		hb = xmalloc(sizeof *hb);
		tracequery__v1__histogram_bucket__init(hb);
		hb->upper_ns = hist_upper(b + 7 < HIST_BUCKETS ? b + 7 :
		    HIST_BUCKETS - 1);
		hb->count = c;
		sr->histogram = xrealloc(sr->histogram,
		    (sr->n_histogram + 1) * sizeof *sr->histogram);
		sr->histogram[sr->n_histogram++] = hb;
	}
}
