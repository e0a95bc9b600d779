/*
 * A store read that fails during a query gives an error reply, counted in
 * query.read_errors, never a partial answer presented as complete (issue
 * 16). The failure is real: the data blocks of the spans and index
 * families' table files are overwritten on disk, so RocksDB's checksums
 * refuse them when the reopened store reads them.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "seed_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "daemon/stats.h"
#include "pipeline/pipeline.h"

typedef Tracequery__V1__Response response;

#define TRACES 200

static store_fixture fx;
static uint64_t base_ns;

/* Ingests TRACES traces of seed 1 and writes them to table files. */
static void
ingest(void)
{
	assert_int_equal(store_fixture_open(&fx, "read-errors"), 0);
	base_ns = now_unix_ns() - 10ULL * 60 * 1000000000ULL;
	assert_int_equal(seed_fixture_ingest(&fx, 1, TRACES, 20, base_ns,
	    1000000), 0);
	backend_close(fx.be);
	fx.be = NULL;
	store_flush(fx.st);
	store_close(fx.st);
	fx.st = NULL;
}

/* Overwrites the first third (past 4 KiB) of a table file: data blocks,
 * while the footer and index at its end still let the file open. */
static void
corrupt_file(const char *path)
{
	struct stat sb;
	uint8_t junk[4096];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	memset(junk, 0x5a, sizeof junk);
	for (off_t off = 4096; off < sb.st_size / 3; off += sizeof junk)
		assert_true(pwrite(fd, junk, sizeof junk, off) > 0);
	close(fd);
}

/* Corrupts the table files of the spans and index families, found by
 * opening the store read-only with RocksDB itself. Returns how many. */
static int
corrupt_families(void)
{
	rocksdb_options_t *o = rocksdb_options_create();
	char *err = NULL, **names;
	size_t n_cf;
	const rocksdb_options_t **cfo;
	rocksdb_column_family_handle_t **h;
	rocksdb_t *db;
	const rocksdb_livefiles_t *lf;
	int hit = 0;

	names = rocksdb_list_column_families(o, fx.dir, &n_cf, &err);
	assert_null(err);
	cfo = calloc(n_cf, sizeof *cfo);
	h = calloc(n_cf, sizeof *h);
	for (size_t i = 0; i < n_cf; i++)
		cfo[i] = o;
	db = rocksdb_open_for_read_only_column_families(o, fx.dir, (int)n_cf,
	    (const char *const *)names, cfo, h, 0, &err);
	assert_null(err);
	lf = rocksdb_livefiles(db);
	for (int i = 0; i < rocksdb_livefiles_count(lf); i++) {
		const char *cf = rocksdb_livefiles_column_family_name(lf, i);
		char path[512];

		if (strcmp(cf, "spans") != 0 && strcmp(cf, "index") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", fx.dir,
		    rocksdb_livefiles_name(lf, i));
		corrupt_file(path);
		hit++;
	}
	rocksdb_livefiles_destroy(lf);
	for (size_t i = 0; i < n_cf; i++)
		rocksdb_column_family_handle_destroy(h[i]);
	rocksdb_close(db);
	rocksdb_list_column_families_destroy(names, n_cf);
	free(cfo);
	free(h);
	rocksdb_options_destroy(o);
	return hit;
}

static int
setup(void **state)
{
	char *cause = NULL;
	store_options so = { 0 };

	(void)state;
	ingest();
	if (corrupt_families() < 2)
		return -1;
	if (store_open(&fx.st, fx.dir, &so, &cause) != 0) {
		fprintf(stderr, "reopen: %s\n", cause);
		free(cause);
		return -1;
	}
	return store_fixture_backend(&fx) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	store_fixture_close(&fx);
	return 0;
}

/* Asks req and checks the answer is INTERNAL, counted, and says why. */
static void
expect_read_failure(Tracequery__V1__Request *req)
{
	uint64_t before = atomic_load(&stats.query_read_errors);
	response *r = backend_query(fx.be, req);

	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__INTERNAL);
	assert_non_null(strstr(r->message, "store read failed"));
	assert_int_equal(r->result_case,
	    TRACEQUERY__V1__RESPONSE__RESULT__NOT_SET);
	assert_int_equal(atomic_load(&stats.query_read_errors), before + 1);
	backend_response_free(r);
}

static void
test_search_fails_whole(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__Search s;

	(void)state;
	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&s);
	s.limit = 1000;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &s;
	expect_read_failure(&req);
}

static void
test_get_trace_fails_whole(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	sg_request *sr = sg_request_new(1, 0, 1, base_ns, 1000000);
	Opentelemetry__Proto__Trace__V1__Span *sp =
	    sr->resource_spans[0]->scope_spans[0]->spans[0];

	(void)state;
	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	g.trace_id = sp->trace_id;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &g;
	expect_read_failure(&req);
	sg_request_free(sr);
}

/* The control: what lives in an intact family (the catalog) answers. */
static void
test_intact_family_still_answers(void **state)
{
	Tracequery__V1__Request req;
	Tracequery__V1__ListServices ls;
	response *r;

	(void)state;
	tracequery__v1__request__init(&req);
	tracequery__v1__list_services__init(&ls);
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
	req.services = &ls;
	r = backend_query(fx.be, &req);
	assert_int_equal(r->code, TRACEQUERY__V1__RESPONSE__CODE__OK);
	assert_true(r->services->n_services > 0);
	backend_response_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_fails_whole),
		cmocka_unit_test(test_get_trace_fails_whole),
		cmocka_unit_test(test_intact_family_still_answers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
