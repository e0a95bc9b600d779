/*
 * view.c - the interactive waterfall (curses only; the model does the
 * thinking). One row per visible span: tree, name, service, duration, self
 * time and a bar on a zoomable time axis; a detail pane; in-trace search;
 * critical path; jumps to errors and to the slowest span; help.
 *
 * Keys set dirty state; the loop draws at most once per pass and only the
 * rows on screen, so a 50k-span trace costs the same per frame as a small
 * one. KEY_RESIZE lays everything out again.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define DETAIL_MAX_LINES 4000
#define LINE_MAX_BYTES 1024

typedef enum { MODE_NORMAL, MODE_SEARCH, MODE_HELP } view_mode;

struct view {
	model_trace *m;
	int sel;            /* selected row */
	int top;            /* first row on screen */
	bool detail;        /* detail pane open */
	int detail_top;     /* first detail line shown */
	bool crit;          /* critical path highlighted */
	view_mode mode;
	char query[128];    /* search being typed, or the last one */
	size_t qlen;
	int nmatches;
	uint64_t z0, z1;    /* zoom window, ns from trace start */
	char status[256];   /* one-shot message on the status line */
	/* layout, from view_layout */
	int rows, cols;
	int list_y, list_h, detail_y, detail_h;
	int name_w, svc_w, bar_x, bar_w;
	/* detail lines of the selected span */
	char **lines;
	int nlines;
	int lines_for;      /* span index the lines describe */
};

static const char *help_text[] = {
	"Moving",
	"  j k / Down Up    next / previous span",
	"  PgDn PgUp        page down / up   (also Ctrl-F Ctrl-B)",
	"  g G / Home End   first / last span",
	"Tree",
	"  Left h           collapse, or go to the parent",
	"  Right l          expand",
	"  Space            toggle collapse",
	"  c / e            collapse all / expand all",
	"  C / E            collapse / expand this subtree",
	"Finding",
	"  /                search in this trace (names, services, attributes)",
	"  n N              next / previous match",
	"  x X              next / previous error",
	"  s                slowest span (largest self time)",
	"  p                highlight the critical path",
	"Time axis",
	"  + -              zoom in / out      z  zoom to the selected span",
	"  < >              pan left / right   0  reset zoom",
	"Detail",
	"  Enter d          open / close the detail pane",
	"  J K              scroll the detail pane",
	"Other",
	"  ?                this help          Ctrl-L redraw",
	"  Esc              close pane / help / search, else back",
	"  q                quit",
	"Flags: E error  K clock skew (outside its parent)  M parent missing",
	"       * critical path (with p)",
};

view *
view_new(model_trace *m)
{
	view *v = xcalloc(1, sizeof *v);

	v->m = m;
	v->z0 = 0;
	v->z1 = m->end_ns - m->start_ns;
	if (v->z1 == 0)
		v->z1 = 1;
	v->lines_for = -1;
	return v;
}

static void
free_lines(view *v)
{
	for (int i = 0; i < v->nlines; i++)
		free(v->lines[i]);
	free(v->lines);
	v->lines = NULL;
	v->nlines = 0;
	v->lines_for = -1;
}

void
view_free(view *v)
{
	if (v == NULL)
		return;
	free_lines(v);
	free(v);
}

/* ---------------------------------------------------------------- layout */

static void
view_layout(view *v)
{
	int rows = LINES > 0 ? LINES : 24, cols = COLS > 0 ? COLS : 80;

	v->rows = rows;
	v->cols = cols;
	v->list_y = 2;
	int body = rows - 3;	/* title, axis, status */
	if (body < 1)
		body = 1;
	if (v->detail && body >= 8) {
		v->detail_h = body * 2 / 5;
		v->list_h = body - v->detail_h;
		v->detail_y = v->list_y + v->list_h;
	} else {
		v->detail_h = 0;
		v->list_h = body;
		v->detail_y = rows - 1;
	}
	v->name_w = cols * 35 / 100;
	if (v->name_w < 16)
		v->name_w = 16;
	v->svc_w = cols >= 100 ? 14 : 0;
	/* name | flags(3) | service | dur(8) self(8) | bar */
	v->bar_x = v->name_w + 3 + (v->svc_w ? v->svc_w + 1 : 0) + 18;
	v->bar_w = cols - v->bar_x - 1;
	if (v->bar_w < 4) {
		v->bar_w = 4;
		v->bar_x = cols - 5;
	}
}

