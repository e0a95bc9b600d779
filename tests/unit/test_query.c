/*
 * Unit tests for collector/query/: spans go in through the pipeline,
 * questions through the RocksDB backend (backend_query), and the answers are checked against a
 * brute-force pass over the generator (tests/tools/spangen.h).
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seed_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "pipeline/pipeline.h"
#include "format/keys.h"

#define SEEDS 2
#define TRACES 150
#define STEP_NS 10000000ULL /* 10 ms between traces */

typedef Tracequery__V1__Response response;

static store_fixture fx;
static store *st;
static uint64_t base_ns;

static int
setup(void **state)
{
	(void)state;
	if (store_fixture_open(&fx, "query") != 0)
		return -1;
	st = fx.st;
	base_ns = now_unix_ns() - 20ULL * 60 * 1000000000ULL;
	for (uint64_t s = 1; s <= SEEDS; s++)
		if (seed_fixture_ingest(&fx, s, TRACES, 10, base_ns,
		    STEP_NS) != 0)
			return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	store_fixture_close(&fx);
	return 0;
}

static response *
run(Tracequery__V1__Request *req)
{
	backend_sync(fx.be, 0);
	return backend_query(fx.be, req);
}

static response *
search(Tracequery__V1__Search *s)
{
	Tracequery__V1__Request req;

	tracequery__v1__request__init(&req);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = s;
	return run(&req);
}

static void
test_get_trace_groups_by_resource(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	sg_info in[SPANGEN_PER_TRACE];
	response *r;
	size_t spans = 0;
	bool seen[SPANGEN_SERVICES] = { 0 };
	size_t n_svcs = 0;

	(void)state;
	for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
		sg_describe(1, 42, j, base_ns, STEP_NS, &in[j]);
		if (!seen[in[j].service]) {
			seen[in[j].service] = true;
			n_svcs++;
		}
	}
	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	g.trace_id.data = in[0].trace_id;
	g.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &g;
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	/* One ResourceSpans per service, resource and scope kept. */
	assert_int_equal(r->trace->n_resource_spans, n_svcs);
	for (size_t i = 0; i < r->trace->n_resource_spans; i++) {
		Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
		    r->trace->resource_spans[i];

		assert_non_null(rs->resource);
		assert_int_equal(rs->resource->n_attributes, 3);
		assert_int_equal(rs->n_scope_spans, 1);
		assert_string_equal(rs->scope_spans[0]->scope->name, "spangen");
		for (size_t k = 0; k < rs->scope_spans[0]->n_spans; k++) {
			Opentelemetry__Proto__Trace__V1__Span *sp =
			    rs->scope_spans[0]->spans[k];
			bool match = false;

			assert_memory_equal(sp->trace_id.data, in[0].trace_id,
			    16);
			for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
				if (memcmp(sp->span_id.data, in[j].span_id,
				    8) != 0)
					continue;
				match = true;
				assert_true(sp->start_time_unix_nano ==
				    in[j].start_ns);
				assert_true(sp->end_time_unix_nano ==
				    in[j].end_ns);
				assert_int_equal(sp->n_attributes,
				    SPANGEN_ATTRS);
			}
			assert_true(match);
			spans++;
		}
	}
	assert_int_equal(spans, SPANGEN_PER_TRACE);
	backend_response_free(r);

	/* Unknown and malformed IDs. */
	g.trace_id.data = (uint8_t *)(uintptr_t)"0123456789abcdef";
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND);
	backend_response_free(r);
	g.trace_id.len = 3;
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST);
	backend_response_free(r);
}

