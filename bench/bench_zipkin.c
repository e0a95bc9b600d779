/*
 * bench_zipkin.c - Zipkin v2 ingest throughput, against OTLP/HTTP protobuf
 * in the same run, through the same pipeline and store.
 *
 * The request template, its IDs, the HTTP/1.1 client and the median are
 * bench/otlp_load.h's (shared with bench_otlp_http.c and
 * bench_otlp_grpc.c). The Zipkin body is the same 100 spans (10 traces x
 * 10 spans, 8 attributes each) as the OpenTelemetry Zipkin exporter would
 * write them: tags as strings, the service in localEndpoint, microsecond
 * timestamps with a fraction. For each transport a fresh RocksDB store
 * gets a pipeline and its listener on loopback; 4 client threads, each
 * with its own connection, post one request at a time and wait for the
 * answer (202 or 200), for a fixed time after a warm-up; every request
 * carries new trace IDs. Three rounds, each figure the median.
 *
 *   BENCH zipkin.ingest_spans_per_s                  POST /api/v2/spans
 *   BENCH zipkin.otlp_http_spans_per_s_same_run      POST /v1/traces protobuf
 *   BENCH zipkin.vs_otlp_http_ratio                  Zipkin / OTLP protobuf
 *
 * BENCH_QUICK=1 runs one round of 1 s per transport instead of three of 3 s.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/collector.h"
#include "net/otlp_http.h"
#include "net/zipkin.h"

#include "otlp_load.h"

enum mode { MODE_OTLP_PB, MODE_ZIPKIN };

/* ------------------------------------------------------------ body */

/* A Zipkin tag value: the exporter sends String(value). */
static json_t *
tag_value(const AnyValue *v)
{
	char num[32];

	if (v->value_case ==
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE) {
		snprintf(num, sizeof num, "%" PRId64, v->int_value);
		return json_string(num);
	}
	return json_string(v->string_value);
}

/* One span as the OpenTelemetry Zipkin exporter writes it. */
static json_t *
zipkin_span(const Span *s, const char *service)
{
	static const char *const kinds[] = { NULL, NULL, "SERVER", "CLIENT",
		"PRODUCER", "CONSUMER" };
	char tid[33], sid[17], pid[17];
	json_t *o = json_object(), *tags = json_object();

	hex_encode(s->trace_id.data, 16, tid);
	hex_encode(s->span_id.data, 8, sid);
	json_object_set_new(o, "traceId", json_string(tid));
	json_object_set_new(o, "id", json_string(sid));
	if (s->parent_span_id.len == 8) {
		hex_encode(s->parent_span_id.data, 8, pid);
		json_object_set_new(o, "parentId", json_string(pid));
	}
	json_object_set_new(o, "name", json_string(s->name));
	if (kinds[s->kind] != NULL)
		json_object_set_new(o, "kind", json_string(kinds[s->kind]));
	json_object_set_new(o, "timestamp",
	    json_real((double)s->start_time_unix_nano / 1e3));
	json_object_set_new(o, "duration", json_integer((json_int_t)(
	    (s->end_time_unix_nano - s->start_time_unix_nano) / 1000)));
	json_object_set_new(o, "localEndpoint",
	    json_pack("{s:s}", "serviceName", service));
	for (size_t k = 0; k < s->n_attributes; k++)
		json_object_set_new(tags, s->attributes[k]->key,
		    tag_value(s->attributes[k]->value));
	json_object_set_new(tags, "service.version", json_string("1.4.2"));
	json_object_set_new(o, "tags", tags);
	return o;
}

/* Writes the template's spans as a Zipkin JSON list into b. */
static void
zipkin_body(struct body *b,
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs,
    uint8_t trace_ids[TRACES_PER_REQ][16])
{
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];
	json_t *list = json_array();
	const char *service =
	    rs->resource->attributes[0]->value->string_value;

	for (size_t i = 0; i < ss->n_spans; i++)
		json_array_append_new(list, zipkin_span(ss->spans[i], service));
	memset(b, 0, sizeof *b);
	b->hex = true;
	b->data = (uint8_t *)json_dumps(list, JSON_COMPACT);
	b->len = strlen((char *)b->data);
	json_decref(list);
	find_ids(b, trace_ids);
}