static void
clamp_scroll(view *v)
{
	model_trace *m = v->m;

	if (v->sel >= m->nrows)
		v->sel = m->nrows - 1;
	if (v->sel < 0)
		v->sel = 0;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + v->list_h)
		v->top = v->sel - v->list_h + 1;
	if (v->top > m->nrows - v->list_h)
		v->top = m->nrows - v->list_h;
	if (v->top < 0)
		v->top = 0;
}

void
view_select(view *v, int row)
{
	v->sel = row;
	view_layout(v);
	clamp_scroll(v);
	/* Put a jump target in the middle of the list when it moved far. */
	if (row - v->top > v->list_h - 2 || row < v->top + 1) {
		v->top = row - v->list_h / 2;
		clamp_scroll(v);
	}
}

/* ---------------------------------------------------------------- drawing */

/* Writes an already-safe string at (y, x), at most w columns. */
static void
put_fit(int y, int x, const char *s, int w, bool pad)
{
	char buf[LINE_MAX_BYTES * 2];

	if (w <= 0)
		return;
	utf8_fit(s, w, pad, term_ascii() ? SAN_ASCII : SAN_UTF8, buf, sizeof buf);
	mvaddstr(y, x, buf);
}

static void
draw_title(view *v)
{
	model_trace *m = v->m;
	char buf[512], dur[32];

	duration_format(m->end_ns - m->start_ns, dur, sizeof dur);
	int n = snprintf(buf, sizeof buf, " Trace %s  %s  %d spans  %d services",
	    m->trace_hex, dur, m->nspans, m->nservices);
	if (m->nerrors)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "  %d error%s",
		    m->nerrors, m->nerrors == 1 ? "" : "s");
	if (m->nskew)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "  %d skewed",
		    m->nskew);
	if (m->norphans)
		n += snprintf(buf + n, sizeof buf - (size_t)n,
		    "  %d missing parent", m->norphans);
	if (v->z0 != 0 || v->z1 != m->end_ns - m->start_ns)
		snprintf(buf + n, sizeof buf - (size_t)n, "  [zoomed]");
	attrset(term_attr(CLR_HEADER));
	mvhline(0, 0, ' ', v->cols);
	put_fit(0, 0, buf, v->cols, false);
	attrset(A_NORMAL);
}

static void
draw_axis(view *v)
{
	char ticks[1024];
	axis a = {v->z0, v->z1, v->bar_w};

	attrset(term_attr(CLR_AXIS));
	mvhline(1, 0, ' ', v->cols);
	mvaddstr(1, 0, "SPAN");
	if (v->svc_w)
		mvaddstr(1, v->name_w + 3, "SERVICE");
	mvaddstr(1, v->bar_x - 18, "DURATION");
	mvaddstr(1, v->bar_x - 9, "    SELF");
	axis_ticks(&a, ticks, sizeof ticks);
	mvaddstr(1, v->bar_x, ticks);
	attrset(A_NORMAL);
}

/* Tree prefix for span i from its ancestors' next siblings. */
static void
tree_prefix(const model_trace *m, int i, int max_cols, char *out, size_t len)
{
	bool ascii = term_ascii();
	const char *vbar = ascii ? "|  " : "\xe2\x94\x82  ";
	const char *tee = ascii ? "|- " : "\xe2\x94\x9c\xe2\x94\x80 ";
	const char *ell = ascii ? "`- " : "\xe2\x94\x94\xe2\x94\x80 ";
	const mspan *s = &m->spans[i];
	int d = s->depth, from = 1, k;
	const char *lv[64];
	size_t o = 0;

	out[0] = '\0';
	if (d == 0)
		return;
	if (d * 3 > max_cols) {
		from = d - (max_cols / 3 - 2);
		if (from < 1)
			from = 1;
		o += (size_t)snprintf(out, len, "%d:", d);
	}
	if (d - from > (int)ARRAY_LEN(lv))
		from = d - (int)ARRAY_LEN(lv);
	/* Ancestors from depth d-1 up to `from`. */
	int a = s->parent;
	for (k = d - 1; k >= from && a >= 0; k--, a = m->spans[a].parent)
		lv[k - from] = m->spans[a].next_sibling >= 0 ? vbar : "   ";
	for (k = from; k < d; k++) {
		size_t n = strlen(lv[k - from]);
		if (o + n + 1 >= len)
			break;
		memcpy(out + o, lv[k - from], n);
		o += n;
	}
	const char *p = s->next_sibling >= 0 ? tee : ell;
	size_t n = strlen(p);
	if (o + n + 1 < len) {
		memcpy(out + o, p, n);
		o += n;
	}
	out[o] = '\0';
}

