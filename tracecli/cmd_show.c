/* cmd_show.c - tracecli show TRACE_ID: the interactive waterfall on a
 * terminal, else the text waterfall, JSON, or (--stats) the trace's
 * statistics per service and operation. */
#include <stdlib.h>

#include "tracecli.h"

/* The interactive waterfall; 130/143 when a signal ended it. */
static int
show_interactive(const cli_args *c, model_trace *m)
{
	term_opts to = {c->no_color, c->ascii, c->frames, NULL, NULL};
	char *cause = NULL;

	if (term_open(&to, &cause) != 0)
		return cli_fail(EXIT_USAGE, cause);
	term_mouse(!c->no_mouse);
	model_collapse_big(m, 400);
	view *v = view_new(m, &c->co);
	view_run(v);
	view_free(v);
	term_close();
	return term_exit_status(EXIT_OK_);
}

static void
show_stats(const cli_args *c, const model_trace *m)
{
	tstats ts;
	plain_opts o = cli_plain_opts(c);

	tstats_build(&ts, m);
	if (c->json)
		json_trace_stats(stdout, m, &ts);
	else
		plain_trace_stats(stdout, m, &ts, &o);
	tstats_free(&ts);
}

int
cmd_show(const cli_args *c)
{
	model_trace m;
	uint8_t id[16];
	char *cause = NULL;
	int rv;

	if ((rv = trace_id_parse(c->args[0], id, &cause)) != 0 ||
	    (rv = trace_load(&c->co, id, c->san, &m, &cause)) != 0)
		return cli_fail(rv, cause);
	if (c->stats) {
		show_stats(c, &m);
	} else if (c->json) {
		json_show(stdout, &m);
	} else if (cli_interactive(c)) {
		rv = show_interactive(c, &m);
	} else {
		plain_opts o = cli_plain_opts(c);
		plain_waterfall(stdout, &m, &o);
	}
	model_free(&m);
	return cli_finish(rv);
}
