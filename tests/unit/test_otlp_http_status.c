/* Unit tests for collector/net/otlp_http.c with a scripted pipeline: the status
 * mapping of every pipeline code (503 + Retry-After, 500, 413, 400, partial
 * success in protobuf and JSON), pipelined and chunked requests on one
 * connection, bad addresses, and stopping with requests in flight.
 *
 * This file defines pipeline_submit_protobuf itself, so the linker never
 * pulls the real pipeline.o out of libcollector.a. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "http_client_fixture.h"
#include "net/otlp_http.h"
#include "google/rpc/status.pb-c.h"

/* ------------------------------------------------------------ fake pipeline
 */

static pipeline_result fake_result;
static atomic_int fake_calls;
static atomic_int fake_delay_ms;
static size_t fake_last_len;

void
pipeline_submit_protobuf(
    pipeline *p, const uint8_t *buf, size_t len, pipeline_result *res)
{
	int ms = atomic_load(&fake_delay_ms);

	(void)p;
	(void)buf;
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	fake_last_len = len;
	atomic_fetch_add(&fake_calls, 1);
	*res = fake_result;
}

static void
fake_set(
    pipeline_code code, int64_t rejected, uint32_t retry_ms, const char *msg)
{
	memset(&fake_result, 0, sizeof fake_result);
	fake_result.code = code;
	fake_result.rejected_spans = rejected;
	fake_result.retry_after_ms = retry_ms;
	snprintf(fake_result.message, sizeof fake_result.message, "%s", msg);
	atomic_store(&fake_delay_ms, 0);
}

/* ------------------------------------------------------------ client */

/* POSTs body with Content-Type ct on a new connection. */
static void
post(
    int port, const char *ct, const void *body, size_t len, struct response *r)
{
	char hdr[256];
	int fd = dial(port);
	int n = snprintf(hdr, sizeof hdr,
	    "POST /v1/traces HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "\r\n",
	    ct, len);

	send_all(fd, hdr, (size_t)n);
	send_all(fd, body, len);
	assert_int_equal(read_response(fd, r), 0);
	close(fd);
}

/* ------------------------------------------------------------ fixtures */

static int
setup(void **state)
{
	otlp_http *h;
	char *cause = NULL;

	fake_set(PIPELINE_OK, 0, 0, "");
	if (otlp_http_start(&h, "127.0.0.1:0", 1 << 20, NULL, &cause) != 0) {
		fprintf(stderr, "otlp_http_start: %s\n", cause);
		free(cause);
		return -1;
	}
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	otlp_http_stop(*state);
	return 0;
}

#define PORT(state) otlp_http_port((otlp_http *)*(state))

/* An empty ExportTraceServiceRequest is valid protobuf. */
static const uint8_t empty_req[1];

/* ------------------------------------------------------------ tests */

static void
test_start_errors(void **state)
{
	otlp_http *h = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(
	    otlp_http_start(&h, "127.0.0.1:notaport", 1024, NULL, &cause), -1);
	assert_null(h);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(
	    otlp_http_start(&h, "192.0.2.1:0", 1024, NULL, &cause),
	    -1); /* not a local address */
	assert_non_null(cause);
	free(cause);
	otlp_http_stop(NULL);
}