static void
draw_row(view *v, int y, int row)
{
	model_trace *m = v->m;
	int i = m->rows[row];
	const mspan *s = &m->spans[i];
	bool ascii = term_ascii(), selected = row == v->sel;
	char prefix[256], label[LINE_MAX_BYTES], dur[32], self[32], fl[4];
	int base = selected ? term_attr(CLR_SELECTED) : 0;

	tree_prefix(m, i, v->name_w / 2, prefix, sizeof prefix);
	const char *mark = "";
	if (s->first_child >= 0)
		mark = (s->flags & MSPAN_COLLAPSED) ?
		    (ascii ? "+ " : "\xe2\x96\xb8 ") : (ascii ? "- " : "\xe2\x96\xbe ");
	if (s->flags & MSPAN_COLLAPSED)
		snprintf(label, sizeof label, "%s%s%s (%d)", prefix, mark, s->name,
		    s->nchildren);
	else
		snprintf(label, sizeof label, "%s%s%s", prefix, mark, s->name);

	attrset(base);
	mvhline(y, 0, ' ', v->cols);
	int name_attr = base;
	if (!selected) {
		if (s->flags & MSPAN_MATCH)
			name_attr = term_attr(CLR_MATCH);
		else if (s->flags & MSPAN_ERROR)
			name_attr = term_attr(CLR_SPAN_ERROR);
		else if (v->crit && (s->flags & MSPAN_CRIT))
			name_attr = term_attr(CLR_CRIT);
	}
	attrset(name_attr);
	put_fit(y, 0, label, v->name_w, false);

	int k = 0;
	if (s->flags & MSPAN_ERROR)
		fl[k++] = 'E';
	if (s->flags & MSPAN_SKEW)
		fl[k++] = 'K';
	else if (s->flags & MSPAN_ORPHAN)
		fl[k++] = 'M';
	else if (v->crit && (s->flags & MSPAN_CRIT))
		fl[k++] = '*';
	fl[k] = '\0';
	attrset(selected ? base : (s->flags & MSPAN_ERROR) ?
	    term_attr(CLR_SPAN_ERROR) : term_attr(CLR_SKEW));
	mvaddstr(y, v->name_w, fl);

	if (v->svc_w) {
		attrset(selected ? base : term_attr(CLR_SERVICE0 + (int)s->color));
		put_fit(y, v->name_w + 3, s->service, v->svc_w, false);
	}
	attrset(base);
	duration_format(s->dur_ns, dur, sizeof dur);
	duration_format(s->self_ns, self, sizeof self);
	mvprintw(y, v->bar_x - 18, "%8s %8s", dur, self);

	/* The bar. */
	axis a = {v->z0, v->z1, v->bar_w};
	int c0, c1;
	uint64_t rs = s->start_ns - m->start_ns, re = s->end_ns - m->start_ns;
	if (re < v->z0 || rs > v->z1) {
		c0 = c1 = -1;
	} else {
		axis_cells(&a, rs < v->z0 ? v->z0 : rs, re, &c0, &c1);
	}
	if (c0 >= 0) {
		int attr = term_attr(CLR_SERVICE0 + (int)s->color);
		const char *ch = ascii ? "#" : "\xe2\x96\x88";
		if (s->flags & MSPAN_ERROR) {
			attr = term_attr(CLR_SPAN_ERROR);
			ch = ascii ? "x" : "\xe2\x96\x93";
		} else if (v->crit && (s->flags & MSPAN_CRIT)) {
			attr = term_attr(CLR_CRIT);
			ch = ascii ? "*" : "\xe2\x96\x88";
		} else if (v->crit) {
			attr = term_attr(CLR_DIM);
			ch = ascii ? "-" : "\xe2\x96\x91";
		}
		attrset(attr | (selected ? A_BOLD : 0));
		move(y, v->bar_x + c0);
		for (int c = c0; c < c1; c++)
			addstr(ch);
		/* Clock skew: mark the side that sticks out of the parent. */
		if ((s->flags & MSPAN_SKEW) && s->parent >= 0) {
			attrset(term_attr(CLR_SKEW));
			if (s->start_ns < m->spans[s->parent].start_ns)
				mvaddstr(y, v->bar_x + c0, "<");
			if (s->end_ns > m->spans[s->parent].end_ns)
				mvaddstr(y, v->bar_x + c1 - 1, ">");
		}
	}
	attrset(A_NORMAL);
}

