/*
 * Unit tests for collector/query/tail.c: spans go in through the pipeline
 * of a real RocksDB backend, each request indexed by its own flush, and
 * the Tail cursor must return every trace exactly once, in order of
 * arrival, including a trace whose late spans started long before. The
 * store they leave (over 6,000 traces, one with twice the spans) then
 * serves the whole-window searches: a count past its budget, most spans
 * and most errors (search.c, search_most.c).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "pipeline/pipeline.h"

#define STEP_NS 10000000ULL /* 10 ms between traces */
#define MIN_NS 60000000000ULL

typedef Tracequery__V1__Response response;

static store_fixture fx;
static pipeline *pl;
static uint64_t base_ns;

static int
setup(void **state)
{
	pipeline_limits lim;
	char *cause = NULL;

	(void)state;
	if (store_fixture_open(&fx, "query-tail") != 0)
		return -1;
	pipeline_limits_default(&lim);
	if (pipeline_new(&pl, store_fixture_backend(&fx), &lim, &cause) != 0) {
		fprintf(stderr, "setup: %s\n", cause);
		free(cause);
		return -1;
	}
	base_ns = now_unix_ns() - 5 * MIN_NS;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pipeline_free(pl);
	store_fixture_close(&fx);
	return 0;
}

/* Sends traces [t0, t0 + n) of seed, then writes their index (a flush). */
static void
send_traces(uint64_t seed, uint64_t t0, uint64_t n)
{
	sg_request *req = sg_request_new(seed, t0, n, base_ns, STEP_NS);
	pipeline_result res;

	pipeline_submit_request(pl, req, &res);
	sg_request_free(req);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(backend_sync(fx.be, 0), 0);
}

/* Asks Tail from from_flush with filter (NULL: none). */
static response *
ask(uint64_t from_flush, Tracequery__V1__Search *filter)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Tail t;

	tracequery__v1__request__init(&req);
	tracequery__v1__tail__init(&t);
	t.from_flush = from_flush;
	t.filter = filter;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_TAIL;
	req.tail = &t;
	return backend_query(fx.be, &req);
}

/* ask, which must answer OK. */
static response *
tail(uint64_t from_flush, Tracequery__V1__Search *filter)
{
	response *r = ask(from_flush, filter);

	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->result_case,
	    TRACEQUERY__V1__RESPONSE__RESULT_TAIL);
	return r;
}

/* Is summary ts trace t of seed? */
static bool
is_trace(const Tracequery__V1__TraceSummary *ts, uint64_t seed, uint64_t t)
{
	sg_info in;

	sg_describe(seed, t, 0, base_ns, STEP_NS, &in);
	return ts->trace_id.len == 16 &&
	    memcmp(ts->trace_id.data, in.trace_id, 16) == 0;
}

/* Does trace t of seed hold a span of operation op? */
static bool
has_op(uint64_t seed, uint64_t t, int op)
{
	for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
		sg_info in;

		sg_describe(seed, t, j, base_ns, STEP_NS, &in);
		if (in.op == op)
			return true;
	}
	return false;
}

/* Starting now, then a request: its traces in order, once; then
 * nothing new. */
static void
test_tail_follows_flushes(void **state)
{
	response *r;
	uint64_t next;

	(void)state;
	send_traces(1, 0, 5);
	r = tail(0, NULL);
	assert_int_equal(r->tail->n_traces, 0);
	next = r->tail->next_flush;
	assert_true(next > 1);
	backend_response_free(r);

	send_traces(1, 5, 10);
	r = tail(next, NULL);
	assert_int_equal(r->tail->n_traces, 10);
	for (size_t i = 0; i < 10; i++)
		assert_true(is_trace(r->tail->traces[i], 1, 5 + i));
	assert_false(r->tail->more);
	assert_int_equal(r->tail->next_flush, next + 1);
	next = r->tail->next_flush;
	backend_response_free(r);

	r = tail(next, NULL);
	assert_int_equal(r->tail->n_traces, 0);
	assert_int_equal(r->tail->next_flush, next);
	backend_response_free(r);
}

/* Spans that started minutes ago and arrive now bring their trace back,
 * with every span it has. */
static void
test_tail_late_spans(void **state)
{
	sg_request *req = sg_request_new(2, 0, 1, base_ns, STEP_NS);
	pipeline_result res;
	response *r;
	uint64_t next;

	(void)state;
	pipeline_submit_request(pl, req, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(backend_sync(fx.be, 0), 0);
	r = tail(0, NULL);
	next = r->tail->next_flush;
	backend_response_free(r);

	/* The same trace, other span IDs, started 5 minutes ago. */
	for (size_t i = 0; i < req->n_resource_spans; i++) {
		sg_ss *ss = req->resource_spans[i]->scope_spans[0];

		for (size_t k = 0; k < ss->n_spans; k++) {
			ss->spans[k]->span_id.data[0] ^= 0x80;
			if (ss->spans[k]->parent_span_id.len == 8)
				ss->spans[k]->parent_span_id.data[0] ^= 0x80;
		}
	}
	pipeline_submit_request(pl, req, &res);
	sg_request_free(req);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(backend_sync(fx.be, 0), 0);
	r = tail(next, NULL);
	assert_int_equal(r->tail->n_traces, 1);
	assert_true(is_trace(r->tail->traces[0], 2, 0));
	assert_int_equal(r->tail->traces[0]->span_count,
	    2 * SPANGEN_PER_TRACE);
	backend_response_free(r);
}

/* The filter holds as in a search: service and operation on one span. */
static void
test_tail_filter(void **state)
{
	Tracequery__V1__Search f;
	Tracequery__V1__AttrFilter af, *afp = &af;
	response *r;
	uint64_t next;
	size_t want = 0;

	(void)state;
	r = tail(0, NULL);
	next = r->tail->next_flush;
	backend_response_free(r);
	send_traces(3, 0, 40);
	tracequery__v1__search__init(&f);
	f.service = "svc-3";
	f.operation = "op-13";
	r = tail(next, &f);
	for (uint64_t t = 0; t < 40; t++)
		if (has_op(3, t, 13)) {
			assert_true(want < r->tail->n_traces);
			assert_true(is_trace(r->tail->traces[want], 3, t));
			want++;
		}
	assert_true(want > 0 && want < 40);
	assert_int_equal(r->tail->n_traces, want);
	backend_response_free(r);

	/* A filter a search refuses is refused here too. */
	tracequery__v1__attr_filter__init(&af);
	af.value = "x";
	f.service = "";
	f.operation = "";
	f.attributes = &afp;
	f.n_attributes = 1;
	r = ask(next, &f);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST);
	backend_response_free(r);
}

