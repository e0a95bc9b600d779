/*
 * cmd_deps.c - tracecli deps: which service calls which, from the newest
 * traces of the window (--limit of them, default 200): a span whose
 * parent is in another service is one call. The sample is read trace by
 * trace, so the output says how many traces it covers.
 */
#include <stdlib.h>

#include "tracecli.h"

#define DEPS_DEFAULT_SAMPLE 200

/* Reads every trace of the search result into d. */
static int
read_traces(const cli_args *c, const Tracequery__V1__SearchResult *r,
    deps *d)
{
	for (size_t i = 0; i < r->n_traces; i++) {
		model_trace m;
		char *cause = NULL;
		int rv;
		if (r->traces[i]->trace_id.len != 16)
			continue;
		rv = trace_load(&c->co, r->traces[i]->trace_id.data, c->san, &m,
		    &cause);
		if (rv == EXIT_NOTFOUND) {	/* gone to retention meanwhile */
			free(cause);
			continue;
		}
		if (rv != EXIT_OK_)
			return cli_fail(rv, cause);
		deps_add_trace(d, &m);
		model_free(&m);
	}
	return EXIT_OK_;
}

int
cmd_deps(const cli_args *c)
{
	search_spec s = c->search;
	pb_response *resp = NULL;
	char *cause = NULL;
	deps d = {0};
	int rv;

	s.limit = s.limit ? s.limit : DEPS_DEFAULT_SAMPLE;
	if ((rv = search_run(&c->co, &s, &resp, &cause)) != 0) {
		if (rv != EXIT_NOTFOUND)
			return cli_fail(rv, cause);
		free(cause);
		if (!c->json)
			fprintf(stderr, "tracecli: no traces in the window\n");
		return rv;
	}
	rv = read_traces(c, resp->search, &d);
	uint32_t fetched = (uint32_t)resp->search->n_traces;
	tracequery__v1__response__free_unpacked(resp, NULL);
	if (rv != EXIT_OK_) {
		deps_free(&d);
		return rv;
	}
	deps_finish(&d);
	plain_opts o = cli_plain_opts(c);
	if (c->json) {
		json_deps(stdout, &d);
	} else {
		printf("Service calls in the %d newest trace%s of the window%s\n",
		    d.traces, d.traces == 1 ? "" : "s", fetched >= s.limit ?
		    " (the --limit: more traces may exist)" : "");
		plain_deps(stdout, &d, &o);
	}
	rv = d.n > 0 ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no calls between services\n");
	deps_free(&d);
	return cli_finish(rv);
}