static void
test_services_and_operations(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__ListServices ls;
	Tracequery__V1__ListOperations lo;
	response *r;

	(void)state;
	tracequery__v1__request__init(&req);
	tracequery__v1__list_services__init(&ls);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
	req.services = &ls;
	r = run(&req);
	assert_int_equal(r->services->n_services, SPANGEN_SERVICES);
	assert_string_equal(r->services->services[0], "svc-0");
	backend_response_free(r);
	tracequery__v1__list_operations__init(&lo);
	lo.service = "svc-2";
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_OPERATIONS;
	req.operations = &lo;
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->operations->n_operations, 10);
	for (size_t i = 0; i < r->operations->n_operations; i++)
		assert_int_equal(atoi(r->operations->operations[i]->name + 3) %
		    5, 2);
	backend_response_free(r);
	lo.service = "nope";
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND);
	backend_response_free(r);
}

/* Brute force: does trace (s, t) have one span matching all of these? */
static bool
expect_span(uint64_t s, uint64_t t, int svc, int op, int user,
    uint64_t min_ns, bool errors)
{
	for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
		sg_info in;

		sg_describe(s, t, j, base_ns, STEP_NS, &in);
		if ((svc < 0 || in.service == svc) && (op < 0 || in.op == op) &&
		    (user < 0 || in.user == user) &&
		    in.end_ns - in.start_ns >= min_ns &&
		    (!errors || in.error))
			return true;
	}
	return false;
}

static size_t
expect_count(int svc, int op, int user, uint64_t min_ns, bool errors)
{
	size_t n = 0;

	for (uint64_t s = 1; s <= SEEDS; s++)
		for (uint64_t t = 0; t < TRACES; t++)
			n += expect_span(s, t, svc, op, user, min_ns, errors);
	return n;
}

static void
check_search(Tracequery__V1__Search *se, int svc, int op, int user,
    uint64_t min_ns, bool errors)
{
	response *r;
	size_t want = expect_count(svc, op, user, min_ns, errors);

	se->limit = 1000;
	r = search(se);
	assert_non_null(r->search);
	assert_int_equal(r->search->n_traces, want);
	for (size_t i = 1; i < r->search->n_traces; i++)
		if (se->order == TRACEQUERY__V1__SEARCH__ORDER__NEWEST)
			assert_true(r->search->traces[i - 1]->start_unix_nano >=
			    r->search->traces[i]->start_unix_nano);
	backend_response_free(r);
}

/* count_total: a search of 5 also says how many match in all, exactly
 * while the candidates stay under the budget, in either order. */
static void
test_search_count_total(void **state)
{
	Tracequery__V1__Search se;
	response *r;

	(void)state;
	tracequery__v1__search__init(&se);
	se.count_total = true;
	se.limit = 5;
	se.service = "svc-3";
	for (int order = 0; order < 2; order++) {
		se.order = order ? TRACEQUERY__V1__SEARCH__ORDER__LONGEST :
		    TRACEQUERY__V1__SEARCH__ORDER__NEWEST;
		r = search(&se);
		assert_int_equal(r->search->n_traces, 5);
		assert_int_equal(r->search->total,
		    expect_count(3, -1, -1, 0, false));
		assert_false(r->search->total_is_lower_bound);
		backend_response_free(r);
	}
	se.order = TRACEQUERY__V1__SEARCH__ORDER__NEWEST;
	se.service = "";
	se.errors_only = true;
	r = search(&se);
	assert_int_equal(r->search->total, expect_count(-1, -1, -1, 0, true));
	backend_response_free(r);
	se.count_total = false;
	r = search(&se);
	assert_int_equal(r->search->total, 0);
	backend_response_free(r);
}

