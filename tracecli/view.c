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

typedef enum { MODE_NORMAL, MODE_SEARCH, MODE_HELP, MODE_STATS } view_mode;

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
	int minimap_y, axis_y;  /* minimap_y -1: no room */
	int list_y, list_h, detail_y, detail_h;
	int name_w, svc_w, bar_x, bar_w;
	/* detail lines of the selected span */
	char **lines;
	int nlines;
	int lines_for;      /* span index the lines describe */
	int help_top;       /* first help line shown */
	int stats_top;      /* first statistics line shown */
	const client_opts *co; /* for links; NULL: links cannot open */
	int *minimap;       /* span starts per minimap cell */
	int minimap_w;
	tstats stats;       /* the statistics view, built on first use */
	bool stats_built;
};

/* The waterfall's keys: handling and help both come from here. */
static const key_binding view_keys[] = {
	{{0}, A_NONE, "Moving"},
	{{'j', KEY_DOWN}, A_DOWN, "next span"},
	{{'k', KEY_UP}, A_UP, "previous span"},
	{{KEY_NPAGE, 6}, A_PAGE_DOWN, "page down"},
	{{KEY_PPAGE, 2}, A_PAGE_UP, "page up"},
	{{'g', KEY_HOME}, A_FIRST, "first span"},
	{{'G', KEY_END}, A_LAST, "last span"},
	{{KEY_MOUSE}, A_MOUSE, "click selects a row, the wheel scrolls"},
	{{0}, A_NONE, "Tree"},
	{{KEY_LEFT, 'h'}, A_COLLAPSE, "collapse, or go to the parent"},
	{{KEY_RIGHT, 'l'}, A_EXPAND, "expand"},
	{{' '}, A_TOGGLE, "toggle collapse"},
	{{'c'}, A_COLLAPSE_ALL, "collapse all"},
	{{'e'}, A_EXPAND_ALL, "expand all"},
	{{'C'}, A_COLLAPSE_TREE, "collapse this subtree"},
	{{'E'}, A_EXPAND_TREE, "expand this subtree"},
	{{0}, A_NONE, "Finding"},
	{{'/'}, A_SEARCH, "search: names, services, attributes, events"},
	{{'n'}, A_NEXT_MATCH, "next match"},
	{{'N'}, A_PREV_MATCH, "previous match"},
	{{'x'}, A_NEXT_ERROR, "next error"},
	{{'X'}, A_PREV_ERROR, "previous error"},
	{{'s'}, A_SLOWEST, "slowest span (largest self time)"},
	{{'p'}, A_CRIT, "highlight the critical path"},
	{{0}, A_NONE, "Time axis (the minimap above marks the window)"},
	{{'+', '='}, A_ZOOM_IN, "zoom in around the selected span"},
	{{'-'}, A_ZOOM_OUT, "zoom out"},
	{{'z'}, A_ZOOM_SPAN, "zoom to the selected span"},
	{{'0'}, A_ZOOM_RESET, "reset the zoom"},
	{{'<', 'H'}, A_PAN_LEFT, "pan left"},
	{{'>', 'L'}, A_PAN_RIGHT, "pan right"},
	{{0}, A_NONE, "Detail and views"},
	{{'\n', 'd'}, A_DETAIL, "open / close the detail pane"},
	{{'J'}, A_DETAIL_DOWN, "scroll the detail pane down"},
	{{'K'}, A_DETAIL_UP, "scroll the detail pane up"},
	{{'o'}, A_OPEN_LINK, "open the trace of the span's first link"},
	{{'S'}, A_STATS, "trace statistics per service and operation"},
	{{0}, A_NONE, "Other"},
	{{'?'}, A_HELP, "this help"},
	{{12}, A_REDRAW, "redraw"},
	{{27}, A_BACK, "close pane / search, else back (tui) or quit"},
	{{'q'}, A_QUIT, "quit"},
	{{0}, A_NONE, "Flags: E error  K clock skew  M parent missing"},
	{{0}, A_NONE, "       * critical path (with p)"},
	{{0}, A_NONE, "Gutter: +N counts tree levels hidden on the left"},
};

