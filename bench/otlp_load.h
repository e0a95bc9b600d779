/*
 * otlp_load.h - what the OTLP ingest benchmarks (bench_otlp_http.c,
 * bench_otlp_grpc.c) share, so they send the same requests and measure
 * them the same way: the request template (10 traces x 10 spans, ~300
 * bytes and 8 attributes per span), new trace IDs written into each send,
 * a minimal HTTP/1.1 client for OTLP/HTTP, and the median of rounds.
 *
 * Static functions only: each benchmark includes it once (define
 * _GNU_SOURCE first, for memmem and strcasestr).
 */
#ifndef BENCH_OTLP_LOAD_H
#define BENCH_OTLP_LOAD_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "backend/rocksdb_backend.h"
#include "common.h"
#include "daemon/collector.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define TRACES_PER_REQ 10
#define SPANS_PER_TRACE 10
#define SPANS_PER_REQ (TRACES_PER_REQ * SPANS_PER_TRACE)
#define WARMUP_S 0.5

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;

/* A request body and where its trace IDs sit, to rewrite them per send. */
struct body {
	uint8_t *data;
	size_t len;
	size_t id_off[TRACES_PER_REQ][SPANS_PER_TRACE];
	bool hex; /* IDs as 32 hex digits (JSON) or 16 bytes (protobuf) */
};

__attribute__((unused)) static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ spans */

__attribute__((unused)) static KeyValue *
kv_str(const char *k, const char *v)
{
	KeyValue *kv = xcalloc(1, sizeof *kv);
	AnyValue *a = xcalloc(1, sizeof *a);

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(a);
	a->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = xstrdup(v);
	kv->key = xstrdup(k);
	kv->value = a;
	return kv;
}

__attribute__((unused)) static KeyValue *
kv_int(const char *k, int64_t v)
{
	KeyValue *kv = kv_str(k, "");

	free(kv->value->string_value);
	kv->value->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	kv->value->int_value = v;
	return kv;
}

__attribute__((unused)) static void
kv_free(KeyValue *kv)
{
	if (kv->value->value_case ==
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
		free(kv->value->string_value);
	free(kv->value);
	free(kv->key);
	free(kv);
}

__attribute__((unused)) static void
random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(random() >> 7);
	b[0] |= 1; /* never all zero */
}

/*
 * Builds the template request: one resource, one scope, 10 traces of 10
 * spans (a root and its children), each span with 8 attributes.
 */
