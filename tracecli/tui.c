/*
 * tui.c - browse the collector: a search form -> a trace list with a
 * duration-over-time strip -> the waterfall (view.c). Esc goes back one
 * level; q quits from the list and the waterfall.
 *
 * Newest and longest are orders the collector sorts by over the whole
 * window, so switching between them searches again; most spans and most
 * errors re-sort the traces fetched, and the header says so. Follow mode
 * (tail.c) adds new traces on top; D shows the service dependencies of
 * the window (deps.c), m and c compare two traces (pager.c).
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define TUI_LIMIT 500
#define FIELD_MAX 120
#define FORM_ATTRS 3
#define FOLLOW_TICKS 8      /* getch timeouts (250 ms) between polls */
#define FOLLOW_MAX 5000     /* traces kept in a followed list */

enum {
	F_SERVICE, F_OPERATION, F_ATTR1, F_ATTR2, F_ATTR3, F_MINDUR, F_MAXDUR,
	F_SINCE, F_LIMIT, F_SORT, F_ERRORS, F_TRACE_ID, F_COUNT
};

static const char *field_label[F_COUNT] = {
	"Service", "Operation", "Attribute key=value", "Attribute key=value",
	"Attribute key=value", "Min span duration", "Max span duration",
	"Since", "Limit", "Sort (Space)", "Errors only (Space)",
	"or open trace ID",
};

/* The form field each search flag fills. */
static const struct {
	search_field sf;
	int field;
} flag_fields[] = {
	{SF_SERVICE, F_SERVICE}, {SF_OPERATION, F_OPERATION},
	{SF_MIN_DUR, F_MINDUR}, {SF_MAX_DUR, F_MAXDUR}, {SF_SINCE, F_SINCE},
	{SF_LIMIT, F_LIMIT},
};

/* The collector's orders (search_sort), in the same order. */
typedef enum { LIST_NEWEST, LIST_LONGEST, LIST_SPANS, LIST_ERRORS } list_order;

static const char *order_name[] = {"newest", "longest", "most spans",
	"most errors"};

typedef struct tui {
	const client_opts *co;
	san_mode san;
	char field[F_COUNT][FIELD_MAX];
	bool errors_only;
	int focus;
	char status[256];
	pb_response *result;            /* the last search */
	Tracequery__V1__TraceSummary **list;	/* sorted view of result */
	int n, sel, top, list_h;
	uint32_t limit;
	list_order order;
	bool help;
	int help_top;
	bool follow;                    /* new traces join the list */
	tail_state tail;
	pb_response **kept;             /* follow replies the list points into */
	int nkept, ticks;
	uint8_t mark[16];               /* the trace marked for compare */
	bool marked;
} tui;

static const key_binding list_keys[] = {
	{{0}, A_NONE, "Trace list"},
	{{'j', KEY_DOWN}, A_DOWN, "next trace"},
	{{'k', KEY_UP}, A_UP, "previous trace"},
	{{KEY_NPAGE, 6}, A_PAGE_DOWN, "page down"},
	{{KEY_PPAGE, 2}, A_PAGE_UP, "page up"},
	{{'g', KEY_HOME}, A_FIRST, "first trace"},
	{{'G', KEY_END}, A_LAST, "last trace"},
	{{KEY_MOUSE}, A_MOUSE, "click selects, the wheel scrolls"},
	{{'\n'}, A_OPEN, "open the waterfall"},
	{{0}, A_NONE, "Order (newest, longest: the collector, whole window)"},
	{{'o'}, A_SORT_NEXT, "next order"},
	{{'1'}, A_SORT_NEWEST, "newest first"},
	{{'2'}, A_SORT_LONGEST, "longest first"},
	{{'3'}, A_SORT_SPANS, "most spans first"},
	{{'4'}, A_SORT_ERRORS, "most errors first"},
	{{'r'}, A_RERUN, "search again"},
	{{'f'}, A_FOLLOW, "follow: add new traces on top as they arrive"},
	{{0}, A_NONE, "Views"},
	{{'D'}, A_DEPS, "service dependencies of the search's window"},
	{{'m'}, A_MARK, "mark this trace for a compare"},
	{{'c'}, A_COMPARE, "compare the marked trace (A) with this one (B)"},
	{{0}, A_NONE, "Other"},
	{{'?'}, A_HELP, "this help"},
	{{27}, A_BACK, "back to the search form"},
	{{'q'}, A_QUIT, "quit"},
};

