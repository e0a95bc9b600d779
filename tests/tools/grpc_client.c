/*
 * grpc_client.c - drives the collector's OTLP/gRPC receiver for
 * tests/e2e/test_otlp_grpc.sh, well-formed and not.
 *
 *   grpc_client ADDR call [options] FILE   one Export call with FILE (an
 *       ExportTraceServiceRequest) as its message; prints one line:
 *       http=N grpc_status=N rst=N goaway=N rejected=N retry_ms=N
 *       message=TEXT (fields that did not occur are -1)
 *     --gzip            compress the message, grpc-encoding: gzip
 *     --raw             FILE is the whole request body (no prefix added)
 *     --path P, --content-type T, --method M, --encoding E, --timeout V
 *     --pad N           add a header of N bytes
 *     --hold            send the body but never end the request
 *     --count N         make N such calls at once on one connection; prints
 *                       ok=N refused=N other=N goaway=N instead
 *   grpc_client ADDR resets N   opens N calls and cancels each at once;
 *       then prints goaway=N (the server's GOAWAY code, -1 for none)
 *
 * Exit status 0 when the exchange happened (whatever the answer), 3 when
 * the connection could not be made or ended early without an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base64.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "h2_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define EXPORT_PATH \
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export"

struct opts {
	bool gzip, raw, hold;
	const char *path, *ctype, *method, *encoding, *timeout, *file;
	size_t pad;
	int count;
};

static uint8_t *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	do {
		if (n == cap && (buf = realloc(buf, cap = cap * 2 + 4096)) ==
		    NULL)
			abort();
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static uint8_t *
gzip_all(const uint8_t *in, size_t n, size_t *len)
{
	uLong cap = compressBound((uLong)n) + 64;
	uint8_t *out = malloc(cap);
	z_stream zs;

	memset(&zs, 0, sizeof zs);
	if (out == NULL || deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* The request body: FILE framed (and gzipped), or FILE as it is. */
static uint8_t *
build_body(const struct opts *o, size_t *len)
{
	size_t n, gz_len;
	uint8_t *msg = read_all(o->file, &n), *body, *gz;

	if (o->raw) {
		*len = n;
		return msg;
	}
	if (o->gzip) {
		gz = gzip_all(msg, n, &gz_len);
		free(msg);
		msg = gz;
		n = gz_len;
	}
	body = malloc(n + 5);
	if (body == NULL)
		abort();
	body[0] = o->gzip ? 1 : 0;
	body[1] = (uint8_t)(n >> 24);
	body[2] = (uint8_t)(n >> 16);
	body[3] = (uint8_t)(n >> 8);
	body[4] = (uint8_t)n;
	memcpy(body + 5, msg, n);
	free(msg);
	*len = n + 5;
	return body;
}

static size_t
build_headers(const struct opts *o, nghttp2_nv *h, char *pad)
{
	size_t n = 0;

	h[n++] = H2_NV(":method", o->method);
	h[n++] = H2_NV(":scheme", "http");
	h[n++] = H2_NV(":authority", "collector");
	h[n++] = H2_NV(":path", o->path);
	h[n++] = H2_NV("content-type", o->ctype);
	h[n++] = H2_NV("te", "trailers");
	if (o->encoding != NULL)
		h[n++] = H2_NV("grpc-encoding", o->encoding);
	else if (o->gzip)
		h[n++] = H2_NV("grpc-encoding", "gzip");
	if (o->timeout != NULL)
		h[n++] = H2_NV("grpc-timeout", o->timeout);
	if (pad != NULL)
		h[n++] = H2_NV("x-pad", pad);
	return n;
}

/* RetryInfo's delay in ms from grpc-status-details-bin, or -1. */
static long
retry_ms(const char *b64)
{
	size_t n = strlen(b64);
	uint8_t *buf = malloc(base64_decoded_max(n));
	long len = buf ? base64_decode(b64, n, buf) : -1, ms = -1;
	Google__Rpc__Status *st = NULL;

	if (len > 0)
		st = google__rpc__status__unpack(NULL, (size_t)len, buf);
	for (size_t i = 0; st != NULL && i < st->n_details; i++) {
		Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(
		    NULL, st->details[i]->value.len,
		    st->details[i]->value.data);
		if (ri != NULL && ri->retry_delay != NULL)
			ms = (long)ri->retry_delay->seconds * 1000 +
			    ri->retry_delay->nanos / 1000000;
		google__rpc__retry_info__free_unpacked(ri, NULL);
	}
	if (st != NULL)
		google__rpc__status__free_unpacked(st, NULL);
	free(buf);
	return ms;
}

/* partial_success.rejected_spans of the response message, or -1. */
static long
rejected(const h2_call *k, char *msg, size_t cap)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
	    *r;
	long v = -1;

	if (k->resp_len < 5)
		return -1;
	r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
	    NULL, k->resp_len - 5, k->resp + 5);
	if (r == NULL)
		return -1;
	v = 0;
	if (r->partial_success != NULL) {
		v = (long)r->partial_success->rejected_spans;
		snprintf(msg, cap, "%s", r->partial_success->error_message);
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
	    r, NULL);
	return v;
}

