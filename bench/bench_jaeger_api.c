/*
 * bench_jaeger_api - the Jaeger HTTP query API's latency beside the same
 * questions over NNG (tracecli's protocol), against one running collector
 * and its store, in the same run: bench/bench_collector.sh restarts its
 * store's collector with both listeners on loopback TCP and runs this.
 * Run alone without arguments it does nothing (`make bench` reaches it
 * through the script).
 *
 *   bench_jaeger_api QURL HTTP_ADDR SEEDS TRACES BASE_NS STEP_NS ITER
 *
 * By ID: a random stored trace, GET /api/traces/{id} (Jaeger JSON) against
 * a GetTrace over NNG (protobuf), the two alternating so that both see the
 * same load. Search: GET /api/traces?service=S&limit=20 (Jaeger returns
 * the whole traces) against what an NNG client does for the same data: a
 * Search of 20, then a GetTrace of each trace found.
 *
 *   BENCH jaeger_api.trace_by_id_p99_us      HTTP + JSON
 *   BENCH jaeger_api.nng_trace_by_id_p99_us  NNG + protobuf, same run
 *   BENCH jaeger_api.by_id_vs_nng_ratio      NNG p99 / HTTP p99, target >= 0.5
 *   BENCH jaeger_api.search_p99_us
 *   BENCH jaeger_api.nng_search_p99_us
 *   BENCH jaeger_api.search_vs_nng_ratio
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <nng/nng.h>

#include "../tests/tools/spangen.h"
#include "../tests/tools/tool_dial.h"
#include "common.h"
#include "tracequery.pb-c.h"

typedef Tracequery__V1__Response response;

/* A growing response body. */
typedef struct body {
	char *p;
	size_t len, cap;
} body;

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	body *b = arg;

	if (b->len + size * n + 1 > b->cap) {
		b->cap = (b->len + size * n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* GETs url on the kept-alive handle; returns microseconds, exits unless
 * the answer is 200 with Jaeger's envelope holding want_min traces. */
static double
http_get(CURL *c, body *b, const char *url, size_t want_min)
{
	uint64_t t0 = now_mono_ns();
	long status = 0;
	double us;
	size_t traces = 0;

	b->len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (curl_easy_perform(c) != CURLE_OK)
		fatalx("bench_jaeger_api: GET %s failed", url);
	us = (double)(now_mono_ns() - t0) / 1000.0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	for (const char *p = b->p; p && (p = strstr(p, "\"processes\"")); p++)
		traces++;
	if (status != 200 || b->len == 0 || strncmp(b->p, "{\"data\":[", 9) ||
	    traces < want_min)
		fatalx("bench_jaeger_api: %s: %ld, %zu traces", url, status,
		    traces);
	return us;
}

/* Sends req over NNG; returns the Response (caller frees). */
static response *
nng_ask(nng_socket s, const Tracequery__V1__Request *req)
{
	size_t len = tracequery__v1__request__get_packed_size(req);
	uint8_t *buf = xmalloc(len + 1);
	response *r;
	nng_msg *m;

	tracequery__v1__request__pack(req, buf);
	if (nng_send(s, buf, len, 0) != 0 || nng_recvmsg(s, &m, 0) != 0)
		fatalx("bench_jaeger_api: NNG query failed");
	free(buf);
	r = tracequery__v1__response__unpack(NULL, nng_msg_len(m),
	    nng_msg_body(m));
	nng_msg_free(m);
	if (r == NULL || r->code != TRACEQUERY__V1__RESPONSE__CODE__OK)
		fatalx("bench_jaeger_api: NNG answered %d",
		    r ? (int)r->code : -1);
	return r;
}

static double
nng_get_trace(nng_socket s, const uint8_t *id)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	uint8_t idbuf[16];
	uint64_t t0 = now_mono_ns();

	memcpy(idbuf, id, 16);
	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	g.trace_id.data = idbuf;
	g.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &g;
	tracequery__v1__response__free_unpacked(nng_ask(s, &req), NULL);
	return (double)(now_mono_ns() - t0) / 1000.0;
}

/* A Search of 20, then every trace found; returns microseconds. */
static double
nng_search(nng_socket s, char *svc, uint64_t lo, uint64_t hi)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search se;
	uint64_t t0 = now_mono_ns();
	response *r;

	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&se);
	se.service = svc;
	se.limit = 20;
	se.start_unix_nano = lo;
	se.end_unix_nano = hi;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &se;
	r = nng_ask(s, &req);
	for (size_t i = 0; i < r->search->n_traces; i++)
		nng_get_trace(s, r->search->traces[i]->trace_id.data);
	tracequery__v1__response__free_unpacked(r, NULL);
	return (double)(now_mono_ns() - t0) / 1000.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
p99(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[(size_t)((double)n * 0.99)];
}

static void
report(const char *what, double http_p99, double nng_p99)
{
	printf("BENCH jaeger_api.%s_p99_us %.1f us\n", what, http_p99);
	printf("BENCH jaeger_api.nng_%s_p99_us %.1f us\n", what, nng_p99);
	printf("BENCH jaeger_api.%s_vs_nng_ratio %.2f ratio\n",
	    strcmp(what, "trace_by_id") == 0 ? "by_id" : what,
	    nng_p99 / http_p99);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	uint64_t seeds, traces, base, step, rnd = 4242, now = now_unix_ns();
	double *http_us, *nng_us;
	char url[512], hex[33];
	size_t iter;
	nng_socket s;
	body b = { 0 };
	CURL *c;

	if (argc != 8)
		return 0;
	seeds = strtoull(argv[3], NULL, 10);
	traces = strtoull(argv[4], NULL, 10);
	base = strtoull(argv[5], NULL, 10);
	step = strtoull(argv[6], NULL, 10);
	iter = strtoull(argv[7], NULL, 10);
	s = tool_dial(argv[1], 60000);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	http_us = xcalloc(iter, sizeof *http_us);
	nng_us = xcalloc(iter, sizeof *nng_us);

	for (size_t i = 0; i < iter; i++) {
		sg_info in;

		rnd = sg_mix(rnd);
		sg_describe(1 + rnd % seeds, (rnd >> 8) % traces, 0, base,
		    step, &in);
		hex_encode(in.trace_id, 16, hex);
		snprintf(url, sizeof url, "http://%s/api/traces/%s", argv[2],
		    hex);
		http_us[i] = http_get(c, &b, url, 1);
		nng_us[i] = nng_get_trace(s, in.trace_id);
	}
	report("trace_by_id", p99(http_us, iter), p99(nng_us, iter));

	for (size_t i = 0; i < iter; i++) {
		char svc[16];

		rnd = sg_mix(rnd);
		snprintf(svc, sizeof svc, "svc-%d", (int)(rnd % 5));
		snprintf(url, sizeof url, "http://%s/api/traces?service=%s&"
		    "limit=20&start=%" PRIu64 "&end=%" PRIu64, argv[2], svc,
		    base / 1000, now / 1000);
		http_us[i] = http_get(c, &b, url, 20);
		nng_us[i] = nng_search(s, svc, base, now);
	}
	report("search", p99(http_us, iter), p99(nng_us, iter));

	curl_easy_cleanup(c);
	curl_global_cleanup();
	nng_close(s);
	free(b.p);
	free(http_us);
	free(nng_us);
	return 0;
}
