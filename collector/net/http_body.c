/* http_body.c - checked and inflated request bodies (see http_body.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_body.h"

bool
http_body_media_type_is(const char *v, const char *want)
{
	size_t n = strlen(want);

	if (v == NULL)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, want, n) != 0)
		return false;
	for (v += n; *v == ' ' || *v == '\t'; v++)
		;
	return *v == '\0' || *v == ';';
}

/* True when header value v is exactly the token want (any case). */
static bool
token_is(const char *v, const char *want)
{
	return v != NULL && strcasecmp(v, want) == 0;
}

/* Sets the refusal and counts it (why); returns the status. */
static unsigned
refuse(http_body *b, listener_stats *st, stats_reject why, unsigned status,
    const char *msg)
{
	if (st != NULL)
		listener_stats_reject(st, why);
	b->status = status;
	snprintf(b->message, sizeof b->message, "%s", msg);
	return status;
}

/* Checks the framing headers: length known, coding supported. */
static unsigned
check_headers(http_body *b, const http_request *r, listener_stats *st,
    bool *gzip)
{
	const char *te = http_request_header(r, "Transfer-Encoding");
	const char *ce = http_request_header(r, "Content-Encoding");
	char msg[160];

	if (te == NULL && http_request_header(r, "Content-Length") == NULL) {
		return refuse(b, st, STATS_REJECT_PROTOCOL, 411, "Content-Length required");
	}
	*gzip = token_is(ce, "gzip") || token_is(ce, "x-gzip");
	if (ce != NULL && !*gzip && !token_is(ce, "identity") && *ce != '\0') {
		snprintf(msg, sizeof msg, "unsupported Content-Encoding "
		    "\"%.64s\"; use gzip or none", ce);
		return refuse(b, st, STATS_REJECT_PROTOCOL, 415, msg);
	}
	return 0;
}

unsigned
http_body_read(http_body *b, const http_request *r, listener_stats *st)
{
	size_t max = http_request_max_body(r);
	char msg[160];
	bool gzip = false;
	int rv;

	memset(b, 0, sizeof *b);
	/* These two are counted by http_server.c. */
	if (http_request_body_error(r) == 413) {
		snprintf(msg, sizeof msg, "body exceeds the limit of %zu "
		    "bytes", max);
		return refuse(b, NULL, 0, 413, msg);
	}
	if (http_request_body_error(r) == 411)
		return refuse(b, NULL, 0, 411, "only chunked Transfer-Encoding is "
		    "supported; send Content-Length");
	if (check_headers(b, r, st, &gzip) != 0)
		return b->status;
	b->data = http_request_body(r, &b->len);
	if (!gzip)
		return 0;
	rv = gzip_inflate(b->data, b->len, max, &b->owned, &b->len);
	if (rv == -2) {
		snprintf(msg, sizeof msg, "body larger than the limit of %zu "
		    "bytes after decompression", max);
		return refuse(b, st, STATS_REJECT_TOO_LARGE, 413, msg);
	}
	if (rv != 0) {
		return refuse(b, st, STATS_REJECT_INVALID, 400,
		    "corrupt gzip body");
	}
	b->data = b->owned;
	return 0;
}

void
http_body_fini(http_body *b)
{
	free(b->owned);
	b->owned = NULL;
}
