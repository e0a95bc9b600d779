/*
 * test_pipeline_admission.c - the pipeline's admission control
 * (collector/pipeline/admission.c): the bytes of requests being processed
 * stay under max_backlog_bytes; a request that would pass the bound gets
 * RETRY_LATER before it is unpacked, and nothing of it is written. Over a
 * real RocksDB store in a mkdtemp directory (removed afterwards).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "daemon/stats.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_impl.h"

STORE_FIXTURE_HOOKS("pipeline-admission")

/* A generated request of 5 traces, packed into a malloc'd *len bytes. */
static uint8_t *
packed_request(uint64_t seed, size_t *len)
{
	sg_request *req = sg_request_new(seed, 0, 5,
	    now_unix_ns() - 60ULL * 1000000000ULL, 1000000);
	uint8_t *buf;

	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	    req);
	buf = xmalloc(*len);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    req, buf);
	sg_request_free(req);
	return buf;
}

/* The bound holds across requests in flight: admitted bytes count until
 * they leave, and a request that would pass the bound is refused without
 * being counted. */
static void
test_admission_bound(void **state)
{
	admission a;

	(void)state;
	admission_init(&a, 1000);
	assert_true(admission_enter(&a, 600));
	assert_false(admission_enter(&a, 401));
	assert_true(admission_enter(&a, 400));
	assert_int_equal(atomic_load(&a.bytes), 1000);
	assert_int_equal(atomic_load(&a.requests), 2);
	assert_false(admission_enter(&a, 1));
	admission_leave(&a, 600);
	assert_true(admission_enter(&a, 600));
	admission_leave(&a, 600);
	admission_leave(&a, 400);
	assert_int_equal(atomic_load(&a.bytes), 0);
	assert_int_equal(atomic_load(&a.requests), 0);
}

/* Submits buf through a pipeline whose backlog bound is max_backlog. */
static void
submit_bounded(store_fixture *f, size_t max_backlog, const uint8_t *buf,
    size_t len, pipeline_result *res)
{
	pipeline_limits lim;
	pipeline *p;
	char *cause = NULL;
	int64_t requests, bytes;

	pipeline_limits_default(&lim);
	lim.max_backlog_bytes = max_backlog;
	assert_int_equal(pipeline_new(&p, store_fixture_backend(f), &lim,
	    &cause), 0);
	pipeline_submit_protobuf(p, buf, len, res);
	pipeline_backlog(p, &requests, &bytes);
	assert_int_equal(requests, 0);
	assert_int_equal(bytes, 0);
	pipeline_free(p);
}

/* A request over the bound is refused with retry-later and writes
 * nothing; the same request under a bound one byte larger is stored. */
static void
test_pipeline_refuses_over_backlog(void **state)
{
	store_fixture *f = *state;
	pipeline_result res;
	uint64_t retried = stats.rej_retry, written = stats.records_written;
	size_t len;
	uint8_t *buf = packed_request(3, &len);

	submit_bounded(f, len - 1, buf, len, &res);
	assert_int_equal(res.code, PIPELINE_RETRY_LATER);
	assert_int_equal(res.accepted_spans, 0);
	assert_int_equal(res.rejected_spans, 0);
	assert_true(res.retry_after_ms > 0);
	assert_string_equal(res.message, "backlog full; retry later");
	assert_int_equal(stats.rej_retry, retried + 1);
	assert_int_equal(stats.records_written, written);

	submit_bounded(f, len, buf, len, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(res.accepted_spans, 5 * SPANGEN_PER_TRACE);
	assert_true(stats.records_written > written);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission_bound),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_refuses_over_backlog, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
