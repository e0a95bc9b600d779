/*
 * fuzz_zipkin.c - libFuzzer target for the Zipkin v2 JSON decoder
 * (collector/net/zipkin_json.c), which the collector runs on every body
 * POSTed to /api/v2/spans.
 *
 * Input: a request body, as received.
 *
 * Invariants: a refusal returns no bytes and a reason naming where; an
 * accepted list yields protobuf that passes the pipeline's nesting
 * pre-scan and unpacks with protobuf-c into exactly as many spans as the
 * list held, each with a 16-byte trace ID and an 8-byte span ID under a
 * resource naming its service.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/collector.h"
#include "fuzz.h"
#include "net/zipkin_json.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    zipkin_fuzz_req;

/* Counts the spans of req and checks each one's IDs and resource. */
static size_t
zipkin_fuzz_spans(const zipkin_fuzz_req *req)
{
	size_t n = 0;

	for (size_t r = 0; r < req->n_resource_spans; r++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
		    req->resource_spans[r];

		FUZZ_CHECK(rs->resource != NULL &&
		    rs->resource->n_attributes == 1 &&
		    strcmp(rs->resource->attributes[0]->key, "service.name") ==
		    0);
		for (size_t s = 0; s < rs->n_scope_spans; s++) {
			for (size_t k = 0; k < rs->scope_spans[s]->n_spans;
			    k++) {
				const Opentelemetry__Proto__Trace__V1__Span
				    *sp = rs->scope_spans[s]->spans[k];
				FUZZ_CHECK(sp->trace_id.len == 16);
				FUZZ_CHECK(sp->span_id.len == 8);
				FUZZ_CHECK(sp->end_time_unix_nano >=
				    sp->start_time_unix_nano);
				n++;
			}
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pb = NULL;
	size_t pb_len = 0, n_spans = 0;
	char *cause = NULL;
	zipkin_fuzz_req *req;
	int rv;

	rv = zipkin_json_decode((const char *)data, size, &pb, &pb_len,
	    &n_spans, &cause);
	FUZZ_CHECK(rv == 0 || rv == -1);
	if (rv != 0) {
		FUZZ_CHECK(pb == NULL && pb_len == 0 && n_spans == 0);
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		free(cause);
		return 0;
	}
	FUZZ_CHECK(cause == NULL);
	FUZZ_CHECK((pb == NULL) == (n_spans == 0));
	FUZZ_CHECK(pipeline_prescan(pb, pb_len, 64) == 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, pb_len, pb);
	FUZZ_CHECK(req != NULL);
	FUZZ_CHECK(zipkin_fuzz_spans(req) == n_spans);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
	free(pb);
	return 0;
}