/* Appends one line (already safe) to the detail lines. */
static void
add_line(view *v, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
add_line(view *v, const char *fmt, ...)
{
	va_list ap;
	char buf[LINE_MAX_BYTES];

	if (v->nlines >= DETAIL_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	v->lines = xrealloc(v->lines, ((size_t)v->nlines + 1) * sizeof *v->lines);
	v->lines[v->nlines++] = xstrdup(buf);
}

/* key = value lines for attributes, sanitised. */
static void
add_kvs(view *v, const char *indent, pb_kv *const *kv, size_t n)
{
	san_mode san = term_ascii() ? SAN_ASCII : SAN_UTF8;
	char raw[LINE_MAX_BYTES], key[256], val[LINE_MAX_BYTES];

	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i]->key ? kv[i]->key : "";
		sanitize_buf(k, strlen(k), san, key, sizeof key);
		any_to_text(kv[i]->value, raw, sizeof raw);
		sanitize_buf(raw, strlen(raw), san, val, sizeof val);
		add_line(v, "%s%s = %s", indent, key, val);
	}
}

static void
build_detail(view *v, int i)
{
	model_trace *m = v->m;
	const mspan *s = &m->spans[i];
	const pb_span *p = s->pb;
	san_mode san = term_ascii() ? SAN_ASCII : SAN_UTF8;
	char a[64], b[64], c[64], when[48], tmp[LINE_MAX_BYTES];

	free_lines(v);
	v->lines_for = i;
	hex_encode(s->span_id, 8, a);
	add_line(v, "%s  [%s]  kind %s  status %s", s->name, s->service,
	    kind_name(s->kind), status_name(s->status));
	if (p->status != NULL && p->status->message && *p->status->message) {
		sanitize_buf(p->status->message, strlen(p->status->message), san,
		    tmp, sizeof tmp);
		add_line(v, "status message: %s", tmp);
	}
	if (s->has_parent)
		hex_encode(s->parent_id, 8, b);
	else
		strcpy(b, "(root)");
	add_line(v, "span %s  parent %s%s", a, b,
	    (s->flags & MSPAN_ORPHAN) ? "  (parent not in this trace)" : "");
	time_format(s->start_ns, when, sizeof when);
	duration_format(s->start_ns - m->start_ns, a, sizeof a);
	duration_format(s->dur_ns, b, sizeof b);
	duration_format(s->self_ns, c, sizeof c);
	add_line(v, "start +%s (%s)  duration %s  self %s", a, when, b, c);
	if (s->flags & MSPAN_SKEW) {
		const mspan *par = &m->spans[s->parent];
		if (s->start_ns < par->start_ns)
			add_line(v, "clock skew: starts %s before its parent",
			    duration_format(par->start_ns - s->start_ns, a, sizeof a));
		if (s->end_ns > par->end_ns)
			add_line(v, "clock skew: ends %s after its parent",
			    duration_format(s->end_ns - par->end_ns, a, sizeof a));
	}
	if (s->flags & MSPAN_CRIT)
		add_line(v, "on the critical path");
	if (p->n_attributes) {
		add_line(v, "Attributes (%zu)", p->n_attributes);
		add_kvs(v, "  ", p->attributes, p->n_attributes);
	}
	if (p->n_events) {
		add_line(v, "Events (%zu)", p->n_events);
		for (size_t e = 0; e < p->n_events; e++) {
			const Opentelemetry__Proto__Trace__V1__Span__Event *ev =
			    p->events[e];
			const char *nm = ev->name ? ev->name : "";
			sanitize_buf(nm, strlen(nm), san, tmp, sizeof tmp);
			uint64_t t = ev->time_unix_nano;
			if (t >= s->start_ns)
				duration_format(t - s->start_ns, a, sizeof a);
			else
				strcpy(a, "?");
			add_line(v, "  +%s %s", a, tmp);
			add_kvs(v, "      ", ev->attributes, ev->n_attributes);
		}
	}
	if (p->n_links) {
		add_line(v, "Links (%zu)", p->n_links);
		for (size_t l = 0; l < p->n_links; l++) {
			const Opentelemetry__Proto__Trace__V1__Span__Link *lk =
			    p->links[l];
			char th[33] = "?", sh[17] = "?";
			if (lk->trace_id.len == 16)
				hex_encode(lk->trace_id.data, 16, th);
			if (lk->span_id.len == 8)
				hex_encode(lk->span_id.data, 8, sh);
			add_line(v, "  trace %s span %s", th, sh);
			add_kvs(v, "      ", lk->attributes, lk->n_attributes);
		}
	}
	if (p->dropped_attributes_count || p->dropped_events_count ||
	    p->dropped_links_count)
		add_line(v, "dropped: %u attributes, %u events, %u links",
		    p->dropped_attributes_count, p->dropped_events_count,
		    p->dropped_links_count);
	if (s->resource != NULL && s->resource->n_attributes) {
		add_line(v, "Resource");
		add_kvs(v, "  ", s->resource->attributes, s->resource->n_attributes);
	}
	if (s->scope_name != NULL && *s->scope_name) {
		sanitize_buf(s->scope_name, strlen(s->scope_name), san, tmp,
		    sizeof tmp);
		add_line(v, "Scope %s", tmp);
	}
}

