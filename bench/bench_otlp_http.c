/*
 * bench_otlp_http.c - OTLP/HTTP ingest throughput against NNG ingest, in the
 * same run, on the same machine, through the same pipeline and store.
 *
 * The requests, their IDs and the HTTP/1.1 client are bench/otlp_load.h's,
 * shared with bench_otlp_grpc.c.
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

#include "daemon/collector.h"
#include "net/otlp_http.h"
#include "otlp_json.h"
#include "tracequery.pb-c.h"

#include "otlp_load.h"

enum mode { MODE_NNG, MODE_HTTP_PB, MODE_HTTP_JSON };

static void *
client_main(void *arg)
{
	struct load_client *c = arg;
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
	struct load_store ls;
	char url[64], *cause = NULL;
	const char *urls[1];
	ingest *in = NULL;
	otlp_http *h = NULL;
	double rate;
	int port;

	load_store_open(&ls);
	if (mode == MODE_NNG) {
		port = free_port();
		snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
		urls[0] = url;
		if (ingest_start(&in, urls, 1, 4, ls.lim.max_message_bytes,
		        ls.p, &cause) != 0)
			fatalx("bench: %s", cause);
	} else {
		if (otlp_http_start(&h, "127.0.0.1:0",
		        ls.lim.max_message_bytes, ls.p, &cause) != 0)
			fatalx("bench: %s", cause);
		port = otlp_http_port(h);
	}
	rate = load_run_clients(client_main, mode, port, b, secs);
	otlp_http_stop(h);
	if (in != NULL)
		ingest_stop(in);
	load_store_close(&ls);
	return rate;
}

int
main(void)
{
	uint8_t ids[TRACES_PER_REQ][16];
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	struct body pb, js;
	bool quick = getenv("BENCH_QUICK") != NULL;
	double secs = quick ? 1.0 : 3.0;
	int rounds = quick ? 1 : 3;
	double nng_r[3], pb_r[3], json_r[3], nng_rate, pb_rate, json_rate;
	char *cause;

	srandom((unsigned)now_unix_ns());
	log_set_level(LOG_ERROR);
	rs = build_template(ids);
	protobuf_body(&pb, rs, ids);
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
