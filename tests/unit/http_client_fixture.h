/*
 * http_client_fixture.h - a raw HTTP/1.1 client over a loopback socket
 * for the unit tests of the HTTP listeners: exact bytes out (pipelined,
 * chunked, malformed), one response in, byte by byte so that pipelined
 * responses stay unread. Include after <cmocka.h>, with _GNU_SOURCE
 * defined before the first include (strcasestr).
 */
#ifndef TESTS_HTTP_CLIENT_FIXTURE_H
#define TESTS_HTTP_CLIENT_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>


struct response {
	int status;
	char headers[2048];
	uint8_t body[4096];
	size_t body_len;
};

static int
dial(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {10, 0};

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* Reads one response byte by byte (so pipelined ones stay unread). */
static int
read_response(int fd, struct response *r)
{
	size_t n = 0, cl = 0;
	char *p;

	memset(r, 0, sizeof *r);
	while (n < sizeof r->headers - 1) {
		if (read(fd, r->headers + n, 1) != 1)
			return -1;
		n++;
		if (n >= 4 && memcmp(r->headers + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (sscanf(r->headers, "HTTP/1.1 %d", &r->status) != 1)
		return -1;
	if ((p = strcasestr(r->headers, "\r\nContent-Length:")) != NULL)
		cl = strtoul(p + 17, NULL, 10);
	assert_true(cl <= sizeof r->body);
	while (r->body_len < cl) {
		ssize_t k = read(fd, r->body + r->body_len, cl - r->body_len);
		if (k <= 0)
			return -1;
		r->body_len += (size_t)k;
	}
	return 0;
}

static const char *
header(const struct response *r, const char *name)
{
	static char val[128];
	char key[64];
	const char *p;
	size_t i = 0;

	snprintf(key, sizeof key, "\r\n%s:", name);
	if ((p = strcasestr(r->headers, key)) == NULL)
		return NULL;
	for (p += strlen(key); *p == ' '; p++)
		;
	while (p[i] != '\r' && i < sizeof val - 1) {
		val[i] = p[i];
		i++;
	}
	val[i] = '\0';
	return val;
}

#endif /* TESTS_HTTP_CLIENT_FIXTURE_H */