/* ---------------------------------------------------------------- search */

static void
set_status(tui *t, const char *cause)
{
	sanitize_buf(cause, strlen(cause), t->san, t->status, sizeof t->status);
}

/* Fills a spec from the form; returns -1 with the status set. */
static int
form_spec(tui *t, search_spec *s)
{
	static const struct {
		int field;
		search_field sf;
		const char *name;
	} map[] = {
		{F_SERVICE, SF_SERVICE, "service"},
		{F_OPERATION, SF_OPERATION, "operation"},
		{F_ATTR1, SF_ATTR, "attribute"}, {F_ATTR2, SF_ATTR, "attribute"},
		{F_ATTR3, SF_ATTR, "attribute"},
		{F_MINDUR, SF_MIN_DUR, "min duration"},
		{F_MAXDUR, SF_MAX_DUR, "max duration"},
		{F_SINCE, SF_SINCE, "since"}, {F_LIMIT, SF_LIMIT, "limit"},
	};
	char *cause = NULL, msg[300];

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		const char *text = t->field[map[i].field];
		if (*text == '\0' || search_spec_set(s, map[i].sf, text,
		    &cause) == 0)
			continue;
		snprintf(msg, sizeof msg, "%s: %s", map[i].name, cause);
		set_status(t, msg);
		free(cause);
		return -1;
	}
	s->errors = t->errors_only;
	s->limit = s->limit ? s->limit : TUI_LIMIT;
	s->sort = (search_sort)t->order;
	s->count = true;
	return 0;
}

static void
take_result(tui *t, pb_response *resp, uint32_t limit)
{
	if (t->result != NULL)
		tracequery__v1__response__free_unpacked(t->result, NULL);
	free(t->list);
	t->list = NULL;
	t->n = 0;
	t->result = resp;
	t->limit = limit;
	if (resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH) {
		t->n = (int)resp->search->n_traces;
		t->list = xcalloc((size_t)t->n + 1, sizeof *t->list);
		if (t->n > 0)
			memcpy(t->list, resp->search->traces,
			    (size_t)t->n * sizeof *t->list);
	}
	t->sel = t->top = 0;
}

static int
run_search(tui *t)
{
	search_spec s;
	pb_response *resp = NULL;
	char *cause = NULL;

	if (form_spec(t, &s) != 0)
		return -1;
	int rv = search_run(t->co, &s, &resp, &cause);
	if (rv == EXIT_NOTFOUND) {
		free(cause);
		resp = xcalloc(1, sizeof *resp);
		tracequery__v1__response__init(resp);
		take_result(t, resp, s.limit);
	} else if (rv != EXIT_OK_) {
		set_status(t, cause);
		free(cause);
		return -1;
	} else {
		take_result(t, resp, s.limit);
	}
	if (resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH)
		search_total_text(resp->search, t->limit, t->status,
		    sizeof t->status);
	else
		snprintf(t->status, sizeof t->status, "0 traces");
	return 0;
}

/* Every order is the collector's, over the whole window. */
static void
set_order(tui *t, list_order o)
{
	bool requery = o != t->order || t->result == NULL;

	t->order = o;
	if (requery)
		run_search(t);
}

/* ---------------------------------------------------------------- drawing */

static void
put_fit(int y, int x, const char *safe, int w)
{
	char buf[2048];

	if (w <= 0)
		return;
	utf8_fit(safe, w, false, term_ascii() ? SAN_ASCII : SAN_UTF8, buf,
	    sizeof buf);
	mvaddstr(y, x, buf);
}

static void
draw_bar(int y, const char *text, clr_role role)
{
	attrset(term_attr(role));
	mvhline(y, 0, ' ', COLS);
	put_fit(y, 0, text, COLS);
	attrset(0);
}

static const char *
field_text(const tui *t, int f)
{
	if (f == F_ERRORS)
		return t->errors_only ? "[x]" : "[ ]";
	if (f == F_SORT)
		return order_name[t->order];
	return t->field[f];
}