static void
test_search_filters(void **state)
{
	Tracequery__V1__Search se;
	Tracequery__V1__AttrFilter af, *afp = &af;

	(void)state;
	tracequery__v1__search__init(&se);
	se.service = "svc-3";
	check_search(&se, 3, -1, -1, 0, false);
	se.operation = "op-13";
	check_search(&se, 3, 13, -1, 0, false);
	tracequery__v1__search__init(&se);
	se.operation = "op-21";
	check_search(&se, -1, 21, -1, 0, false);
	tracequery__v1__search__init(&se);
	check_search(&se, -1, -1, -1, 0, false);
	se.errors_only = 1;
	check_search(&se, -1, -1, -1, 0, true);
	/* Span-level duration: one span of the trace must be that long. */
	tracequery__v1__search__init(&se);
	se.min_duration_ns = 300000000;
	check_search(&se, -1, -1, -1, 300000000, false);
	se.service = "svc-1";
	check_search(&se, 1, -1, -1, 300000000, false);
	/* Attributes, alone and ANDed with a service on the same span. */
	tracequery__v1__search__init(&se);
	tracequery__v1__attr_filter__init(&af);
	sg_info in;
	sg_describe(2, 77, 3, base_ns, STEP_NS, &in);
	char user[32];
	snprintf(user, sizeof user, "user-%d", in.user);
	af.key = "user.id";
	af.value = user;
	se.attributes = &afp;
	se.n_attributes = 1;
	check_search(&se, -1, -1, in.user, 0, false);
	char svc[16];
	snprintf(svc, sizeof svc, "svc-%d", in.service);
	se.service = svc;
	check_search(&se, in.service, -1, in.user, 0, false);
	/* A numeric attribute matches its decimal text. */
	tracequery__v1__search__init(&se);
	af.key = "http.status_code";
	af.value = "500";
	se.attributes = &afp;
	se.n_attributes = 1;
	check_search(&se, -1, -1, -1, 0, true);
	/* Resource attributes are searchable too. */
	af.key = "host.name";
	af.value = "host-6";
	check_search(&se, 2, -1, -1, 0, false);
}

static void
test_search_trace_level_and_order(void **state)
{
	Tracequery__V1__Search se;
	response *r;

	(void)state;
	tracequery__v1__search__init(&se);
	se.min_trace_duration_ns = 400000000;
	se.limit = 1000;
	r = search(&se);
	assert_true(r->search->n_traces > 0);
	for (size_t i = 0; i < r->search->n_traces; i++)
		assert_true(r->search->traces[i]->duration_ns >= 400000000);
	backend_response_free(r);

	tracequery__v1__search__init(&se);
	se.order = TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	se.limit = 5;
	r = search(&se);
	assert_int_equal(r->search->n_traces, 5);
	for (size_t i = 1; i < r->search->n_traces; i++)
		assert_true(r->search->traces[i - 1]->duration_ns >=
		    r->search->traces[i]->duration_ns);
	backend_response_free(r);

	/* A limit and a window. */
	tracequery__v1__search__init(&se);
	se.limit = 7;
	se.start_unix_nano = base_ns + 50 * STEP_NS;
	se.end_unix_nano = base_ns + 60 * STEP_NS;
	r = search(&se);
	assert_int_equal(r->search->n_traces, 7);
	for (size_t i = 0; i < r->search->n_traces; i++)
		assert_true(r->search->traces[i]->start_unix_nano <=
		    base_ns + 60 * STEP_NS);
	backend_response_free(r);
}

#define ALL_SPANS (SEEDS * TRACES * SPANGEN_PER_TRACE)

/* Describes every span the store holds into all[ALL_SPANS]. */
static void
describe_all(sg_info *all)
{
	size_t n = 0;

	for (uint64_t s = 1; s <= SEEDS; s++)
		for (uint64_t t = 0; t < TRACES; t++)
			for (int j = 0; j < SPANGEN_PER_TRACE; j++)
				sg_describe(s, t, j, base_ns, STEP_NS, &all[n++]);
}

/* Slow's span i is the span of the store it names by trace and span ID,
 * with its service, operation, start and duration, and no span comes
 * twice. */
