/* cmd_slow.c - tracecli slow: the slowest spans of a window and the
 * percentiles of each operation, worst p99 first. */
#include <stdlib.h>

#include "tracecli.h"

static int
cmp_p99_desc(const void *a, const void *b)
{
	const Tracequery__V1__OperationPercentiles *x =
	    *(Tracequery__V1__OperationPercentiles *const *)a;
	const Tracequery__V1__OperationPercentiles *y =
	    *(Tracequery__V1__OperationPercentiles *const *)b;

	if (x->p99_ns != y->p99_ns)
		return x->p99_ns > y->p99_ns ? -1 : 1;
	return x->count > y->count ? -1 : x->count < y->count;
}

int
cmd_slow(const cli_args *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Slow s;
	Tracequery__V1__SlowResult empty = TRACEQUERY__V1__SLOW_RESULT__INIT;
	pb_response *resp = NULL;
	int rv;

	tracequery__v1__slow__init(&s);
	if (c->histogram && (c->search.service == NULL ||
	    c->search.operation == NULL))
		cli_usage_error(c->cmd, "%s",
		    "--histogram needs --service and --operation");
	s.service = (char *)(uintptr_t)(c->search.service ?
	    c->search.service : "");
	s.operation = (char *)(uintptr_t)(c->search.operation ?
	    c->search.operation : "");
	s.start_unix_nano = c->search.from;
	s.end_unix_nano = c->search.to;
	s.top = c->top;
	s.histogram = c->histogram;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &s;
	if ((rv = cli_query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__SlowResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SLOW ?
	    resp->slow : &empty;
	qsort(r->percentiles, r->n_percentiles, sizeof *r->percentiles,
	    cmp_p99_desc);
	/* Every operation unless --top asks for the worst N. */
	size_t all = r->n_percentiles;
	if (c->top && r->n_percentiles > c->top)
		r->n_percentiles = c->top;
	plain_opts o = cli_plain_opts(c);
	if (c->json)
		json_slow(stdout, r, c->histogram);
	else if (r->n_spans > 0)
		plain_slow(stdout, r, c->top ? c->top : SEARCH_DEFAULT_LIMIT,
		    all, &o, c->histogram);
	r->n_percentiles = all;	/* free_unpacked frees them all */
	rv = r->n_spans ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no spans in the window\n");
	tracequery__v1__response__free_unpacked(resp, NULL);
	return cli_finish(rv);
}
