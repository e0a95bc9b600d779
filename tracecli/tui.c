/*
 * tui.c - browse the collector: a search form -> a sortable trace list
 * with a duration-over-time strip -> the waterfall (view.c) -> span
 * detail. Esc goes back one level; q quits from the list and waterfall.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define TUI_LIMIT 500
#define FIELD_MAX 120

enum { F_SERVICE, F_OPERATION, F_ATTR, F_MINDUR, F_SINCE, F_ERRORS, F_COUNT };

static const char *field_label[F_COUNT] = {
	"Service", "Operation", "Attribute (key=value)", "Min duration",
	"Since", "Errors only",
};

typedef enum { SORT_NEWEST, SORT_LONGEST, SORT_SPANS, SORT_ERRORS } sort_key;

static const char *sort_name[] = {"newest", "longest", "most spans",
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
	int n, sel, top;
	sort_key sort;
} tui;

/* ---------------------------------------------------------------- search */

static int
run_search(tui *t)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Search s;
	Tracequery__V1__AttrFilter af, *afp = &af;
	char *cause = NULL, key[FIELD_MAX];
	uint64_t ns;

	tracequery__v1__search__init(&s);
	tracequery__v1__attr_filter__init(&af);
	s.service = t->field[F_SERVICE];
	s.operation = t->field[F_OPERATION];
	if (t->field[F_ATTR][0] != '\0') {
		char *eq = strchr(t->field[F_ATTR], '=');
		if (eq == NULL || eq == t->field[F_ATTR]) {
			snprintf(t->status, sizeof t->status,
			    "attribute wants key=value");
			return -1;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - t->field[F_ATTR]),
		    t->field[F_ATTR]);
		af.key = key;
		af.value = eq + 1;
		s.n_attributes = 1;
		s.attributes = &afp;
	}
	if (t->field[F_MINDUR][0] != '\0') {
		if (duration_parse(t->field[F_MINDUR], &ns) != 0) {
			snprintf(t->status, sizeof t->status,
			    "bad min duration (e.g. 100ms, 1.5s)");
			return -1;
		}
		s.min_duration_ns = ns;
	}
	if (t->field[F_SINCE][0] != '\0') {
		if (duration_parse(t->field[F_SINCE], &ns) != 0) {
			snprintf(t->status, sizeof t->status,
			    "bad since (e.g. 15m, 1h)");
			return -1;
		}
		uint64_t now = now_unix_ns();
		s.start_unix_nano = ns < now ? now - ns : 0;
	}
	s.errors_only = t->errors_only;
	s.limit = TUI_LIMIT;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &s;

	pb_response *resp = NULL;
	if (client_query(t->co, &req, &resp, &cause) != CLIENT_OK) {
		char *safe = sanitize_dup(cause, t->san);
		snprintf(t->status, sizeof t->status, "%s", safe);
		free(safe);
		free(cause);
		return -1;
	}
	if (t->result != NULL)
		tracequery__v1__response__free_unpacked(t->result, NULL);
	free(t->list);
	t->list = NULL;
	t->n = 0;
	t->result = resp;
	if (resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH) {
		t->n = (int)resp->search->n_traces;
		t->list = xcalloc((size_t)t->n + 1, sizeof *t->list);
		if (t->n > 0)
			memcpy(t->list, resp->search->traces,
			    (size_t)t->n * sizeof *t->list);
	}
	t->sel = t->top = 0;
	snprintf(t->status, sizeof t->status, "%d trace%s", t->n,
	    t->n == 1 ? "" : "s");
	return 0;
}

static sort_key cmp_key;

static int
cmp_summary(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;
	uint64_t vx, vy;

	switch (cmp_key) {
	case SORT_LONGEST:
		vx = x->duration_ns, vy = y->duration_ns;
		break;
	case SORT_SPANS:
		vx = x->span_count, vy = y->span_count;
		break;
	case SORT_ERRORS:
		vx = x->error_count, vy = y->error_count;
		break;
	default:
		vx = x->start_unix_nano, vy = y->start_unix_nano;
		break;
	}
	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x->start_unix_nano > y->start_unix_nano ? -1 :
	    x->start_unix_nano < y->start_unix_nano;
}

