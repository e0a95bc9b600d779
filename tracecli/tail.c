/*
 * tail.c - following new traces with the query protocol's Tail cursor:
 * each poll asks for the traces indexed since the previous answer (index
 * flushes, not span starts), so no window is read twice and a span that
 * arrives late still brings its trace. Traces already reported are
 * skipped (a late span brings its trace back). Shared by `tracecli tail`
 * and the tui's follow mode.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define SEEN_CAP 16384   /* IDs remembered; a power of two */

void
tail_init(tail_state *t, const search_spec *filter)
{
	memset(t, 0, sizeof *t);
	t->filter = *filter;
	t->seen = xcalloc(SEEN_CAP, sizeof *t->seen);
}

void
tail_fini(tail_state *t)
{
	free(t->seen);
	t->seen = NULL;
}

/* Marks id as seen; returns false when it already was. A full table
 * forgets everything (a trace may then be reported twice). */
bool
tail_poll_seen(tail_state *t, const uint8_t *id)
{
	uint64_t h, lo;

	/* Both halves: IDs from 64-bit tracers (Jaeger, B3) are zero in
	 * the first, so the first alone made every trace one. */
	memcpy(&h, id, 8);
	memcpy(&lo, id + 8, 8);
	h = (h ^ (lo * 0x9e3779b97f4a7c15ull)) | 1;
	if (t->nseen >= SEEN_CAP / 2) {
		memset(t->seen, 0, SEEN_CAP * sizeof *t->seen);
		t->nseen = 0;
	}
	size_t i = (size_t)(h * 0x9e3779b97f4a7c15ull >> 40) & (SEEN_CAP - 1);
	while (t->seen[i] != 0) {
		if (t->seen[i] == h)
			return false;
		i = (i + 1) & (SEEN_CAP - 1);
	}
	t->seen[i] = h;
	t->nseen++;
	return true;
}

/* Asks for the traces indexed from t->next_flush on (0: start now). */
static int
tail_ask(tail_state *t, const client_opts *co, pb_response **resp,
    char **cause)
{
	search_req r;
	Tracequery__V1__Tail q = TRACEQUERY__V1__TAIL__INIT;
	int rv;

	search_req_build(&r, &t->filter);
	q.filter = &r.search;
	q.from_flush = t->next_flush;
	r.req.query_case = TRACEQUERY__V1__REQUEST__QUERY_TAIL;
	r.req.tail = &q;
	rv = query_run(co, &r.req, resp, cause);
	search_req_fini(&r);
	if (rv == EXIT_OK_ && (*resp)->result_case !=
	    TRACEQUERY__V1__RESPONSE__RESULT_TAIL) {
		tracequery__v1__response__free_unpacked(*resp, NULL);
		*resp = NULL;
		*cause = xstrdup("collector: no tail answer (an older "
		    "collector?)");
		rv = EXIT_UNREACHABLE;
	}
	return rv;
}

int
tail_poll(tail_state *t, const client_opts *co, pb_response **resp,
    Tracequery__V1__TraceSummary ***fresh, size_t *nfresh, char **cause)
{
	int rv;

	*fresh = NULL;
	*nfresh = 0;
	t->more = false;
	if ((rv = tail_ask(t, co, resp, cause)) != EXIT_OK_)
		return rv;
	const Tracequery__V1__TailResult *r = (*resp)->tail;
	t->next_flush = r->next_flush;
	t->more = r->more;
	*fresh = xcalloc(r->n_traces + 1, sizeof **fresh);
	/* Oldest first as the collector sends them; a trace whose late
	 * spans bring it back was printed already. */
	for (size_t i = 0; i < r->n_traces; i++)
		if (r->traces[i]->trace_id.len == 16 &&
		    tail_poll_seen(t, r->traces[i]->trace_id.data))
			(*fresh)[(*nfresh)++] = r->traces[i];
	return EXIT_OK_;
}