static void
check_slow_span(const Tracequery__V1__SlowResult *sr, size_t i,
    const sg_info *all)
{
	const Tracequery__V1__SlowSpan *ss = sr->spans[i];
	char svc[16], op[16];
	size_t k;

	assert_int_equal(ss->trace_id.len, 16);
	assert_int_equal(ss->span_id.len, 8);
	for (k = 0; k < ALL_SPANS; k++)
		if (memcmp(all[k].trace_id, ss->trace_id.data, 16) == 0 &&
		    memcmp(all[k].span_id, ss->span_id.data, 8) == 0)
			break;
	assert_true(k < ALL_SPANS);
	snprintf(svc, sizeof svc, "svc-%d", all[k].service);
	snprintf(op, sizeof op, "op-%02d", all[k].op);
	assert_string_equal(ss->service, svc);
	assert_string_equal(ss->name, op);
	assert_true(ss->start_unix_nano == all[k].start_ns);
	assert_true(ss->duration_ns == all[k].end_ns - all[k].start_ns);
	for (size_t j = 0; j < i; j++)
		assert_false(memcmp(sr->spans[j]->trace_id.data,
		    ss->trace_id.data, 16) == 0 &&
		    memcmp(sr->spans[j]->span_id.data, ss->span_id.data,
		    8) == 0);
}

/* Sorts v descending (insertion sort is fine at this size). */
static void
sort_desc(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j] > v[j - 1]; j--) {
			uint64_t x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

static void
test_slow_top_and_percentiles(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Slow sl;
	response *r;
	static sg_info all[ALL_SPANS];
	uint64_t durs[ALL_SPANS];
	size_t n = 0, count_op = 0;

	(void)state;
	describe_all(all);
	for (size_t i = 0; i < ALL_SPANS; i++) {
		if (all[i].service == 4)
			durs[n++] = all[i].end_ns - all[i].start_ns;
		if (all[i].op == 14)
			count_op++;
	}
	sort_desc(durs, n);
	tracequery__v1__request__init(&req);
	tracequery__v1__slow__init(&sl);
	sl.service = "svc-4";
	/* More than a duration list's first record holds (32): the rest
	 * of the lists must be read too. */
	sl.top = 300;
	sl.histogram = 1;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &sl;
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->slow->n_spans, 300);
	for (size_t i = 0; i < 300; i++) {
		assert_true(r->slow->spans[i]->duration_ns == durs[i]);
		assert_string_equal(r->slow->spans[i]->service, "svc-4");
		assert_true(r->slow->spans[i]->start_unix_nano >= base_ns);
		check_slow_span(r->slow, i, all);
	}
	assert_int_equal(r->slow->n_percentiles, 10);
	for (size_t i = 0; i < r->slow->n_percentiles; i++) {
		Tracequery__V1__OperationPercentiles *p =
		    r->slow->percentiles[i];

		assert_true(p->p50_ns <= p->p90_ns);
		assert_true(p->p90_ns <= p->p99_ns);
		assert_true(p->p99_ns <= p->max_ns);
		if (strcmp(p->operation, "op-14") == 0)
			assert_true(p->count == count_op);
	}
	assert_true(r->slow->n_histogram > 0);
	backend_response_free(r);
}

/* A top 20 over a window that cuts the data's minute: exactly the
 * longest spans that start inside it, over every service. */
static void
test_slow_window(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Slow sl;
	response *r;
	static sg_info all[ALL_SPANS];
	uint64_t durs[ALL_SPANS];
	uint64_t from = base_ns + 30 * STEP_NS, to = base_ns + 70 * STEP_NS;
	size_t n = 0;

	(void)state;
	describe_all(all);
	for (size_t i = 0; i < ALL_SPANS; i++)
		if (all[i].start_ns >= from && all[i].start_ns <= to)
			durs[n++] = all[i].end_ns - all[i].start_ns;
	sort_desc(durs, n);
	assert_true(n > 20);
	tracequery__v1__request__init(&req);
	tracequery__v1__slow__init(&sl);
	sl.top = 20;
	sl.start_unix_nano = from;
	sl.end_unix_nano = to;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &sl;
	r = run(&req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->slow->n_spans, 20);
	for (size_t i = 0; i < 20; i++) {
		assert_true(r->slow->spans[i]->duration_ns == durs[i]);
		assert_true(r->slow->spans[i]->start_unix_nano >= from);
		assert_true(r->slow->spans[i]->start_unix_nano <= to);
		check_slow_span(r->slow, i, all);
	}
	backend_response_free(r);
}

