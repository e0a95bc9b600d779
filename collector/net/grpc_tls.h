/*
 * grpc_tls.h - TLS for the OTLP/gRPC receiver's raw sockets on GnuTLS:
 * server credentials from the collector's PEM flags, and non-blocking
 * sessions that must negotiate ALPN "h2" (gRPC needs HTTP/2; a client that
 * does not offer it fails the handshake). GnuTLS because libmicrohttpd
 * serves the other https:// listeners with it, so one TLS library and one
 * set of PEM files cover every HTTP listener (docs/OTLP.md).
 *
 * Threads: credentials are shared read-only; a session belongs to the
 * receiver's event loop.
 */
#ifndef COLLECTOR_NET_GRPC_TLS_H
#define COLLECTOR_NET_GRPC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common.h"

typedef struct grpc_tls grpc_tls;
typedef struct grpc_tls_session grpc_tls_session;

/* grpc_tls_new loads o's certificate and key (and CA, for
 * --tls-verify-clients). Returns 0, or -1 with a malloc'd *cause. */
int grpc_tls_new(grpc_tls **out, const tls_opts *o, char **cause);
/* grpc_tls_free frees t; NULL is a no-op. */
void grpc_tls_free(grpc_tls *t);

/* grpc_tls_accept starts a server session on the connected, non-blocking
 * fd (not owned). NULL when GnuTLS cannot make one. */
grpc_tls_session *grpc_tls_accept(const grpc_tls *t, int fd);

/* grpc_tls_handshake advances the handshake: 0 when done (ALPN h2 agreed,
 * client certificate verified when required), 1 to call again when the
 * socket is ready, -1 when it failed (*why says how, static). */
int grpc_tls_handshake(grpc_tls_session *s, const char **why);

/* grpc_tls_recv reads into buf: the byte count, 0 at the end of the
 * stream, -1 with errno EAGAIN when nothing is there yet, -2 on error. */
ssize_t grpc_tls_recv(grpc_tls_session *s, void *buf, size_t len);

/* grpc_tls_send writes buf (after EAGAIN, call again with the same bytes):
 * the byte count, -1 with errno EAGAIN, -2 on error. */
ssize_t grpc_tls_send(grpc_tls_session *s, const void *buf, size_t len);

/* grpc_tls_wants_write: the handshake (or a send) waits for the socket to
 * take bytes, not to deliver them. */
bool grpc_tls_wants_write(const grpc_tls_session *s);

/* grpc_tls_close sends close_notify (best effort) and frees s. */
void grpc_tls_close(grpc_tls_session *s);

#endif /* COLLECTOR_NET_GRPC_TLS_H */
