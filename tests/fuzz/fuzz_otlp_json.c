/*
 * fuzz_otlp_json.c - libFuzzer target for the OTLP JSON decoder
 * (common/otlp_json.c), which the collector runs on every JSON body POSTed
 * to /v1/traces and tracecli on `import`.
 *
 * Input: a JSON document, as received.
 *
 * Invariants: a decoded document yields protobuf bytes that protobuf-c
 * unpacks and that pass the collector's nesting pre-scan; a failure
 * returns no bytes and a reason; and export -> import is lossless: the
 * unpacked request, encoded back to JSON, decodes to the same bytes. (When
 * a string holds "\u0000", protobuf-c's unpacked char * ends at the NUL, so
 * the first export is shorter; the check then runs from that export on.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/collector.h"
#include "fuzz.h"
#include "otlp_json.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    json_req;

/* Re-encodes req as JSON and checks that it decodes to pb again. */
static void
json_round_trip(const json_req *req, const uint8_t *pb, size_t pb_len,
    int pretty)
{
	char *doc, *cause = NULL;
	uint8_t *pb2 = NULL;
	size_t pb2_len = 0, rejected = 0;

	doc = otlp_json_encode(req->resource_spans, req->n_resource_spans,
	    pretty, &cause);
	if (doc == NULL)
		fprintf(stderr, "otlp_json_encode: %s\n", cause);
	FUZZ_CHECK(doc != NULL);
	FUZZ_CHECK(otlp_json_decode(doc, strlen(doc), &pb2, &pb2_len,
	    &rejected, &cause) == 0);
	if (rejected != 0)
		fprintf(stderr, "re-decode rejected %zu: %s\n%s\n", rejected,
		    cause, doc);
	FUZZ_CHECK(rejected == 0);
	FUZZ_CHECK(pb2_len == pb_len);
	FUZZ_CHECK(pb_len == 0 || memcmp(pb, pb2, pb_len) == 0);
	free(cause);
	free(pb2);
	free(doc);
}

/* Replaces req and *pb by their export -> import: what protobuf-c's
 * unpacked strings can carry (they end at a NUL byte). */
static json_req *
normalise(json_req *req, uint8_t **pb, size_t *pb_len)
{
	char *doc, *cause = NULL;
	size_t rejected = 0;

	doc = otlp_json_encode(
	    req->resource_spans, req->n_resource_spans, 0, &cause);
	FUZZ_CHECK(doc != NULL);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
	free(*pb);
	FUZZ_CHECK(otlp_json_decode(doc, strlen(doc), pb, pb_len, &rejected,
	               &cause) == 0 &&
	           rejected == 0);
	free(cause);
	free(doc);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, *pb_len, *pb);
	FUZZ_CHECK(req != NULL);
	return req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pb = NULL;
	size_t pb_len = 0, rejected = 0;
	char *cause = NULL;
	json_req *req;
	int rv;

	rv = otlp_json_decode((const char *)data, size, &pb, &pb_len,
	    &rejected, &cause);
	FUZZ_CHECK(rv == 0 || rv == -1);
	if (rv != 0) {
		FUZZ_CHECK(pb == NULL);
		FUZZ_CHECK(cause != NULL);
		free(cause);
		return 0;
	}
	FUZZ_CHECK(rejected == 0 || cause != NULL);
	free(cause);
	FUZZ_CHECK(pb != NULL || pb_len == 0);
	/* What the decoder produced is what the collector accepts. */
	FUZZ_CHECK(pipeline_prescan(pb, pb_len, 64) == 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, pb_len, pb);
	FUZZ_CHECK(req != NULL);
	if (memchr(data, '\\', size) != NULL) /* escapes: maybe "\u0000" */
		req = normalise(req, &pb, &pb_len);
	json_round_trip(req, pb, pb_len, size & 1);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
	free(pb);
	return 0;
}
