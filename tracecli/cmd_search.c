/* cmd_search.c - tracecli search: traces in a window, as a table fitted
 * to the width, saying when the limit cut the list. */
#include "tracecli.h"

int
cmd_search(const cli_args *c)
{
	Tracequery__V1__SearchResult empty = TRACEQUERY__V1__SEARCH_RESULT__INIT;
	pb_response *resp = NULL;
	char *cause = NULL;
	int rv;

	search_spec s = c->search;

	s.count = !c->json;	/* "20 of 1,234": the JSON shape has no room */
	if ((rv = search_run(&c->co, &s, &resp, &cause)) != 0)
		return cli_fail(rv, cause);
	const Tracequery__V1__SearchResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH ?
	    resp->search : &empty;
	uint32_t limit = c->search.limit ? c->search.limit :
					   SEARCH_DEFAULT_LIMIT;
	plain_opts o = cli_plain_opts(c);
	if (c->json)
		json_search(stdout, r);
	else if (r->n_traces > 0)
		plain_search(stdout, r, limit, &o);
	rv = r->n_traces ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no traces match\n");
	tracequery__v1__response__free_unpacked(resp, NULL);
	return cli_finish(rv);
}
