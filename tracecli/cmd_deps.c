/*
 * cmd_deps.c - tracecli deps: which service calls which in the window,
 * counted by the collector over every span it holds there (deps.c):
 * calls, errors, p50 and p99 of the callee spans. --service keeps the
 * calls to or from S.
 */
#include "tracecli.h"

int
cmd_deps(const cli_args *c)
{
	plain_opts o = cli_plain_opts(c);
	char *cause = NULL;
	deps d;
	int rv = deps_fetch(&d, &c->co, c->search.from, c->search.to,
	    c->search.service, &cause);

	if (rv != EXIT_OK_)
		return cli_fail(rv, cause);
	if (c->json) {
		json_deps(stdout, &d);
	} else {
		printf("Service calls in the window (%llu spans read%s)\n",
		    (unsigned long long)d.spans_read, d.truncated ? "; the "
		    "window holds more: the counts cover the newest" : "");
		plain_deps(stdout, &d, &o);
	}
	rv = d.n > 0 ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no calls between services in the "
		    "window\n");
	deps_free(&d);
	return cli_finish(rv);
}