static void
draw_detail(view *v)
{
	int i = v->m->rows[v->sel];

	if (v->lines_for != i) {
		build_detail(v, i);
		v->detail_top = 0;
	}
	attrset(term_attr(CLR_AXIS));
	move(v->detail_y, 0);
	for (int x = 0; x < v->cols; x++)
		addstr(term_ascii() ? "-" : "\xe2\x94\x80");
	mvaddstr(v->detail_y, 2, " span detail (J/K scroll, Esc close) ");
	attrset(A_NORMAL);
	if (v->detail_top > v->nlines - 1)
		v->detail_top = v->nlines > 0 ? v->nlines - 1 : 0;
	for (int y = 1; y < v->detail_h; y++) {
		int l = v->detail_top + y - 1;
		move(v->detail_y + y, 0);
		clrtoeol();
		if (l < v->nlines) {
			bool head = v->lines[l][0] != ' ';
			attrset(head && l > 0 ? term_attr(CLR_KEY) : 0);
			put_fit(v->detail_y + y, 1, v->lines[l], v->cols - 2, false);
			attrset(A_NORMAL);
		}
	}
}

static void
draw_status(view *v)
{
	int y = v->rows - 1;
	char buf[512];

	attrset(term_attr(CLR_STATUS));
	mvhline(y, 0, ' ', v->cols);
	if (v->mode == MODE_SEARCH) {
		snprintf(buf, sizeof buf, "/%s", v->query);
		put_fit(y, 0, buf, v->cols, false);
		curs_set(1);
		move(y, (int)utf8_width(buf) < v->cols ? utf8_width(buf) : v->cols - 1);
	} else {
		curs_set(0);
		if (v->status[0] != '\0')
			snprintf(buf, sizeof buf, " %s", v->status);
		else
			snprintf(buf, sizeof buf, " %d/%d  ? help  q quit  / search  "
			    "x error  p critical  Enter detail  Space fold  +/- zoom",
			    v->sel + 1, v->m->nrows);
		put_fit(y, 0, buf, v->cols, false);
	}
	attrset(A_NORMAL);
}

static void
draw_help(view *v)
{
	int h = (int)ARRAY_LEN(help_text) + 2, w = 74;

	if (w > v->cols)
		w = v->cols;
	if (h > v->rows)
		h = v->rows;
	int y0 = (v->rows - h) / 2, x0 = (v->cols - w) / 2;
	attrset(term_attr(CLR_HEADER));
	for (int y = 0; y < h; y++)
		mvhline(y0 + y, x0, ' ', w);
	put_fit(y0, x0 + 1, "tracecli keys (any key closes)", w - 2, false);
	attrset(A_NORMAL);
	for (int k = 0; k + 1 < h - 1 && k < (int)ARRAY_LEN(help_text); k++) {
		mvhline(y0 + 1 + k, x0, ' ', w);
		attrset(help_text[k][0] != ' ' ? term_attr(CLR_KEY) : 0);
		put_fit(y0 + 1 + k, x0 + 2, help_text[k], w - 3, false);
		attrset(A_NORMAL);
	}
}

