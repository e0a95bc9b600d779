/*
 * bench_otlp_grpc.c - OTLP/gRPC ingest throughput against OTLP/HTTP
 * protobuf, in the same run, on the same machine, through the same
 * pipeline and store.
 *
 * For each transport a fresh RocksDB store (temp dir, WAL on, no fsync, as
 * the collector's default) gets a pipeline and its receiver on loopback
 * TCP; 4 client threads, each with its own connection, send the requests
 * of bench/otlp_load.h (100 spans each, new trace IDs every time) one at a
 * time and wait for the acknowledgement, for a fixed time after a warm-up:
 * OTLP/HTTP with the HTTP/1.1 client of otlp_load.h, gRPC with the nghttp2
 * client of tests/tools/h2_client.h (one Export call at a time on an h2c
 * connection). The transports alternate, three rounds; each figure is the
 * median of its rounds.
 *
 *   BENCH otlp_grpc.ingest_spans_per_s                    Export over h2c
 *   BENCH otlp_grpc.http_protobuf_spans_per_s_same_run    POST /v1/traces
 *   BENCH otlp_grpc.vs_http_protobuf_ratio                target >= 0.9
 *
 * BENCH_QUICK=1 runs one round of 1 s per transport instead of three of 3 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/collector.h"
#include "net/grpc_frame.h"
#include "net/otlp_grpc.h"
#include "net/otlp_http.h"

#include "otlp_load.h"
#include "../tests/tools/h2_client.h"

#define EXPORT_PATH \
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export"

enum mode { MODE_HTTP_PB, MODE_GRPC };

/* One POST /v1/traces of buf on fd; true when answered 200. */
static bool
http_send(int fd, const char *hdr, size_t hlen, const uint8_t *buf,
    size_t len)
{
	char resp[4096];

	return write_all(fd, hdr, hlen) == 0 && write_all(fd, buf, len) == 0 &&
	    read_response(fd, resp, sizeof resp) == 200;
}

/* One Export call of the framed message buf on c; true when OK. */
static bool
grpc_send(h2_client *c, const uint8_t *buf, size_t len)
{
	nghttp2_nv h[] = {
		H2_NV(":method", "POST"), H2_NV(":scheme", "http"),
		H2_NV(":authority", "127.0.0.1"), H2_NV(":path", EXPORT_PATH),
		H2_NV("content-type", "application/grpc"),
		H2_NV("te", "trailers"),
	};
	h2_call k;
	bool ok;

	memset(&k, 0, sizeof k);
	k.body = buf;
	k.len = len;
	ok = h2_submit(c, &k, h, sizeof h / sizeof h[0]) == 0 &&
	    h2_run(c) == 0 && k.grpc_status == 0;
	free(k.resp);
	return ok;
}

static void *
client_main(void *arg)
{
	struct load_client *c = arg;
	const struct body *b = c->tmpl;
	size_t off = c->mode == MODE_GRPC ? GRPC_PREFIX_LEN : 0;
	uint8_t *buf = xmalloc(b->len + off);
	uint64_t seq = (uint64_t)c->id << 40;
	char hdr[256], addr[32];
	h2_client h2 = { .fd = -1 };
	int fd = -1, hlen = 0;

	grpc_frame_prefix(buf, (uint32_t)b->len);
	memcpy(buf + off, b->data, b->len);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", c->port);
	if (c->mode == MODE_GRPC ? h2_connect(&h2, addr) != 0 :
	    (fd = http_connect(c->port)) < 0) {
		snprintf(c->err, sizeof c->err, "connect: %s",
		    strerror(errno));
		goto out;
	}
	hlen = snprintf(hdr, sizeof hdr, "POST /v1/traces HTTP/1.1\r\n"
	    "Host: %s\r\nContent-Type: application/x-protobuf\r\n"
	    "Content-Length: %zu\r\n\r\n", addr, b->len);
	while (now_s() < c->t_end) {
		bool ok;

		rewrite_ids(b, buf + off, seq++);
		ok = c->mode == MODE_GRPC ? grpc_send(&h2, buf, b->len + off) :
		    http_send(fd, hdr, (size_t)hlen, buf, b->len);
		if (!ok) {
			if (c->errors++ == 0)
				snprintf(c->err, sizeof c->err,
				    "request failed");
			break; /* the connection state is unknown */
		}
		if (now_s() >= c->t_start)
			c->spans += SPANS_PER_REQ;
	}
out:
	if (fd >= 0)
		close(fd);
	h2_close(&h2);
	free(buf);
	return NULL;
}

/* Runs one transport against a fresh store; returns spans per second. */
static double
run(enum mode mode, const struct body *b, double secs)
{
	struct load_store ls;
	otlp_http *h = NULL;
	otlp_grpc *g = NULL;
	char *cause = NULL;
	double rate;
	int port;

	load_store_open(&ls);
	if (mode == MODE_GRPC) {
		otlp_grpc_options o = { .max_message_bytes =
		    ls.lim.max_message_bytes };

		if (otlp_grpc_start(&g, "127.0.0.1:0", &o, ls.p, &cause) != 0)
			fatalx("bench: %s", cause);
		port = otlp_grpc_port(g);
	} else {
		if (otlp_http_start(&h, "127.0.0.1:0",
		    ls.lim.max_message_bytes, ls.p, &cause) != 0)
			fatalx("bench: %s", cause);
		port = otlp_http_port(h);
	}
	rate = load_run_clients(client_main, mode, port, b, secs);
	otlp_grpc_stop(g);
	otlp_http_stop(h);
	load_store_close(&ls);
	return rate;
}

int
main(void)
{
	uint8_t ids[TRACES_PER_REQ][16];
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	struct body pb;
	bool quick = getenv("BENCH_QUICK") != NULL;
	double secs = quick ? 1.0 : 3.0;
	int rounds = quick ? 1 : 3;
	double http_r[3], grpc_r[3], http_rate, grpc_rate;

	srandom((unsigned)now_unix_ns());
	log_set_level(LOG_ERROR);
	rs = build_template(ids);
	protobuf_body(&pb, rs, ids);
	for (int r = 0; r < rounds; r++) {
		/* Alternate the order so neither always runs on a warmer
		 * page cache. */
		if (r % 2 == 0) {
			http_r[r] = run(MODE_HTTP_PB, &pb, secs);
			grpc_r[r] = run(MODE_GRPC, &pb, secs);
		} else {
			grpc_r[r] = run(MODE_GRPC, &pb, secs);
			http_r[r] = run(MODE_HTTP_PB, &pb, secs);
		}
	}
	http_rate = median(http_r, rounds);
	grpc_rate = median(grpc_r, rounds);
	printf("BENCH otlp_grpc.ingest_spans_per_s %.0f spans/s\n", grpc_rate);
	printf("BENCH otlp_grpc.http_protobuf_spans_per_s_same_run %.0f "
	    "spans/s\n", http_rate);
	printf("BENCH otlp_grpc.vs_http_protobuf_ratio %.2f ratio\n",
	    http_rate > 0 ? grpc_rate / http_rate : 0.0);
	free(pb.data);
	free_template(rs);
	return 0;
}
