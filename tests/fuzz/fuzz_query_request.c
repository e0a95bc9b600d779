/*
 * fuzz_query_request.c - libFuzzer target for the query service's decoder
 * and engine: tracequery.v1.Request bytes, as a query_server worker gets
 * them from the network, through query_server_handle_bytes() against a
 * real RocksDB store (a temp dir, removed at exit) holding a few
 * generated traces, with a 2 h retention.
 *
 * Input: the bytes of one query request.
 *
 * Invariants: every request gets a Response that unpacks and whose code is
 * one of the protocol's; an undecodable request gets BAD_REQUEST; a
 * decodable one gets the same code from backend_query() directly.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/rocksdb_backend.h"
#include "common.h"
#include "net/net.h"
#include "fuzz.h"
#include "tracequery.pb-c.h"
#include "../tools/spangen.h"

/* A short retention and few traces keep each query fast enough to fuzz:
 * the engine's cost grows with the window's minutes times the number of
 * (service, operation) pairs. */
#define Q_RETENTION_NS (2 * 3600ULL * 1000000000ULL)
#define Q_TRACES 5

static store *q_store;
static backend *q_backend;
static pipeline *q_pipe;
static char q_dir[256];

static void
q_cleanup(void)
{
	pipeline_free(q_pipe);
	q_pipe = NULL;
	backend_close(q_backend);
	q_backend = NULL;
	store_close(q_store);
	q_store = NULL;
	if (q_dir[0] != '\0')
		fuzz_rmdir(q_dir);
	q_dir[0] = '\0';
}

/* Opens the store once and writes a few traces of the last hour. */
static void
q_setup(void)
{
	store_options so = { 0 };
	backend_options bo;
	pipeline_limits lim;
	pipeline_result res;
	sg_request *req;
	char *cause = NULL;
	const char *tmp = getenv("TMPDIR");
	uint64_t now = now_unix_ns();

	snprintf(q_dir, sizeof q_dir, "%s/fuzz-query.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(q_dir) != NULL);
	so.cache_bytes = 8u << 20;
	so.write_buffer_bytes = 8u << 20;
	so.retention_ns = Q_RETENTION_NS;
	if (store_open(&q_store, q_dir, &so, &cause) != 0) {
		fprintf(stderr, "fuzz_query_request: %s\n", cause);
		abort();
	}
	atexit(q_cleanup);
	backend_options_default(&bo);
	bo.retention_ns = Q_RETENTION_NS;
	FUZZ_CHECK(rocksdb_backend_new(&q_backend, q_store, &bo, &cause) == 0);
	pipeline_limits_default(&lim);
	FUZZ_CHECK(pipeline_new(&q_pipe, q_backend, &lim, &cause) == 0);
	req = sg_request_new(42, 0, Q_TRACES, now - 3600ULL * 1000000000ULL,
	    10000000ULL);
	pipeline_submit_request(q_pipe, req, &res);
	FUZZ_CHECK(res.code == PIPELINE_OK);
	sg_request_free(req);
	FUZZ_CHECK(backend_sync(q_backend, 0) == 0);
}

static bool
q_code_ok(Tracequery__V1__Response__Code c)
{
	return c == TRACEQUERY__V1__RESPONSE__CODE__OK ||
	    c == TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND ||
	    c == TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST ||
	    c == TRACEQUERY__V1__RESPONSE__CODE__INTERNAL ||
	    c == TRACEQUERY__V1__RESPONSE__CODE__BUSY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Tracequery__V1__Request *req;
	Tracequery__V1__Response *resp, *direct;
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (q_store == NULL)
		q_setup();
	query_server_handle_bytes(q_backend, q_pipe, data, size, &out,
	    &out_len);
	FUZZ_CHECK(out != NULL);
	resp = tracequery__v1__response__unpack(NULL, out_len, out);
	FUZZ_CHECK(resp != NULL);
	FUZZ_CHECK(q_code_ok(resp->code));
	req = tracequery__v1__request__unpack(NULL, size, data);
	if (req == NULL) {
		FUZZ_CHECK(resp->code ==
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST);
	} else {
		direct = backend_query(q_backend, req);
		FUZZ_CHECK(direct != NULL);
		FUZZ_CHECK(direct->code == resp->code);
		FUZZ_CHECK(direct->result_case == resp->result_case);
		backend_response_free(direct);
		tracequery__v1__request__free_unpacked(req, NULL);
	}
	tracequery__v1__response__free_unpacked(resp, NULL);
	free(out);
	return 0;
}