/* ------------------------------------------------------------ clients */

static void *
client_main(void *arg)
{
	struct load_client *c = arg;
	const struct body *b = c->tmpl;
	uint8_t *buf = xmalloc(b->len);
	char hdr[256], resp[4096];
	uint64_t seq = (uint64_t)c->id << 40;
	int fd, hlen, status;

	memcpy(buf, b->data, b->len);
	if ((fd = http_connect(c->port)) < 0) {
		snprintf(c->err, sizeof c->err, "connect: %s", strerror(errno));
		free(buf);
		return NULL;
	}
	hlen = snprintf(hdr, sizeof hdr,
	    "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    c->mode == MODE_ZIPKIN ? "/api/v2/spans" : "/v1/traces", c->port,
	    c->mode == MODE_ZIPKIN ? "application/json"
	                           : "application/x-protobuf", b->len);
	while (now_s() < c->t_end) {
		rewrite_ids(b, buf, seq++);
		status = write_all(fd, hdr, (size_t)hlen) == 0 &&
		    write_all(fd, buf, b->len) == 0 ?
		    read_response(fd, resp, sizeof resp) : -1;
		if (status != 200 && status != 202) {
			c->errors++;
			snprintf(c->err, sizeof c->err, "status %d", status);
			break; /* the connection state is unknown */
		}
		if (now_s() >= c->t_start)
			c->spans += SPANS_PER_REQ;
	}
	close(fd);
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------ runs */

/* Starts the listener of mode on p; returns its port. */
static int
listener_start(enum mode mode, pipeline *p, size_t max_body,
    otlp_http **h, zipkin **z)
{
	http_server_options o = { .max_body_bytes = max_body };
	char *cause = NULL;

	if (mode == MODE_ZIPKIN) {
		if (zipkin_start(z, "127.0.0.1:0", &o, p, &cause) != 0)
			fatalx("bench: %s", cause);
		return zipkin_port(*z);
	}
	if (otlp_http_start_opts(h, "127.0.0.1:0", &o, p, &cause) != 0)
		fatalx("bench: %s", cause);
	return otlp_http_port(*h);
}

/* Runs one transport against a fresh store; returns spans per second. */
static double
run(enum mode mode, const struct body *b, double secs)
{
	struct load_store ls;
	otlp_http *h = NULL;
	zipkin *z = NULL;
	double rate;
	int port;

	load_store_open(&ls);
	port = listener_start(mode, ls.p, ls.lim.max_message_bytes, &h, &z);
	rate = load_run_clients(client_main, (int)mode, port, b, secs);
	zipkin_stop(z);
	otlp_http_stop(h);
	load_store_close(&ls);
	return rate;
}

int
main(void)
{
	uint8_t ids[TRACES_PER_REQ][16];
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	struct body pb, zk;
	bool quick = getenv("BENCH_QUICK") != NULL;
	double secs = quick ? 1.0 : 3.0;
	int rounds = quick ? 1 : 3;
	double pb_r[3], zk_r[3], pb_rate, zk_rate;

	srandom((unsigned)now_unix_ns());
	log_set_level(LOG_ERROR);
	rs = build_template(ids);
	protobuf_body(&pb, rs, ids);
	zipkin_body(&zk, rs, ids);
	for (int r = 0; r < rounds; r++) {
		pb_r[r] = run(MODE_OTLP_PB, &pb, secs);
		zk_r[r] = run(MODE_ZIPKIN, &zk, secs);
	}
	pb_rate = median(pb_r, rounds);
	zk_rate = median(zk_r, rounds);
	printf("BENCH zipkin.span_bytes %.0f bytes\n",
	    (double)zk.len / SPANS_PER_REQ);
	printf("BENCH zipkin.ingest_spans_per_s %.0f spans/s\n", zk_rate);
	printf("BENCH zipkin.otlp_http_spans_per_s_same_run %.0f spans/s\n",
	    pb_rate);
	printf("BENCH zipkin.vs_otlp_http_ratio %.2f ratio\n",
	    pb_rate > 0 ? zk_rate / pb_rate : 0.0);
	free(pb.data);
	free(zk.data);
	free_template(rs);
	return 0;
}
