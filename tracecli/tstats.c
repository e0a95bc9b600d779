/*
 * tstats.c - one trace's statistics, as Jaeger's Trace Statistics:
 * per service, and per operation within it, the span count, total and
 * average duration, the longest span, the self time (time not covered by
 * children) and its share of the trace's duration, and errors. Services
 * and operations are listed by self time, largest first: where the time
 * went. No curses, no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

static void
row_add(tstat_row *r, const mspan *s)
{
	r->count++;
	r->total_ns += s->dur_ns;
	r->self_ns += s->self_ns;
	if (s->dur_ns > r->max_ns)
		r->max_ns = s->dur_ns;
	if (s->flags & MSPAN_ERROR)
		r->errors++;
}

/* The operation row of (service, name), created on first sight. */
static tstat_row *
op_row(tstat_service *sv, const char *name)
{
	for (int k = 0; k < sv->nops; k++)
		if (strcmp(sv->ops[k].name, name) == 0)
			return &sv->ops[k];
	sv->ops = xrealloc(sv->ops, ((size_t)sv->nops + 1) * sizeof *sv->ops);
	tstat_row *r = &sv->ops[sv->nops++];
	memset(r, 0, sizeof *r);
	r->name = name;
	return r;
}

static int
cmp_row_self(const void *a, const void *b)
{
	const tstat_row *x = a, *y = b;

	if (x->self_ns != y->self_ns)
		return x->self_ns > y->self_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
cmp_service_self(const void *a, const void *b)
{
	return cmp_row_self(&((const tstat_service *)a)->total,
	    &((const tstat_service *)b)->total);
}

void
tstats_build(tstats *ts, const model_trace *m)
{
	memset(ts, 0, sizeof *ts);
	ts->duration_ns = m->end_ns - m->start_ns;
	ts->nservices = m->nservices;
	ts->services = xcalloc((size_t)m->nservices + 1, sizeof *ts->services);
	for (int k = 0; k < m->nservices; k++)
		ts->services[k].total.name = m->services[k];
	for (int i = 0; i < m->nspans; i++) {
		const mspan *s = &m->spans[i];
		tstat_service *sv = &ts->services[s->service_idx];
		row_add(&sv->total, s);
		row_add(op_row(sv, s->name), s);
	}
	for (int k = 0; k < ts->nservices; k++)
		qsort(ts->services[k].ops, (size_t)ts->services[k].nops,
		    sizeof *ts->services[k].ops, cmp_row_self);
	qsort(ts->services, (size_t)ts->nservices, sizeof *ts->services,
	    cmp_service_self);
}

double
tstats_share(const tstats *ts, const tstat_row *r)
{
	return ts->duration_ns ? (double)r->self_ns / (double)ts->duration_ns :
				 0.0;
}

void
tstats_free(tstats *ts)
{
	for (int k = 0; k < ts->nservices; k++)
		free(ts->services[k].ops);
	free(ts->services);
	memset(ts, 0, sizeof *ts);
}
