/*
 * http_body.h - the request body of an ingest listener (OTLP/HTTP,
 * Zipkin) as its decoder wants it: Content-Type and Content-Encoding
 * checked, gzip inflated within the listener's size limit, each refusal
 * an HTTP status, a message in our words, and a counted reason.
 */
#ifndef COLLECTOR_NET_HTTP_BODY_H
#define COLLECTOR_NET_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"
#include "net/http_server.h"

typedef struct http_body {
	const uint8_t *data; /* the decoded body (valid with the request) */
	size_t len;
	uint8_t *owned;      /* inflated copy behind data, or NULL */
	unsigned status;     /* 0, or the status refusing the request */
	char message[192];   /* why, when status != 0 */
} http_body;

/* http_body_media_type_is compares the media type of a Content-Type
 * value (parameters such as "; charset=utf-8" and spaces ignored) with
 * want, ignoring case. NULL is no match. */
bool http_body_media_type_is(const char *value, const char *want);

/* http_body_read fills b from a POST request: 413 when over the limit
 * (before or after inflating), 411 without Content-Length or chunked
 * framing, 415 for a Content-Encoding other than gzip or identity, 400
 * for corrupt gzip. Each refusal is counted in st (NULL: none). Returns
 * b->status. Release with http_body_fini. */
unsigned http_body_read(http_body *b, const http_request *r,
    listener_stats *st);

/* http_body_fini frees what b owns. */
void http_body_fini(http_body *b);

#endif /* COLLECTOR_NET_HTTP_BODY_H */
