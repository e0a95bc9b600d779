/*
 * fuzz_clickhouse_reply.c - libFuzzer target for what the ClickHouse
 * backend decodes: RowBinary replies from the server (get-trace rows,
 * search summaries, slow spans, histogram buckets, dependencies: collector/clickhouse/
 * ch_query_*.c) and its own spool records read back from disk (spool.c,
 * ch_rows.c). A server or a disk can hand back anything.
 *
 * Input: byte 0 picks the decoder (mod 6); the rest is the reply or file.
 * Invariants: no crash, leak or overread (ASan); a decoded result frees
 * cleanly; an accepted spool record's parts lie inside it; the
 * walk over spool records never passes the end; a segment's insert
 * blocks (ch_units_build) hold no more bytes of a table than the
 * segment.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "clickhouse/ch_blocks.h"
#include "clickhouse/ch_query.h"
#include "clickhouse/ch_rows.h"
#include "clickhouse/spool.h"
#include "format/hist.h"

/* The input as a segment: a table's blocks are copies of its rows (two
 * tables may share a section, so the bound holds per table). */
static void
chr_units(const uint8_t *p, size_t len)
{
	ch_units us;
	size_t total[CH_ROWS_TABLES] = { 0 };

	ch_units_build(&us, p, len);
	for (size_t i = 0; i < us.n; i++) {
		FUZZ_CHECK(us.v[i].table >= 0 &&
		    us.v[i].table < CH_ROWS_TABLES);
		total[us.v[i].table] += us.v[i].rows.len;
		FUZZ_CHECK(total[us.v[i].table] <= len);
	}
	ch_units_free(&us);
}

static void
chr_records(const uint8_t *p, size_t len)
{
	size_t off = 0, rlen, prev = 0;
	const uint8_t *rec;
	ch_rows_view v;

	/* Every part of an accepted record lies inside it (sections may be
	 * shared between tables or absent in older records: ch_rows.h). */
	if (ch_rows_parse(p, len, &v))
		for (int t = 0; t < CH_ROWS_TABLES; t++)
			FUZZ_CHECK(v.rows[t] == NULL || (v.rows[t] >= p &&
			    v.len[t] <= len - (size_t)(v.rows[t] - p)));
	while (spool_next_record(p, len, &off, &rec, &rlen)) {
		FUZZ_CHECK(off > prev && off <= len);
		FUZZ_CHECK(rec + rlen == p + off);
		prev = off;
	}
	chr_units(p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t len = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0: {
		Tracequery__V1__TraceResult tr;

		tracequery__v1__trace_result__init(&tr);
		(void)ch_query_trace_decode(p, len, &tr);
		for (size_t i = 0; i < tr.n_resource_spans; i++)
			opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
			    tr.resource_spans[i], NULL);
		free(tr.resource_spans);
		break;
	}
	case 1: {
		Tracequery__V1__SearchResult *sr = malloc(sizeof *sr);

		tracequery__v1__search_result__init(sr);
		(void)ch_query_search_decode(p, len, sr);
		tracequery__v1__search_result__free_unpacked(sr, NULL);
		break;
	}
	case 2:
	case 3: {
		Tracequery__V1__SlowResult *sr = malloc(sizeof *sr);
		hist *all = calloc(1, sizeof *all);

		tracequery__v1__slow_result__init(sr);
		if (data[0] % 6 == 2)
			(void)ch_query_slow_decode_top(p, len, sr);
		else
			(void)ch_query_slow_decode_hists(p, len, sr, all);
		free(all);
		tracequery__v1__slow_result__free_unpacked(sr, NULL);
		break;
	}
	case 5: {
		Tracequery__V1__DependenciesResult *dr = malloc(sizeof *dr);

		tracequery__v1__dependencies_result__init(dr);
		(void)ch_query_deps_decode(p, len, dr);
		tracequery__v1__dependencies_result__free_unpacked(dr, NULL);
		break;
	}
	default:
		chr_records(p, len);
		break;
	}
	return 0;
}