static void
print_call(const h2_client *c, const h2_call *k)
{
	char pmsg[512] = "";
	long rej = rejected(k, pmsg, sizeof pmsg);

	printf("http=%d grpc_status=%d rst=%d goaway=%d rejected=%ld "
	    "retry_ms=%ld message=%s%s%s\n", k->http_status ? k->http_status :
	    -1, k->grpc_status, k->closed ? (int)k->rst_code : -1,
	    c->goaway ? (int)c->goaway_code : -1, rej,
	    k->details[0] ? retry_ms(k->details) : -1, k->grpc_message,
	    pmsg[0] ? " partial=" : "", pmsg);
}

static int
run_calls(const char *addr, const struct opts *o)
{
	h2_client c;
	nghttp2_nv h[10];
	size_t len, n;
	uint8_t *body = build_body(o, &len);
	char *pad = NULL;
	h2_call *k = calloc((size_t)o->count, sizeof *k);
	int ok = 0, refused = 0, other = 0, rv;

	if (o->pad > 0) {
		pad = malloc(o->pad + 1);
		memset(pad, 'p', o->pad);
		pad[o->pad] = '\0';
	}
	n = build_headers(o, h, pad);
	if (k == NULL || h2_connect(&c, addr) != 0)
		return 3;
	/* All calls go out before the server's SETTINGS are read, so a
	 * count over its stream limit really opens that many. */
	for (int i = 0; i < o->count; i++) {
		k[i].body = body;
		k[i].len = len;
		k[i].hold_open = o->hold;
		if (h2_submit(&c, &k[i], h, n) != 0)
			return 3;
	}
	rv = h2_run(&c);
	if (o->count == 1) {
		print_call(&c, &k[0]);
	} else {
		for (int i = 0; i < o->count; i++) {
			if (k[i].grpc_status == 0)
				ok++;
			else if (k[i].rst_code == NGHTTP2_REFUSED_STREAM)
				refused++;
			else
				other++;
		}
		printf("ok=%d refused=%d other=%d goaway=%d\n", ok, refused,
		    other, c.goaway ? (int)c.goaway_code : -1);
	}
	h2_close(&c);
	for (int i = 0; i < o->count; i++)
		free(k[i].resp);
	free(k);
	free(body);
	free(pad);
	return rv == 0 ? 0 : 3;
}

/* Opens n calls and resets each as soon as its HEADERS are out. */
static int
run_resets(const char *addr, int n)
{
	h2_client c;
	struct opts o = { .path = EXPORT_PATH, .ctype = "application/grpc",
		.method = "POST" };
	nghttp2_nv h[10];
	size_t nh = build_headers(&o, h, NULL);
	h2_call *k = calloc((size_t)n, sizeof *k);
	const uint8_t *out;
	ssize_t w;

	if (k == NULL || h2_connect(&c, addr) != 0)
		return 3;
	for (int i = 0; i < n && !c.eof; i++) {
		k[i].hold_open = true;
		if (h2_submit(&c, &k[i], h, nh) != 0)
			break;
		while ((w = nghttp2_session_mem_send(c.s, &out)) > 0)
			if (send(c.fd, out, (size_t)w, MSG_NOSIGNAL) != w)
				c.eof = true;
		nghttp2_submit_rst_stream(c.s, NGHTTP2_FLAG_NONE, k[i].id,
		    NGHTTP2_CANCEL);
	}
	/* A PING after the resets: its ack means the server read them all
	 * and kept the connection; a GOAWAY or a hang-up that it did not. */
	nghttp2_submit_ping(c.s, NGHTTP2_FLAG_NONE, NULL);
	while (!c.eof && !c.ping_acked && !c.goaway && h2_pump(&c) == 0)
		;
	printf("goaway=%d\n", c.goaway ? (int)c.goaway_code : -1);
	h2_close(&c);
	free(k);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: grpc_client ADDR call [options] FILE | "
	    "grpc_client ADDR resets N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = { .path = EXPORT_PATH, .ctype = "application/grpc",
		.method = "POST", .count = 1 };
	int i;

	if (argc < 4)
		usage();
	if (strcmp(argv[2], "resets") == 0)
		return run_resets(argv[1], atoi(argv[3]));
	if (strcmp(argv[2], "call") != 0)
		usage();
	for (i = 3; i < argc - 1; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--gzip") == 0)
			o.gzip = true;
		else if (strcmp(a, "--raw") == 0)
			o.raw = true;
		else if (strcmp(a, "--hold") == 0)
			o.hold = true;
		else if (i + 1 >= argc - 1)
			usage();
		else if (strcmp(a, "--path") == 0)
			o.path = argv[++i];
		else if (strcmp(a, "--content-type") == 0)
			o.ctype = argv[++i];
		else if (strcmp(a, "--method") == 0)
			o.method = argv[++i];
		else if (strcmp(a, "--encoding") == 0)
			o.encoding = argv[++i];
		else if (strcmp(a, "--timeout") == 0)
			o.timeout = argv[++i];
		else if (strcmp(a, "--pad") == 0)
			o.pad = (size_t)atol(argv[++i]);
		else if (strcmp(a, "--count") == 0)
			o.count = atoi(argv[++i]);
		else
			usage();
	}
	if (i != argc - 1 || o.count < 1)
		usage();
	o.file = argv[argc - 1];
	return run_calls(argv[1], &o);
}
