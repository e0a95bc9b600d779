/*
 * fuzz_otlp_protobuf.c - libFuzzer target for the collector's protobuf
 * ingest decode: the nesting pre-scan (pipeline_prescan) and the
 * protobuf-c unpack of an ExportTraceServiceRequest it guards, without a
 * store. (Span validation runs only inside pipeline_submit_request, which
 * writes to RocksDB; fuzz_pipeline covers that path.)
 *
 * Input: the bytes of one NNG ingest message or OTLP/HTTP protobuf body.
 *
 * Invariants: the pre-scan answers 0, -1 (too deep) or -2 (malformed);
 * a deeper limit never turns "ok" into "too deep"; what it passes unpacks
 * without exhausting the stack; an unpacked request packs to bytes that
 * pass the pre-scan and unpack to the same packing. (The converse does
 * not hold: protobuf-c 1.4.1 takes field number 0 as an unknown field,
 * which the pre-scan rightly calls malformed.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_types.h"
#include "daemon/collector.h"
#include "fuzz.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"


#define PB_DEPTH 64	 /* pipeline_limits_default's max_depth */
#define PB_DEPTH_MAX 127 /* the most pipeline_prescan tracks */

static ExportRequest *
pb_unpack(const uint8_t *buf, size_t len)
{
	return opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, buf);
}

static void
pb_free(ExportRequest *r)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    r, NULL);
}

static uint8_t *
pb_pack(const ExportRequest *r, size_t *len)
{
	uint8_t *buf;

	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	    r);
	buf = malloc(*len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
	    r, buf) == *len);
	return buf;
}

/* pack -> pre-scan -> unpack -> pack gives the same bytes. */
static void
pb_round_trip(const ExportRequest *r)
{
	uint8_t *a, *b;
	size_t alen, blen;
	ExportRequest *r2;

	a = pb_pack(r, &alen);
	FUZZ_CHECK(pipeline_prescan(a, alen, PB_DEPTH_MAX) == 0);
	r2 = pb_unpack(a, alen);
	FUZZ_CHECK(r2 != NULL);
	FUZZ_CHECK(r2->n_resource_spans == r->n_resource_spans);
	b = pb_pack(r2, &blen);
	FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	pb_free(r2);
	free(b);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rv, rv_max;
	ExportRequest *r;

	rv = pipeline_prescan(data, size, PB_DEPTH);
	rv_max = pipeline_prescan(data, size, PB_DEPTH_MAX);
	FUZZ_CHECK(rv == 0 || rv == -1 || rv == -2);
	FUZZ_CHECK(rv_max == 0 || rv_max == -1 || rv_max == -2);
	if (rv == 0)
		FUZZ_CHECK(rv_max == 0);
	if (rv_max == -1)
		FUZZ_CHECK(rv == -1);
	if (rv_max != 0)
		return 0;
	/* Guarded as the collector guards it (at up to 127 levels). */
	r = pb_unpack(data, size);
	if (r == NULL)
		return 0;
	pb_round_trip(r);
	pb_free(r);
	return 0;
}
