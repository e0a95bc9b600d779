/*
 * cmd_diff.c - tracecli diff A B: compare two traces; tracecli diff A
 * --baseline: compare A with the typical trace of its root operation in
 * the window (the median by duration of the traces whose root is the
 * same service and operation), the answer to "why is this one slow".
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define BASELINE_SAMPLE 200

static int
load_arg(const cli_args *c, const char *hex, model_trace *m)
{
	uint8_t id[16];
	char *cause = NULL;
	int rv;

	if ((rv = trace_id_parse(hex, id, &cause)) != 0 ||
	    (rv = trace_load(&c->co, id, c->san, m, &cause)) != 0)
		return cli_fail(rv, cause);
	return EXIT_OK_;
}

static int
cmp_duration(const void *a, const void *b)
{
	const Tracequery__V1__TraceSummary *x =
	    *(Tracequery__V1__TraceSummary *const *)a;
	const Tracequery__V1__TraceSummary *y =
	    *(Tracequery__V1__TraceSummary *const *)b;

	return x->duration_ns < y->duration_ns ? -1 :
	    x->duration_ns > y->duration_ns;
}

static bool
same_root(const Tracequery__V1__TraceSummary *t, const model_trace *a,
    const char *svc, const char *name)
{
	return t->trace_id.len == 16 &&
	    memcmp(t->trace_id.data, a->trace_id, 16) != 0 &&
	    strcmp(t->root_service ? t->root_service : "", svc) == 0 &&
	    strcmp(t->root_name ? t->root_name : "", name) == 0;
}

/* The median trace among the search results with a's root; *n counts
 * them. */
static const Tracequery__V1__TraceSummary *
median_of(const Tracequery__V1__SearchResult *r, const model_trace *a,
    const char *svc, const char *name, size_t *n)
{
	Tracequery__V1__TraceSummary **v = xcalloc(r->n_traces + 1, sizeof *v);
	const Tracequery__V1__TraceSummary *mid = NULL;

	*n = 0;
	for (size_t i = 0; i < r->n_traces; i++)
		if (same_root(r->traces[i], a, svc, name))
			v[(*n)++] = r->traces[i];
	qsort(v, *n, sizeof *v, cmp_duration);
	if (*n > 0)
		mid = v[(*n - 1) / 2];
	free(v);
	return mid;
}

/* Finds and loads a's baseline into base; *what describes it. */
static int
load_baseline(const cli_args *c, const model_trace *a, model_trace *base,
    char **what)
{
	const mspan *root = &a->spans[a->roots[0]];
	const char *svc = resource_service(root->resource);
	const char *name = root->pb->name ? root->pb->name : "";
	search_spec s = c->search;
	pb_response *resp = NULL;
	char *cause = NULL;
	size_t n;
	int rv;

	s.service = svc ? svc : "";
	s.operation = name;
	s.limit = BASELINE_SAMPLE;
	if (!s.have_since && !s.have_from)
		s.from = now_unix_ns() - 3600ull * 1000000000ull;
	if ((rv = search_run(&c->co, &s, &resp, &cause)) != 0 &&
	    rv != EXIT_NOTFOUND)
		return cli_fail(rv, cause);
	free(cause);
	const Tracequery__V1__TraceSummary *mid = resp == NULL ? NULL :
	    median_of(resp->search, a, s.service, name, &n);
	if (mid == NULL) {
		fprintf(stderr, "tracecli: no other trace of %s: %s in the "
		    "window to compare with\n", root->service, root->name);
		if (resp != NULL)
			tracequery__v1__response__free_unpacked(resp, NULL);
		return EXIT_NOTFOUND;
	}
	xasprintf(what, "the median of %zu trace%s of %s: %s", n,
	    n == 1 ? "" : "s", root->service, root->name);
	rv = trace_load(&c->co, mid->trace_id.data, c->san, base, &cause);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return rv == EXIT_OK_ ? rv : cli_fail(rv, cause);
}

static void
print_diff(const cli_args *c, const trace_diff *d, const char *what)
{
	plain_opts o = cli_plain_opts(c);

	if (c->json) {
		json_diff(stdout, d, what);
		return;
	}
	if (what != NULL)
		printf("Baseline (A): %s\n", what);
	plain_diff(stdout, d, &o);
}

int
cmd_diff(const cli_args *c)
{
	model_trace first, other;
	trace_diff d;
	char *what = NULL;
	int rv;

	if ((c->nargs == 2) == c->baseline)
		cli_usage_error(c->cmd, "%s", c->baseline ?
		    "--baseline takes one trace" : "compare two traces, or one "
		    "with --baseline");
	if ((rv = load_arg(c, c->args[0], &first)) != 0)
		return rv;
	rv = c->baseline ? load_baseline(c, &first, &other, &what) :
			   load_arg(c, c->args[1], &other);
	if (rv != 0) {
		model_free(&first);
		return rv;
	}
	/* diff A B: A is the first. diff A --baseline: the baseline is A. */
	if (c->baseline)
		diff_build(&d, &other, &first);
	else
		diff_build(&d, &first, &other);
	print_diff(c, &d, what);
	diff_free(&d);
	model_free(&first);
	model_free(&other);
	free(what);
	return cli_finish(EXIT_OK_);
}