view *
view_new(model_trace *m, const client_opts *co)
{
	view *v = xcalloc(1, sizeof *v);

	v->m = m;
	v->co = co;
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
	free(v->minimap);
	if (v->stats_built)
		tstats_free(&v->stats);
	free(v);
}

/* ---------------------------------------------------------------- layout */

static void
view_layout(view *v)
{
	int rows = LINES > 0 ? LINES : 24, cols = COLS > 0 ? COLS : 80;

	v->rows = rows;
	v->cols = cols;
	/* title, minimap (from 20 rows), axis, rows, status */
	v->minimap_y = rows >= 20 ? 1 : -1;
	v->axis_y = rows >= 20 ? 2 : 1;
	v->list_y = v->axis_y + 1;
	int body = rows - v->list_y - 1;
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
	/* A short service column even at 80x24: a client span and its
	 * server span differ by service, not always by colour. */
	v->svc_w = cols >= 100 ? 14 : cols >= 60 ? 8 : 0;
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
	int n = snprintf(buf, sizeof buf, " Trace %s  %s  %d span%s  %d "
	    "service%s", m->trace_hex, dur, m->nspans, m->nspans == 1 ? "" : "s",
	    m->nservices, m->nservices == 1 ? "" : "s");
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
	int y = v->axis_y;

	mvhline(y, 0, ' ', v->cols);
	mvaddstr(y, 0, "SPAN");
	if (v->svc_w)
		mvaddstr(y, v->name_w + 3, v->svc_w >= 14 ? "SERVICE" : "SVC");
	mvaddstr(y, v->bar_x - 18, "DURATION");
	mvaddstr(y, v->bar_x - 9, "    SELF");
	axis_ticks(&a, ticks, sizeof ticks);
	mvaddstr(y, v->bar_x, ticks);
	attrset(A_NORMAL);
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

	tree_prefix(m, i, v->name_w * 2 / 3, ascii, prefix, sizeof prefix);
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
			    "x error  S stats  Enter detail  Space fold  +/- zoom",
			    v->sel + 1, v->m->nrows);
		put_fit(y, 0, buf, v->cols, false);
	}
	attrset(A_NORMAL);
}

/* One statistics line: a service, or an operation indented under it. */
static void
stats_line(const tstats *ts, const tstat_row *r, bool op, int name_w,
    char *out, size_t len)
{
	char name[512], fit[1024], tot[16], avg[16], self[16];
	san_mode san = term_ascii() ? SAN_ASCII : SAN_UTF8;

	snprintf(name, sizeof name, "%s%s", op ? "  " : "", r->name);
	utf8_fit(name, name_w, true, san, fit, sizeof fit);
	duration_format(r->total_ns, tot, sizeof tot);
	duration_format(r->count ? r->total_ns / (uint64_t)r->count : 0, avg,
	    sizeof avg);
	duration_format(r->self_ns, self, sizeof self);
	snprintf(out, len, "%s %5d %8s %8s %8s %5.1f%% %4d", fit, r->count, tot,
	    avg, self, 100.0 * tstats_share(ts, r), r->errors);
}

/* The statistics view over the span list: per service and operation. */
static void
stats_draw(view *v)
{
	char line[1200];
	int name_w = v->cols - 48 > 12 ? v->cols - 48 : 12, n = 0, y = v->list_y;

	if (!v->stats_built) {	/* once: the trace does not change */
		tstats_build(&v->stats, v->m);
		v->stats_built = true;
	}
	const tstats *ts = &v->stats;
	for (int k = 0; k < ts->nservices; k++)
		n += 1 + ts->services[k].nops;
	int body = v->rows - v->list_y - 2;
	if (v->stats_top > n - body)
		v->stats_top = n - body;
	if (v->stats_top < 0)
		v->stats_top = 0;
	for (int r = v->list_y - 1; r < v->rows - 1; r++)
		mvhline(r, 0, ' ', v->cols);
	attrset(term_attr(CLR_AXIS));
	mvprintw(v->list_y - 1, 0, "%-*s %5s %8s %8s %8s %6s %4s", name_w,
	    "SERVICE / OPERATION", "SPANS", "TOTAL", "AVG", "SELF", "SELF%",
	    "ERR");
	attrset(A_NORMAL);
	for (int k = 0, i = 0; k < ts->nservices; k++) {
		for (int j = -1; j < ts->services[k].nops; j++, i++) {
			if (i < v->stats_top || y >= v->list_y + body)
				continue;
			bool op = j >= 0;
			stats_line(ts, op ? &ts->services[k].ops[j] :
			    &ts->services[k].total, op, name_w, line, sizeof line);
			attrset(op ? 0 : term_attr(CLR_KEY));
			put_fit(y++, 0, line, v->cols, false);
			attrset(A_NORMAL);
		}
	}
	snprintf(line, sizeof line, " trace statistics: %d-%d of %d  SELF%% "
	    "= self time / trace duration  (j/k scroll, any key closes)",
	    v->stats_top + 1, v->stats_top + body < n ? v->stats_top + body : n,
	    n);
	attrset(term_attr(CLR_STATUS));
	put_fit(v->rows - 2, 0, line, v->cols, true);
	attrset(A_NORMAL);
}

