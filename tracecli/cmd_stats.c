/* cmd_stats.c - tracecli stats: the collector's own counters. */
#include "tracecli.h"

int
cmd_stats(const cli_args *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetStats gs = TRACEQUERY__V1__GET_STATS__INIT;
	Tracequery__V1__StatsResult empty = TRACEQUERY__V1__STATS_RESULT__INIT;
	pb_response *resp = NULL;
	int rv;

	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_STATS;
	req.stats = &gs;
	if ((rv = cli_query(c, &req, &resp)) != 0)
		return rv;
	const Tracequery__V1__StatsResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_STATS ?
	    resp->stats : &empty;
	plain_opts o = cli_plain_opts(c);
	if (c->json)
		json_stats(stdout, r);
	else
		plain_stats(stdout, r, &o);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return cli_finish(EXIT_OK_);
}
