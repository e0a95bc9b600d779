/*
 * bench_collector - the load generator and query timer behind
 * bench/bench_collector.sh (which starts the collector and db_bench and
 * prints the BENCH lines). Run alone without arguments it does nothing:
 * `make bench` reaches it through the script.
 *
 *   bench_collector produce URL SEED TRACES BATCH_TRACES BASE_NS STEP_NS GO
 *	pre-encodes every batch first (so the figure measures the
 *	collector), creates GO.ready.SEED, waits for the file GO, sends,
 *	and prints "produced SPANS T0 T1" (CLOCK_MONOTONIC ns).
 *   bench_collector query QURL SEEDS TRACES BASE_NS STEP_NS ITER
 *	times the query mix and prints BENCH lines (p99, us).
 *   bench_collector search QURL ITER NAME
 *	times ITER searches by service, printed as BENCH query.NAME.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "../tests/tools/spangen.h"
#include "../tests/tools/tool_dial.h"
#include "common.h"
#include "tracequery.pb-c.h"


static int
produce(char **argv)
{
	const char *url = argv[2], *go = argv[8];
	uint64_t seed = strtoull(argv[3], NULL, 10);
	uint64_t traces = strtoull(argv[4], NULL, 10);
	uint64_t batch = strtoull(argv[5], NULL, 10);
	uint64_t base = strtoull(argv[6], NULL, 10);
	uint64_t step = strtoull(argv[7], NULL, 10);
	size_t n = (size_t)((traces + batch - 1) / batch), i = 0;
	uint8_t **bufs = calloc(n, sizeof *bufs);
	size_t *lens = calloc(n, sizeof *lens);
	uint64_t spans = 0, t0, t1, retries = 0;
	char ready[512];
	FILE *f;
	nng_socket s = tool_dial(url, 60000);

	for (uint64_t t = 0; t < traces; t += batch, i++) {
		uint64_t k = traces - t < batch ? traces - t : batch;
		sg_request *req = sg_request_new(seed, t, k, base, step);

		bufs[i] = sg_pack(req, &lens[i]);
		sg_request_free(req);
	}
	snprintf(ready, sizeof ready, "%s.ready.%" PRIu64, go, seed);
	if ((f = fopen(ready, "w")) != NULL)
		fclose(f);
	while (access(go, F_OK) != 0)
		usleep(1000);
	t0 = now_mono_ns();
	for (i = 0; i < n; i++) {
		for (;;) {
			nng_msg *m;
			Tracequery__V1__IngestReply *r;
			int rv;

			nng_msg_alloc(&m, 0);
			nng_msg_append(m, bufs[i], lens[i]);
			if ((rv = nng_sendmsg(s, m, 0)) != 0 ||
			    (rv = nng_recvmsg(s, &m, 0)) != 0) {
				fprintf(stderr, "bench_collector: %s\n",
				    nng_strerror(rv));
				return 1;
			}
			r = tracequery__v1__ingest_reply__unpack(NULL,
			    nng_msg_len(m), nng_msg_body(m));
			nng_msg_free(m);
			if (r == NULL)
				return 1;
			if (r->code == TRACEQUERY__V1__INGEST_REPLY__CODE__OK) {
				spans += (uint64_t)r->accepted_spans;
				tracequery__v1__ingest_reply__free_unpacked(r,
				    NULL);
				break;
			}
			if (r->code != TRACEQUERY__V1__INGEST_REPLY__CODE__RETRY_LATER) {
				fprintf(stderr, "bench_collector: code %d %s\n",
				    r->code, r->message);
				return 1;
			}
			retries++;
			usleep(r->retry_after_ms * 1000);
			tracequery__v1__ingest_reply__free_unpacked(r, NULL);
		}
		free(bufs[i]);
	}
	t1 = now_mono_ns();
	printf("produced %" PRIu64 " %" PRIu64 " %" PRIu64 " retries=%"
	    PRIu64 "\n", spans, t0, t1, retries);
	free(bufs);
	free(lens);
	nng_close(s);
	return 0;
}

/* Times one request; returns microseconds, exits on a bad answer. */
static double
timed(nng_socket s, const Tracequery__V1__Request *req, bool need_result)
{
	size_t len = tracequery__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len + 1);
	nng_msg *m;
	uint64_t t0;
	Tracequery__V1__Response *r;
	double us;

	tracequery__v1__request__pack(req, buf);
	t0 = now_mono_ns();
	if (nng_send(s, buf, len, 0) != 0 || nng_recvmsg(s, &m, 0) != 0) {
		fprintf(stderr, "bench_collector: query failed\n");
		exit(1);
	}
	us = (double)(now_mono_ns() - t0) / 1000.0;
	r = tracequery__v1__response__unpack(NULL, nng_msg_len(m),
	    nng_msg_body(m));
	if (r == NULL || (need_result &&
	    r->code != TRACEQUERY__V1__RESPONSE__CODE__OK)) {
		fprintf(stderr, "bench_collector: query answered %d %s\n",
		    r ? (int)r->code : -1, r ? r->message : "");
		exit(1);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	nng_msg_free(m);
	free(buf);
	return us;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	printf("BENCH %s %.1f us\n", name, v[(size_t)((double)n * 0.99)]);
	fflush(stdout);
}

