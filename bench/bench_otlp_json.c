/*
 * bench_otlp_json.c - the OTLP JSON decoder alone (common/otlp_json_decode.c)
 * on bench_otlp_http's request (100 spans, 8 attributes each, as
 * otlp_json_encode writes it), against its floor measured in the same run:
 * simdjson parsing the same document and nothing else (json_read_parse).
 *
 *   BENCH otlp_json.decode_ns_per_span     JSON text -> protobuf bytes
 *   BENCH otlp_json.parse_ns_per_span      the parse alone (the floor)
 *   BENCH otlp_json.decode_vs_parse_ratio  how much the walk adds
 *
 * Each figure is the best of 5 rounds (the least disturbed by other
 * processes). BENCH_QUICK=1 runs 1 round.
 */
#define _GNU_SOURCE /* otlp_load.h: memmem, strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "otlp_json.h"
#include "otlp_load.h"

#define ROUND_S 0.5

/* Decodes doc for ROUND_S seconds; returns ns per span. */
static double
round_decode(const char *doc, size_t len)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		uint8_t *pb;
		size_t pb_len, rejected;
		char *cause;
		if (otlp_json_decode(doc, len, &pb, &pb_len, &rejected,
		        &cause) != 0 ||
		    rejected != 0)
			fatalx("bench: decode: %s", cause ? cause : "rejected");
		free(pb);
		n++;
	} while ((t = now_s() - t0) < ROUND_S);
	return t * 1e9 / ((double)n * SPANS_PER_REQ);
}

/* Parses doc for ROUND_S seconds; returns ns per span. */
static double
round_parse(const char *doc, size_t len)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		json_read_doc *d;
		json_read_value root;
		char *cause;
		if (json_read_parse(&d, doc, len, &root, &cause) != 0)
			fatalx("bench: parse: %s", cause);
		json_read_free(d);
		n++;
	} while ((t = now_s() - t0) < ROUND_S);
	return t * 1e9 / ((double)n * SPANS_PER_REQ);
}

int
main(void)
{
	uint8_t ids[TRACES_PER_REQ][16];
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	int rounds = getenv("BENCH_QUICK") != NULL ? 1 : 5;
	double decode = 1e18, parse = 1e18;
	char *doc, *cause;
	size_t len;

	srandom(1);
	rs = build_template(ids);
	if ((doc = otlp_json_encode(&rs, 1, 0, &cause)) == NULL)
		fatalx("bench: %s", cause);
	len = strlen(doc);
	for (int r = 0; r < rounds; r++) {
		double d = round_decode(doc, len), p = round_parse(doc, len);
		decode = d < decode ? d : decode;
		parse = p < parse ? p : parse;
	}
	printf("BENCH otlp_json.json_bytes_per_span %.0f bytes\n",
	    (double)len / SPANS_PER_REQ);
	printf("BENCH otlp_json.decode_ns_per_span %.0f ns\n", decode);
	printf("BENCH otlp_json.parse_ns_per_span %.0f ns\n", parse);
	printf("BENCH otlp_json.decode_vs_parse_ratio %.2f ratio\n",
	    decode / parse);
	free(doc);
	free_template(rs);
	return 0;
}
