/*
 * tail.c - following new traces: each poll searches only the last
 * TAIL_LOOKBACK of span starts (never the whole window) and keeps the
 * traces it has not reported yet. Shared by `tracecli tail` and the tui's
 * follow mode. A span that arrives more than TAIL_LOOKBACK after it
 * started (a long span, a late batch) is not seen.
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
	uint64_t h;

	memcpy(&h, id, 8);
	h |= 1;
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

int
tail_poll(tail_state *t, const client_opts *co, pb_response **resp,
    Tracequery__V1__TraceSummary ***fresh, size_t *nfresh, char **cause)
{
	search_spec s = t->filter;
	uint64_t now = now_unix_ns();
	int rv;

	s.from = now > TAIL_LOOKBACK_NS ? now - TAIL_LOOKBACK_NS : 1;
	s.to = 0;
	s.limit = SEARCH_MAX_LIMIT;
	s.sort = SORT_NEWEST;
	*fresh = NULL;
	*nfresh = 0;
	if ((rv = search_run(co, &s, resp, cause)) != EXIT_OK_)
		return rv;
	const Tracequery__V1__SearchResult *r = (*resp)->search;
	*fresh = xcalloc(r->n_traces + 1, sizeof **fresh);
	/* Oldest first, so a printed stream reads in time order. */
	for (size_t i = r->n_traces; i-- > 0;)
		if (r->traces[i]->trace_id.len == 16 &&
		    tail_poll_seen(t, r->traces[i]->trace_id.data))
			(*fresh)[(*nfresh)++] = r->traces[i];
	return EXIT_OK_;
}
