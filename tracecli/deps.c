/*
 * deps.c - service dependencies as the collector counts them over a window
 * (the Dependencies query): every span whose parent is in another service
 * is one call from the parent's service to its own, with the calls'
 * errors, p50 and p99. Shared by `tracecli deps` and the tui's D view.
 * No curses.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

static void
add_edge(deps *d, const Tracequery__V1__DependencyLink *l)
{
	d->edges = xrealloc(d->edges, ((size_t)d->n + 1) * sizeof *d->edges);
	dep_edge *e = &d->edges[d->n++];
	memset(e, 0, sizeof *e);
	e->caller = xstrdup(l->parent ? l->parent : "");
	e->callee = xstrdup(l->child ? l->child : "");
	e->calls = l->call_count;
	e->errors = l->error_count;
	e->p50_ns = l->p50_ns;
	e->p99_ns = l->p99_ns;
}

/* Keeps the links (by parent, then child, as the collector sends them)
 * that touch svc, or all when svc is NULL. */
static void
take_links(deps *d, const Tracequery__V1__DependenciesResult *r,
    const char *svc)
{
	for (size_t i = 0; i < r->n_links; i++) {
		const Tracequery__V1__DependencyLink *l = r->links[i];
		if (svc == NULL || strcmp(l->parent ? l->parent : "", svc) == 0 ||
		    strcmp(l->child ? l->child : "", svc) == 0)
			add_edge(d, l);
	}
	d->spans_read = r->spans_read;
	d->truncated = r->truncated;
}

int
deps_fetch(deps *d, const client_opts *co, uint64_t from, uint64_t to,
    const char *svc, char **cause)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Dependencies q = TRACEQUERY__V1__DEPENDENCIES__INIT;
	pb_response *resp = NULL;
	int rv;

	memset(d, 0, sizeof *d);
	q.start_unix_nano = from;
	q.end_unix_nano = to;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_DEPENDENCIES;
	req.dependencies = &q;
	if ((rv = query_run(co, &req, &resp, cause)) != EXIT_OK_)
		return rv;
	if (resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES)
		take_links(d, resp->dependencies, svc);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return EXIT_OK_;
}

void
deps_free(deps *d)
{
	for (int i = 0; i < d->n; i++) {
		free(d->edges[i].caller);
		free(d->edges[i].callee);
	}
	free(d->edges);
	memset(d, 0, sizeof *d);
}
