/*
 * term.c - the terminal: curses setup and teardown, signals, colour roles.
 *
 * Every exit path ends in endwin(): the normal one (term_close), SIGINT,
 * SIGTERM and SIGHUP (the handler only sets a flag; the loop sees it within
 * one getch timeout and returns), and exit() from anywhere (atexit hook).
 * While curses owns the screen, stderr goes to a temporary file and is
 * replayed after endwin() (htop's redirectStderr).
 *
 * Colours are semantic roles looked up in a table; a monochrome table takes
 * over when the terminal has no colours or NO_COLOR / --no-color is set.
 */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracecli.h"

#define NROLES (CLR_SERVICE0 + TERM_NSERVICE_COLORS)

static struct {
	bool active;
	SCREEN *screen;
	FILE *held;          /* stderr while curses runs */
	int saved_stderr;
	int attrs[NROLES];
	long frames, max_frames;
	bool ascii;
	bool atexit_set;
} T = {.saved_stderr = -1};

static volatile sig_atomic_t got_quit;

static void
on_signal(int sig)
{
	got_quit = sig;
}

bool
term_quit_requested(void)
{
	return got_quit != 0;
}

int
term_exit_status(int rv)
{
	return got_quit != 0 ? 128 + (int)got_quit : rv;
}

bool
term_frame(void)
{
	T.frames++;
	return T.max_frames > 0 && T.frames >= T.max_frames;
}

bool
term_counting(void)
{
	return T.max_frames > 0;
}

bool
term_ascii(void)
{
	return T.ascii;
}

int
term_attr(clr_role r)
{
	return r >= 0 && r < NROLES ? T.attrs[r] : 0;
}

static void
hold_stderr(void)
{
	fflush(stderr);
	if ((T.held = tmpfile()) == NULL)
		return;
	T.saved_stderr = dup(STDERR_FILENO);
	if (T.saved_stderr < 0 || dup2(fileno(T.held), STDERR_FILENO) < 0) {
		fclose(T.held);
		T.held = NULL;
	}
}

static void
replay_stderr(void)
{
	char buf[4096];
	size_t n;

	if (T.held == NULL)
		return;
	fflush(stderr);
	dup2(T.saved_stderr, STDERR_FILENO);
	close(T.saved_stderr);
	T.saved_stderr = -1;
	rewind(T.held);
	while ((n = fread(buf, 1, sizeof buf, T.held)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(T.held);
	T.held = NULL;
}

/* Colour roles: foreground, background (-1 = default) and extra attrs. */
static void
set_colors(bool color)
{
	static const struct {
		clr_role role;
		short fg, bg;
		int extra;
		int mono;
	} table[] = {
		{CLR_NORMAL, -1, -1, 0, A_NORMAL},
		{CLR_HEADER, COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE},
		{CLR_AXIS, COLOR_CYAN, -1, 0, A_BOLD},
		{CLR_SELECTED, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
		{CLR_SPAN_ERROR, COLOR_RED, -1, A_BOLD, A_BOLD},
		{CLR_CRIT, COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE},
		{CLR_SKEW, COLOR_MAGENTA, -1, A_BOLD, A_UNDERLINE},
		{CLR_MATCH, COLOR_BLACK, COLOR_YELLOW, 0, A_STANDOUT},
		{CLR_DIM, -1, -1, A_DIM, A_DIM},
		{CLR_STATUS, COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE},
		{CLR_KEY, COLOR_YELLOW, -1, A_BOLD, A_BOLD},
	};
	/* Service colours avoid red (errors) and yellow (critical path). */
	static const short svc[TERM_NSERVICE_COLORS] = {COLOR_BLUE, COLOR_GREEN,
		COLOR_CYAN, COLOR_MAGENTA, 12, 10, 14, 13};

	for (size_t i = 0; i < ARRAY_LEN(table); i++)
		T.attrs[table[i].role] = table[i].mono;
	for (int k = 0; k < TERM_NSERVICE_COLORS; k++)
		T.attrs[CLR_SERVICE0 + k] = A_NORMAL;
	if (!color)
		return;
	start_color();
	use_default_colors();
	short pair = 1;
	for (size_t i = 0; i < ARRAY_LEN(table); i++, pair++) {
		init_pair(pair, table[i].fg, table[i].bg);
		T.attrs[table[i].role] = COLOR_PAIR(pair) | table[i].extra;
	}
	for (int k = 0; k < TERM_NSERVICE_COLORS; k++, pair++) {
		short fg = svc[k];
		int extra = 0;
		if (fg >= COLORS) {	/* 8-colour terminal: bright = bold */
			fg = svc[k % 4];
			extra = A_BOLD;
		}
		init_pair(pair, fg, -1);
		T.attrs[CLR_SERVICE0 + k] = COLOR_PAIR(pair) | extra;
	}
}

static void
close_at_exit(void)
{
	term_close();
}

int
term_open(const term_opts *o, char **cause)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: getch returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	const char *term = getenv("TERM");
	T.screen = newterm(term && *term ? (char *)(uintptr_t)term : "vt100",
	    o->out ? o->out : stdout, o->in ? o->in : stdin);
	if (T.screen == NULL) {
		xasprintf(cause, "cannot start the terminal (TERM=%s)",
		    term ? term : "");
		return -1;
	}
	set_term(T.screen);
	T.active = true;
	if (!T.atexit_set) {
		atexit(close_at_exit);
		T.atexit_set = true;
	}
	if (o->out == NULL)
		hold_stderr();
	T.ascii = o->ascii;
	T.max_frames = o->max_frames;
	T.frames = 0;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	timeout(250);
	set_colors(has_colors() && !o->no_color);
	return 0;
}

void
term_mouse(bool on)
{
	if (!T.active)
		return;
	mousemask(on ? BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
	    BUTTON5_PRESSED : 0, NULL);
	mouseinterval(0);	/* a click is the press: no wait for release */
}

void
term_close(void)
{
	if (!T.active)
		return;
	T.active = false;
	endwin();
	delscreen(T.screen);
	T.screen = NULL;
	replay_stderr();
}
