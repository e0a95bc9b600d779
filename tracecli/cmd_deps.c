/*
 * cmd_deps.c - tracecli deps: which service calls which in the window,
 * counted by the collector over every span it holds there (a span whose
 * parent is in another service is one call): calls, errors, p50 and p99
 * of the callee spans. --service keeps the calls to or from S.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

/* The collector's links as edges; only those touching svc when set. */
static void
take_links(deps *d, const Tracequery__V1__DependenciesResult *r,
    const char *svc)
{
	for (size_t i = 0; i < r->n_links; i++) {
		const Tracequery__V1__DependencyLink *l = r->links[i];
		const char *p = l->parent ? l->parent : "";
		const char *ch = l->child ? l->child : "";
		if (svc != NULL && strcmp(p, svc) != 0 && strcmp(ch, svc) != 0)
			continue;
		deps_add_edge(d, p, ch, l->call_count, l->error_count,
		    l->p50_ns, l->p99_ns);
	}
	d->spans_read = r->spans_read;
	d->truncated = r->truncated;
}

static void
print_deps(const cli_args *c, const deps *d)
{
	plain_opts o = cli_plain_opts(c);

	if (c->json) {
		json_deps(stdout, d);
		return;
	}
	printf("Service calls in the window (%llu spans read%s)\n",
	    (unsigned long long)d->spans_read, d->truncated ? "; the window "
	    "holds more: the counts cover the newest" : "");
	plain_deps(stdout, d, &o);
}

int
cmd_deps(const cli_args *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Dependencies q = TRACEQUERY__V1__DEPENDENCIES__INIT;
	pb_response *resp = NULL;
	deps d = {0};
	int rv;

	q.start_unix_nano = c->search.from;
	q.end_unix_nano = c->search.to;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_DEPENDENCIES;
	req.dependencies = &q;
	if ((rv = cli_query(c, &req, &resp)) != 0)
		return rv;
	if (resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_DEPENDENCIES)
		take_links(&d, resp->dependencies, c->search.service);
	tracequery__v1__response__free_unpacked(resp, NULL);
	print_deps(c, &d);
	rv = d.n > 0 ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no calls between services in the "
		    "window\n");
	deps_free(&d);
	return cli_finish(rv);
}
