/*
 * ch_client.h - ClickHouse's HTTP interface over libcurl. Why libcurl:
 * keep-alive connection reuse (one connection per pooled handle, so a
 * block insert does not pay a TCP handshake), correct chunked transfer and
 * Content-Length handling, TLS with CA checks, and connect and total
 * timeouts that work from any thread (CURLOPT_NOSIGNAL), none of which we
 * want to write again. NNG's HTTP client lacks chunked decoding
 * (docs/ARCHITECTURE.md, hazards).
 *
 * Several hosts: a request goes to the host that answered last; when it
 * cannot be reached, or answers with an error that says that server is
 * unwell (ZooKeeper lost, read-only table, network error to its peers),
 * the next host is tried, each once per request.
 * Thread-safe: any number of threads may call ch_client_exec at once.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_CLIENT_H
#define COLLECTOR_CLICKHOUSE_CH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_spec.h"

typedef struct ch_client ch_client;

/* What a request got back. data is malloc'd (NUL-terminated, data[len]);
 * the caller frees it with ch_reply_fini. */
typedef struct ch_reply {
	uint8_t *data;
	size_t len;
	long http_status;  /* 0: no host answered */
	int ch_code;       /* ClickHouse's error code ("Code: N"), 0 if none */
	bool tls_failed;   /* no TLS session: handshake or certificate */
	const char *host;  /* the host that answered (owned by the client) */
} ch_reply;

/* ch_client_new copies what it needs from spec. Returns 0, or -1 with a
 * malloc'd *cause. */
int ch_client_new(ch_client **out, const ch_spec *spec, char **cause);
void ch_client_free(ch_client *c);

/*
 * ch_client_exec runs sql against the spec's database. Without a body,
 * sql is the POST body; with one (an INSERT's rows), sql travels in the
 * URL and body is the POST body. params: extra URL settings
 * ("insert_quorum=2&..."), or NULL. timeout_ms bounds the whole request.
 * Returns 0 on HTTP 200, or -1 with a malloc'd *cause (the server's
 * message when it answered). rep is filled either way.
 */
int ch_client_exec(ch_client *c, const char *sql, const void *body,
    size_t body_len, const char *params, uint32_t timeout_ms, ch_reply *rep,
    char **cause);
void ch_reply_fini(ch_reply *rep);

/* ch_client_host_count: the number of hosts; ch_client_exec_on runs on
 * host i only (no failover): schema checks and tests use it. */
size_t ch_client_host_count(const ch_client *c);
int ch_client_exec_on(ch_client *c, size_t host, const char *sql,
    const void *body, size_t body_len, const char *params,
    uint32_t timeout_ms, ch_reply *rep, char **cause);

#endif /* COLLECTOR_CLICKHOUSE_CH_CLIENT_H */