__attribute__((unused)) static Opentelemetry__Proto__Trace__V1__ResourceSpans *
build_template(uint8_t trace_ids[TRACES_PER_REQ][16])
{
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
	    xcalloc(1, sizeof *rs);
	Opentelemetry__Proto__Resource__V1__Resource *res =
	    xcalloc(1, sizeof *res);
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
	    xcalloc(1, sizeof *ss);
	Opentelemetry__Proto__Common__V1__InstrumentationScope *sc =
	    xcalloc(1, sizeof *sc);
	uint64_t now = now_unix_ns();

	opentelemetry__proto__trace__v1__resource_spans__init(rs);
	opentelemetry__proto__resource__v1__resource__init(res);
	opentelemetry__proto__trace__v1__scope_spans__init(ss);
	opentelemetry__proto__common__v1__instrumentation_scope__init(sc);
	res->n_attributes = 2;
	res->attributes = xcalloc(2, sizeof(KeyValue *));
	res->attributes[0] = kv_str("service.name", "bench-orders");
	res->attributes[1] = kv_str("service.version", "1.4.2");
	rs->resource = res;
	sc->name = xstrdup("bench");
	ss->scope = sc;
	rs->n_scope_spans = 1;
	rs->scope_spans = xcalloc(1, sizeof *rs->scope_spans);
	rs->scope_spans[0] = ss;
	ss->n_spans = SPANS_PER_REQ;
	ss->spans = xcalloc(SPANS_PER_REQ, sizeof(Span *));
	for (int t = 0; t < TRACES_PER_REQ; t++) {
		uint8_t root[8] = { 0 };
		random_bytes(trace_ids[t], 16);
		for (int i = 0; i < SPANS_PER_TRACE; i++) {
			Span *s = xcalloc(1, sizeof *s);
			opentelemetry__proto__trace__v1__span__init(s);
			s->trace_id.len = 16;
			s->trace_id.data = xmalloc(16);
			memcpy(s->trace_id.data, trace_ids[t], 16);
			s->span_id.len = 8;
			s->span_id.data = xmalloc(8);
			random_bytes(s->span_id.data, 8);
			if (i == 0) {
				memcpy(root, s->span_id.data, 8);
			} else {
				s->parent_span_id.len = 8;
				s->parent_span_id.data = xmalloc(8);
				memcpy(s->parent_span_id.data, root, 8);
			}
			s->name = xstrdup(i == 0 ? "GET /api/v1/orders/{id}"
			                         : "SELECT orders");
			s->kind = i == 0 ? 2 : 3;
			s->start_time_unix_nano =
			    now - 1000000000 + (uint64_t)i * 1000;
			s->end_time_unix_nano = s->start_time_unix_nano +
			                        2500000 + (uint64_t)i * 7000;
			s->n_attributes = 8;
			s->attributes = xcalloc(8, sizeof(KeyValue *));
			s->attributes[0] =
			    kv_str("http.request.method", "GET");
			s->attributes[1] =
			    kv_str("http.route", "/api/v1/orders/{id}");
			s->attributes[2] =
			    kv_int("http.response.status_code", 200);
			s->attributes[3] = kv_str("url.full",
			    "http://orders:8080/api/v1/orders/8812");
			s->attributes[4] =
			    kv_str("server.address", "orders.internal");
			s->attributes[5] = kv_int("server.port", 8080);
			s->attributes[6] =
			    kv_str("user_agent.original", "bench/1.0");
			s->attributes[7] = kv_int("app.order_id", 8812 + i);
			ss->spans[t * SPANS_PER_TRACE + i] = s;
		}
	}
	return rs;
}

__attribute__((unused)) static void
free_template(Opentelemetry__Proto__Trace__V1__ResourceSpans *rs)
{
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];

	for (size_t i = 0; i < ss->n_spans; i++) {
		Span *s = ss->spans[i];
		for (size_t k = 0; k < s->n_attributes; k++)
			kv_free(s->attributes[k]);
		free(s->attributes);
		free(s->trace_id.data);
		free(s->span_id.data);
		free(s->parent_span_id.data);
		free(s->name);
		free(s);
	}
	free(ss->spans);
	free(ss->scope->name);
	free(ss->scope);
	free(ss);
	free(rs->scope_spans);
	kv_free(rs->resource->attributes[0]);
	kv_free(rs->resource->attributes[1]);
	free(rs->resource->attributes);
	free(rs->resource);
	free(rs);
}

/* Records where each trace ID (bytes or hex) occurs in b. */
__attribute__((unused)) static void
find_ids(struct body *b, uint8_t trace_ids[TRACES_PER_REQ][16])
{
	for (int t = 0; t < TRACES_PER_REQ; t++) {
		char hex[33];
		const uint8_t *pat = trace_ids[t];
		size_t plen = 16, from = 0;
		hex_encode(trace_ids[t], 16, hex);
		if (b->hex) {
			pat = (const uint8_t *)hex;
			plen = 32;
		}
		for (int i = 0; i < SPANS_PER_TRACE; i++) {
			uint8_t *p =
			    memmem(b->data + from, b->len - from, pat, plen);
			if (p == NULL)
				fatalx(
				    "bench: trace id %d/%d not found", t, i);
			b->id_off[t][i] = (size_t)(p - b->data);
			from = b->id_off[t][i] + plen;
		}
	}
}

/* Gives every trace of buf a new ID: its first 8 bytes become seq. */
__attribute__((unused)) static void
rewrite_ids(const struct body *b, uint8_t *buf, uint64_t seq)
{
	for (int t = 0; t < TRACES_PER_REQ; t++) {
		uint8_t id[8];
		char hex[17];
		uint64_t v = seq * TRACES_PER_REQ + (uint64_t)t + 1;
		for (int k = 0; k < 8; k++)
			id[k] = (uint8_t)(v >> (56 - 8 * k));
		hex_encode(id, 8, hex);
		for (int i = 0; i < SPANS_PER_TRACE; i++) {
			if (b->hex)
				memcpy(buf + b->id_off[t][i], hex, 16);
			else
				memcpy(buf + b->id_off[t][i], id, 8);
		}
	}
}

