/* cmd_services.c - tracecli services: the services seen, alphabetically. */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

static int
cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return strcmp(x ? x : "", y ? y : "");
}

int
cmd_services(const cli_args *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__ListServices ls = TRACEQUERY__V1__LIST_SERVICES__INIT;
	Tracequery__V1__ServicesResult empty =
	    TRACEQUERY__V1__SERVICES_RESULT__INIT;
	pb_response *resp = NULL;
	int rv;

	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
	req.services = &ls;
	if ((rv = cli_query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__ServicesResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SERVICES ?
	    resp->services : &empty;
	qsort(r->services, r->n_services, sizeof *r->services, cmp_str);
	plain_opts o = cli_plain_opts(c);
	if (c->json)
		json_services(stdout, r);
	else
		plain_services(stdout, r, &o);
	rv = r->n_services ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "tracecli: no services yet\n");
	tracequery__v1__response__free_unpacked(resp, NULL);
	return cli_finish(rv);
}
