/* plain_deps.c - `tracecli deps` as text: a table of caller -> callee
 * edges, then the same as a terminal graph, one block per caller. */
#include <stdio.h>
#include <string.h>

#include "tracecli.h"

#define NCOLS 6

static void
edge_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const dep_edge *e = &((const deps *)arg)->edges[i];

	snprintf(b->s[2], TABLE_CELL, "%llu", (unsigned long long)e->calls);
	snprintf(b->s[3], TABLE_CELL, "%llu", (unsigned long long)e->errors);
	duration_format(e->p50_ns, b->s[4], TABLE_CELL);
	duration_format(e->p99_ns, b->s[5], TABLE_CELL);
	for (int k = 2; k < NCOLS; k++)
		cells[k] = b->s[k];
	cells[0] = e->caller;
	cells[1] = e->callee;
}

static void
deps_table(FILE *f, const deps *d, const plain_opts *o, san_mode san)
{
	table_col c[NCOLS] = {
		{"CALLER", 8, 2, 0, false, 0, 0, false},
		{"CALLEE", 8, 1, 0, false, 0, 0, false},
		{"CALLS", 5, 0, 0, true, 0, 0, false},
		{"ERRORS", 6, 0, 0, true, 0, 0, false},
		{"P50", 8, 0, 1, true, 0, 0, false},
		{"P99", 8, 0, 0, true, 0, 0, false},
	};

	table_print(f, c, NCOLS, (size_t)d->n, edge_cells, d, o->width, san);
}

/* The graph: each caller, its callees hanging from it. */
static void
deps_graph(FILE *f, const deps *d, const plain_opts *o)
{
	const char *tee = o->ascii ? "|-> " : "\xe2\x94\x9c\xe2\x94\x80\xe2\x96\xb6 ";
	const char *ell = o->ascii ? "`-> " : "\xe2\x94\x94\xe2\x94\x80\xe2\x96\xb6 ";
	char line[1200], p99[32], fit[2400], errs[32], caller[1100], callee[1100];
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;

	for (int i = 0; i < d->n; i++) {
		const dep_edge *e = &d->edges[i];
		sanitize_buf(e->caller, strlen(e->caller), san, caller,
		    sizeof caller);
		sanitize_buf(e->callee, strlen(e->callee), san, callee,
		    sizeof callee);
		if (i == 0 || strcmp(e->caller, d->edges[i - 1].caller) != 0) {
			utf8_fit(caller, o->width, false, san, fit, sizeof fit);
			fprintf(f, "%s\n", fit);
		}
		bool last = i + 1 == d->n ||
		    strcmp(e->caller, d->edges[i + 1].caller) != 0;
		errs[0] = '\0';
		if (e->errors)
			snprintf(errs, sizeof errs, ", %llu error%s",
			    (unsigned long long)e->errors,
			    e->errors == 1 ? "" : "s");
		snprintf(line, sizeof line, "%s%s  %llu call%s%s  p99 %s",
		    last ? ell : tee, callee, (unsigned long long)e->calls, e->calls == 1 ? "" : "s",
		    errs, duration_format(e->p99_ns, p99, sizeof p99));
		utf8_fit(line, o->width, false, san, fit, sizeof fit);
		fprintf(f, "%s\n", fit);
	}
}

void
plain_deps(FILE *f, const deps *d, const plain_opts *o)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;

	deps_table(f, d, o, san);
	fputc('\n', f);
	deps_graph(f, d, o);
}
