/*
 * bench_otlp_http.c - OTLP/HTTP ingest throughput against NNG ingest, in the
 * same run, on the same machine, through the same pipeline and store.
 *
 * For each transport a fresh RocksDB store (temp dir, WAL on, no fsync, as
 * the collector's default) gets a pipeline and a listener on loopback TCP;
 * 4 client threads, each with its own connection, send requests of 100
 * spans (10 traces x 10 spans, ~300 bytes and 8 attributes per span) one at
 * a time and wait for the acknowledgement, for a fixed time after a warm-up.
 * Every request carries new trace IDs, so every span is a new write.
 * The three transports run in turn, three rounds, and each figure is the
 * median of its rounds (RocksDB flushes make single runs noisy).
 *
 *   BENCH otlp_http.nng_ingest_spans_per_s_same_run  NNG REQ/REP, protobuf
 *   BENCH otlp_http.ingest_spans_per_s               POST /v1/traces protobuf
 *   BENCH otlp_http.ingest_json_spans_per_s          POST /v1/traces JSON
 *   BENCH otlp_http.protobuf_vs_nng_ratio            target >= 0.70
 *   BENCH otlp_http.json_vs_nng_ratio                target >= 0.60
 *   BENCH otlp_http.json_vs_protobuf_ratio           target >= 0.60 (JSON
 *         against OTLP/HTTP protobuf, the same listener and run)
 *
 * BENCH_QUICK=1 runs one round of 1 s per transport instead of three of 3 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "backend/rocksdb_backend.h"
#include "daemon/collector.h"
#include "net/otlp_http.h"
#include "otlp_json.h"
#include "tracequery.pb-c.h"

#define CLIENTS 4
#define TRACES_PER_REQ 10
#define SPANS_PER_TRACE 10
#define SPANS_PER_REQ (TRACES_PER_REQ * SPANS_PER_TRACE)
#define WARMUP_S 0.5

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;

enum mode { MODE_NNG, MODE_HTTP_PB, MODE_HTTP_JSON };

/* A request body and where its trace IDs sit, to rewrite them per send. */
struct body {
	uint8_t *data;
	size_t len;
	size_t id_off[TRACES_PER_REQ][SPANS_PER_TRACE];
	bool hex; /* IDs as 32 hex digits (JSON) or 16 bytes (protobuf) */
};

