/*
 * table.c - text tables fitted to a width: each column wants its widest
 * cell; when the row is too wide, columns give way in their `shrink` order
 * (lowest first) down to their minimum, then optional columns are dropped
 * in their `drop` order. Cells are raw wire text, sanitised here.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define CELL_MAX 1024

static void
safe_text(const char *raw, san_mode san, char *out, size_t len)
{
	sanitize_buf(raw ? raw : "", raw ? strlen(raw) : 0, san, out, len);
}

/* The cell as it may be drawn: sanitised into buf unless the column's
 * cells already are. */
static const char *
cell_text(const table_col *c, const char *raw, san_mode san, char *buf,
    size_t len)
{
	if (c->safe)
		return raw ? raw : "";
	safe_text(raw, san, buf, len);
	return buf;
}

void
table_measure(table_col *c, int n, const char *const *cells, san_mode san)
{
	char buf[CELL_MAX];

	for (int i = 0; i < n; i++) {
		int w = utf8_width(cell_text(&c[i], cells[i], san, buf,
		    sizeof buf));
		if (w > c[i].want_w)
			c[i].want_w = w;
	}
}

static int
total_width(const table_col *c, int n)
{
	int w = 0, kept = 0;

	for (int i = 0; i < n; i++) {
		if (c[i].w > 0) {
			w += c[i].w;
			kept++;
		}
	}
	return kept ? w + kept - 1 : 0;
}

/* The kept column with the lowest nonzero `key` (shrink or drop order)
 * that may still give way; -1 when none. */
static int
next_victim(const table_col *c, int n, bool drop)
{
	int best = -1;

	for (int i = 0; i < n; i++) {
		int key = drop ? c[i].drop : c[i].shrink;
		if (c[i].w == 0 || key == 0 || (!drop && c[i].w <= c[i].min_w))
			continue;
		if (best < 0 || key < (drop ? c[best].drop : c[best].shrink))
			best = i;
	}
	return best;
}

void
table_fit(table_col *c, int n, int width)
{
	int over, v;

	for (int i = 0; i < n; i++) {
		int hw = utf8_width(c[i].head);
		c[i].w = c[i].want_w > hw ? c[i].want_w : hw;
		if (c[i].w < 1)
			c[i].w = 1;
	}
	while ((over = total_width(c, n) - width) > 0 &&
	    (v = next_victim(c, n, false)) >= 0) {
		int w = c[v].w - over;
		c[v].w = w > c[v].min_w ? w : c[v].min_w;
	}
	while (total_width(c, n) > width && (v = next_victim(c, n, true)) >= 0)
		c[v].w = 0;
	/* Dropping may have freed room: give it back in reverse order. */
	for (int i = n - 1; i >= 0 && (over = total_width(c, n) - width) < 0;
	     i--) {
		int hw = utf8_width(c[i].head);
		int want = c[i].want_w > hw ? c[i].want_w : hw;
		if (c[i].w > 0 && c[i].w < want)
			c[i].w = c[i].w - over < want ? c[i].w - over : want;
	}
}

/* The last kept column is not padded: nothing follows it. */
static int
last_kept(const table_col *c, int n)
{
	for (int i = n - 1; i >= 0; i--)
		if (c[i].w > 0)
			return i;
	return -1;
}

static void
put_cell(FILE *f, const table_col *col, const char *safe, bool last,
    san_mode san)
{
	char fit[CELL_MAX * 2];
	int w = utf8_fit(safe, col->w, false, san, fit, sizeof fit);

	if (col->right)
		fprintf(f, "%*s%s", col->w - w, "", fit);
	else if (last)
		fputs(fit, f);
	else
		fprintf(f, "%s%*s", fit, col->w - w, "");
}

void
table_row(FILE *f, const table_col *c, int n, const char *const *cells,
    san_mode san)
{
	char buf[CELL_MAX];
	int last = last_kept(c, n);
	bool first = true;

	for (int i = 0; i < n; i++) {
		if (c[i].w == 0)
			continue;
		if (!first)
			fputc(' ', f);
		first = false;
		put_cell(f, &c[i], cell_text(&c[i], cells[i], san, buf,
		    sizeof buf), i == last, san);
	}
	fputc('\n', f);
}

void
table_head(FILE *f, const table_col *c, int n, san_mode san)
{
	const char *heads[TABLE_MAX_COLS];

	for (int i = 0; i < n && i < TABLE_MAX_COLS; i++)
		heads[i] = c[i].head;
	table_row(f, c, n, heads, san);
}

void
table_print(FILE *f, table_col *c, int ncols, size_t nrows,
    table_cells_fn cells_of, const void *arg, int width, san_mode san)
{
	/* Each row's texts are made once: formatting durations is the
	 * dearest part of a big table. */
	char **texts = xcalloc(nrows * (size_t)ncols + 1, sizeof *texts);
	table_buf b;
	const char *cells[TABLE_MAX_COLS];

	for (size_t i = 0; i < nrows; i++) {
		cells_of(arg, i, &b, cells);
		for (int k = 0; k < ncols; k++)
			texts[i * (size_t)ncols + (size_t)k] =
			    xstrdup(cells[k] ? cells[k] : "");
		table_measure(c, ncols, (const char *const *)&texts[i *
		    (size_t)ncols], san);
	}
	table_fit(c, ncols, width);
	table_head(f, c, ncols, san);
	for (size_t i = 0; i < nrows; i++)
		table_row(f, c, ncols, (const char *const *)&texts[i *
		    (size_t)ncols], san);
	for (size_t i = 0; i < nrows * (size_t)ncols; i++)
		free(texts[i]);
	free(texts);
}
