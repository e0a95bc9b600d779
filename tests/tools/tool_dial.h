/*
 * tool_dial.h - how the test tools and benchmarks dial the collector: a REQ
 * socket that never resends on its own (they count what they sent) and
 * exits 3 when the collector cannot be reached.
 */
#ifndef TESTS_TOOLS_TOOL_DIAL_H
#define TESTS_TOOLS_TOOL_DIAL_H

#include <stdio.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

static inline nng_socket
tool_dial(const char *url, int timeout_ms)
{
	nng_socket s;
	int rv;

	if ((rv = nng_req0_open(&s)) != 0 ||
	    (rv = nng_dial(s, url, NULL, 0)) != 0) {
		fprintf(stderr, "dial %s: %s\n", url, nng_strerror(rv));
		exit(3);
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, 3600000);
	return s;
}

#endif /* TESTS_TOOLS_TOOL_DIAL_H */
