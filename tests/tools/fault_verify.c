/*
 * fault_verify - checks a fault_producer record file (tests/faults/) against
 * a collector's query socket: fetches every recorded trace once and counts
 * the spans stored for it. Prints one line:
 *   recorded=N dropped=N traces=N rows=N found=N missing=N duplicates=N
 *   unexpected=N misnamed=N
 * rows: span rows returned for those traces; found: recorded spans present;
 * duplicates: rows beyond the first for one span ID; unexpected: rows whose
 * span ID was not recorded (a dropped span must not be stored); misnamed:
 * a child whose name is not "fault-<seq>". With -m FILE it also writes the
 * recorded spans that are missing, one "TRACE SPAN SEQ" line each.
 * Exit status: 0 when nothing is missing, duplicated, unexpected or
 * misnamed, 1 otherwise, 3 when the collector cannot be asked.
 * Usage: fault_verify [-m MISSING_FILE] QUERY_URL RECORD_FILE
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common.h"
#include "tool_dial.h"
#include "tracequery.pb-c.h"

#define MAX_PER_TRACE 1024

typedef struct want {
	uint8_t sid[8];
	char seq[24];
	int seen;
} want;

typedef struct counts {
	uint64_t recorded, dropped, traces, rows, found, missing, dup, unexp,
	    misnamed;
} counts;


/* Asks for one trace; exits 3 when the collector does not answer. */
static Tracequery__V1__Response *
get_trace(nng_socket s, const uint8_t *tid)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;
	Tracequery__V1__Response *resp;
	nng_msg *m;
	size_t len;
	int rv;

	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	g.trace_id.data = (uint8_t *)(uintptr_t)tid;
	g.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &g;
	len = tracequery__v1__request__get_packed_size(&req);
	if (nng_msg_alloc(&m, len) != 0)
		exit(3);
	tracequery__v1__request__pack(&req, nng_msg_body(m));
	if ((rv = nng_sendmsg(s, m, 0)) != 0 ||
	    (rv = nng_recvmsg(s, &m, 0)) != 0) {
		fprintf(stderr, "query: %s\n", nng_strerror(rv));
		exit(3);
	}
	resp = tracequery__v1__response__unpack(NULL, nng_msg_len(m),
	    nng_msg_body(m));
	nng_msg_free(m);
	if (resp == NULL) {
		fprintf(stderr, "bad response\n");
		exit(3);
	}
	return resp;
}

/* Matches one stored row against w[0..n). */
static void
check_span(const Opentelemetry__Proto__Trace__V1__Span *sp, want *w, size_t n,
    counts *c)
{
	char name[40];
	size_t x;

	c->rows++;
	for (x = 0; x < n; x++)
		if (sp->span_id.len == 8 && memcmp(sp->span_id.data, w[x].sid,
		    8) == 0)
			break;
	if (x == n) {
		c->unexp++;
		return;
	}
	if (w[x].seen++ > 0)
		c->dup++;
	if (strcmp(w[x].seq, "root") == 0)
		return;
	snprintf(name, sizeof name, "fault-%06" PRIu64,
	    (uint64_t)strtoull(w[x].seq, NULL, 10));
	if (strcmp(sp->name, name) != 0)
		c->misnamed++;
}

/* Fetches trace tid and matches its rows against w[0..n). */
static void
check_trace(nng_socket s, const uint8_t *tid, const char *thex, want *w,
    size_t n, counts *c, FILE *miss)
{
	Tracequery__V1__Response *r = get_trace(s, tid);
	Tracequery__V1__TraceResult *tr = r->trace;

	c->traces++;
	if (r->code == TRACEQUERY__V1__RESPONSE__CODE__OK && tr != NULL) {
		for (size_t i = 0; i < tr->n_resource_spans; i++) {
			Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
			    tr->resource_spans[i];

			for (size_t j = 0; j < rs->n_scope_spans; j++)
				for (size_t k = 0;
				    k < rs->scope_spans[j]->n_spans; k++)
					check_span(rs->scope_spans[j]->spans[k],
					    w, n, c);
		}
	}
	for (size_t x = 0; x < n; x++) {
		if (w[x].seen > 0) {
			c->found++;
			continue;
		}
		c->missing++;
		if (miss != NULL) {
			char sh[17];

			for (int b = 0; b < 8; b++)
				snprintf(sh + 2 * b, 3, "%02x", w[x].sid[b]);
			fprintf(miss, "%s %s %s\n", thex, sh, w[x].seq);
		}
	}
	tracequery__v1__response__free_unpacked(r, NULL);
}

int
main(int argc, char **argv)
{
	static want w[MAX_PER_TRACE];
	const char *missing_path = NULL;
	char line[256], cur_hex[64] = "";
	uint8_t cur[16];
	size_t n = 0;
	counts c = {0};
	FILE *f, *miss = NULL;
	nng_socket s;
	int ch;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		if (ch != 'm')
			goto usage;
		missing_path = optarg;
	}
	if (argc - optind != 2)
		goto usage;
	if ((f = fopen(argv[optind + 1], "r")) == NULL) {
		perror(argv[optind + 1]);
		return 3;
	}
	if (missing_path != NULL && (miss = fopen(missing_path, "w")) == NULL) {
		perror(missing_path);
		return 3;
	}
	s = tool_dial(argv[optind], 30000);
	/* The spans of one trace are consecutive lines. */
	while (fgets(line, sizeof line, f) != NULL) {
		char th[64], sh[64], seq[24];
		uint8_t tid[16];

		if (strncmp(line, "drop ", 5) == 0) {
			c.dropped++;
			continue;
		}
		if (sscanf(line, "span %63s %63s %23s", th, sh, seq) != 3 ||
		    hex_decode(th, tid, 16) != 0)
			continue;
		if (n > 0 && (memcmp(tid, cur, 16) != 0 ||
		    n == MAX_PER_TRACE)) {
			check_trace(s, cur, cur_hex, w, n, &c, miss);
			n = 0;
		}
		memcpy(cur, tid, 16);
		snprintf(cur_hex, sizeof cur_hex, "%s", th);
		if (hex_decode(sh, w[n].sid, 8) != 0)
			continue;
		snprintf(w[n].seq, sizeof w[n].seq, "%s", seq);
		w[n].seen = 0;
		n++;
		c.recorded++;
	}
	if (n > 0)
		check_trace(s, cur, cur_hex, w, n, &c, miss);
	fclose(f);
	if (miss != NULL)
		fclose(miss);
	nng_close(s);
	printf("recorded=%" PRIu64 " dropped=%" PRIu64 " traces=%" PRIu64
	    " rows=%" PRIu64 " found=%" PRIu64 " missing=%" PRIu64
	    " duplicates=%" PRIu64 " unexpected=%" PRIu64 " misnamed=%" PRIu64
	    "\n", c.recorded, c.dropped, c.traces, c.rows, c.found, c.missing,
	    c.dup, c.unexp, c.misnamed);
	return c.missing || c.dup || c.unexp || c.misnamed ? 1 : 0;
usage:
	fprintf(stderr, "usage: fault_verify [-m MISSING_FILE] QUERY_URL "
	    "RECORD_FILE\n");
	return 2;
}