static void
sort_list(tui *t)
{
	cmp_key = t->sort;
	if (t->n > 1)
		qsort(t->list, (size_t)t->n, sizeof *t->list, cmp_summary);
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

static void
draw_form(tui *t)
{
	erase();
	draw_bar(0, " tracecli tui - search traces", CLR_HEADER);
	for (int f = 0; f < F_COUNT; f++) {
		int y = 2 + f * 2;
		attrset(f == t->focus ? term_attr(CLR_KEY) : 0);
		mvprintw(y, 2, "%-22s", field_label[f]);
		attrset(f == t->focus ? term_attr(CLR_SELECTED) : (int)A_UNDERLINE);
		int w = COLS - 28 > 10 ? COLS - 28 : 10;
		mvhline(y, 26, ' ', f == F_ERRORS ? 3 : w);
		if (f == F_ERRORS)
			mvaddstr(y, 26, t->errors_only ? "[x]" : "[ ]");
		else
			put_fit(y, 26, t->field[f], w);
		attrset(0);
	}
	attrset(term_attr(CLR_DIM));
	mvaddstr(2 + F_COUNT * 2, 2, "Tab/Up/Down move  Space toggles  "
				     "Enter search  Esc quit");
	attrset(0);
	draw_bar(LINES - 1, t->status, CLR_STATUS);
	if (t->focus != F_ERRORS) {
		curs_set(1);
		int x = 26 + (int)strlen(t->field[t->focus]);
		move(2 + t->focus * 2, x < COLS ? x : COLS - 1);
	} else {
		curs_set(0);
	}
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

static void
draw_list(tui *t)
{
	char line[2048], when[48], dur[32], root[512], buf[1024];
	int list_y = 4, list_h = LINES - 5;

	erase();
	snprintf(line, sizeof line, " %d traces  sorted by %s  (o: sort, Enter: "
	    "open, Esc: back to search, q: quit)", t->n, sort_name[t->sort]);
	draw_bar(0, line, CLR_HEADER);
	char d[32];
	uint64_t maxd = 0;
	for (int i = 0; i < t->n; i++)
		maxd = t->list[i]->duration_ns > maxd ? t->list[i]->duration_ns : maxd;
	snprintf(line, sizeof line, " duration over time (max %s)",
	    duration_format(maxd, d, sizeof d));
	attrset(term_attr(CLR_DIM));
	put_fit(1, 0, line, COLS);
	attrset(0);
	draw_strip(t, 2);
	attrset(term_attr(CLR_AXIS));
	mvhline(3, 0, ' ', COLS);
	mvprintw(3, 0, "%-19s %8s %5s %6s  %s", "START", "DURATION", "SPANS",
	    "ERRORS", "ROOT");
	attrset(0);
	if (list_h < 1)
		list_h = 1;
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + list_h)
		t->top = t->sel - list_h + 1;
	for (int k = 0; k < list_h && t->top + k < t->n; k++) {
		const Tracequery__V1__TraceSummary *s = t->list[t->top + k];
		int y = list_y + k;
		time_format(s->start_unix_nano, when, sizeof when);
		when[19] = '\0';
		duration_format(s->duration_ns, dur, sizeof dur);
		snprintf(root, sizeof root, "%s: %s",
		    s->root_service ? s->root_service : "",
		    s->root_name ? s->root_name : "");
		sanitize_buf(root, strlen(root), t->san, buf, sizeof buf);
		snprintf(line, sizeof line, "%-19s %8s %5u %6u  %s", when, dur,
		    s->span_count, s->error_count, buf);
		int attr = t->top + k == t->sel ? term_attr(CLR_SELECTED) :
		    s->error_count ? term_attr(CLR_SPAN_ERROR) : 0;
		attrset(attr);
		mvhline(y, 0, ' ', COLS);
		put_fit(y, 0, line, COLS);
		attrset(0);
	}
	draw_bar(LINES - 1, t->status, CLR_STATUS);
	curs_set(0);
	refresh();
}

/* ---------------------------------------------------------------- keys */

/* Opens the selected trace in the waterfall; returns VIEW_QUIT/BACK. */
static view_result
open_trace(tui *t)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetTrace gt = TRACEQUERY__V1__GET_TRACE__INIT;
	pb_response *resp = NULL;
	char *cause = NULL;
	model_trace m;

	if (t->n == 0)
		return VIEW_BACK;
	gt.trace_id = t->list[t->sel]->trace_id;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &gt;
	if (client_query(t->co, &req, &resp, &cause) != CLIENT_OK) {
		char *safe = sanitize_dup(cause, t->san);
		snprintf(t->status, sizeof t->status, "%s", safe);
		free(safe);
		free(cause);
		return VIEW_BACK;
	}
	if (resp->code != TRACEQUERY__V1__RESPONSE__CODE__OK ||
	    resp->result_case != TRACEQUERY__V1__RESPONSE__RESULT_TRACE ||
	    model_build(&m, resp->trace->resource_spans,
		resp->trace->n_resource_spans, t->san) != 0) {
		snprintf(t->status, sizeof t->status, "trace not found");
		tracequery__v1__response__free_unpacked(resp, NULL);
		return VIEW_BACK;
	}
	model_own(&m, resp);
	model_collapse_big(&m, 400);
	view *v = view_new(&m);
	view_result r = view_run(v);
	view_free(v);
	model_free(&m);
	return r;
}

