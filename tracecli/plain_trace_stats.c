/* plain_tstats.c - `show --stats` as text: per service, then its
 * operations indented, the time each took and its share of the trace. */
#include <stdio.h>

#include "tracecli.h"

#define NCOLS 8

static void
stat_cells(const tstats *ts, const tstat_row *r, char bufs[][64],
    const char **cells)
{
	snprintf(bufs[1], 64, "%d", r->count);
	duration_format(r->total_ns, bufs[2], 64);
	duration_format(r->count ? r->total_ns / (uint64_t)r->count : 0,
	    bufs[3], 64);
	duration_format(r->max_ns, bufs[4], 64);
	duration_format(r->self_ns, bufs[5], 64);
	snprintf(bufs[6], 64, "%.1f%%", 100.0 * tstats_share(ts, r));
	snprintf(bufs[7], 64, "%d", r->errors);
	for (int k = 1; k < NCOLS; k++)
		cells[k] = bufs[k];
}

/* Operations are indented under their service: the indent is part of
 * the (already sanitised) name cell. */
static void
emit_row(FILE *f, table_col *c, const tstats *ts, const tstat_row *r,
    bool op, san_mode san, bool measure)
{
	char bufs[NCOLS][64], name[1100];
	const char *cells[NCOLS];

	stat_cells(ts, r, bufs, cells);
	snprintf(name, sizeof name, "%s%s", op ? "  " : "", r->name);
	cells[0] = name;
	if (measure)
		table_measure(c, NCOLS, cells, san);
	else
		table_row(f, c, NCOLS, cells, san);
}

static void
emit_all(FILE *f, table_col *c, const tstats *ts, san_mode san,
    bool measure)
{
	for (int k = 0; k < ts->nservices; k++) {
		const tstat_service *sv = &ts->services[k];
		emit_row(f, c, ts, &sv->total, false, san, measure);
		for (int j = 0; j < sv->nops; j++)
			emit_row(f, c, ts, &sv->ops[j], true, san, measure);
	}
}

void
plain_trace_stats(FILE *f, const model_trace *m, const tstats *ts,
    const plain_opts *o)
{
	table_col c[NCOLS] = {
		{"SERVICE / OPERATION", 12, 1, 0, false, 0, 0},
		{"SPANS", 5, 0, 0, true, 0, 0},
		{"TOTAL", 8, 0, 3, true, 0, 0},
		{"AVG", 8, 0, 2, true, 0, 0},
		{"MAX", 8, 0, 1, true, 0, 0},
		{"SELF", 8, 0, 0, true, 0, 0},
		{"SELF%", 6, 0, 0, true, 0, 0},
		{"ERRORS", 6, 0, 4, true, 0, 0},
	};
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	char dur[32];

	fprintf(f, "Trace %s  %s  %d span%s  %d service%s\n", m->trace_hex,
	    duration_format(ts->duration_ns, dur, sizeof dur), m->nspans,
	    m->nspans == 1 ? "" : "s", m->nservices,
	    m->nservices == 1 ? "" : "s");
	emit_all(f, c, ts, san, true);
	table_fit(c, NCOLS, o->width);
	table_head(f, c, NCOLS, san);
	emit_all(f, c, ts, san, false);
	fprintf(f, "SELF: time in the span not covered by its children; "
		   "SELF%%: of the trace's %s\n", dur);
}
