/* plain_diff.c - `tracecli diff` as text: the merged tree of both traces,
 * each row marked + (only in B), - (only in A), > slower, < faster, or
 * blank, with both durations and the change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define NCOLS 6

static const char marks[DIFF_NCHANGES] = {' ', '+', '-', '>', '<'};

/* "2x 30ms" when a path holds several spans. */
static void
side_cell(const diff_row *r, int side, char *out, size_t len)
{
	char d[32];

	if (r->count[side] == 0)
		snprintf(out, len, "-");
	else if (r->count[side] == 1)
		snprintf(out, len, "%s", duration_format(r->dur_ns[side], d,
		    sizeof d));
	else
		snprintf(out, len, "%dx %s", r->count[side],
		    duration_format(r->dur_ns[side], d, sizeof d));
}

static void
change_cell(const diff_row *r, char *out, size_t len)
{
	char d[32];
	uint64_t a = r->dur_ns[0], b = r->dur_ns[1];

	if (r->change == DIFF_ADDED || r->change == DIFF_MISSING) {
		snprintf(out, len, "%s", diff_change_name(r->change));
		return;
	}
	if (a == b) {
		snprintf(out, len, "=");
		return;
	}
	duration_format(a > b ? a - b : b - a, d, sizeof d);
	snprintf(out, len, "%s%s %+.0f%%", b >= a ? "+" : "-", d,
	    a ? 100.0 * ((double)b - (double)a) / (double)a : 0.0);
}

/* What the rows of the text diff need: the diff, rows in tree order,
 * the tree column's width. */
typedef struct diff_text {
	const trace_diff *d;
	int *pre;
	int tree_w;
	bool ascii;
} diff_text;

static void
row_cells(const void *arg, size_t k, table_buf *b, const char **cells)
{
	const diff_text *t = arg;
	int i = t->pre[k];
	const mspan *s = &t->d->tree.spans[i];
	char prefix[600];

	snprintf(b->s[0], TABLE_CELL, "%c", marks[t->d->rows[i].change]);
	tree_prefix(&t->d->tree, i, t->tree_w, t->ascii, prefix, sizeof prefix);
	snprintf(b->s[1], TABLE_CELL, "%s%s", prefix, s->name);
	side_cell(&t->d->rows[i], 0, b->s[3], TABLE_CELL);
	side_cell(&t->d->rows[i], 1, b->s[4], TABLE_CELL);
	change_cell(&t->d->rows[i], b->s[5], TABLE_CELL);
	for (int c = 0; c < NCOLS; c++)
		cells[c] = b->s[c];
	cells[2] = s->service;
}

static void
header(FILE *f, const char *tag, const model_trace *m)
{
	char dur[32];

	fprintf(f, "%s %s  %s  %d span%s\n", tag, m->trace_hex,
	    duration_format(m->end_ns - m->start_ns, dur, sizeof dur),
	    m->nspans, m->nspans == 1 ? "" : "s");
}

void
plain_diff(FILE *f, const trace_diff *d, const plain_opts *o)
{
	table_col c[NCOLS] = {
		{"", 1, 0, 0, false, 0, 0, false},
		{"SPAN", 16, 2, 0, false, 0, 0, false},
		{"SERVICE", 8, 1, 1, false, 0, 0, false},
		{"A", 8, 0, 0, true, 0, 0, false},
		{"B", 8, 0, 0, true, 0, 0, false},
		{"CHANGE", 8, 0, 0, false, 0, 0, false},
	};
	diff_text t = {d, NULL, o->width / 3 > 12 ? o->width / 3 : 12, o->ascii};

	for (int k = 0; k < NCOLS; k++)	/* the model's names, our numbers */
		c[k].safe = true;
	t.pre = xmalloc(((size_t)d->tree.nspans + 1) * sizeof *t.pre);
	header(f, "A", d->a);
	header(f, "B", d->b);
	model_preorder(&d->tree, t.pre);
	table_print(f, c, NCOLS, (size_t)d->tree.nspans, row_cells, &t,
	    o->width, o->ascii ? SAN_ASCII : SAN_UTF8);
	fprintf(f, "%d added (+), %d missing (-), %d slower (>), %d faster (<)\n"
	    "(spans match by service and operation along the path from the "
	    "root)\n", d->count[DIFF_ADDED], d->count[DIFF_MISSING],
	    d->count[DIFF_SLOWER], d->count[DIFF_FASTER]);
	free(t.pre);
}
