/*
 * pager.c - a scrolling text screen for the tui's deps and compare views:
 * the text output (plain_*.c) written at the terminal's width, shown
 * line by line. j/k, PgDn/PgUp, g/G scroll; Esc or q go back.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

typedef struct pager {
	char **lines;
	int n, top;
} pager;

static void
split_lines(pager *p, char *text)
{
	for (char *s = text, *nl; s != NULL && *s != '\0'; s = nl) {
		nl = strchr(s, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		p->lines = xrealloc(p->lines, ((size_t)p->n + 1) * sizeof *p->lines);
		p->lines[p->n++] = s;
	}
}

static void
pager_draw(pager *p, const char *title)
{
	int body = LINES - 2 > 1 ? LINES - 2 : 1;
	char buf[2048], status[160];
	san_mode san = term_ascii() ? SAN_ASCII : SAN_UTF8;

	if (p->top > p->n - body)
		p->top = p->n - body;
	if (p->top < 0)
		p->top = 0;
	erase();
	attrset(term_attr(CLR_HEADER));
	mvhline(0, 0, ' ', COLS);
	utf8_fit(title, COLS, false, san, buf, sizeof buf);
	mvaddstr(0, 0, buf);
	attrset(A_NORMAL);
	for (int k = 0; k < body && p->top + k < p->n; k++) {
		utf8_fit(p->lines[p->top + k], COLS, false, san, buf, sizeof buf);
		mvaddstr(1 + k, 0, buf);
	}
	snprintf(status, sizeof status, " %d-%d of %d  j/k scroll  Esc back",
	    p->top + 1, p->top + body < p->n ? p->top + body : p->n, p->n);
	attrset(term_attr(CLR_STATUS));
	mvhline(LINES - 1, 0, ' ', COLS);
	utf8_fit(status, COLS, false, san, buf, sizeof buf);
	mvaddstr(LINES - 1, 0, buf);
	attrset(A_NORMAL);
	refresh();
}

bool
pager_run(const char *title, char *text)
{
	pager p = {0};
	bool dirty = true, quit = false;

	split_lines(&p, text);
	while (!term_quit_requested()) {
		if (dirty) {
			pager_draw(&p, title);
			dirty = false;
			if (term_frame()) {
				quit = true;
				break;
			}
		}
		int ch = getch();
		if (ch == ERR) {
			dirty = term_counting();
			continue;
		}
		dirty = true;
		if (ch == 27 || ch == 'q')
			break;
		keys_help_key(ch, &p.top);
	}
	free(p.lines);
	return quit || term_quit_requested();
}
