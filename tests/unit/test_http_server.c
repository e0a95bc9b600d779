/* Unit tests for collector/net/http_server.c, the libmicrohttpd wrapper
 * every HTTP listener uses, with a real server on a loopback port and a
 * raw client: method, decoded path, repeated query keys, header values
 * with spaces and tabs, the body (plain, chunked, pipelined), the body
 * limit by Content-Length and while reading chunks, an unknown transfer
 * coding, a handler that sets nothing, the counters, huge headers, the
 * connection limit, the idle timeout, and start errors. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common.h"
#include "http_client_fixture.h"
#include "net/http_server.h"

#define LIMIT 1000

static listener_stats test_stats = { .name = "test_http" };

/* Appends "key=value;" for each pair (a query or the headers). */
static bool
append_pair(void *arg, const char *key, const char *value)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s=%s;", key, value);
	return true;
}

/* Echoes the request as text: method, path, query pairs, a few headers,
 * body length and body; "/silent" sets no response, "/teapot" answers
 * 418 with an extra header. */
static void
echo(void *arg, const http_request *req, http_response *res)
{
	char query[1024] = "", out[4096];
	const char *x = http_request_header(req, "X-Test");
	size_t len;
	const uint8_t *body = http_request_body(req, &len);

	(void)arg;
	if (strcmp(http_request_path(req), "/silent") == 0)
		return;
	if (strcmp(http_request_path(req), "/teapot") == 0) {
		http_response_set(res, 418, "text/plain", "tea", 3);
		http_response_header(res, "X-Brew", "green");
		return;
	}
	http_request_query_each(req, append_pair, query);
	snprintf(out, sizeof out, "%s %s q=%s x=[%s] first=%s err=%u len=%zu "
	    "body=%.*s", http_request_method(req), http_request_path(req),
	    query, x ? x : "(none)",
	    http_request_query(req, "traceID") ? http_request_query(req,
	    "traceID") : "(none)", http_request_body_error(req), len,
	    (int)(len > 200 ? 200 : len), (const char *)body);
	http_response_set(res, 200, "text/plain", out, strlen(out));
}

static int
setup(void **state)
{
	http_server *s;
	http_server_options o;
	char *cause = NULL;

	memset(&o, 0, sizeof o);
	o.name = "test";
	o.max_body_bytes = LIMIT;
	o.stats = &test_stats;
	if (http_server_start(&s, "127.0.0.1:0", &o, echo, NULL, &cause) !=
	    0) {
		fprintf(stderr, "http_server_start: %s\n", cause);
		free(cause);
		return -1;
	}
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	http_server_stop(*state);
	return 0;
}

#define PORT(state) http_server_port((http_server *)*(state))

/* Sends raw bytes on a new connection and reads one response. */
static void
exchange(void **state, const char *raw, struct response *r)
{
	int fd = dial(PORT(state));

	send_all(fd, raw, strlen(raw));
	assert_int_equal(read_response(fd, r), 0);
	r->body[r->body_len < sizeof r->body ? r->body_len
	                                      : sizeof r->body - 1] = '\0';
	close(fd);
}