void
view_draw(view *v)
{
	model_trace *m = v->m;

	view_layout(v);
	clamp_scroll(v);
	erase();
	draw_title(v);
	draw_axis(v);
	for (int y = 0; y < v->list_h; y++) {
		int row = v->top + y;
		if (row >= m->nrows)
			break;
		draw_row(v, v->list_y + y, row);
	}
	if (v->detail_h > 0 && m->nrows > 0)
		draw_detail(v);
	if (v->mode == MODE_HELP)
		draw_help(v);
	draw_status(v);
	refresh();
}

/* ---------------------------------------------------------------- keys */

/* Moves the selection to span i (expanding its ancestors). */
static void
jump_to(view *v, int i)
{
	if (i < 0)
		return;
	int row = model_reveal(v->m, i);
	if (row >= 0)
		view_select(v, row);
}

static void
relayout_keep(view *v, int span)
{
	model_layout(v->m);
	int row = model_row_of(v->m, span);
	v->sel = row >= 0 ? row : 0;
	clamp_scroll(v);
}

static void
zoom(view *v, double factor)
{
	uint64_t total = v->m->end_ns - v->m->start_ns;
	uint64_t w = v->z1 - v->z0;
	const mspan *s = &v->m->spans[v->m->rows[v->sel]];
	uint64_t center = s->start_ns - v->m->start_ns;

	if (center < v->z0 || center > v->z1)
		center = v->z0 + w / 2;
	double nw = (double)w * factor;
	if (nw < 1000)
		nw = 1000;
	if (nw >= (double)total) {
		v->z0 = 0;
		v->z1 = total ? total : 1;
		return;
	}
	double left = (double)center - nw * ((double)(center - v->z0) / (double)w);
	if (left < 0)
		left = 0;
	if (left + nw > (double)total)
		left = (double)total - nw;
	v->z0 = (uint64_t)left;
	v->z1 = (uint64_t)(left + nw);
}

static void
pan(view *v, int dir)
{
	uint64_t total = v->m->end_ns - v->m->start_ns, w = v->z1 - v->z0;
	uint64_t step = w / 4 ? w / 4 : 1;

	if (dir < 0) {
		step = step > v->z0 ? v->z0 : step;
		v->z0 -= step;
		v->z1 -= step;
	} else {
		step = v->z1 + step > total ? total - v->z1 : step;
		v->z0 += step;
		v->z1 += step;
	}
}

static void
search_done(view *v)
{
	int cur = v->m->rows[v->sel];

	v->nmatches = model_search(v->m, v->query);
	if (v->qlen == 0) {
		v->status[0] = '\0';
		return;
	}
	if (v->nmatches == 0) {
		snprintf(v->status, sizeof v->status, "no match for '%s'", v->query);
		return;
	}
	int i = (v->m->spans[cur].flags & MSPAN_MATCH) ? cur :
	    model_next_flag(v->m, cur, 1, MSPAN_MATCH);
	jump_to(v, i);
	snprintf(v->status, sizeof v->status, "%d match%s for '%s'  (n/N)",
	    v->nmatches, v->nmatches == 1 ? "" : "es", v->query);
}

/* Search-prompt keys. Only printable ASCII is typed into the query. */
static void
key_search(view *v, int ch)
{
	if (ch == 27) {
		v->mode = MODE_NORMAL;
		return;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		v->mode = MODE_NORMAL;
		search_done(v);
		return;
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && v->qlen > 0) {
		v->query[--v->qlen] = '\0';
		return;
	}
	if (ch >= 0x20 && ch < 0x7f && v->qlen + 1 < sizeof v->query) {
		v->query[v->qlen++] = (char)ch;
		v->query[v->qlen] = '\0';
	}
}

