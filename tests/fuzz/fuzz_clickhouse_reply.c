/*
 * fuzz_clickhouse_reply.c - libFuzzer target for what the ClickHouse
 * backend decodes: RowBinary replies from the server (get-trace rows,
 * search summaries, slow spans, histogram buckets, dependencies, the
 * attribute candidates' spans: collector/clickhouse/ch_query_*.c) and its
 * own spool records read back from disk (spool.c, ch_rows.c), with the
 * attr_index rows derived from them (ch_rows_attr.c). A server or a disk
 * can hand back anything.
 *
 * Input: byte 0 picks the decoder (mod 6); the rest is the reply or file.
 * Invariants: no crash, leak or overread (ASan); a decoded result frees
 * cleanly; an accepted spool record's parts lie inside it, and the
 * attr_index rows derived from it read back whole (none when refused); the
 * walk over spool records never passes the end; a segment's insert
 * blocks (ch_units_build) hold no more bytes of a table than the
 * segment (but attr_index's: derived, each row repeats its span's
 * service and trace ID).
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

/* attr_index's rows derived from a record's span_index rows read back
 * whole, each row as ch_blocks.c walks it (ch_row_next). */
static void
chr_derived(const ch_rows_view *v)
{
	rowbinary_buf out = { 0 };
	rowbinary_reader r;
	ch_row row;

	if (ch_rows_attr_derive(v->rows[CH_ROWS_INDEX], v->len[CH_ROWS_INDEX],
	    &out)) {
		rowbinary_reader_init(&r, out.b, out.len);
		while (ch_row_next(CH_ROWS_ATTR, &r, &row))
			FUZZ_CHECK(row.trace_id >= out.b &&
			    row.trace_id + 16 <= out.b + out.len);
		FUZZ_CHECK(r.ok && r.left == 0);
	} else {
		FUZZ_CHECK(out.len == 0);
	}
	rowbinary_buf_free(&out);
}

/* The attribute candidates' span rows (ch_query_attr.c) matched against
 * two filters; each match is one row's trace. */
static void
attr_spans(const uint8_t *p, size_t len)
{
	Tracequery__V1__AttrFilter f[2], *fp[2] = { &f[0], &f[1] };
	Tracequery__V1__Search s;
	uint8_t (*matched)[16] = NULL;
	size_t n = 0;

	tracequery__v1__search__init(&s);
	tracequery__v1__attr_filter__init(&f[0]);
	tracequery__v1__attr_filter__init(&f[1]);
	f[0].key = "user.id";
	f[0].value = "user-7";
	f[1].key = "service.name";
	f[1].value = "svc-1";
	s.attributes = fp;
	s.n_attributes = 2;
	(void)ch_query_attr_decode(p, len, &s, &matched, &n);
	FUZZ_CHECK(n <= len / 18);
	free(matched);
}

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
		FUZZ_CHECK(us.v[i].table == CH_ROWS_ATTR ||
		    total[us.v[i].table] <= len);
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
	if (ch_rows_parse(p, len, &v))
		chr_derived(&v);
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
		attr_spans(p, len);
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