/* ------------------------------------------------------------ HTTP/1.1 */

__attribute__((unused)) static int
http_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

__attribute__((unused)) static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one response; returns its status code or -1. */
__attribute__((unused)) static int
read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0, body = 0, hdr_end;
	char *end, *cl;
	int status;

	for (;;) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have == cap - 1)
			return -1;
	}
	hdr_end = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	while (have < hdr_end + body) {
		ssize_t n = read(fd, buf, cap - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

__attribute__((unused)) static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

__attribute__((unused)) static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* Packs the request around rs into b (protobuf) and finds its IDs. */
__attribute__((unused)) static void
protobuf_body(struct body *b,
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs,
    uint8_t trace_ids[TRACES_PER_REQ][16])
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
	    req;

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(
	    &req);
	req.n_resource_spans = 1;
	req.resource_spans = &rs;
	memset(b, 0, sizeof *b);
	b->len =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	        &req);
	b->data = xmalloc(b->len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    &req, b->data);
	find_ids(b, trace_ids);
}

/* ------------------------------------------------------------ runs */

#define LOAD_CLIENTS 4

/* One client thread's load: its transport, window and what it counted. */
struct load_client {
	int mode;
	int id;
	int port;
	const struct body *tmpl;
	double t_start, t_end; /* counting window (monotonic seconds) */
	uint64_t spans;
	int errors;
	char err[160];
};

/* A fresh store (temp dir, WAL on, no fsync, as the collector's default)
 * and pipeline for one run. */
struct load_store {
	char dir[64];
	store *st;
	backend *be;
	pipeline *p;
	pipeline_limits lim;
};

__attribute__((unused)) static void
load_store_open(struct load_store *s)
{
	store_options so = {
	    .cache_bytes = 32u << 20, .write_buffer_bytes = 96u << 20};
	backend_options bo;
	char *cause = NULL;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/bench-otlp-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		fatalx("bench: mkdtemp: %s", strerror(errno));
	backend_options_default(&bo);
	pipeline_limits_default(&s->lim);
	if (store_open(&s->st, s->dir, &so, &cause) != 0 ||
	    rocksdb_backend_new(&s->be, s->st, &bo, &cause) != 0 ||
	    pipeline_new(&s->p, s->be, &s->lim, &cause) != 0)
		fatalx("bench: %s", cause);
}

__attribute__((unused)) static void
load_store_close(struct load_store *s)
{
	char cmd[128];

	pipeline_free(s->p);
	backend_close(s->be);
	store_close(s->st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", s->dir);
}

/*
 * Runs LOAD_CLIENTS threads of fn, each on its own struct load_client
 * sending b to port, counting spans acknowledged between a warm-up and
 * secs later. Returns spans per second; prints each client's errors.
 */
__attribute__((unused)) static double
load_run_clients(void *(*fn)(void *), int mode, int port,
    const struct body *b, double secs)
{
	struct load_client cl[LOAD_CLIENTS];
	pthread_t th[LOAD_CLIENTS];
	double t0 = now_s();
	uint64_t spans = 0;

	for (int i = 0; i < LOAD_CLIENTS; i++) {
		memset(&cl[i], 0, sizeof cl[i]);
		cl[i].mode = mode;
		cl[i].id = mode * LOAD_CLIENTS + i + 1;
		cl[i].port = port;
		cl[i].tmpl = b;
		cl[i].t_start = t0 + WARMUP_S;
		cl[i].t_end = t0 + WARMUP_S + secs;
		pthread_create(&th[i], NULL, fn, &cl[i]);
	}
	for (int i = 0; i < LOAD_CLIENTS; i++) {
		pthread_join(th[i], NULL);
		spans += cl[i].spans;
		if (cl[i].errors > 0 || cl[i].err[0] != '\0')
			fprintf(stderr, "bench: client %d: %d errors (%s)\n",
			    i, cl[i].errors, cl[i].err);
	}
	return (double)spans / secs;
}

#endif /* BENCH_OTLP_LOAD_H */