/* Order longest: the traces of the longest spans, taken longest first
 * until the limit, over every service (not only the first ones read). */
static void
test_search_longest_traces(void **state)
{
	enum { LIMIT = 7 };
	static sg_info all[ALL_SPANS];
	uint8_t want[LIMIT][16];
	size_t n = ALL_SPANS, nw = 0;
	Tracequery__V1__Search se;
	response *r;

	(void)state;
	describe_all(all);
	while (nw < LIMIT) {
		size_t best = 0;
		bool seen = false;

		for (size_t i = 1; i < n; i++)
			if (all[i].end_ns - all[i].start_ns >
			    all[best].end_ns - all[best].start_ns)
				best = i;
		for (size_t k = 0; k < nw; k++)
			seen |= memcmp(want[k], all[best].trace_id, 16) == 0;
		if (!seen)
			memcpy(want[nw++], all[best].trace_id, 16);
		all[best].end_ns = all[best].start_ns; /* taken */
	}
	tracequery__v1__search__init(&se);
	se.order = TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
	se.limit = LIMIT;
	r = search(&se);
	assert_int_equal(r->search->n_traces, LIMIT);
	for (size_t k = 0; k < LIMIT; k++) {
		bool found = false;

		for (size_t i = 0; i < r->search->n_traces; i++)
			found |= memcmp(r->search->traces[i]->trace_id.data,
			    want[k], 16) == 0;
		assert_true(found);
	}
	backend_response_free(r);
}

/*
 * Spans that look alike to the duration index, which holds no span IDs:
 * slow finds them in the trace by start and duration. One trace whose
 * first ALIKE spans start together and last ALIKE_NS, two of them with
 * names of their own and two with the same name, sent twice (a resent
 * request: every span indexed twice), in a store of its own.
 */
#define ALIKE 4
#define ALIKE_NS 5000000000ULL /* longer than any generated span */

static const char *const alike_names[ALIKE] = { "op-a", "op-b", "op-c",
	"op-c" };
static store_fixture fx_alike;
static sg_info alike[SPANGEN_PER_TRACE]; /* as sent */
static char alike_svc[SPANGEN_PER_TRACE][16];

/* Makes the request's first ALIKE spans alike and records every span. */
static void
make_alike(sg_request *req, uint64_t start_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_resource_spans; i++) {
		sg_rs *rs = req->resource_spans[i];
		sg_ss *ss = rs->scope_spans[0];

		for (size_t j = 0; j < ss->n_spans; j++, n++) {
			sg_span *sp = ss->spans[j];

			assert_true(n < SPANGEN_PER_TRACE);
			if (n < ALIKE) {
				free(sp->name);
				sp->name = sg_strdup(alike_names[n]);
				sp->start_time_unix_nano = start_ns;
				sp->end_time_unix_nano = start_ns + ALIKE_NS;
			}
			memcpy(alike[n].span_id, sp->span_id.data, 8);
			alike[n].start_ns = sp->start_time_unix_nano;
			alike[n].end_ns = sp->end_time_unix_nano;
			snprintf(alike_svc[n], sizeof alike_svc[n], "%s",
			    rs->resource->attributes[0]->value->string_value);
		}
	}
	assert_int_equal(n, SPANGEN_PER_TRACE);
}

static int
setup_alike(void **state)
{
	pipeline_limits lim;
	pipeline *p;
	sg_request *req;
	char *cause = NULL;
	uint64_t base = now_unix_ns() - 10ULL * 60 * 1000000000ULL;

	(void)state;
	if (store_fixture_open(&fx_alike, "query-alike") != 0)
		return -1;
	req = sg_request_new(7, 0, 1, base, STEP_NS);
	make_alike(req, base + STEP_NS);
	pipeline_limits_default(&lim);
	pipeline_new(&p, store_fixture_backend(&fx_alike), &lim, &cause);
	for (int k = 0; k < 2; k++) {
		pipeline_result res;

		pipeline_submit_request(p, req, &res);
		if (res.code != PIPELINE_OK) {
			fprintf(stderr, "setup_alike: %d %s\n",
			    (int)res.code, res.message);
			return -1;
		}
	}
	pipeline_free(p);
	sg_request_free(req);
	return 0;
}

