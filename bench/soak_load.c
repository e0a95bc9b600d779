/*
 * soak_load.c - the load generators of `make soak` (bench/soak.sh): a
 * libtrace-instrumented producer, a steady query client and a statistics
 * probe, all against a real tracecollector. Not a benchmark of its own
 * (no bench_ prefix, so `make bench` does not run it).
 *
 *   soak_load produce SERVICE RATE SECONDS
 *       sends RATE spans per second (0: as fast as it can) for SECONDS, as
 *       traces of four spans (a server span and three children) through
 *       libtrace to TRACE_ENDPOINT; then shuts libtrace down and prints
 *       "PRODUCE spans=N exported=N dropped_queue_full=N ..." from
 *       trace_stats().
 *   soak_load query QURL SECONDS
 *       sends about 10 queries a second (search, get trace, slow,
 *       services) and every 5 s prints
 *       "QUERY t=S n=N errors=N p50_ms=X p99_ms=X max_ms=X".
 *   soak_load stats QURL
 *       prints "spans_accepted N" from the collector's statistics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common.h"
#include "../tests/tools/tool_dial.h"
#include "trace/trace.h"
#include "tracequery.pb-c.h"

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL
#define SPANS_PER_TRACE 4
#define QUERY_EVERY_NS (100 * NS_PER_MS)
#define WINDOW_NS (5 * NS_PER_S)
#define MAX_SAMPLES 4096

static void
usage(void)
{
	fprintf(stderr,
	    "usage: soak_load produce SERVICE RATE SECONDS\n"
	    "       soak_load query QURL SECONDS\n"
	    "       soak_load stats QURL\n");
	exit(2);
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / NS_PER_S),
		(long)(ns % NS_PER_S) };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- produce */

/* One request of a small web service: a server span and three children. */
static void
one_trace(uint64_t n)
{
	static const char *const routes[] = { "/item/{id}", "/cart",
		"/checkout", "/search", "/user/{id}" };
	trace_span_options o = { .kind = TRACE_KIND_SERVER, .new_root = true };
	trace_span *root, *c;
	char name[64];
	const char *route = routes[n % 5];

	snprintf(name, sizeof name, "GET %s", route);
	root = trace_span_start_opts(name, &o);
	trace_span_set_str(root, "http.method", "GET");
	trace_span_set_str(root, "http.route", route);
	trace_span_set_int(root, "http.status_code", n % 97 == 0 ? 500 : 200);
	c = trace_span_start("db.query");
	trace_span_set_str(c, "db.system", "rocksdb");
	trace_span_set_int(c, "db.rows", (int64_t)(n % 100));
	trace_span_end(c);
	c = trace_span_start("cache.get");
	trace_span_set_bool(c, "cache.hit", n % 3 != 0);
	trace_span_end(c);
	c = trace_span_start("render");
	trace_span_end(c);
	if (n % 97 == 0)
		trace_span_set_status(root, TRACE_STATUS_ERROR,
		    "upstream 500");
	trace_span_end(root);
}

static int
cmd_produce(int argc, char **argv)
{
	trace_config *cfg;
	trace_stats_t st;
	uint64_t rate, secs, t0, now, sent = 0, due;
	int rv;

	if (argc != 5)
		usage();
	rate = strtoull(argv[3], NULL, 10);
	secs = strtoull(argv[4], NULL, 10);
	if ((rv = trace_config_new(&cfg)) != TRACE_OK ||
	    (rv = trace_config_set_service_name(cfg, argv[2])) != TRACE_OK ||
	    (rv = trace_init(cfg)) != TRACE_OK) {
		fprintf(stderr, "soak_load: libtrace: %s\n",
		    trace_strerror(rv));
		return 1;
	}
	trace_config_free(cfg);
	t0 = now_mono_ns();
	for (;;) {
		now = now_mono_ns();
		if (now - t0 >= secs * NS_PER_S)
			break;
		/* Traces due by now at RATE spans/s; paced in 5 ms steps. */
		due = rate == 0 ? sent + 64 :
		    (now - t0) / NS_PER_MS * rate / 1000 / SPANS_PER_TRACE;
		while (sent < due)
			one_trace(sent++);
		if (rate != 0)
			sleep_ns(5 * NS_PER_MS);
	}
	trace_shutdown(5000);
	trace_stats(&st);
	printf("PRODUCE spans=%" PRIu64 " exported=%" PRIu64
	    " dropped_queue_full=%" PRIu64 " dropped_no_memory=%" PRIu64
	    " dropped_rejected=%" PRIu64 " dropped_shutdown=%" PRIu64
	    " retried_batches=%" PRIu64 "\n", sent * SPANS_PER_TRACE,
	    st.spans_exported, st.spans_dropped_queue_full,
	    st.spans_dropped_no_memory, st.spans_dropped_rejected,
	    st.spans_dropped_shutdown, st.batches_retried);
	return 0;
}

/* ---------------------------------------------------------------- query */


