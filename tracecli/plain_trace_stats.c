/* plain_tstats.c - `show --stats` as text: per service, then its
 * operations indented, the time each took and its share of the trace. */
#include <stdio.h>
#include <stdlib.h>

#include "tracecli.h"

#define NCOLS 8

/* The rows: each service, then its operations indented under it. */
typedef struct stats_text {
	const tstats *ts;
	const tstat_row **rows;
	bool *is_op;
} stats_text;

static void
stat_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const stats_text *t = arg;
	const tstat_row *r = t->rows[i];

	snprintf(b->s[0], TABLE_CELL, "%s%s", t->is_op[i] ? "  " : "", r->name);
	snprintf(b->s[1], TABLE_CELL, "%d", r->count);
	duration_format(r->total_ns, b->s[2], TABLE_CELL);
	duration_format(r->count ? r->total_ns / (uint64_t)r->count : 0,
	    b->s[3], TABLE_CELL);
	duration_format(r->max_ns, b->s[4], TABLE_CELL);
	duration_format(r->self_ns, b->s[5], TABLE_CELL);
	snprintf(b->s[6], TABLE_CELL, "%.1f%%", 100.0 * tstats_share(t->ts, r));
	snprintf(b->s[7], TABLE_CELL, "%d", r->errors);
	for (int k = 0; k < NCOLS; k++)
		cells[k] = b->s[k];
}

/* Flattens services and their operations into rows; returns how many. */
static size_t
flatten(stats_text *t)
{
	size_t n = 0;

	for (int k = 0; k < t->ts->nservices; k++)
		n += 1 + (size_t)t->ts->services[k].nops;
	t->rows = xmalloc((n + 1) * sizeof *t->rows);
	t->is_op = xmalloc(n + 1);
	n = 0;
	for (int k = 0; k < t->ts->nservices; k++) {
		const tstat_service *sv = &t->ts->services[k];
		t->is_op[n] = false;
		t->rows[n++] = &sv->total;
		for (int j = 0; j < sv->nops; j++) {
			t->is_op[n] = true;
			t->rows[n++] = &sv->ops[j];
		}
	}
	return n;
}

void
plain_trace_stats(FILE *f, const model_trace *m, const tstats *ts,
    const plain_opts *o)
{
	table_col c[NCOLS] = {
		{"SERVICE / OPERATION", 12, 1, 0, false, 0, 0, false},
		{"SPANS", 5, 0, 0, true, 0, 0, false},
		{"TOTAL", 8, 0, 3, true, 0, 0, false},
		{"AVG", 8, 0, 2, true, 0, 0, false},
		{"MAX", 8, 0, 1, true, 0, 0, false},
		{"SELF", 8, 0, 0, true, 0, 0, false},
		{"SELF%", 6, 0, 0, true, 0, 0, false},
		{"ERRORS", 6, 0, 4, true, 0, 0, false},
	};
	stats_text t = {ts, NULL, NULL};
	char dur[32];

	for (int k = 0; k < NCOLS; k++)	/* the model's names, our numbers */
		c[k].safe = true;
	fprintf(f, "Trace %s  %s  %d span%s  %d service%s\n", m->trace_hex,
	    duration_format(ts->duration_ns, dur, sizeof dur), m->nspans,
	    m->nspans == 1 ? "" : "s", m->nservices,
	    m->nservices == 1 ? "" : "s");
	size_t n = flatten(&t);
	table_print(f, c, NCOLS, n, stat_cells, &t, o->width,
	    o->ascii ? SAN_ASCII : SAN_UTF8);
	fprintf(f, "SELF: time in the span not covered by its children; "
		   "SELF%%: of the trace's %s\n", dur);
	free(t.rows);
	free(t.is_op);
}