static void
draw_form(tui *t)
{
	int label_w = 22, x = label_w + 3, w = COLS - x - 1 > 8 ? COLS - x - 1 : 8;

	erase();
	draw_bar(0, " tracecli tui - search traces", CLR_HEADER);
	for (int f = 0; f < F_COUNT && 2 + f < LINES - 2; f++) {
		int y = 2 + f;
		attrset(f == t->focus ? term_attr(CLR_KEY) : 0);
		mvprintw(y, 2, "%-*s", label_w, field_label[f]);
		attrset(f == t->focus ? term_attr(CLR_SELECTED) : (int)A_UNDERLINE);
		mvhline(y, x, ' ', f == F_ERRORS || f == F_SORT ? 8 : w);
		put_fit(y, x, field_text(t, f), w);
		attrset(0);
	}
	attrset(term_attr(CLR_DIM));
	put_fit(LINES - 2, 1, "Tab/Up/Down move  Space toggles  Enter "
	    "search (or open the trace ID)  Esc quit", COLS - 2);
	attrset(0);
	draw_bar(LINES - 1, t->status, CLR_STATUS);
	bool text = t->focus != F_ERRORS && t->focus != F_SORT;
	curs_set(text ? 1 : 0);
	if (text)
		move(2 + t->focus, x + (int)strlen(t->field[t->focus]) < COLS ?
		    x + (int)strlen(t->field[t->focus]) : COLS - 1);
	refresh();
}

/* The duration-over-time strip: one cell per time bucket, height by the
 * longest trace that started in it. */
static void
draw_strip(tui *t, int y)
{
	static const char *blocks[] = {" ", "\xe2\x96\x81", "\xe2\x96\x82",
		"\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
		"\xe2\x96\x87", "\xe2\x96\x88"};
	static const char *ascii[] = {" ", "_", "_", ".", ".", "-", "-", "=",
		"#"};
	int w = COLS - 2;
	uint64_t lo = UINT64_MAX, hi = 0, maxd = 1;

	if (t->n == 0 || w < 4)
		return;
	for (int i = 0; i < t->n; i++) {
		uint64_t s = t->list[i]->start_unix_nano;
		lo = s < lo ? s : lo;
		hi = s > hi ? s : hi;
		maxd = t->list[i]->duration_ns > maxd ? t->list[i]->duration_ns : maxd;
	}
	uint64_t *cell = xcalloc((size_t)w, sizeof *cell);
	for (int i = 0; i < t->n; i++) {
		int c = hi > lo ? (int)((double)(t->list[i]->start_unix_nano - lo) /
					   (double)(hi - lo) * (w - 1)) : 0;
		if (t->list[i]->duration_ns > cell[c])
			cell[c] = t->list[i]->duration_ns;
	}
	attrset(term_attr(CLR_AXIS));
	move(y, 1);
	for (int c = 0; c < w; c++) {
		int h = cell[c] ? 1 + (int)((double)cell[c] / (double)maxd * 7) : 0;
		addstr(term_ascii() ? ascii[h] : blocks[h]);
	}
	attrset(0);
	free(cell);
}

/* The list's columns for the width: the trace ID in full from 140
 * columns, else its first 8 digits; services fill what is left. */
static void
list_columns(int *id_w, int *root_w)
{
	*id_w = COLS >= 140 ? 32 : 8;
	int rest = COLS - (19 + 1 + 8 + 1 + 5 + 1 + 4 + 1 + *id_w + 1);
	*root_w = rest * 6 / 10 > 16 ? rest * 6 / 10 : rest;
}

