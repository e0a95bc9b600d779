/*
 * keys.c - key tables {keys, action, help}: one table per screen drives
 * both the key handling (keys_action) and its help overlay (keys_help_*),
 * so the help cannot drift from the keys (tmux's bind -N). The overlay
 * scrolls, so it is whole on 80x24.
 */
#include <curses.h>
#include <string.h>

#include "tracecli.h"

/* The name a key is shown by in help. */
static const char *
key_label(int k, char *buf, size_t len)
{
	static const struct {
		int key;
		const char *name;
	} names[] = {
		{KEY_DOWN, "Down"}, {KEY_UP, "Up"}, {KEY_LEFT, "Left"},
		{KEY_RIGHT, "Right"}, {KEY_NPAGE, "PgDn"}, {KEY_PPAGE, "PgUp"},
		{KEY_HOME, "Home"}, {KEY_END, "End"}, {'\n', "Enter"},
		{' ', "Space"}, {27, "Esc"}, {'\t', "Tab"}, {KEY_BTAB, "S-Tab"},
		{KEY_MOUSE, "mouse"},
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].key == k)
			return names[i].name;
	if (k > 0 && k < 27)
		snprintf(buf, len, "Ctrl-%c", 'A' + k - 1);
	else
		snprintf(buf, len, "%c", k);
	return buf;
}

key_action
keys_action(const key_binding *t, size_t n, int ch)
{
	if (ch == '\r' || ch == KEY_ENTER)
		ch = '\n';
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < KEYS_PER_ACTION && t[i].keys[k] != 0; k++)
			if (t[i].keys[k] == ch)
				return t[i].action;
	return A_NONE;
}

/* One help line: group headings have no keys. */
static void
help_line(const key_binding *b, char *out, size_t len)
{
	char keys[64] = "", buf[16];
	size_t o = 0;

	if (b->keys[0] == 0) {
		snprintf(out, len, "%s", b->help);
		return;
	}
	for (int k = 0; k < KEYS_PER_ACTION && b->keys[k] != 0; k++)
		o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s",
		    k ? " " : "", key_label(b->keys[k], buf, sizeof buf));
	snprintf(out, len, "  %-18s %s", keys, b->help);
}

void
keys_help_draw(const key_binding *t, size_t n, const char *title, int *top)
{
	int rows = LINES > 0 ? LINES : 24, cols = COLS > 0 ? COLS : 80;
	int w = cols < 76 ? cols : 76, h = (int)n + 2;
	char line[256], head[160];
	san_mode san = term_ascii() ? SAN_ASCII : SAN_UTF8;

	if (h > rows - 1)
		h = rows - 1;
	int body = h - 2 > 1 ? h - 2 : 1;
	if (*top > (int)n - body)
		*top = (int)n - body;
	if (*top < 0)
		*top = 0;
	int y0 = (rows - 1 - h) / 2, x0 = (cols - w) / 2;
	attrset(term_attr(CLR_HEADER));
	for (int y = 0; y < h; y++)
		mvhline(y0 + y, x0, ' ', w);
	snprintf(head, sizeof head, "%s  (j/k scroll, Esc or ? closes)", title);
	utf8_fit(head, w - 2, false, san, line, sizeof line);
	mvaddstr(y0, x0 + 1, line);
	snprintf(head, sizeof head, "%d-%d of %zu", *top + 1,
	    *top + body < (int)n ? *top + body : (int)n, n);
	utf8_fit(head, w - 2, false, san, line, sizeof line);
	mvaddstr(y0 + h - 1, x0 + 1, line);
	attrset(A_NORMAL);
	for (int k = 0; k < body && *top + k < (int)n; k++) {
		const key_binding *b = &t[*top + k];
		char text[200];
		help_line(b, text, sizeof text);
		mvhline(y0 + 1 + k, x0, ' ', w);
		attrset(b->keys[0] == 0 ? term_attr(CLR_KEY) : 0);
		utf8_fit(text, w - 3, false, san, line, sizeof line);
		mvaddstr(y0 + 1 + k, x0 + 2, line);
		attrset(A_NORMAL);
	}
}

bool
keys_help_key(int ch, int *top)
{
	switch (ch) {
	case 'j':
	case KEY_DOWN:
		(*top)++;
		return true;
	case 'k':
	case KEY_UP:
		(*top)--;
		return true;
	case KEY_NPAGE:
	case ' ':
		*top += 10;
		return true;
	case KEY_PPAGE:
		*top -= 10;
		return true;
	case 'g':
	case KEY_HOME:
		*top = 0;
		return true;
	case 'G':
	case KEY_END:
		*top = 1 << 20;
		return true;
	case KEY_RESIZE:
		return true;
	default:
		return false;	/* closes the help */
	}
}