/* Sends req and returns the reply, or NULL on a transport error. */
static Tracequery__V1__Response *
ask(nng_socket s, const Tracequery__V1__Request *req)
{
	size_t len = tracequery__v1__request__get_packed_size(req);
	uint8_t *buf = xmalloc(len + 1);
	Tracequery__V1__Response *r = NULL;
	nng_msg *m;

	tracequery__v1__request__pack(req, buf);
	if (nng_msg_alloc(&m, 0) == 0 && nng_msg_append(m, buf, len) == 0 &&
	    nng_sendmsg(s, m, 0) == 0) {
		if (nng_recvmsg(s, &m, 0) == 0) {
			r = tracequery__v1__response__unpack(NULL,
			    nng_msg_len(m), nng_msg_body(m));
			nng_msg_free(m);
		}
	}
	free(buf);
	return r;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-th quantile (0..1) of n sorted samples, in ms. */
static double
quantile_ms(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

/* One query of the mix; last_trace is the newest trace seen so far. */
static bool
one_query(nng_socket s, uint64_t k, uint8_t *last_trace, bool *have_trace)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search se;
	Tracequery__V1__GetTrace gt;
	Tracequery__V1__Slow sl;
	Tracequery__V1__ListServices ls;
	Tracequery__V1__Response *r;
	uint64_t since = now_unix_ns() - 5 * 60 * NS_PER_S;
	bool ok;

	/* The generated *_INIT macros cast away const (-Wcast-qual). */
	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&se);
	tracequery__v1__get_trace__init(&gt);
	tracequery__v1__slow__init(&sl);
	tracequery__v1__list_services__init(&ls);
	switch (k % 4) {
	case 0:
		se.service = k % 8 == 0 ? "soak-a" : "soak-b";
		se.start_unix_nano = since;
		se.limit = 20;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
		req.search = &se;
		break;
	case 1:
		if (*have_trace) {
			gt.trace_id.data = last_trace;
			gt.trace_id.len = 16;
			req.query_case =
			    TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
			req.get_trace = &gt;
			break;
		}
		/* FALLTHROUGH */
	case 2:
		sl.service = "soak-a";
		sl.start_unix_nano = since;
		sl.top = 10;
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
		req.slow = &sl;
		break;
	default:
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
		req.services = &ls;
		break;
	}
	if ((r = ask(s, &req)) == NULL)
		return false;
	ok = r->code == TRACEQUERY__V1__RESPONSE__CODE__OK ||
	    r->code == TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND;
	if (r->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH &&
	    r->search->n_traces > 0 &&
	    r->search->traces[0]->trace_id.len == 16) {
		memcpy(last_trace, r->search->traces[0]->trace_id.data, 16);
		*have_trace = true;
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return ok;
}

static int
cmd_query(int argc, char **argv)
{
	static uint64_t lat[MAX_SAMPLES];
	uint8_t last_trace[16];
	bool have_trace = false;
	uint64_t secs, t0, win0, next, k = 0, errors = 0;
	size_t n = 0;
	nng_socket s;

	if (argc != 4)
		usage();
	s = tool_dial(argv[2], 30000);
	secs = strtoull(argv[3], NULL, 10);
	t0 = win0 = next = now_mono_ns();
	while (now_mono_ns() - t0 < secs * NS_PER_S) {
		uint64_t a = now_mono_ns();

		if (!one_query(s, k++, last_trace, &have_trace))
			errors++;
		if (n < MAX_SAMPLES)
			lat[n++] = now_mono_ns() - a;
		if (now_mono_ns() - win0 >= WINDOW_NS) {
			qsort(lat, n, sizeof lat[0], cmp_u64);
			printf("QUERY t=%.0f n=%zu errors=%" PRIu64
			    " p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
			    (double)(now_mono_ns() - t0) / 1e9, n, errors,
			    quantile_ms(lat, n, 0.50),
			    quantile_ms(lat, n, 0.99),
			    n ? (double)lat[n - 1] / 1e6 : 0.0);
			fflush(stdout);
			n = 0;
			errors = 0;
			win0 = now_mono_ns();
		}
		next += QUERY_EVERY_NS;
		if (next > now_mono_ns())
			sleep_ns(next - now_mono_ns());
		else
			next = now_mono_ns();
	}
	nng_close(s);
	return 0;
}

/* ---------------------------------------------------------------- stats */

static int
cmd_stats(int argc, char **argv)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetStats gs;
	Tracequery__V1__Response *r;
	nng_socket s;

	if (argc != 3)
		usage();
	tracequery__v1__request__init(&req);
	tracequery__v1__get_stats__init(&gs);
	s = tool_dial(argv[2], 30000);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_STATS;
	req.stats = &gs;
	if ((r = ask(s, &req)) == NULL ||
	    r->result_case != TRACEQUERY__V1__RESPONSE__RESULT_STATS) {
		fprintf(stderr, "soak_load: no statistics from %s\n", argv[2]);
		return 3;
	}
	for (size_t i = 0; i < r->stats->n_stats; i++)
		if (strcmp(r->stats->stats[i]->name,
		    "ingest.spans_accepted") == 0)
			printf("spans_accepted %.0f\n",
			    r->stats->stats[i]->value);
	tracequery__v1__response__free_unpacked(r, NULL);
	nng_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "produce") == 0)
		return cmd_produce(argc, argv);
	if (strcmp(argv[1], "query") == 0)
		return cmd_query(argc, argv);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc, argv);
	usage();
	return 2;
}
