/*
 * seed_fixture.h - fills a store_fixture's store with the span generator's
 * traces (tests/tools/spangen.h) through the real pipeline and RocksDB
 * backend, as ingest would.
 */
#ifndef TESTS_SEED_FIXTURE_H
#define TESTS_SEED_FIXTURE_H

#include <stdint.h>
#include <stdio.h>

#include "store_fixture.h"

#include "../tools/spangen.h"
#include "pipeline/pipeline.h"

/* seed_fixture_ingest writes traces [0, n_traces) of seed, per_request
 * traces a request, starting at base_ns and step_ns apart; returns 0, or
 * -1 (said on stderr) when a request is not accepted whole. */
static inline int
seed_fixture_ingest(store_fixture *f, uint64_t seed, uint64_t n_traces,
    uint64_t per_request, uint64_t base_ns, uint64_t step_ns)
{
	pipeline_limits lim;
	pipeline *p = NULL;
	char *cause = NULL;
	int rv = 0;

	pipeline_limits_default(&lim);
	if (pipeline_new(&p, store_fixture_backend(f), &lim, &cause) != 0) {
		fprintf(stderr, "seed_fixture: %s\n", cause);
		free(cause);
		return -1;
	}
	for (uint64_t t = 0; t < n_traces && rv == 0; t += per_request) {
		sg_request *req = sg_request_new(seed, t, per_request, base_ns,
		    step_ns);
		pipeline_result res;

		pipeline_submit_request(p, req, &res);
		sg_request_free(req);
		if (res.code != PIPELINE_OK) {
			fprintf(stderr, "seed_fixture: %d %s\n", (int)res.code,
			    res.message);
			rv = -1;
		}
	}
	pipeline_free(p);
	return rv;
}

#endif /* TESTS_SEED_FIXTURE_H */