/* p99 of iter runs of req (at most 1,000), in us. */
static double
p99_of(nng_socket s, const Tracequery__V1__Request *req, size_t iter,
    bool need_result)
{
	double lat[1000], v;

	iter = iter > 1000 ? 1000 : iter;
	for (size_t i = 0; i < iter; i++)
		lat[i] = timed(s, req, need_result);
	qsort(lat, iter, sizeof *lat, cmp_double);
	v = lat[(size_t)((double)iter * 0.99)];
	return v;
}

/* Does the backend take req? A question it refuses (BAD_REQUEST: the
 * ClickHouse backend ranks no traces by most spans) is skipped, saying
 * so on stderr, so that the questions after it are still measured. */
static bool
answers(nng_socket s, const Tracequery__V1__Request *req, const char *what)
{
	size_t len = tracequery__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len + 1);
	Tracequery__V1__Response *r = NULL;
	nng_msg *m;
	bool ok = true;

	tracequery__v1__request__pack(req, buf);
	if (nng_send(s, buf, len, 0) == 0 && nng_recvmsg(s, &m, 0) == 0) {
		r = tracequery__v1__response__unpack(NULL, nng_msg_len(m),
		    nng_msg_body(m));
		nng_msg_free(m);
	}
	if (r != NULL && r->code == TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST) {
		fprintf(stderr, "bench_collector: skipped %s: %s\n", what,
		    r->message);
		ok = false;
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	free(buf);
	return ok;
}

/*
 * The whole-window questions of issue 21, each next to the question that
 * does the same reading in the same run: a search's count beside a plain
 * search (from the postings, up to 100,000 traces; with a filter that
 * needs each trace loaded, up to 2,000), most spans (a scan of the
 * window's spans) beside deps (the same scan), an idle tail poll beside a
 * get-trace, a tail that catches up on every flush (5,000 trace loads
 * and the dictionaries) beside the loading count (2,000 loads).
 */
static void
query_window(nng_socket s, uint64_t now, size_t iter, double search_us,
    double trace_us)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search se;
	Tracequery__V1__Dependencies dp;
	Tracequery__V1__Tail tl;
	double count_us, load_us, most_us, deps_us, tail_us, catch_us;
	size_t few = iter / 20 > 5 ? iter / 20 : 5;

	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&se);
	se.service = "svc-1";
	se.limit = 20;
	se.count_total = true;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &se;
	count_us = p99_of(s, &req, few, true);
	se.min_trace_duration_ns = 1;	/* every trace, but loaded to know */
	load_us = p99_of(s, &req, few, true);
	se.min_trace_duration_ns = 0;
	se.service = "";
	se.count_total = false;
	se.order = TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS;
	se.start_unix_nano = now - 3600ULL * 1000000000ULL;
	se.end_unix_nano = now;
	most_us = answers(s, &req, "most spans") ? p99_of(s, &req, few, true) :
	    -1;
	tracequery__v1__dependencies__init(&dp);
	dp.start_unix_nano = se.start_unix_nano;
	dp.end_unix_nano = now;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_DEPENDENCIES;
	req.dependencies = &dp;
	deps_us = p99_of(s, &req, few, true);
	tracequery__v1__tail__init(&tl);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_TAIL;
	req.tail = &tl;
	tl.from_flush = 1;
	catch_us = p99_of(s, &req, few, true);
	tl.from_flush = 0;	/* an idle poll: nothing indexed since */
	tail_us = p99_of(s, &req, iter, true);
	printf("BENCH query.search_count_p99_us %.1f us\n", count_us);
	printf("BENCH query.search_count_vs_search_ratio %.1f ratio\n",
	    count_us / search_us);
	printf("BENCH query.search_count_loading_p99_us %.1f us\n", load_us);
	if (most_us >= 0)
		printf("BENCH query.search_most_spans_1h_p99_ms %.1f ms\n",
		    most_us / 1000);
	printf("BENCH query.deps_1h_p99_ms %.1f ms\n", deps_us / 1000);
	if (most_us >= 0)
		printf("BENCH query.most_spans_vs_deps_ratio %.2f ratio\n",
		    most_us / deps_us);
	printf("BENCH query.tail_idle_poll_p99_us %.1f us\n", tail_us);
	printf("BENCH query.tail_idle_vs_trace_by_id_ratio %.2f ratio\n",
	    tail_us / trace_us);
	printf("BENCH query.tail_catch_up_p99_ms %.1f ms\n", catch_us / 1000);
	printf("BENCH query.tail_catch_up_vs_loading_count_ratio %.2f ratio\n",
	    catch_us / load_us);
	fflush(stdout);
}