static int
teardown_alike(void **state)
{
	(void)state;
	store_fixture_close(&fx_alike);
	return 0;
}

static response *
slow_alike(uint32_t top)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Slow sl;

	tracequery__v1__request__init(&req);
	tracequery__v1__slow__init(&sl);
	sl.top = top;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &sl;
	backend_sync(fx_alike.be, 0);
	return backend_query(fx_alike.be, &req);
}

/* Which span of alike slow's span ss is, by ID (checking that it is that
 * span: service, name, start and duration), or -1. */
static int
alike_span(const Tracequery__V1__SlowSpan *ss)
{
	for (int n = 0; n < SPANGEN_PER_TRACE; n++) {
		if (memcmp(alike[n].span_id, ss->span_id.data, 8) != 0)
			continue;
		assert_string_equal(ss->service, alike_svc[n]);
		if (n < ALIKE)
			assert_string_equal(ss->name, alike_names[n]);
		assert_true(ss->start_unix_nano == alike[n].start_ns);
		assert_true(ss->duration_ns ==
		    alike[n].end_ns - alike[n].start_ns);
		return n;
	}
	return -1;
}

/* Every span once, each with its own ID, though each was indexed twice
 * and four share a start and duration; a top of ALIKE is exactly the
 * alike spans (the second postings do not take their places). */
static void
test_slow_alike_spans(void **state)
{
	static const uint32_t tops[] = { 20, ALIKE };

	(void)state;
	for (size_t t = 0; t < 2; t++) {
		response *r = slow_alike(tops[t]);
		bool seen[SPANGEN_PER_TRACE] = { false };
		size_t want = tops[t] < SPANGEN_PER_TRACE ? tops[t] :
		    SPANGEN_PER_TRACE;

		assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
		assert_int_equal(r->slow->n_spans, want);
		for (size_t i = 0; i < r->slow->n_spans; i++) {
			int n = alike_span(r->slow->spans[i]);

			assert_true(n >= 0);
			assert_false(seen[n]);
			seen[n] = true;
			assert_true(i >= ALIKE || n < ALIKE);
		}
		backend_response_free(r);
	}
}

/* Spans the index still names but the store lost (a crash) are left
 * out; the percentiles stay. Runs last: it deletes the spans. */
static void
test_slow_lost_spans(void **state)
{
	static const uint8_t lo[1] = { 0 };
	uint8_t hi[KEY_SPAN_LEN + 1];
	char *cause = NULL;
	response *r;

	(void)state;
	memset(hi, 0xff, sizeof hi);
	assert_int_equal(store_delete_range(fx_alike.st, STORE_CF_SPANS, lo,
	    sizeof lo, hi, sizeof hi, &cause), 0);
	r = slow_alike(20);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_int_equal(r->slow->n_spans, 0);
	assert_true(r->slow->n_percentiles > 0);
	backend_response_free(r);
}

/* Moves every span of req minutes later and gives it (and its parent
 * reference) another ID: the same trace, other spans. */
static void
shift_spans(sg_request *req, uint64_t minutes)
{
	for (size_t i = 0; i < req->n_resource_spans; i++) {
		Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
		    req->resource_spans[i]->scope_spans[0];

		for (size_t k = 0; k < ss->n_spans; k++) {
			Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];

			sp->span_id.data[0] ^= 0x80;
			if (sp->parent_span_id.len == 8)
				sp->parent_span_id.data[0] ^= 0x80;
			sp->start_time_unix_nano += minutes * KEY_MINUTE_NS;
			sp->end_time_unix_nano += minutes * KEY_MINUTE_NS;
		}
	}
}

