/* cmd_tui.c - tracecli tui: the browser, its form pre-filled from the
 * search flags. */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

int
cmd_tui(const cli_args *c)
{
	term_opts to = {c->no_color, c->ascii, c->frames, NULL, NULL};
	const char *term = getenv("TERM");
	char *cause = NULL;

	if (!cli_interactive(c)) {
		if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
			fprintf(stderr, "tracecli: tui needs a terminal that can "
			    "draw: TERM is %s%s%s (try tracecli search)\n",
			    term && *term ? "'" : "unset",
			    term && *term ? term : "", term && *term ? "'" : "");
		else
			fprintf(stderr, "tracecli: tui needs a terminal: stdin "
			    "and stdout must be one (try tracecli search)\n");
		return EXIT_USAGE;
	}
	if (term_open(&to, &cause) != 0)
		return cli_fail(EXIT_USAGE, cause);
	term_mouse(!c->no_mouse);
	tui_run(&c->co, c->san, &c->search, c->search_text);
	term_close();
	return term_exit_status(EXIT_OK_);
}
