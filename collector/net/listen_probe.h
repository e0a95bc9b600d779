/*
 * listen_probe.h - checks, before anything is created, that every address
 * the collector will listen on can be bound, so a collector that cannot
 * start leaves no new store behind.
 */
#ifndef COLLECTOR_NET_LISTEN_PROBE_H
#define COLLECTOR_NET_LISTEN_PROBE_H

#include <stddef.h>

/* listen_probe binds and releases addr, an NNG URL (tcp://H:P,
 * tls+tcp://H:P; other schemes are not checked), http(s)://H:P or a plain
 * HOST:PORT as the HTTP listeners take. Port 0 (any) always passes. Returns 0, or -1
 * with a malloc'd *cause naming what (e.g. "--listen") and addr. */
int listen_probe(const char *what, const char *addr, char **cause);

/* listen_probe_split splits "tcp://H:P", "tls+tcp://H:P", "http://H:P",
 * "https://H:P" or "H:P"
 * ("[v6]:P" too; "*" means any) into host ("" for any) and port. Returns
 * 0, 1 for a scheme that is not TCP, -1 when malformed. */
int listen_probe_split(const char *addr, char *host, size_t hostsz,
    char *port, size_t portsz);

#endif /* COLLECTOR_NET_LISTEN_PROBE_H */