static void
list_row(tui *t, int k, int id_w, int root_w)
{
	const Tracequery__V1__TraceSummary *s = t->list[t->top + k];
	char line[2048], when[48], dur[32], root[512], svcs[512], hex[33] = "?";
	size_t so = 0;

	time_format(s->start_unix_nano, when, sizeof when);
	when[19] = '\0';
	duration_format(s->duration_ns, dur, sizeof dur);
	if (s->trace_id.len == 16)
		hex_encode(s->trace_id.data, 16, hex);
	hex[id_w] = '\0';
	snprintf(root, sizeof root, "%s: %s", s->root_service ?
	    s->root_service : "", s->root_name ? s->root_name : "");
	svcs[0] = '\0';
	for (size_t i = 0; i < s->n_services && so + 2 < sizeof svcs; i++) {
		int n = snprintf(svcs + so, sizeof svcs - so, "%s%s", i ? "," : "",
		    s->services[i] ? s->services[i] : "");
		so = n < 0 ? so : so + (size_t)n;
	}
	char *safe_root = sanitize_dup(root, t->san);
	char *safe_svcs = sanitize_dup(svcs, t->san);
	char fit_root[1024];
	utf8_fit(safe_root, root_w, true, t->san, fit_root, sizeof fit_root);
	snprintf(line, sizeof line, "%-19s %8s %5u %4u %s %s %s", when, dur,
	    s->span_count, s->error_count, hex, fit_root, safe_svcs);
	free(safe_root);
	free(safe_svcs);
	int y = 4 + k;
	attrset(t->top + k == t->sel ? term_attr(CLR_SELECTED) :
	    s->error_count ? term_attr(CLR_SPAN_ERROR) : 0);
	mvhline(y, 0, ' ', COLS);
	put_fit(y, 0, line, COLS);
	attrset(0);
}

static void
draw_list_head(tui *t)
{
	char line[512], d[32], count[96], reach[64] = "";
	uint64_t maxd = 0;
	Tracequery__V1__SearchResult listed = TRACEQUERY__V1__SEARCH_RESULT__INIT;
	bool cut;

	/* The search's count; followed traces add to both sides. */
	listed.n_traces = (size_t)t->n;
	if (t->result != NULL && t->result->result_case ==
	    TRACEQUERY__V1__RESPONSE__RESULT_SEARCH) {
		const Tracequery__V1__SearchResult *sr = t->result->search;

		/* Most spans/errors rank at most a million spans. */
		if (sr->ranked_truncated)
			snprintf(reach, sizeof reach, " (of the newest %llu "
			    "spans)", (unsigned long long)sr->spans_ranked);
		if (sr->total != 0)
			listed.total = sr->total + (uint64_t)t->n -
			    sr->n_traces;
		listed.total_is_lower_bound = sr->total_is_lower_bound;
	}
	cut = search_total_text(&listed, t->limit, count, sizeof count);
	snprintf(line, sizeof line, " %s  sorted by %s%s  %d/%d%s  "
	    "(? help)",
	    count, order_name[t->order], reach, t->n ? t->sel + 1 : 0,
	    t->n, t->follow ? "  following" : "");
	draw_bar(0, line, CLR_HEADER);
	for (int i = 0; i < t->n; i++)
		maxd = t->list[i]->duration_ns > maxd ? t->list[i]->duration_ns : maxd;
	snprintf(line, sizeof line, " duration over time (max %s)%s",
	    duration_format(maxd, d, sizeof d), cut ? "  the list is cut at "
	    "the limit: more traces match" : "");
	attrset(term_attr(CLR_DIM));
	put_fit(1, 0, line, COLS);
	attrset(0);
	draw_strip(t, 2);
}

static void
draw_list(tui *t)
{
	int id_w, root_w;

	erase();
	draw_list_head(t);
	list_columns(&id_w, &root_w);
	attrset(term_attr(CLR_AXIS));
	mvhline(3, 0, ' ', COLS);
	mvprintw(3, 0, "%-19s %8s %5s %4s %-*s %-*s %s", "START", "DURATION",
	    "SPANS", "ERR", id_w, "TRACE ID", root_w, "ROOT", "SERVICES");
	attrset(0);
	t->list_h = LINES - 5 > 1 ? LINES - 5 : 1;
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + t->list_h)
		t->top = t->sel - t->list_h + 1;
	for (int k = 0; k < t->list_h && t->top + k < t->n; k++)
		list_row(t, k, id_w, root_w);
	draw_bar(LINES - 1, t->status, CLR_STATUS);
	if (t->help)
		keys_help_draw(list_keys, ARRAY_LEN(list_keys), "trace list keys",
		    &t->help_top);
	curs_set(0);
	refresh();
}

/* ---------------------------------------------------------------- keys */