struct client {
	enum mode mode;
	int id;
	int port;
	const struct body *tmpl;
	double t_start, t_end; /* counting window (monotonic seconds) */
	uint64_t spans;
	int errors;
	char err[160];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ spans */

static KeyValue *
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

static KeyValue *
kv_int(const char *k, int64_t v)
{
	KeyValue *kv = kv_str(k, "");

	free(kv->value->string_value);
	kv->value->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	kv->value->int_value = v;
	return kv;
}

static void
kv_free(KeyValue *kv)
{
	if (kv->value->value_case ==
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
		free(kv->value->string_value);
	free(kv->value);
	free(kv->key);
	free(kv);
}

static void
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
static Opentelemetry__Proto__Trace__V1__ResourceSpans *
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
		uint8_t root[8];
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

static void
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
static void
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
static void
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

/* ------------------------------------------------------------ clients */

static int
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

static int
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
static int
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

static void *
client_main(void *arg)
{
	struct client *c = arg;
	const struct body *b = c->tmpl;
	uint8_t *buf = xmalloc(b->len);
	char hdr[256], resp[4096];
	uint64_t seq = (uint64_t)c->id << 40;
	nng_socket s = NNG_SOCKET_INITIALIZER;
	int fd = -1, hlen = 0, rv;
	char url[64];

	memcpy(buf, b->data, b->len);
	if (c->mode == MODE_NNG) {
		snprintf(url, sizeof url, "tcp://127.0.0.1:%d", c->port);
		if ((rv = nng_req0_open(&s)) != 0 ||
		    (rv = nng_dial(s, url, NULL, 0)) != 0) {
			snprintf(c->err, sizeof c->err, "nng dial: %s",
			    nng_strerror(rv));
			goto out;
		}
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
		nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1 << 20);
	} else {
		if ((fd = http_connect(c->port)) < 0) {
			snprintf(c->err, sizeof c->err, "connect: %s",
			    strerror(errno));
			goto out;
		}
		hlen = snprintf(hdr, sizeof hdr,
		    "POST /v1/traces HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    c->port,
		    c->mode == MODE_HTTP_JSON ? "application/json"
		                              : "application/x-protobuf",
		    b->len);
	}
	for (;;) {
		double t = now_s();
		bool ok = false;
		if (t >= c->t_end)
			break;
		rewrite_ids(b, buf, seq++);
		if (c->mode == MODE_NNG) {
			nng_msg *m;
			if (nng_msg_alloc(&m, 0) == 0 &&
			    nng_msg_append(m, buf, b->len) == 0 &&
			    nng_sendmsg(s, m, 0) == 0) {
				nng_msg *r;
				if (nng_recvmsg(s, &r, 0) == 0) {
					Tracequery__V1__IngestReply *ir =
					    tracequery__v1__ingest_reply__unpack(
					        NULL, nng_msg_len(r),
					        nng_msg_body(r));
					ok = ir != NULL && ir->code == 0;
					if (ir != NULL)
						tracequery__v1__ingest_reply__free_unpacked(
						    ir, NULL);
					nng_msg_free(r);
				}
			}
		} else {
			ok = write_all(fd, hdr, (size_t)hlen) == 0 &&
			     write_all(fd, buf, b->len) == 0 &&
			     read_response(fd, resp, sizeof resp) == 200;
		}
		if (!ok) {
			if (c->errors++ == 0)
				snprintf(
				    c->err, sizeof c->err, "request failed");
			if (c->mode != MODE_NNG)
				break; /* the connection state is unknown */
			continue;
		}
		if (now_s() >= c->t_start)
			c->spans += SPANS_PER_REQ;
	}
out:
	if (fd >= 0)
		close(fd);
	if (c->mode == MODE_NNG)
		nng_close(s);
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------ runs */

/* A free loopback TCP port for the NNG listener (bind to 0, read, close). */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		fatalx("bench: no free port");
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Runs one transport against a fresh store; returns spans per second. */
static double
run(enum mode mode, const struct body *b, double secs)
{
	char dir[] = "/tmp/bench-otlp-http-XXXXXX", *cause = NULL, cmd[128];
	char url[64];
	const char *urls[1];
	store_options so = {
	    .cache_bytes = 32u << 20, .write_buffer_bytes = 96u << 20};
	backend_options bo;
	pipeline_limits lim;
	struct client cl[CLIENTS];
	pthread_t th[CLIENTS];
	store *st = NULL;
	backend *be = NULL;
	pipeline *p = NULL;
	ingest *in = NULL;
	otlp_http *h = NULL;
	uint64_t spans = 0;
	double t0;
	int port;

	if (mkdtemp(dir) == NULL)
		fatalx("bench: mkdtemp: %s", strerror(errno));
	backend_options_default(&bo);
	pipeline_limits_default(&lim);
	if (store_open(&st, dir, &so, &cause) != 0 ||
	    rocksdb_backend_new(&be, st, &bo, &cause) != 0 ||
	    pipeline_new(&p, be, &lim, &cause) != 0)
		fatalx("bench: %s", cause);
	if (mode == MODE_NNG) {
		port = free_port();
		snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
		urls[0] = url;
		if (ingest_start(&in, urls, 1, 4, lim.max_message_bytes, p,
		        &cause) != 0)
			fatalx("bench: %s", cause);
	} else {
		if (otlp_http_start(&h, "127.0.0.1:0", lim.max_message_bytes,
		        p, &cause) != 0)
			fatalx("bench: %s", cause);
		port = otlp_http_port(h);
	}
	t0 = now_s();
	for (int i = 0; i < CLIENTS; i++) {
		memset(&cl[i], 0, sizeof cl[i]);
		cl[i].mode = mode;
		cl[i].id = (int)mode * CLIENTS + i + 1;
		cl[i].port = port;
		cl[i].tmpl = b;
		cl[i].t_start = t0 + WARMUP_S;
		cl[i].t_end = t0 + WARMUP_S + secs;
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		spans += cl[i].spans;
		if (cl[i].errors > 0 || cl[i].err[0] != '\0')
			fprintf(stderr,
			    "bench_otlp_http: client %d: %d "
			    "errors (%s)\n",
			    i, cl[i].errors, cl[i].err);
	}
	otlp_http_stop(h);
	if (in != NULL)
		ingest_stop(in);
	pipeline_free(p);
	backend_close(be);
	store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_otlp_http: could not remove %s\n", dir);
	return (double)spans / secs;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

int
main(void)
{
	uint8_t ids[TRACES_PER_REQ][16];
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
	    req;
	struct body pb, js;
	bool quick = getenv("BENCH_QUICK") != NULL;
	double secs = quick ? 1.0 : 3.0;
	int rounds = quick ? 1 : 3;
	double nng_r[3], pb_r[3], json_r[3], nng_rate, pb_rate, json_rate;
	char *cause;

	srandom((unsigned)now_unix_ns());
	log_set_level(LOG_ERROR);
	rs = build_template(ids);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(
	    &req);
	req.n_resource_spans = 1;
	req.resource_spans = &rs;
	memset(&pb, 0, sizeof pb);
	pb.len =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	        &req);
	pb.data = xmalloc(pb.len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    &req, pb.data);
	find_ids(&pb, ids);
	memset(&js, 0, sizeof js);
	js.hex = true;
	if ((js.data = (uint8_t *)otlp_json_encode(&rs, 1, 0, &cause)) == NULL)
		fatalx("bench: %s", cause);
	js.len = strlen((char *)js.data);
	find_ids(&js, ids);

	for (int r = 0; r < rounds; r++) {
		nng_r[r] = run(MODE_NNG, &pb, secs);
		pb_r[r] = run(MODE_HTTP_PB, &pb, secs);
		json_r[r] = run(MODE_HTTP_JSON, &js, secs);
	}
	nng_rate = median(nng_r, rounds);
	pb_rate = median(pb_r, rounds);
	json_rate = median(json_r, rounds);

	printf("BENCH otlp_http.span_bytes %.0f bytes\n",
	    (double)pb.len / SPANS_PER_REQ);
	printf(
	    "BENCH otlp_http.nng_ingest_spans_per_s_same_run %.0f spans/s\n",
	    nng_rate);
	printf("BENCH otlp_http.ingest_spans_per_s %.0f spans/s\n", pb_rate);
	printf("BENCH otlp_http.ingest_json_spans_per_s %.0f spans/s\n",
	    json_rate);
	printf("BENCH otlp_http.protobuf_vs_nng_ratio %.2f ratio\n",
	    nng_rate > 0 ? pb_rate / nng_rate : 0.0);
	printf("BENCH otlp_http.json_vs_nng_ratio %.2f ratio\n",
	    nng_rate > 0 ? json_rate / nng_rate : 0.0);
	printf("BENCH otlp_http.json_vs_protobuf_ratio %.2f ratio\n",
	    pb_rate > 0 ? json_rate / pb_rate : 0.0);
	free(pb.data);
	free(js.data);
	free_template(rs);
	return 0;
}
