/*
 * tree.c - the tree guides in front of a span's name ("│  ├─ "), shared by
 * the text waterfall and the interactive view.
 *
 * A tree deeper than its column allows gets a gutter of TREE_GUTTER
 * columns on every row: the levels that do not fit are hidden on the left
 * and the gutter counts them ("+8"). Levels are hidden in steps of half
 * the visible ones, so within a step a child is always drawn right of its
 * parent with connecting guides, and a row that crosses a step says so in
 * its gutter.
 */
#include <string.h>

#include "tracecli.h"

/* Levels (3 columns each) the prefix may draw in max_cols. */
static int
levels_that_fit(int max_cols)
{
	int l = (max_cols - TREE_GUTTER) / 3;

	return l < 2 ? 2 : l;
}

int
tree_hidden_levels(const model_trace *m, int depth, int max_cols)
{
	if (m->max_depth * 3 <= max_cols)
		return 0;
	int fit = levels_that_fit(max_cols), step = fit / 2;
	if (depth <= fit)
		return 0;
	return (depth - fit + step - 1) / step * step;
}

static void
append(char *out, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n + 1 > len)
		return;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

void
tree_prefix(const model_trace *m, int i, int max_cols, bool ascii, char *out,
    size_t len)
{
	const char *vbar = ascii ? "|  " : "\xe2\x94\x82  ";
	const char *tee = ascii ? "|- " : "\xe2\x94\x9c\xe2\x94\x80 ";
	const char *ell = ascii ? "`- " : "\xe2\x94\x94\xe2\x94\x80 ";
	const mspan *s = &m->spans[i];
	const char *lv[TREE_MAX_LEVELS];
	int d = s->depth, hidden = tree_hidden_levels(m, d, max_cols);
	size_t o = 0;

	out[0] = '\0';
	if (m->max_depth * 3 > max_cols) {
		char g[16];
		if (hidden > 0)
			snprintf(g, sizeof g, "+%-*d", TREE_GUTTER - 1, hidden);
		else
			snprintf(g, sizeof g, "%*s", TREE_GUTTER, "");
		append(out, len, &o, g);
	}
	if (d == 0)
		return;
	/* Guides for the shown ancestor levels hidden+1 .. d-1. */
	int first = hidden + 1, nlv = d - first;
	if (nlv > TREE_MAX_LEVELS)
		first = d - TREE_MAX_LEVELS, nlv = TREE_MAX_LEVELS;
	int a = s->parent;
	for (int k = d - 1; k >= first && a >= 0; k--, a = m->spans[a].parent)
		lv[k - first] = m->spans[a].next_sibling >= 0 ? vbar : "   ";
	for (int k = 0; k < nlv; k++)
		append(out, len, &o, lv[k]);
	append(out, len, &o, s->next_sibling >= 0 ? tee : ell);
}
