/* cmd_operations.c - tracecli operations SERVICE: its operations and
 * their span kinds, alphabetically. */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

static int
cmp_op(const void *a, const void *b)
{
	const Tracequery__V1__Operation *x = *(Tracequery__V1__Operation *const *)a;
	const Tracequery__V1__Operation *y = *(Tracequery__V1__Operation *const *)b;
	int d = strcmp(x->name ? x->name : "", y->name ? y->name : "");

	return d ? d : (int)x->kind - (int)y->kind;
}

int
cmd_operations(const cli_args *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__ListOperations lo;
	Tracequery__V1__OperationsResult empty =
	    TRACEQUERY__V1__OPERATIONS_RESULT__INIT;
	pb_response *resp = NULL;
	int rv;

	tracequery__v1__list_operations__init(&lo);
	lo.service = c->args[0];
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_OPERATIONS;
	req.operations = &lo;
	if ((rv = cli_query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__OperationsResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS ?
	    resp->operations : &empty;
	qsort(r->operations, r->n_operations, sizeof *r->operations, cmp_op);
	plain_opts o = cli_plain_opts(c);
	if (c->json)
		json_operations(stdout, r);
	else
		plain_operations(stdout, r, &o);
	rv = r->n_operations ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json) {
		char *s = sanitize_dup(c->args[0], c->san);
		fprintf(stderr, "tracecli: no operations for service '%s'\n", s);
		free(s);
	}
	tracequery__v1__response__free_unpacked(resp, NULL);
	return cli_finish(rv);
}