/* Opens trace id in the waterfall; returns VIEW_QUIT or VIEW_BACK. */
static view_result
open_trace(tui *t, const uint8_t id[16])
{
	model_trace m;
	char *cause = NULL;

	if (trace_load(t->co, id, t->san, &m, &cause) != EXIT_OK_) {
		set_status(t, cause);
		free(cause);
		return VIEW_BACK;
	}
	model_collapse_big(&m, 400);
	view *v = view_new(&m, t->co);
	view_result r = view_run(v);
	view_free(v);
	model_free(&m);
	return r;
}

/* ---------------------------------------------------------------- views */

/* Follow: every FOLLOW_TICKS getch timeouts, the traces that arrived
 * since join the top of the list (newest first). */
static void
follow_poll(tui *t)
{
	pb_response *resp = NULL;
	Tracequery__V1__TraceSummary **fresh;
	char *cause = NULL;
	size_t n;

	if (++t->ticks < FOLLOW_TICKS)
		return;
	t->ticks = 0;
	int rv = tail_poll(&t->tail, t->co, &resp, &fresh, &n, &cause);
	if (t->tail.more)	/* the collector cut its answer: ask again */
		t->ticks = FOLLOW_TICKS;
	if (rv != EXIT_OK_) {
		if (rv != EXIT_NOTFOUND)
			set_status(t, cause);
		free(cause);
		return;
	}
	if (n > 0 && t->n + (int)n > FOLLOW_MAX) {
		snprintf(t->status, sizeof t->status, "follow: the list holds "
		    "%d traces, the most it keeps; r searches again", t->n);
		n = 0;
	}
	if (n > 0) {
		t->list = xrealloc(t->list, ((size_t)t->n + n + 1) * sizeof *t->list);
		memmove(t->list + n, t->list, (size_t)t->n * sizeof *t->list);
		for (size_t i = 0; i < n; i++)
			t->list[i] = fresh[n - 1 - i];
		t->n += (int)n;
		t->sel += t->sel > 0 ? (int)n : 0;
		snprintf(t->status, sizeof t->status, "following: %zu new", n);
	}
	free(fresh);
	if (n == 0) {	/* nothing of it is listed */
		tracequery__v1__response__free_unpacked(resp, NULL);
		return;
	}
	t->kept = xrealloc(t->kept, ((size_t)t->nkept + 1) * sizeof *t->kept);
	t->kept[t->nkept++] = resp;
}

static void
toggle_follow(tui *t)
{
	search_spec s;

	if (t->follow) {
		t->follow = false;
		tail_fini(&t->tail);
		snprintf(t->status, sizeof t->status, "follow off");
		return;
	}
	if (form_spec(t, &s) != 0)
		return;
	set_order(t, LIST_NEWEST);
	tail_init(&t->tail, &s);
	for (int i = 0; i < t->n; i++)	/* already listed: not new */
		tail_poll_seen(&t->tail, t->list[i]->trace_id.data);
	t->follow = true;
	snprintf(t->status, sizeof t->status, "following new traces (f: stop)");
	/* The first poll starts the collector's cursor: what is indexed
	 * from now on joins the list. */
	t->ticks = FOLLOW_TICKS;
	follow_poll(t);
}

/* Shows text from a plain_* writer in the pager; true to quit. */
static bool
show_text(const char *title, void (*write)(FILE *, const void *, int),
    const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return false;
	write(f, arg, COLS);
	fclose(f);
	bool quit = pager_run(title, text);
	free(text);
	return quit;
}

static void
write_deps(FILE *f, const void *arg, int width)
{
	plain_opts o = {width, term_ascii()};

	plain_deps(f, arg, &o);
}

/* D: the service calls of the form's window, counted by the collector. */
static bool
show_deps(tui *t)
{
	search_spec s;
	char *cause = NULL, title[160];
	deps d;

	if (form_spec(t, &s) != 0)
		return false;
	if (deps_fetch(&d, t->co, s.from, s.to, NULL, &cause) != EXIT_OK_) {
		set_status(t, cause);
		free(cause);
		return false;
	}
	snprintf(title, sizeof title, " service dependencies in the window "
	    "(%llu spans read%s)", (unsigned long long)d.spans_read,
	    d.truncated ? ", more held" : "");
	bool quit = show_text(title, write_deps, &d);
	deps_free(&d);
	return quit;
}