/* More flushes than one answer's budget: answers flagged `more` go on
 * where the last stopped, and together hold every trace once. */
static void
test_tail_budget_continues(void **state)
{
	enum { N = 6000, PER = 250 };
	uint8_t *seen = calloc(N, 1);
	response *r;
	uint64_t next;
	size_t got = 0, answers = 0;
	bool more = true;

	(void)state;
	r = tail(0, NULL);
	next = r->tail->next_flush;
	backend_response_free(r);
	for (uint64_t t = 0; t < N; t += PER)
		send_traces(4, t, PER);
	while (more) {
		r = tail(next, NULL);
		answers++;
		for (size_t i = 0; i < r->tail->n_traces; i++) {
			uint64_t t = got + i;

			assert_true(t < N);
			assert_true(is_trace(r->tail->traces[i], 4, t));
			seen[t]++;
		}
		got += r->tail->n_traces;
		more = r->tail->more;
		assert_true(r->tail->next_flush > next);
		next = r->tail->next_flush;
		backend_response_free(r);
	}
	assert_int_equal(got, N);
	assert_true(answers >= 2);
	for (size_t t = 0; t < N; t++)
		assert_int_equal(seen[t], 1);
	free(seen);
}

static response *
run_search(Tracequery__V1__Search *se)
{
	Tracequery__V1__Request req;

	tracequery__v1__request__init(&req);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = se;
	return backend_query(fx.be, &req);
}

static response *
search_order(Tracequery__V1__Search__Order order, uint32_t limit)
{
	Tracequery__V1__Search se;

	tracequery__v1__search__init(&se);
	se.order = order;
	se.limit = limit;
	return run_search(&se);
}

/* The store now holds 6,056 traces. Counted from the postings (a filter
 * they answer) that is exact; a filter that needs each trace loaded
 * stops at 2,000 checked, and the total is then a lower bound, marked as
 * one. (Here, since this is the tests' store that big.) */
static void
test_search_count_budget(void **state)
{
	Tracequery__V1__Search se;
	response *r;

	(void)state;
	tracequery__v1__search__init(&se);
	se.count_total = true;
	r = run_search(&se);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->search->n_traces, 20);
	assert_int_equal(r->search->total, 15 + 1 + 40 + 6000);
	assert_false(r->search->total_is_lower_bound);
	backend_response_free(r);

	se.min_trace_duration_ns = 1;	/* every trace, but loaded to know */
	r = run_search(&se);
	assert_int_equal(r->search->n_traces, 20);
	assert_true(r->search->total_is_lower_bound);
	assert_true(r->search->total >= 2000);
	assert_true(r->search->total < 6000);
	backend_response_free(r);
}

/* Error spans of trace t of seed. */
static uint32_t
errors_of(uint64_t seed, uint64_t t)
{
	uint32_t n = 0;

	for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
		sg_info in;

		sg_describe(seed, t, j, base_ns, STEP_NS, &in);
		n += (uint32_t)in.error;
	}
	return n;
}

/* Most spans and most errors over the whole window: the trace that got a
 * second set of spans (test_tail_late_spans) has the most; the most
 * errors are those of the worst generated trace; every span counted. */
static void
test_search_most(void **state)
{
	const uint64_t n_traces[] = { 0, 15, 1, 40, 6000 };
	uint64_t spans = 0;
	uint32_t worst = 0;
	response *r;

	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		for (uint64_t t = 0; t < n_traces[seed]; t++) {
			uint32_t e = errors_of(seed, t) *
			    (seed == 2 ? 2 : 1);

			worst = e > worst ? e : worst;
			spans += SPANGEN_PER_TRACE * (seed == 2 ? 2 : 1);
		}
	r = search_order(TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS, 3);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->search->n_traces, 3);
	assert_true(is_trace(r->search->traces[0], 2, 0));
	assert_int_equal(r->search->traces[0]->span_count,
	    2 * SPANGEN_PER_TRACE);
	assert_int_equal(r->search->spans_ranked, spans);
	assert_false(r->search->ranked_truncated);
	backend_response_free(r);

	r = search_order(TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS, 10);
	assert_int_equal(r->search->n_traces, 10);
	assert_true(worst >= 2);
	assert_int_equal(r->search->traces[0]->error_count, worst);
	for (size_t i = 1; i < 10; i++)
		assert_true(r->search->traces[i - 1]->error_count >=
		    r->search->traces[i]->error_count);
	backend_response_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_follows_flushes),
		cmocka_unit_test(test_tail_late_spans),
		cmocka_unit_test(test_tail_filter),
		cmocka_unit_test(test_tail_budget_continues),
		cmocka_unit_test(test_search_count_budget),
		cmocka_unit_test(test_search_most),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
