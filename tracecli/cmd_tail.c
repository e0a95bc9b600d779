/* cmd_tail.c - tracecli tail: one line per new trace as it arrives, until
 * interrupted. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracecli.h"

#define TAIL_POLL_MS 1000

static void
print_trace(const Tracequery__V1__TraceSummary *t, const cli_args *c)
{
	char when[48], dur[32], hex[33], line[1200], safe[2400];

	time_format(t->start_unix_nano, when, sizeof when);
	when[19] = '\0';
	duration_format(t->duration_ns, dur, sizeof dur);
	hex_encode(t->trace_id.data, 16, hex);
	snprintf(line, sizeof line, "%s %8s %5u %4u %s %s: %s", when, dur,
	    t->span_count, t->error_count, hex,
	    t->root_service ? t->root_service : "",
	    t->root_name ? t->root_name : "");
	sanitize_buf(line, strlen(line), c->san, safe, sizeof safe);
	printf("%s\n", safe);
}

int
cmd_tail(const cli_args *c)
{
	struct timespec pause = {TAIL_POLL_MS / 1000, 0};
	tail_state t;

	tail_init(&t, &c->search);
	if (c->json)
		setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		pb_response *resp = NULL;
		Tracequery__V1__TraceSummary **fresh;
		char *cause = NULL;
		size_t n;
		int rv = tail_poll(&t, &c->co, &resp, &fresh, &n, &cause);
		if (rv != EXIT_OK_ && rv != EXIT_NOTFOUND) {
			tail_fini(&t);
			return cli_fail(rv, cause);
		}
		free(cause);
		Tracequery__V1__SearchResult one = TRACEQUERY__V1__SEARCH_RESULT__INIT;
		for (size_t i = 0; i < n; i++) {
			if (c->json) {
				one.n_traces = 1;
				one.traces = &fresh[i];
				json_search(stdout, &one);
			} else {
				print_trace(fresh[i], c);
			}
		}
		fflush(stdout);
		free(fresh);
		if (resp != NULL)
			tracequery__v1__response__free_unpacked(resp, NULL);
		if (!t.more)
			nanosleep(&pause, NULL);
	}
}
