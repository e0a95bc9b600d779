/* cmd_export.c - tracecli export TRACE_ID...: the traces as one OTLP JSON
 * document (lossless; non-ASCII escaped, so it is inert on a terminal). */
#include <stdlib.h>
#include <unistd.h>

#include "otlp_json.h"
#include "tracecli.h"

/* Fetches every trace into resps; returns 0, 1 (some missing) or the
 * first hard failure. */
static int
fetch_all(const cli_args *c, pb_response **resps, pb_resource_spans ***all,
    size_t *nall)
{
	int rv = EXIT_OK_;

	for (int i = 0; i < c->nargs; i++) {
		uint8_t id[16];
		char *cause = NULL;
		int r = trace_id_parse(c->args[i], id, &cause);
		if (r == EXIT_OK_)
			r = trace_fetch(&c->co, id, &resps[i], &cause);
		if (r != EXIT_OK_) {
			cli_fail(r, cause);
			if (r != EXIT_NOTFOUND)
				return r;
			rv = r;
			continue;
		}
		const Tracequery__V1__TraceResult *t = resps[i]->trace;
		*all = xrealloc(*all, (*nall + t->n_resource_spans) * sizeof **all);
		for (size_t k = 0; k < t->n_resource_spans; k++)
			(*all)[(*nall)++] = t->resource_spans[k];
	}
	return rv;
}

int
cmd_export(const cli_args *c)
{
	pb_response **resps = xcalloc((size_t)c->nargs, sizeof *resps);
	pb_resource_spans **all = NULL;
	size_t nall = 0;
	char *cause = NULL;
	int rv = fetch_all(c, resps, &all, &nall);

	if (nall > 0 && (rv == EXIT_OK_ || rv == EXIT_NOTFOUND)) {
		char *text = otlp_json_encode(all, nall, isatty(STDOUT_FILENO),
		    &cause);
		if (text == NULL) {
			rv = cli_fail(EXIT_NOTFOUND, cause);
		} else {
			char *safe = json_ascii(text);
			fputs(safe, stdout);
			fputc('\n', stdout);
			free(safe);
			free(text);
			rv = cli_finish(rv);
		}
	}
	for (int i = 0; i < c->nargs; i++)
		if (resps[i] != NULL)
			tracequery__v1__response__free_unpacked(resps[i], NULL);
	free(resps);
	free(all);
	return rv;
}