/* Handles one key; returns 1 to quit, 2 to go back, else 0. */
static int
key_normal(view *v, int ch)
{
	model_trace *m = v->m;
	int cur = m->nrows > 0 ? m->rows[v->sel] : 0;
	const mspan *s = &m->spans[cur];

	v->status[0] = '\0';
	switch (ch) {
	case 'q':
		return 1;
	case 27:
		if (v->detail) {
			v->detail = false;
			return 0;
		}
		if (v->qlen > 0) {
			v->qlen = 0;
			v->query[0] = '\0';
			model_search(m, NULL);
			return 0;
		}
		return 2;
	case 'j':
	case KEY_DOWN:
		v->sel++;
		break;
	case 'k':
	case KEY_UP:
		v->sel--;
		break;
	case KEY_NPAGE:
	case 6:
		v->sel += v->list_h - 1;
		v->top += v->list_h - 1;
		break;
	case KEY_PPAGE:
	case 2:
		v->sel -= v->list_h - 1;
		v->top -= v->list_h - 1;
		break;
	case 'g':
	case KEY_HOME:
		v->sel = 0;
		break;
	case 'G':
	case KEY_END:
		v->sel = m->nrows - 1;
		break;
	case KEY_LEFT:
	case 'h':
		if (s->first_child >= 0 && !(s->flags & MSPAN_COLLAPSED)) {
			model_set_collapsed(m, cur, true, false);
			relayout_keep(v, cur);
		} else if (s->parent >= 0) {
			jump_to(v, s->parent);
		}
		break;
	case KEY_RIGHT:
	case 'l':
		if (s->flags & MSPAN_COLLAPSED) {
			model_set_collapsed(m, cur, false, false);
			relayout_keep(v, cur);
		} else if (s->first_child >= 0) {
			v->sel++;
		}
		break;
	case ' ':
		model_set_collapsed(m, cur, !(s->flags & MSPAN_COLLAPSED), false);
		relayout_keep(v, cur);
		break;
	case 'c':
		model_collapse_all(m);
		relayout_keep(v, m->nroots > 0 ? m->roots[0] : 0);
		break;
	case 'e':
		model_expand_all(m);
		relayout_keep(v, cur);
		break;
	case 'C':
		model_set_collapsed(m, cur, true, true);
		relayout_keep(v, cur);
		break;
	case 'E':
		model_set_collapsed(m, cur, false, true);
		relayout_keep(v, cur);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'd':
		v->detail = !v->detail;
		break;
	case 'J':
		v->detail_top++;
		break;
	case 'K':
		if (v->detail_top > 0)
			v->detail_top--;
		break;
	case 'p':
		v->crit = !v->crit;
		snprintf(v->status, sizeof v->status, "critical path %s",
		    v->crit ? "on" : "off");
		break;
	case 'x':
	case 'X': {
		int i = model_next_flag(m, cur, ch == 'x' ? 1 : -1, MSPAN_ERROR);
		if (i < 0)
			snprintf(v->status, sizeof v->status, "no errors");
		else
			jump_to(v, i);
		break;
	}
	case 'n':
	case 'N': {
		if (v->nmatches == 0) {
			snprintf(v->status, sizeof v->status, "no search (press /)");
			break;
		}
		jump_to(v, model_next_flag(m, cur, ch == 'n' ? 1 : -1,
		    MSPAN_MATCH));
		break;
	}
	case 's':
		jump_to(v, model_slowest(m));
		snprintf(v->status, sizeof v->status,
		    "slowest span (largest self time)");
		break;
	case '/':
		v->mode = MODE_SEARCH;
		v->qlen = 0;
		v->query[0] = '\0';
		break;
	case '?':
		v->mode = MODE_HELP;
		break;
	case '+':
	case '=':
		zoom(v, 0.5);
		break;
	case '-':
		zoom(v, 2.0);
		break;
	case 'z':
		if (s->dur_ns > 0) {
			v->z0 = s->start_ns - m->start_ns;
			v->z1 = v->z0 + s->dur_ns;
		}
		break;
	case '0':
		v->z0 = 0;
		v->z1 = m->end_ns - m->start_ns ? m->end_ns - m->start_ns : 1;
		break;
	case '<':
	case 'H':
		pan(v, -1);
		break;
	case '>':
	case 'L':
		pan(v, 1);
		break;
	case 12:
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
	clamp_scroll(v);
	return 0;
}

view_result
view_run(view *v)
{
	bool dirty = true;

	view_layout(v);
	for (;;) {
		if (term_quit_requested())
			return VIEW_QUIT;
		if (dirty) {
			view_draw(v);
			dirty = false;
			if (term_frame())
				return VIEW_QUIT;
		}
		int ch = getch();
		if (ch == ERR) {
			dirty = term_counting();
			continue;
		}
		dirty = true;
		if (ch == KEY_RESIZE) {
			view_layout(v);
			clamp_scroll(v);
			continue;
		}
		if (v->mode == MODE_HELP) {
			v->mode = MODE_NORMAL;
			continue;
		}
		if (v->mode == MODE_SEARCH) {
			key_search(v, ch);
			continue;
		}
		int r = key_normal(v, ch);
		if (r == 1)
			return VIEW_QUIT;
		if (r == 2)
			return VIEW_BACK;
	}
}
