/*
 * listen_guard.h - listeners that restart themselves.
 *
 * NNG 1.5.2 (Debian 12) has a bug (nanomsg/nng#1518, fixed in 1.6.0): when
 * a peer disconnects during the SP handshake, the listener stops handing
 * new connections to the socket, for good. Any `nc -U`, port probe or a
 * second tracecollector checking whether an ipc path is in use triggers it.
 * The guard owns the listeners of one socket and, every couple of seconds,
 * dials each URL and sends `ping`; when no reply comes within the timeout
 * it closes that listener and listens again (clients reconnect and resend).
 */
#ifndef COLLECTOR_LISTEN_GUARD_H
#define COLLECTOR_LISTEN_GUARD_H

#include <stddef.h>

#include <nng/nng.h>

#define LISTEN_GUARD_PING "\0tracecollector-ping"
#define LISTEN_GUARD_PING_LEN 20

typedef struct listen_guard listen_guard;

/* listen_guard_start listens on every url (copied) with sock and starts
 * the probe thread. what names the socket in messages ("ingest").
 * Returns 0, or -1 with a malloc'd *cause ("... is already in use"). */
int listen_guard_start(listen_guard **out, nng_socket sock,
    const char *what, const char *const *urls, int n_urls, char **cause);
/* listen_guard_set_tls sets, before any listen_guard_start, the TLS
 * configuration of every tls+tcp:// listener (server) and the one the
 * probes dial with (probe); both stay the caller's and must outlive the
 * guards. Without them a tls+tcp:// URL is refused. */
struct nng_tls_config;
void listen_guard_set_tls(struct nng_tls_config *server,
    struct nng_tls_config *probe);
/* listen_guard_stop stops probing (the socket's close ends the
 * listeners); NULL is a no-op. */
void listen_guard_stop(listen_guard *g);

#endif /* COLLECTOR_LISTEN_GUARD_H */