/* The minimap: the whole trace, span starts per cell, the zoomed window
 * in reverse, so a zoomed waterfall still shows where it is. */
static void
draw_minimap(view *v, int y)
{
	model_trace *m = v->m;
	uint64_t total = m->end_ns - m->start_ns ? m->end_ns - m->start_ns : 1;
	axis a = {0, total, v->bar_w};
	char label[128], w0[16], w1[16], tot[16];

	if (v->minimap_w != v->bar_w) {
		free(v->minimap);
		v->minimap = xcalloc((size_t)v->bar_w, sizeof *v->minimap);
		v->minimap_w = v->bar_w;
		for (int i = 0; i < m->nspans; i++) {
			int c0, c1;
			axis_cells(&a, m->spans[i].start_ns - m->start_ns,
			    m->spans[i].start_ns - m->start_ns, &c0, &c1);
			c0 = c0 < 0 ? 0 : c0 >= v->bar_w ? v->bar_w - 1 : c0;
			v->minimap[c0]++;
		}
	}
	snprintf(label, sizeof label, "window %s-%s of %s",
	    v->z0 ? duration_format(v->z0, w0, sizeof w0) : "0",
	    duration_format(v->z1, w1, sizeof w1),
	    duration_format(total, tot, sizeof tot));
	attrset(term_attr(CLR_DIM));
	put_fit(y, 0, label, v->bar_x - 1, false);
	int z0, z1;
	axis_cells(&a, v->z0, v->z1, &z0, &z1);
	for (int c = 0; c < v->bar_w; c++) {
		int n = v->minimap[c];
		const char *ch = n == 0 ? " " : term_ascii() ? (n > 3 ? "#" : ".") :
		    n > 3 ? "\xe2\x96\x86" : "\xe2\x96\x82";
		attrset(c >= z0 && c < z1 ? term_attr(CLR_SELECTED) :
					    term_attr(CLR_DIM));
		mvaddstr(y, v->bar_x + c, ch);
	}
	attrset(A_NORMAL);
}