static void
test_get_with_query(void **state)
{
	struct response r;

	exchange(state, "GET /api/a%20b?traceID=a&traceID=b&flag&e= HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "text/plain");
	assert_non_null(strstr((char *)r.body, "GET /api/a b "));
	assert_non_null(strstr((char *)r.body,
	    "q=traceID=a;traceID=b;flag=;e=;"));
	assert_non_null(strstr((char *)r.body, "first=a "));
	assert_non_null(strstr((char *)r.body, "len=0 "));
}

/* Optional whitespace around a value, tabs included, is not part of it
 * (RFC 9110 5.5); libmicrohttpd alone keeps trailing tabs. */
static void
test_header_tabs(void **state)
{
	struct response r;

	exchange(state, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Test:\t \tv a\t \t\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr((char *)r.body, "x=[v a]"));
}

static void
test_post_bodies(void **state)
{
	static const char two[] = "POST /c HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "3;a=b\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
	    "POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok";
	struct response r;
	int fd;

	exchange(state, "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "\r\nhello", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr((char *)r.body, "POST /p "));
	assert_non_null(strstr((char *)r.body, "len=5 body=hello"));

	/* Chunked with an extension and a trailer, then a pipelined plain
	 * request on the same connection. */
	fd = dial(PORT(state));
	send_all(fd, two, sizeof two - 1);
	assert_int_equal(read_response(fd, &r), 0);
	assert_int_equal(r.status, 200);
	r.body[r.body_len] = '\0';
	assert_non_null(strstr((char *)r.body, "len=5 body=abcde"));
	assert_int_equal(read_response(fd, &r), 0);
	r.body[r.body_len] = '\0';
	assert_non_null(strstr((char *)r.body, "POST /d "));
	assert_non_null(strstr((char *)r.body, "body=ok"));
	close(fd);
}

static void
test_body_limit(void **state)
{
	struct response r;
	char req[LIMIT + 512];
	int n;

	/* By Content-Length: answered before the body is sent. */
	exchange(state, "POST /big HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1001\r\n\r\n", &r);
	assert_int_equal(r.status, 200); /* the echo handler answers 200 */
	assert_non_null(strstr((char *)r.body, "err=413 len=0"));
	assert_string_equal(header(&r, "Connection"), "close");

	/* While reading chunks: 600 + 600 bytes. */
	n = snprintf(req, sizeof req, "POST /big HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n258\r\n%0600d\r\n258\r\n%0600d"
	    "\r\n0\r\n\r\n", 0, 0);
	assert_true(n > 0 && (size_t)n < sizeof req);
	exchange(state, req, &r);
	assert_non_null(strstr((char *)r.body, "err=413 len=0"));

	/* Exactly at the limit is fine. */
	n = snprintf(req, sizeof req, "POST /ok HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1000\r\n\r\n%01000d", 7);
	exchange(state, req, &r);
	assert_non_null(strstr((char *)r.body, "err=0 len=1000"));
}

/* A transfer coding whose end libmicrohttpd cannot find is answered at
 * once (411 through the handler) rather than read to the connection's
 * end. */
static void
test_unknown_transfer_coding(void **state)
{
	struct response r;

	exchange(state, "POST /g HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\nxxxx", &r);
	assert_non_null(strstr((char *)r.body, "err=411"));
	assert_string_equal(header(&r, "Connection"), "close");
}

static void
test_responses(void **state)
{
	struct response r;

	exchange(state, "GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 418);
	assert_string_equal(header(&r, "X-Brew"), "green");
	assert_string_equal((char *)r.body, "tea");
	exchange(state, "GET /silent HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 500);
}

/* Every request answered is counted, with its body bytes, and the
 * refusals the server makes itself by reason. */
static void
test_counters(void **state)
{
	struct response r;
	uint64_t req0 = atomic_load(&test_stats.requests);
	uint64_t bytes0 = atomic_load(&test_stats.bytes);
	uint64_t big0 = atomic_load(
	    &test_stats.rejected[STATS_REJECT_TOO_LARGE]);
	uint64_t proto0 = atomic_load(
	    &test_stats.rejected[STATS_REJECT_PROTOCOL]);

	exchange(state, "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "\r\nhello", &r);
	exchange(state, "POST /big HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5000\r\n\r\n", &r);
	exchange(state, "POST /g HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: br\r\n\r\n", &r);
	assert_int_equal(atomic_load(&test_stats.requests) - req0, 3);
	assert_int_equal(atomic_load(&test_stats.bytes) - bytes0, 5);
	assert_int_equal(atomic_load(
	    &test_stats.rejected[STATS_REJECT_TOO_LARGE]) - big0, 1);
	assert_int_equal(atomic_load(
	    &test_stats.rejected[STATS_REJECT_PROTOCOL]) - proto0, 1);
}

/* Headers or a request line over the connection's 64 KiB: 431 or 414
 * from libmicrohttpd, the connection closed, the server still serving. */
static void
test_huge_headers(void **state)
{
	size_t big = 70000;
	char *req = xmalloc(big + 128);
	struct response r;
	int n;

	n = snprintf(req, big + 128, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'a', big);
	snprintf(req + n + big, 128, "\r\n\r\n");
	exchange(state, req, &r);
	assert_int_equal(r.status, 431);
	n = snprintf(req, big + 128, "GET /");
	memset(req + n, 'a', big);
	snprintf(req + n + big, 128, " HTTP/1.1\r\nHost: x\r\n\r\n");
	exchange(state, req, &r);
	assert_int_equal(r.status, 414);
	free(req);
	exchange(state, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
}

/* Starts a server of its own with o's limits (echo handler). */
static http_server *
start_with(const http_server_options *o)
{
	http_server *s = NULL;
	char *cause = NULL;

	if (http_server_start(&s, "127.0.0.1:0", o, echo, NULL, &cause) != 0)
		fail_msg("http_server_start: %s", cause);
	return s;
}

/* True when the server closed fd without answering. */
static bool
closed_unanswered(int fd)
{
	char c;

	return read(fd, &c, 1) <= 0; /* EOF or reset; 10 s receive limit */
}

/* Connections over max_connections are closed at once; the ones within
 * are served. */
static void
test_connection_limit(void **state)
{
	static const char get_a[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	http_server_options o = { .max_connections = 2 };
	http_server *s = start_with(&o);
	struct response r;
	int a, b, c;

	(void)state;
	a = dial(http_server_port(s));
	b = dial(http_server_port(s));
	send_all(a, get_a, strlen(get_a));
	assert_int_equal(read_response(a, &r), 0); /* a is being served */
	c = dial(http_server_port(s));
	send_all(c, get_a, strlen(get_a));
	assert_true(closed_unanswered(c));
	close(c);
	close(a);
	close(b);
	http_server_stop(s);
}

/* A connection that stops sending mid-request is closed after the idle
 * timeout, without an answer. */
static void
test_idle_timeout(void **state)
{
	static const char part[] =
	    "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc";
	http_server_options o = { .timeout_s = 1 };
	http_server *s = start_with(&o);
	int fd;

	(void)state;
	fd = dial(http_server_port(s));
	send_all(fd, part, sizeof part - 1);
	assert_true(closed_unanswered(fd));
	close(fd);
	http_server_stop(s);
}

static void
test_start_errors(void **state)
{
	http_server *s = NULL;
	http_server_options o;
	char *cause = NULL, addr[64];

	memset(&o, 0, sizeof o);
	assert_int_equal(http_server_start(&s, "127.0.0.1", &o, echo, NULL,
	    &cause), -1);
	assert_non_null(strstr(cause, "HOST:PORT"));
	free(cause);
	assert_int_equal(http_server_start(&s, "127.0.0.1:x1", &o, echo, NULL,
	    &cause), -1);
	free(cause);
	assert_int_equal(http_server_start(&s, "192.0.2.1:0", &o, echo, NULL,
	    &cause), -1); /* not a local address */
	assert_non_null(strstr(cause, "Cannot assign requested address"));
	free(cause);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", PORT(state));
	assert_int_equal(http_server_start(&s, addr, &o, echo, NULL, &cause),
	    -1);
	assert_non_null(strstr(cause, "Address already in use"));
	free(cause);
	/* https:// needs a certificate and a key. */
	assert_int_equal(http_server_start(&s, "https://127.0.0.1:0", &o,
	    echo, NULL, &cause), -1);
	assert_non_null(strstr(cause, "--tls-cert"));
	free(cause);
	assert_null(s);
	http_server_stop(NULL);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a server that closes early is a result */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_with_query),
	    cmocka_unit_test(test_header_tabs),
	    cmocka_unit_test(test_post_bodies),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_unknown_transfer_coding),
	    cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_huge_headers),
	    cmocka_unit_test(test_connection_limit),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