static void
write_diff(FILE *f, const void *arg, int width)
{
	plain_opts o = {width, term_ascii()};

	plain_diff(f, arg, &o);
}

/* c: the marked trace (A) against the selected one (B). */
static bool
compare(tui *t)
{
	model_trace a, b;
	trace_diff d;
	char *cause = NULL;

	if (!t->marked || t->n == 0 || t->list[t->sel]->trace_id.len != 16) {
		snprintf(t->status, sizeof t->status, "mark a trace with m first");
		return false;
	}
	if (trace_load(t->co, t->mark, t->san, &a, &cause) != EXIT_OK_ ||
	    trace_load(t->co, t->list[t->sel]->trace_id.data, t->san, &b,
	    &cause) != EXIT_OK_) {
		set_status(t, cause);
		free(cause);
		return false;
	}
	diff_build(&d, &a, &b);
	bool quit = show_text(" compare: A marked, B selected", write_diff, &d);
	diff_free(&d);
	model_free(&a);
	model_free(&b);
	return quit;
}

static void
mark(tui *t)
{
	char hex[33];

	if (t->n == 0 || t->list[t->sel]->trace_id.len != 16)
		return;
	memcpy(t->mark, t->list[t->sel]->trace_id.data, 16);
	t->marked = true;
	hex_encode(t->mark, 16, hex);
	snprintf(t->status, sizeof t->status, "marked %s as A: select B and "
	    "press c", hex);
}

/* Enter on the form: the trace ID box opens that trace; else search.
 * Returns 1 to quit, 2 when the list should show. */
static int
form_enter(tui *t)
{
	uint8_t id[16];
	char *cause = NULL;

	if (t->field[F_TRACE_ID][0] == '\0')
		return run_search(t) == 0 ? (set_order(t, t->order), 2) : 0;
	if (trace_id_parse(t->field[F_TRACE_ID], id, &cause) != 0) {
		set_status(t, cause);
		free(cause);
		return 0;
	}
	return open_trace(t, id) == VIEW_QUIT ? 1 : 0;
}

static void
form_type(tui *t, int ch)
{
	char *f = t->field[t->focus];
	size_t len = strlen(f);

	if (t->focus == F_ERRORS || t->focus == F_SORT)
		return;
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0)
		f[len - 1] = '\0';
	else if (ch >= 0x20 && ch < 0x7f && len + 1 < FIELD_MAX) {
		f[len] = (char)ch;
		f[len + 1] = '\0';
	}
}

/* Form keys; returns 1 to quit, 2 when a search succeeded. */
static int
form_key(tui *t, int ch)
{
	switch (ch) {
	case 27:
		return 1;
	case '\t':
	case KEY_DOWN:
		t->focus = (t->focus + 1) % F_COUNT;
		return 0;
	case KEY_BTAB:
	case KEY_UP:
		t->focus = (t->focus + F_COUNT - 1) % F_COUNT;
		return 0;
	case '\n':
	case '\r':
	case KEY_ENTER:
		return form_enter(t);
	case ' ':
		if (t->focus == F_ERRORS)
			t->errors_only = !t->errors_only;
		else if (t->focus == F_SORT)
			t->order = (list_order)((t->order + 1) % 4);
		else
			form_type(t, ch);
		return 0;
	default:
		form_type(t, ch);
		return 0;
	}
}

static void
list_mouse(tui *t)
{
	MEVENT e;

	if (getmouse(&e) != OK)
		return;
	if (e.bstate & BUTTON4_PRESSED)
		t->sel -= 3;
	else if (e.bstate & BUTTON5_PRESSED)
		t->sel += 3;
	else if (e.y >= 4 && e.y < 4 + t->list_h && t->top + e.y - 4 < t->n)
		t->sel = t->top + e.y - 4;
}

static bool
list_move(tui *t, key_action a)
{
	int page = t->list_h > 1 ? t->list_h - 1 : 1;

	switch (a) {
	case A_DOWN: t->sel++; break;
	case A_UP: t->sel--; break;
	case A_PAGE_DOWN: t->sel += page; break;
	case A_PAGE_UP: t->sel -= page; break;
	case A_FIRST: t->sel = 0; break;
	case A_LAST: t->sel = t->n - 1; break;
	case A_MOUSE: list_mouse(t); break;
	default: return false;
	}
	return true;
}

