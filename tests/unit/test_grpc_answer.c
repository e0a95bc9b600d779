/* Unit tests for collector/net/grpc_answer.c: every pipeline outcome as the
 * gRPC answer an exporter sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "net/grpc_answer.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse
    ExportResponse;

static grpc_answer
answer(pipeline_code code, const char *msg, int64_t rejected,
    uint32_t retry_ms)
{
	pipeline_result res;
	grpc_answer a;

	memset(&res, 0, sizeof res);
	memset(&a, 0, sizeof a);
	res.code = code;
	res.rejected_spans = rejected;
	res.retry_after_ms = retry_ms;
	snprintf(res.message, sizeof res.message, "%s", msg);
	grpc_answer_outcome(&a, &res);
	return a;
}

/* Unframes and unpacks the response message of a. */
static ExportResponse *
response(const grpc_answer *a)
{
	assert_non_null(a->resp);
	assert_true(a->resp_len >= GRPC_PREFIX_LEN);
	assert_int_equal(a->resp[0], 0);
	return opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
	    NULL, a->resp_len - GRPC_PREFIX_LEN, a->resp + GRPC_PREFIX_LEN);
}

static void
test_ok_and_partial(void **state)
{
	grpc_answer a = answer(PIPELINE_OK, "", 0, 0);
	ExportResponse *r = response(&a);

	(void)state;
	assert_int_equal(a.http_status, 200);
	assert_int_equal(a.code, GRPC_OK);
	assert_null(r->partial_success);
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
	    r, NULL);
	grpc_answer_fini(&a);

	a = answer(PIPELINE_PARTIAL, "spans[1].spanId: expected 8 bytes", 2,
	    0);
	r = response(&a);
	assert_int_equal(a.code, GRPC_OK);
	assert_non_null(r->partial_success);
	assert_int_equal(r->partial_success->rejected_spans, 2);
	assert_string_equal(r->partial_success->error_message,
	    "spans[1].spanId: expected 8 bytes");
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
	    r, NULL);
	grpc_answer_fini(&a);
}

static void
test_errors(void **state)
{
	grpc_answer a = answer(PIPELINE_INVALID, "not protobuf", 0, 0);

	(void)state;
	assert_int_equal(a.code, GRPC_INVALID_ARGUMENT);
	assert_string_equal(a.message, "not protobuf");
	assert_null(a.resp);
	grpc_answer_fini(&a);
	a = answer(PIPELINE_TOO_LARGE, "", 0, 0);
	assert_int_equal(a.code, GRPC_RESOURCE_EXHAUSTED);
	assert_string_equal(a.message, "request over the size limit");
	grpc_answer_fini(&a);
	a = answer(PIPELINE_INTERNAL, "", 0, 0);
	assert_int_equal(a.code, GRPC_INTERNAL);
	assert_null(a.details);
	grpc_answer_fini(&a);
}

/* RETRY_LATER: UNAVAILABLE, and the details carry RetryInfo's delay. */
static void
test_retry_later(void **state)
{
	grpc_answer a = answer(PIPELINE_RETRY_LATER, "store stalled", 0,
	    2500);
	uint8_t buf[512];
	long n;
	Google__Rpc__Status *st;
	Google__Rpc__RetryInfo *ri;

	(void)state;
	assert_int_equal(a.code, GRPC_UNAVAILABLE);
	assert_string_equal(a.message, "store stalled");
	assert_null(a.resp);
	assert_non_null(a.details);
	n = base64_decode(a.details, strlen(a.details), buf);
	assert_true(n > 0);
	st = google__rpc__status__unpack(NULL, (size_t)n, buf);
	assert_non_null(st);
	assert_int_equal(st->code, GRPC_UNAVAILABLE);
	assert_int_equal(st->n_details, 1);
	ri = google__rpc__retry_info__unpack(NULL, st->details[0]->value.len,
	    st->details[0]->value.data);
	assert_non_null(ri);
	assert_int_equal(ri->retry_delay->seconds, 2);
	assert_int_equal(ri->retry_delay->nanos, 500000000);
	google__rpc__retry_info__free_unpacked(ri, NULL);
	google__rpc__status__free_unpacked(st, NULL);
	grpc_answer_fini(&a);
	/* No figure from the store: a default delay, never zero. */
	a = answer(PIPELINE_RETRY_LATER, "", 0, 0);
	assert_non_null(a.details);
	assert_string_equal(a.message, "the store pushes back: retry later");
	grpc_answer_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_and_partial),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_retry_later),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