/* Times iter searches by one service (svc-0..4), newest 20: tracecli's
 * default search. */
static void
search_service(nng_socket s, double *lat, size_t iter, uint64_t *rnd)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search se;
	char svc[16];

	tracequery__v1__request__init(&req);
	for (size_t i = 0; i < iter; i++) {
		*rnd = sg_mix(*rnd);
		snprintf(svc, sizeof svc, "svc-%d", (int)(*rnd % 5));
		tracequery__v1__search__init(&se);
		se.service = svc;
		se.limit = 20;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
		req.search = &se;
		lat[i] = timed(s, &req, true);
	}
}

/* The search by service alone, as NAME (spans arriving meanwhile: the
 * script's business). */
static int
search_only(char **argv)
{
	nng_socket s = tool_dial(argv[2], 60000);
	size_t iter = strtoull(argv[3], NULL, 10);
	double *lat = calloc(iter, sizeof *lat);
	uint64_t rnd = 54321;
	char name[96];

	snprintf(name, sizeof name, "query.%s", argv[4]);
	search_service(s, lat, iter, &rnd);
	report(name, lat, iter);
	free(lat);
	nng_close(s);
	return 0;
}

static int
query(char **argv)
{
	nng_socket s = tool_dial(argv[2], 60000);
	uint64_t seeds = strtoull(argv[3], NULL, 10);
	uint64_t traces = strtoull(argv[4], NULL, 10);
	uint64_t base = strtoull(argv[5], NULL, 10);
	uint64_t step = strtoull(argv[6], NULL, 10);
	size_t iter = strtoull(argv[7], NULL, 10);
	double *lat = calloc(iter, sizeof *lat);
	uint64_t now = now_unix_ns(), rnd = 12345;
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	Tracequery__V1__Search se;
	Tracequery__V1__Slow sl;
	Tracequery__V1__AttrFilter af, *afp = &af;
	char svc[16], user[32];
	double trace_us, search_us;

	tracequery__v1__request__init(&req);
	for (size_t i = 0; i < iter; i++) {
		sg_info in;

		rnd = sg_mix(rnd);
		sg_describe(1 + rnd % seeds, (rnd >> 8) % traces, 0, base,
		    step, &in);
		tracequery__v1__get_trace__init(&g);
		g.trace_id.data = in.trace_id;
		g.trace_id.len = 16;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
		req.get_trace = &g;
		lat[i] = timed(s, &req, true);
	}
	report("query.trace_by_id_p99_us", lat, iter);
	trace_us = lat[(size_t)((double)iter * 0.99)];

	search_service(s, lat, iter, &rnd);
	report("query.search_service_p99_us", lat, iter);
	search_us = lat[(size_t)((double)iter * 0.99)];

	for (size_t i = 0; i < iter; i++) {
		rnd = sg_mix(rnd);
		snprintf(user, sizeof user, "user-%d", (int)(rnd % 10000));
		tracequery__v1__search__init(&se);
		tracequery__v1__attr_filter__init(&af);
		af.key = "user.id";
		af.value = user;
		se.attributes = &afp;
		se.n_attributes = 1;
		se.limit = 20;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
		req.search = &se;
		lat[i] = timed(s, &req, false);
	}
	report("query.search_attr_p99_us", lat, iter);

	for (size_t i = 0; i < iter; i++) {
		rnd = sg_mix(rnd);
		snprintf(svc, sizeof svc, "svc-%d", (int)(rnd % 5));
		tracequery__v1__search__init(&se);
		se.service = svc;
		se.min_duration_ns = 500000000; /* ~5% of the spans */
		se.limit = 20;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
		req.search = &se;
		lat[i] = timed(s, &req, false);
	}
	report("query.search_min_duration_p99_us", lat, iter);

	for (size_t i = 0; i < iter; i++) {
		rnd = sg_mix(rnd);
		snprintf(svc, sizeof svc, "svc-%d", (int)(rnd % 5));
		tracequery__v1__slow__init(&sl);
		sl.service = svc;
		sl.top = 20;
		sl.start_unix_nano = now - 3600ULL * 1000000000ULL;
		sl.end_unix_nano = now;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
		req.slow = &sl;
		lat[i] = timed(s, &req, false);
	}
	report("query.slow_top20_p99_us", lat, iter);
	query_window(s, now, iter, search_us, trace_us);
	free(lat);
	nng_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 9 && strcmp(argv[1], "produce") == 0)
		return produce(argv);
	if (argc >= 8 && strcmp(argv[1], "query") == 0)
		return query(argv);
	if (argc >= 5 && strcmp(argv[1], "search") == 0 &&
	    strtoull(argv[3], NULL, 10) > 0)
		return search_only(argv);
	if (argc > 1)
		fprintf(stderr, "usage: see bench/bench_collector.c\n");
	return argc > 1 ? 2 : 0;
}