/* List keys; returns 1 to quit, 2 to go back to the form. */
static int
list_key(tui *t, int ch)
{
	key_action a = keys_action(list_keys, ARRAY_LEN(list_keys), ch);

	if (t->help) {
		t->help = keys_help_key(ch, &t->help_top);
		return 0;
	}
	if (!list_move(t, a)) {
		switch (a) {
		case A_QUIT: return 1;
		case A_BACK: return 2;
		case A_HELP: t->help = true; break;
		case A_SORT_NEXT: set_order(t, (list_order)((t->order + 1) % 4)); break;
		case A_SORT_NEWEST: set_order(t, LIST_NEWEST); break;
		case A_SORT_LONGEST: set_order(t, LIST_LONGEST); break;
		case A_SORT_SPANS: set_order(t, LIST_SPANS); break;
		case A_SORT_ERRORS: set_order(t, LIST_ERRORS); break;
		case A_RERUN: run_search(t); set_order(t, t->order); break;
		case A_FOLLOW: toggle_follow(t); break;
		case A_DEPS: return show_deps(t) ? 1 : 0;
		case A_MARK: mark(t); break;
		case A_COMPARE: return compare(t) ? 1 : 0;
		case A_OPEN:
			if (t->n > 0 && t->list[t->sel]->trace_id.len == 16 &&
			    open_trace(t, t->list[t->sel]->trace_id.data) ==
			    VIEW_QUIT)
				return 1;
			break;
		default: break;
		}
	}
	if (t->sel >= t->n)
		t->sel = t->n - 1;
	if (t->sel < 0)
		t->sel = 0;
	return 0;
}

/* ---------------------------------------------------------------- loop */

static void
prefill(tui *t, const search_spec *spec, const char *const *texts)
{
	snprintf(t->field[F_SINCE], FIELD_MAX, "1h");
	for (size_t i = 0; i < ARRAY_LEN(flag_fields); i++)
		if (texts[flag_fields[i].sf] != NULL)
			snprintf(t->field[flag_fields[i].field], FIELD_MAX, "%s",
			    texts[flag_fields[i].sf]);
	for (size_t i = 0; i < spec->nattrs && i < FORM_ATTRS; i++)
		snprintf(t->field[F_ATTR1 + i], FIELD_MAX, "%s", spec->attrs[i]);
	t->errors_only = spec->errors;
	t->order = (list_order)spec->sort;
	snprintf(t->status, sizeof t->status, "fill in any fields and press "
	    "Enter (empty fields match everything)");
}

/* One key; returns false to quit. */
static bool
tui_key(tui *t, int ch, bool *in_list)
{
	if (ch == KEY_RESIZE)
		return true;
	int r = *in_list ? list_key(t, ch) : form_key(t, ch);
	if (r == 1)
		return false;
	if (r == 2)
		*in_list = !*in_list;
	return true;
}

static void
tui_free(tui *t)
{
	if (t->follow)
		tail_fini(&t->tail);
	for (int i = 0; i < t->nkept; i++)
		if (t->kept[i] != NULL)
			tracequery__v1__response__free_unpacked(t->kept[i], NULL);
	free(t->kept);
	if (t->result != NULL)
		tracequery__v1__response__free_unpacked(t->result, NULL);
	free(t->list);
}

int
tui_run(const client_opts *co, san_mode san, const search_spec *spec,
    const char *const *texts)
{
	tui t;
	bool in_list = false, dirty = true;

	memset(&t, 0, sizeof t);
	t.co = co;
	t.san = san;
	prefill(&t, spec, texts);
	while (!term_quit_requested()) {
		if (dirty) {
			if (in_list)
				draw_list(&t);
			else
				draw_form(&t);
			dirty = false;
			if (term_frame())
				break;
		}
		int ch = getch();
		if (ch == ERR) {
			int before = t.n;
			if (t.follow && in_list)
				follow_poll(&t);
			dirty = term_counting() || t.n != before;
			continue;
		}
		dirty = true;
		if (!tui_key(&t, ch, &in_list))
			break;
	}
	curs_set(0);
	tui_free(&t);
	return 0;
}
