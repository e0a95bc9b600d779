/*
 * fuzz_jaeger_params.c - libFuzzer target for the Jaeger query API's
 * parameter and path handling (collector/jaeger/jaeger_params.c and the
 * routes of jaeger_api.c), answered by the real query engine over a real
 * RocksDB store (a temp dir, removed at exit) holding a few traces.
 *
 * Input: "PATH?k=v&k=v..." as libmicrohttpd hands it over, already
 * %-decoded: the first line is the path and its arguments, split at '&'
 * and the first '='; any byte but NUL may appear in a key or value.
 *
 * Invariants: a parse that succeeds yields a window that does not end
 * before it starts, a limit within the cap, at most the allowed filters,
 * and a maximum duration not under the minimum; one that fails says why;
 * every path gets a known status and a body that is valid JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/rocksdb_backend.h"
#include "common.h"
#include "fuzz.h"
#include "jaeger/jaeger_api.h"
#include "pipeline/pipeline.h"
#include "../tools/spangen.h"

#define JP_MAX_ARGS 64

static store *jp_store;
static backend *jp_backend;
static char jp_dir[256];

static void
jp_cleanup(void)
{
	backend_close(jp_backend);
	jp_backend = NULL;
	store_close(jp_store);
	jp_store = NULL;
	if (jp_dir[0] != '\0')
		fuzz_rmdir(jp_dir);
	jp_dir[0] = '\0';
}

/* Opens the store once and writes a few traces of the last hour. */
static void
jp_setup(void)
{
	store_options so = { .cache_bytes = 8u << 20,
		.write_buffer_bytes = 8u << 20 };
	backend_options bo;
	pipeline_limits lim;
	pipeline_result res;
	pipeline *p;
	sg_request *req;
	char *cause = NULL;
	const char *tmp = getenv("TMPDIR");

	snprintf(jp_dir, sizeof jp_dir, "%s/fuzz-jaeger.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(jp_dir) != NULL);
	FUZZ_CHECK(store_open(&jp_store, jp_dir, &so, &cause) == 0);
	atexit(jp_cleanup);
	backend_options_default(&bo);
	FUZZ_CHECK(rocksdb_backend_new(&jp_backend, jp_store, &bo, &cause) ==
	    0);
	pipeline_limits_default(&lim);
	FUZZ_CHECK(pipeline_new(&p, jp_backend, &lim, &cause) == 0);
	req = sg_request_new(7, 0, 3, now_unix_ns() - 3600ULL * 1000000000ULL,
	    10000000ULL);
	pipeline_submit_request(p, req, &res);
	FUZZ_CHECK(res.code == PIPELINE_OK);
	sg_request_free(req);
	pipeline_free(p);
	FUZZ_CHECK(backend_sync(jp_backend, 0) == 0);
}

static Tracequery__V1__Response *
jp_ask(void *arg, const Tracequery__V1__Request *req)
{
	(void)arg;
	return backend_query(jp_backend, req);
}

/* Splits "k=v&k=v" (in place) into args; returns how many. */
static size_t
jp_split(char *q, jaeger_arg *args)
{
	size_t n = 0;

	while (q != NULL && n < JP_MAX_ARGS) {
		char *amp = strchr(q, '&'), *eq;

		if (amp != NULL)
			*amp = '\0';
		eq = strchr(q, '=');
		if (eq != NULL)
			*eq = '\0';
		args[n++] = (jaeger_arg){ q, eq != NULL ? eq + 1 : "" };
		q = amp != NULL ? amp + 1 : NULL;
	}
	return n;
}

static void
jp_check_query(int rv, const jaeger_query *q, char *err)
{
	if (rv != 0) {
		FUZZ_CHECK(rv == -1 && err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(q->start_ns <= q->end_ns);
	FUZZ_CHECK(q->limit >= 1 && q->limit <= JAEGER_MAX_LIMIT);
	FUZZ_CHECK(q->n_attrs <= JAEGER_MAX_ATTRS);
	FUZZ_CHECK(q->n_trace_ids <= JAEGER_MAX_TRACE_IDS);
	FUZZ_CHECK(q->max_duration_ns == 0 ||
	    q->max_duration_ns >= q->min_duration_ns);
}

static void
jp_parsers(const jaeger_arg *args, size_t n, const char *path)
{
	uint64_t now = 1767225600000000000ULL, lo, hi;
	jaeger_query q;
	uint8_t id[16];
	char *err = NULL;
	int kind, rv;

	rv = jaeger_params_search(args, n, now, &q, &err);
	jp_check_query(rv, &q, err);
	jaeger_query_fini(&q);
	err = NULL;
	rv = jaeger_params_search_v3(args, n, now, &q, &err);
	jp_check_query(rv, &q, err);
	jaeger_query_fini(&q);
	err = NULL;
	if (jaeger_params_dependencies(args, n, now, &lo, &hi, &err) == 0)
		FUZZ_CHECK(lo <= hi && err == NULL);
	else
		FUZZ_CHECK(err != NULL);
	free(err);
	if (jaeger_params_trace_hint(args, n, &err) != 0)
		FUZZ_CHECK(err != NULL);
	free(err);
	if (jaeger_params_trace_id(path, id) == 0)
		FUZZ_CHECK(strlen(path) <= 32);
	if (jaeger_params_span_kind(path, &kind) == 0)
		FUZZ_CHECK(kind >= 0 && kind <= 5);
}

static void
jp_route(const char *path, const jaeger_arg *args, size_t n)
{
	jaeger_source src = { jp_ask, NULL };
	jaeger_reply r;
	json_t *j;

	if (!jaeger_api_handle(&src, path, args, n, now_unix_ns(), &r))
		return;
	FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404 ||
	    r.status == 500 || r.status == 503);
	FUZZ_CHECK(r.body != NULL);
	j = json_loads(r.body, 0, NULL);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
	free(r.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jaeger_arg args[JP_MAX_ARGS];
	char *s, *nl, *qm;
	size_t n;

	if (size > 8192)
		return 0;
	if (jp_store == NULL)
		jp_setup();
	s = fuzz_strndup(data, size);
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	if ((qm = strchr(s, '?')) != NULL)
		*qm = '\0';
	n = jp_split(qm != NULL ? qm + 1 : NULL, args);
	jp_parsers(args, n, s);
	jp_route(s, args, n);
	free(s);
	return 0;
}