/* Form keys; returns 1 to quit, 2 when a search succeeded. */
static int
form_key(tui *t, int ch)
{
	char *f = t->field[t->focus];
	size_t len = strlen(f);

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
		return run_search(t) == 0 ? 2 : 0;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (t->focus != F_ERRORS && len > 0)
			f[len - 1] = '\0';
		return 0;
	case ' ':
		if (t->focus == F_ERRORS) {
			t->errors_only = !t->errors_only;
			return 0;
		}
		break;
	default:
		break;
	}
	if (t->focus != F_ERRORS && ch >= 0x20 && ch < 0x7f &&
	    len + 1 < FIELD_MAX) {
		f[len] = (char)ch;
		f[len + 1] = '\0';
	}
	return 0;
}

/* List keys; returns 1 to quit, 2 to go back to the form. */
static int
list_key(tui *t, int ch)
{
	switch (ch) {
	case 'q':
		return 1;
	case 27:
		return 2;
	case 'j':
	case KEY_DOWN:
		if (t->sel + 1 < t->n)
			t->sel++;
		break;
	case 'k':
	case KEY_UP:
		if (t->sel > 0)
			t->sel--;
		break;
	case KEY_NPAGE:
		t->sel = t->sel + LINES - 6 < t->n ? t->sel + LINES - 6 : t->n - 1;
		break;
	case KEY_PPAGE:
		t->sel = t->sel > LINES - 6 ? t->sel - (LINES - 6) : 0;
		break;
	case 'o':
		t->sort = (sort_key)((t->sort + 1) % 4);
		sort_list(t);
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		t->sort = (sort_key)(ch - '1');
		sort_list(t);
		break;
	case 'r':
		run_search(t);
		sort_list(t);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (open_trace(t) == VIEW_QUIT)
			return 1;
		break;
	default:
		break;
	}
	if (t->sel < 0)
		t->sel = 0;
	return 0;
}

int
tui_run(const client_opts *co, san_mode san)
{
	tui t;
	bool in_list = false, dirty = true;
	int rv = 0;

	memset(&t, 0, sizeof t);
	t.co = co;
	t.san = san;
	snprintf(t.field[F_SINCE], FIELD_MAX, "1h");
	snprintf(t.status, sizeof t.status, "fill in any fields and press "
	    "Enter (empty fields match everything)");
	for (;;) {
		if (term_quit_requested())
			break;
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
			dirty = term_counting();
			continue;
		}
		dirty = true;
		if (ch == KEY_RESIZE)
			continue;
		if (in_list) {
			int r = list_key(&t, ch);
			if (r == 1)
				break;
			if (r == 2)
				in_list = false;
		} else {
			int r = form_key(&t, ch);
			if (r == 1)
				break;
			if (r == 2) {
				sort_list(&t);
				in_list = true;
			}
		}
	}
	curs_set(0);
	if (t.result != NULL)
		tracequery__v1__response__free_unpacked(t.result, NULL);
	free(t.list);
	return rv;
}