static void
test_port_and_success(void **state)
{
	struct response r;

	assert_true(PORT(state) > 0);
	post(PORT(state), "application/x-protobuf", empty_req, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(
	    header(&r, "Content-Type"), "application/x-protobuf");
	assert_int_equal(r.body_len, 0);
	post(PORT(state), "application/json", "{}", 2, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	assert_int_equal(r.body_len, 2);
	assert_memory_equal(r.body, "{}", 2);
	assert_int_equal(fake_last_len, 0); /* {} is an empty request */
}

static void
test_retry_later(void **state)
{
	struct response r;
	Google__Rpc__Status *st;

	fake_set(PIPELINE_RETRY_LATER, 0, 2500, "store busy");
	post(PORT(state), "application/x-protobuf", empty_req, 0, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(header(&r, "Retry-After"), "3");
	st = google__rpc__status__unpack(NULL, r.body_len, r.body);
	assert_non_null(st);
	assert_string_equal(st->message, "store busy");
	google__rpc__status__free_unpacked(st, NULL);

	fake_set(PIPELINE_RETRY_LATER, 0, 0, "");
	post(PORT(state), "application/json", "{}", 2, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(header(&r, "Retry-After"), "1");
	assert_non_null(strstr((char *)r.body, "\"message\""));
}

static void
test_error_codes(void **state)
{
	struct response r;

	fake_set(PIPELINE_INTERNAL, 0, 0, "disk on fire");
	post(PORT(state), "application/x-protobuf", empty_req, 0, &r);
	assert_int_equal(r.status, 500);
	fake_set(PIPELINE_TOO_LARGE, 0, 0, "too big");
	post(PORT(state), "application/x-protobuf", empty_req, 0, &r);
	assert_int_equal(r.status, 413);
	fake_set(PIPELINE_INVALID, 0, 0, "cannot unpack");
	post(PORT(state), "application/x-protobuf", "\xff", 1, &r);
	assert_int_equal(r.status, 400);
	assert_true(r.body_len > 0);
}

static void
test_partial_success(void **state)
{
	struct response r;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
	    *resp;
	static const char json[] =
	    "{\"resourceSpans\":[{\"scopeSpans\":[{"
	    "\"spans\":[{\"spanId\":\"xyz\"},{\"name\":\"ok\"}]}]}]}";

	fake_set(PIPELINE_PARTIAL, 2, 0, "2 spans: all-zero trace id");
	post(PORT(state), "application/x-protobuf", empty_req, 0, &r);
	assert_int_equal(r.status, 200);
	resp =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
	        NULL, r.body_len, r.body);
	assert_non_null(resp);
	assert_non_null(resp->partial_success);
	assert_int_equal(resp->partial_success->rejected_spans, 2);
	assert_string_equal(resp->partial_success->error_message,
	    "2 spans: all-zero trace id");
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
	    resp, NULL);

	/* JSON: the decoder's rejections add to the pipeline's. */
	fake_set(PIPELINE_PARTIAL, 1, 0, "pipeline says");
	post(PORT(state), "application/json", json, strlen(json), &r);
	assert_int_equal(r.status, 200);
	r.body[r.body_len] = '\0';
	assert_non_null(strstr((char *)r.body, "\"rejectedSpans\":\"2\""));
	assert_non_null(strstr((char *)r.body, "spanId"));
	assert_non_null(strstr((char *)r.body, "pipeline says"));
}

/* A rejection reason quoting client input cut mid-character still gives
 * a valid JSON response (printable ASCII only). */
static void
test_message_sanitised(void **state)
{
	char json[256], *p;
	struct response r;
	int n;

	fake_set(PIPELINE_OK, 0, 0, "");
	n = snprintf(json, sizeof json,
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
	    "\"startTimeUnixNano\":\"a");
	for (int i = 0; i < 20; i++)
		n += snprintf(json + n, sizeof json - (size_t)n, "\xc3\xa9");
	snprintf(json + n, sizeof json - (size_t)n, "\"}]}]}]}");
	post(PORT(state), "application/json", json, strlen(json), &r);
	assert_int_equal(r.status, 200);
	r.body[r.body_len] = '\0';
	assert_non_null(strstr((char *)r.body, "\"rejectedSpans\":\"1\""));
	assert_non_null(p = strstr((char *)r.body, "startTimeUnixNano"));
	for (p = (char *)r.body; *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

/* Three requests in one write: plain, chunked (with extension and
 * trailer), plain. Each gets its own response, in order. */
static void
test_pipelined_and_chunked(void **state)
{
	static const char reqs[] =
	    "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	    "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "1;a=b\r\n{\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n"
	    "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	struct response r;
	int fd = dial(PORT(state)), before = atomic_load(&fake_calls);

	send_all(fd, reqs, sizeof reqs - 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(read_response(fd, &r), 0);
		assert_int_equal(r.status, 200);
	}
	assert_int_equal(atomic_load(&fake_calls) - before, 3);
	close(fd);
}

/* Bad chunked framing: 400 (413 for a chunk size beyond any limit), and
 * the connection closes. libmicrohttpd answers these itself. */
static void
test_bad_chunked(void **state)
{
	static const struct {
		const char *body;
		int status;
	} bad[] = {
	    {"zz\r\n{}\r\n0\r\n\r\n", 400}, /* size not hex */
	    {"2\r\n{}XX0\r\n\r\n", 400},    /* data not followed by CRLF */
	    {"123456789012345678901234567890123456789\r\n", 413}, /* size */
	};
	struct response r;
	char req[512];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int fd = dial(PORT(state));
		int n = snprintf(req, sizeof req,
		    "POST /v1/traces HTTP/1.1\r\n"
		    "Host: x\r\nContent-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n%s",
		    bad[i].body);
		send_all(fd, req, (size_t)n);
		assert_int_equal(read_response(fd, &r), 0);
		assert_int_equal(r.status, bad[i].status);
		assert_string_equal(header(&r, "Connection"), "close");
		close(fd);
	}
}

struct sender {
	int port;
	int done;
};

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	char req[256];
	struct response r;
	int fd, n;

	fd = dial(s->port);
	n = snprintf(req, sizeof req,
	    "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	send_all(fd, req, (size_t)n);
	(void)read_response(fd, &r); /* answered, or dropped at stop */
	close(fd);
	s->done = 1;
	return NULL;
}

/* Stopping with requests inside the pipeline waits for them and frees
 * everything (ASan checks); a later start works again. */
static void
test_stop_in_flight(void **state)
{
	otlp_http *h;
	char *cause = NULL;
	pthread_t th[6];
	struct sender s[6];
	int port;

	(void)state;
	fake_set(PIPELINE_OK, 0, 0, "");
	atomic_store(&fake_delay_ms, 200);
	assert_int_equal(
	    otlp_http_start(&h, "127.0.0.1:0", 1 << 20, NULL, &cause), 0);
	port = otlp_http_port(h);
	for (int i = 0; i < 6; i++) {
		s[i].port = port;
		s[i].done = 0;
		pthread_create(&th[i], NULL, sender_main, &s[i]);
	}
	usleep(100 * 1000);
	otlp_http_stop(h);
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].done, 1);
	}
	atomic_store(&fake_delay_ms, 0);
	assert_int_equal(
	    otlp_http_start(&h, "127.0.0.1:0", 1 << 20, NULL, &cause), 0);
	otlp_http_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_errors),
	    cmocka_unit_test(test_port_and_success),
	    cmocka_unit_test(test_retry_later),
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test(test_partial_success),
	    cmocka_unit_test(test_message_sanitised),
	    cmocka_unit_test(test_pipelined_and_chunked),
	    cmocka_unit_test(test_bad_chunked),
	    cmocka_unit_test(test_stop_in_flight),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
