/*
 * listen_probe.c - bind each listening address once, before the store is
 * opened. The listeners bind again for real moments later; this only
 * turns "address in use" into an error that comes before any side effect.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "net/listen_probe.h"

int
listen_probe_split(const char *addr, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char *sep = strstr(addr, "://"), *hp = addr, *colon;
	size_t hl;

	if (sep != NULL) {
		size_t sl = (size_t)(sep - addr);

		if (!(sl == 3 && strncmp(addr, "tcp", 3) == 0) &&
		    !(sl == 7 && strncmp(addr, "tls+tcp", 7) == 0) &&
		    !(sl == 4 && strncmp(addr, "http", 4) == 0) &&
		    !(sl == 5 && strncmp(addr, "https", 5) == 0))
			return 1;
		hp = sep + 3;
	}
	if ((colon = strrchr(hp, ':')) == NULL || colon[1] == '\0')
		return -1;
	hl = (size_t)(colon - hp);
	if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']') {
		hp++;
		hl -= 2;
	}
	if (hl >= hostsz || strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, hp, hl);
	host[hl] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	snprintf(port, portsz, "%s", colon + 1);
	return 0;
}

/* Binds one socket of ai's family to ai's address; returns 0 or errno. */
static int
bind_once(const struct addrinfo *ai)
{
	int fd, one = 1, err = 0;

	if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
		return errno;
	/* As NNG and libmicrohttpd do, so TIME_WAIT remnants do not fail it. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		err = errno;
	close(fd);
	return err;
}

int
listen_probe(const char *what, const char *addr, char **cause)
{
	char host[256], port[32];
	struct addrinfo hints, *res = NULL;
	int rv, err;

	rv = listen_probe_split(addr, host, sizeof host, port, sizeof port);
	if (rv == 1 || (rv == 0 && strcmp(port, "0") == 0))
		return 0;
	if (rv < 0) {
		xasprintf(cause, "%s %s: want HOST:PORT", what, addr);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rv = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
		xasprintf(cause, "%s %s: %s", what, addr, gai_strerror(rv));
		return -1;
	}
	err = bind_once(res);
	freeaddrinfo(res);
	if (err != 0) {
		xasprintf(cause, "%s %s: cannot listen: %s", what, addr,
		    strerror(err));
		return -1;
	}
	return 0;
}
