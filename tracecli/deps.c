/*
 * deps.c - service dependencies: every span whose parent is in another
 * service is one call from the parent's service to its own, with the
 * span's duration and error. Edges come from the collector's count over
 * a window (deps_add_edge, `tracecli deps`) or from traces read here
 * (deps_add_trace, the tui's view of the traces listed: p50 and p99 from
 * the exact durations). No curses.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

static dep_edge *
edge_of(deps *d, const char *caller, const char *callee)
{
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->edges[i].caller, caller) == 0 &&
		    strcmp(d->edges[i].callee, callee) == 0)
			return &d->edges[i];
	d->edges = xrealloc(d->edges, ((size_t)d->n + 1) * sizeof *d->edges);
	dep_edge *e = &d->edges[d->n++];
	memset(e, 0, sizeof *e);
	e->caller = xstrdup(caller);
	e->callee = xstrdup(callee);
	return e;
}

/* The service as it came from the wire (JSON keeps it exact; text
 * output sanitises it). */
static const char *
raw_service(const mspan *s)
{
	const char *svc = resource_service(s->resource);

	return svc != NULL && *svc ? svc : "unknown_service";
}

void
deps_add_trace(deps *d, const model_trace *m)
{
	for (int i = 0; i < m->nspans; i++) {
		const mspan *s = &m->spans[i];
		if (s->parent < 0 ||
		    s->service_idx == m->spans[s->parent].service_idx)
			continue;
		dep_edge *e = edge_of(d, raw_service(&m->spans[s->parent]),
		    raw_service(s));
		e->durs = xrealloc(e->durs, ((size_t)e->calls + 1) *
		    sizeof *e->durs);
		e->durs[e->calls++] = s->dur_ns;
		e->errors += (s->flags & MSPAN_ERROR) != 0;
	}
	d->traces++;
}

void
deps_add_edge(deps *d, const char *caller, const char *callee, uint64_t calls,
    uint64_t errors, uint64_t p50_ns, uint64_t p99_ns)
{
	dep_edge *e = edge_of(d, caller, callee);

	e->calls = (int)calls;
	e->errors = (int)errors;
	e->p50_ns = p50_ns;
	e->p99_ns = p99_ns;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_edge(const void *a, const void *b)
{
	const dep_edge *x = a, *y = b;
	int c = strcmp(x->caller, y->caller);

	return c ? c : strcmp(x->callee, y->callee);
}

/* Nearest-rank percentile of sorted v. */
static uint64_t
rank(const uint64_t *v, int n, double q)
{
	int k = (int)(q * n + 0.999999) - 1;

	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

void
deps_finish(deps *d)
{
	for (int i = 0; i < d->n; i++) {
		dep_edge *e = &d->edges[i];
		if (e->durs == NULL)	/* counted elsewhere (deps_add_edge) */
			continue;
		qsort(e->durs, (size_t)e->calls, sizeof *e->durs, cmp_u64);
		e->p50_ns = rank(e->durs, e->calls, 0.50);
		e->p99_ns = rank(e->durs, e->calls, 0.99);
	}
	qsort(d->edges, (size_t)d->n, sizeof *d->edges, cmp_edge);
}

void
deps_free(deps *d)
{
	for (int i = 0; i < d->n; i++) {
		free(d->edges[i].caller);
		free(d->edges[i].callee);
		free(d->edges[i].durs);
	}
	free(d->edges);
	memset(d, 0, sizeof *d);
}