/* How get-trace finds a trace's minutes in test_get_trace_across_minutes. */
enum minutes_from {
	FROM_LOCATOR_OR_FAMILY, /* as a collector does */
	FROM_FAMILY,            /* a locator that cannot answer */
	FROM_LOCATOR_ONLY,      /* the traces family deleted */
};

/* A trace whose spans came in two requests minutes apart has blocks under
 * two minutes: get-trace finds both, through the trace locator and
 * through the traces family alike, with every parent link intact. */
static void
get_trace_across_minutes(enum minutes_from from)
{
	store_fixture mfx;
	store_options o = { 0 };
	pipeline_limits lim;
	pipeline_result res;
	pipeline *p;
	sg_request *req;
	Tracequery__V1__Request q;
	Tracequery__V1__GetTrace g;
	uint8_t trace_id[16], lo[1] = { 0 }, hi[KEY_TRACE_LEN + 1];
	char *cause = NULL;
	uint64_t base = now_unix_ns() - 30ULL * KEY_MINUTE_NS;
	size_t n = 0, roots = 0;
	response *r;

	o.locator_bytes = from == FROM_FAMILY ? 1 : 0;
	assert_int_equal(store_fixture_open_with(&mfx, "query-minutes", &o),
	    0);
	trace_locator_wait(store_locator(mfx.st));
	pipeline_limits_default(&lim);
	assert_int_equal(pipeline_new(&p, store_fixture_backend(&mfx), &lim,
	    &cause), 0);
	req = sg_request_new(11, 0, 1, base, STEP_NS);
	memcpy(trace_id,
	    req->resource_spans[0]->scope_spans[0]->spans[0]->trace_id.data,
	    16);
	pipeline_submit_request(p, req, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	shift_spans(req, 3);
	pipeline_submit_request(p, req, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	sg_request_free(req);
	pipeline_free(p);
	if (from == FROM_LOCATOR_ONLY) {
		memset(hi, 0xff, sizeof hi);
		assert_int_equal(store_delete_range(mfx.st, STORE_CF_TRACES,
		    lo, sizeof lo, hi, sizeof hi, &cause), 0);
	}

	tracequery__v1__request__init(&q);
	tracequery__v1__get_trace__init(&g);
	g.trace_id.data = trace_id;
	g.trace_id.len = 16;
	q.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	q.get_trace = &g;
	backend_sync(mfx.be, 0);
	r = backend_query(mfx.be, &q);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	for (size_t i = 0; i < r->trace->n_resource_spans; i++) {
		Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
		    r->trace->resource_spans[i]->scope_spans[0];

		for (size_t k = 0; k < ss->n_spans; k++) {
			n++;
			roots += ss->spans[k]->parent_span_id.len == 0;
		}
	}
	assert_int_equal(n, 2 * SPANGEN_PER_TRACE);
	assert_int_equal(roots, 2);
	backend_response_free(r);
	store_fixture_close(&mfx);
}

static void
test_get_trace_across_minutes(void **state)
{
	(void)state;
	get_trace_across_minutes(FROM_LOCATOR_OR_FAMILY);
	get_trace_across_minutes(FROM_FAMILY);
	get_trace_across_minutes(FROM_LOCATOR_ONLY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_trace_groups_by_resource),
		cmocka_unit_test(test_services_and_operations),
		cmocka_unit_test(test_search_filters),
		cmocka_unit_test(test_search_count_total),
		cmocka_unit_test(test_search_trace_level_and_order),
		cmocka_unit_test(test_slow_top_and_percentiles),
		cmocka_unit_test(test_slow_window),
		cmocka_unit_test(test_search_longest_traces),
		cmocka_unit_test(test_get_trace_across_minutes),
	};
	const struct CMUnitTest alike_tests[] = {
		cmocka_unit_test(test_slow_alike_spans),
		cmocka_unit_test(test_slow_lost_spans),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);

	return failed + cmocka_run_group_tests(alike_tests, setup_alike,
	    teardown_alike);
}