void
view_draw(view *v)
{
	model_trace *m = v->m;

	view_layout(v);
	clamp_scroll(v);
	erase();
	draw_title(v);
	if (v->minimap_y >= 0)
		draw_minimap(v, v->minimap_y);
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
		keys_help_draw(view_keys, ARRAY_LEN(view_keys),
		    "waterfall keys", &v->help_top);
	if (v->mode == MODE_STATS)
		stats_draw(v);
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

/* Moving the selection. Returns false when a is not a move. */
static bool
act_move(view *v, key_action a)
{
	switch (a) {
	case A_DOWN: v->sel++; break;
	case A_UP: v->sel--; break;
	case A_PAGE_DOWN:
		v->sel += v->list_h - 1;
		v->top += v->list_h - 1;
		break;
	case A_PAGE_UP:
		v->sel -= v->list_h - 1;
		v->top -= v->list_h - 1;
		break;
	case A_FIRST: v->sel = 0; break;
	case A_LAST: v->sel = v->m->nrows - 1; break;
	default: return false;
	}
	return true;
}

/* Collapsing and expanding around span cur. */
static bool
act_tree(view *v, key_action a, int cur)
{
	model_trace *m = v->m;
	const mspan *s = &m->spans[cur];
	bool collapsed = (s->flags & MSPAN_COLLAPSED) != 0;

	switch (a) {
	case A_COLLAPSE:
		if (s->first_child >= 0 && !collapsed)
			model_set_collapsed(m, cur, true, false);
		else if (s->parent >= 0)
			return jump_to(v, s->parent), true;
		break;
	case A_EXPAND:
		if (!collapsed && s->first_child >= 0)
			return v->sel++, true;
		model_set_collapsed(m, cur, false, false);
		break;
	case A_TOGGLE: model_set_collapsed(m, cur, !collapsed, false); break;
	case A_COLLAPSE_ALL:
		model_collapse_all(m);
		cur = m->nroots > 0 ? m->roots[0] : 0;
		break;
	case A_EXPAND_ALL: model_expand_all(m); break;
	case A_COLLAPSE_TREE: model_set_collapsed(m, cur, true, true); break;
	case A_EXPAND_TREE: model_set_collapsed(m, cur, false, true); break;
	default: return false;
	}
	relayout_keep(v, cur);
	return true;
}

/* Errors, matches, the slowest span and the critical path. */
static bool
act_find(view *v, key_action a, int cur)
{
	model_trace *m = v->m;
	int dir = a == A_NEXT_ERROR || a == A_NEXT_MATCH ? 1 : -1, i;

	switch (a) {
	case A_NEXT_ERROR:
	case A_PREV_ERROR:
		if ((i = model_next_flag(m, cur, dir, MSPAN_ERROR)) < 0)
			snprintf(v->status, sizeof v->status, "no errors");
		jump_to(v, i);
		break;
	case A_NEXT_MATCH:
	case A_PREV_MATCH:
		if (v->nmatches == 0)
			snprintf(v->status, sizeof v->status,
			    "no search (press /)");
		else
			jump_to(v, model_next_flag(m, cur, dir, MSPAN_MATCH));
		break;
	case A_SLOWEST:
		jump_to(v, model_slowest(m));
		snprintf(v->status, sizeof v->status,
		    "slowest span (largest self time)");
		break;
	case A_CRIT:
		v->crit = !v->crit;
		snprintf(v->status, sizeof v->status, "critical path %s",
		    v->crit ? "on" : "off");
		break;
	case A_SEARCH:
		v->mode = MODE_SEARCH;
		v->qlen = 0;
		v->query[0] = '\0';
		break;
	default:
		return false;
	}
	return true;
}

/* The time axis: zoom and pan. */
static bool
act_axis(view *v, key_action a, const mspan *s)
{
	uint64_t total = v->m->end_ns - v->m->start_ns;

	switch (a) {
	case A_ZOOM_IN: zoom(v, 0.5); break;
	case A_ZOOM_OUT: zoom(v, 2.0); break;
	case A_ZOOM_SPAN:
		if (s->dur_ns > 0) {
			v->z0 = s->start_ns - v->m->start_ns;
			v->z1 = v->z0 + s->dur_ns;
		}
		break;
	case A_ZOOM_RESET:
		v->z0 = 0;
		v->z1 = total ? total : 1;
		break;
	case A_PAN_LEFT: pan(v, -1); break;
	case A_PAN_RIGHT: pan(v, 1); break;
	default: return false;
	}
	return true;
}

/* Esc: close what is open, innermost first; else leave. */
static int
act_back(view *v)
{
	if (v->detail) {
		v->detail = false;
		return 0;
	}
	if (v->qlen > 0) {
		v->qlen = 0;
		v->query[0] = '\0';
		model_search(v->m, NULL);
		return 0;
	}
	return 2;
}

/* The span whose ID is id, or -1. */
static int
span_by_id(const model_trace *m, const ProtobufCBinaryData *id)
{
	if (id->len != 8)
		return -1;
	for (int i = 0; i < m->nspans; i++)
		if (memcmp(m->spans[i].span_id, id->data, 8) == 0)
			return i;
	return -1;
}

/* Opens the trace of span cur's first link in a view of its own, on the
 * linked span; Esc there comes back. Returns 1 when the user quit. */
static int
open_link(view *v, int cur)
{
	const pb_span *p = v->m->spans[cur].pb;
	model_trace lm;
	char *cause = NULL;

	if (p->n_links == 0 || v->co == NULL || p->links[0]->trace_id.len != 16) {
		snprintf(v->status, sizeof v->status, "%s", p->n_links == 0 ?
		    "this span has no links" : "this link cannot be opened");
		return 0;
	}
	const Opentelemetry__Proto__Trace__V1__Span__Link *lk = p->links[0];
	if (trace_load(v->co, lk->trace_id.data, v->m->san, &lm, &cause) != 0) {
		sanitize_buf(cause, strlen(cause), v->m->san, v->status,
		    sizeof v->status);
		free(cause);
		return 0;
	}
	model_collapse_big(&lm, 400);
	view *lv = view_new(&lm, v->co);
	jump_to(lv, span_by_id(&lm, &lk->span_id));
	view_result r = view_run(lv);
	view_free(lv);
	model_free(&lm);
	return r == VIEW_QUIT ? 1 : 0;
}

/* A click selects the row under it; the wheel scrolls by three. */
static void
mouse_event(view *v)
{
	MEVENT e;

	if (getmouse(&e) != OK)
		return;
	if (e.bstate & BUTTON4_PRESSED) {
		v->sel -= 3;
		v->top -= 3;
	} else if (e.bstate & BUTTON5_PRESSED) {
		v->sel += 3;
		v->top += 3;
	} else if (e.y >= v->list_y && e.y < v->list_y + v->list_h &&
	    v->top + e.y - v->list_y < v->m->nrows) {
		v->sel = v->top + e.y - v->list_y;
	}
}

/* Handles one key; returns 1 to quit, 2 to go back, else 0. */
static int
key_normal(view *v, int ch)
{
	model_trace *m = v->m;
	int cur = m->nrows > 0 ? m->rows[v->sel] : 0;
	key_action a = keys_action(view_keys, ARRAY_LEN(view_keys), ch);

	v->status[0] = '\0';
	if (m->nrows == 0 && a != A_QUIT && a != A_BACK)
		return 0;
	if (act_move(v, a) || act_tree(v, a, cur) || act_find(v, a, cur) ||
	    act_axis(v, a, &m->spans[cur])) {
		clamp_scroll(v);
		return 0;
	}
	switch (a) {
	case A_QUIT: return 1;
	case A_BACK: return act_back(v);
	case A_DETAIL: v->detail = !v->detail; break;
	case A_DETAIL_DOWN: v->detail_top++; break;
	case A_DETAIL_UP: v->detail_top -= v->detail_top > 0; break;
	case A_HELP: v->mode = MODE_HELP; break;
	case A_STATS: v->mode = MODE_STATS; break;
	case A_REDRAW: clearok(curscr, TRUE); break;
	case A_OPEN_LINK: return open_link(v, cur);
	case A_MOUSE: mouse_event(v); break;
	default: break;
	}
	clamp_scroll(v);
	return 0;
}

/* Keys while an overlay (help, statistics) is up: it scrolls, and any
 * other key closes it. */
static void
key_overlay(view *v, int ch)
{
	int *top = v->mode == MODE_HELP ? &v->help_top : &v->stats_top;

	if (!keys_help_key(ch, top))
		v->mode = MODE_NORMAL;
}

/* One key in any mode; returns 1 to quit, 2 to go back, else 0. */
static int
view_key(view *v, int ch)
{
	if (ch == KEY_RESIZE) {
		view_layout(v);
		clamp_scroll(v);
		return 0;
	}
	if (v->mode == MODE_HELP || v->mode == MODE_STATS) {
		key_overlay(v, ch);
		return 0;
	}
	if (v->mode == MODE_SEARCH) {
		key_search(v, ch);
		return 0;
	}
	return key_normal(v, ch);
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
		int r = view_key(v, ch);
		if (r == 1)
			return VIEW_QUIT;
		if (r == 2)
			return VIEW_BACK;
	}
}
