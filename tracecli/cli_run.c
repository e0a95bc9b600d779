/*
 * cli_run.c - what every command shares when it runs: reporting a failure,
 * flushing output, the text options and whether to draw interactively.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracecli.h"

int
cli_fail(int rv, char *cause)
{
	fprintf(stderr, "tracecli: %s\n", cause ? cause : "failed");
	free(cause);
	return rv;
}

int
cli_query(const cli_args *c, const pb_request *req, pb_response **resp)
{
	char *cause = NULL;
	int rv = query_run(&c->co, req, resp, &cause);

	return rv == EXIT_OK_ ? rv : cli_fail(rv, cause);
}

int
cli_finish(int rv)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tracecli: write error: %s\n", strerror(errno));
		return EXIT_NOTFOUND;
	}
	return rv;
}

plain_opts
cli_plain_opts(const cli_args *c)
{
	plain_opts o = {c->width, c->ascii};

	return o;
}

bool
cli_interactive(const cli_args *c)
{
	const char *term = getenv("TERM");

	if (c->plain || c->json)
		return false;
	if (getenv("TRACECLI_FAKETTY") != NULL)
		return true;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return false;
	return term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}
