/*
 * get_trace.c - GetTrace: every unexpired span of a trace as OTLP
 * ResourceSpans, grouped by origin.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

response *
get_trace(qctx *q, const Tracequery__V1__GetTrace *g)
{
	ltrace t;
	response *r;
	Tracequery__V1__TraceResult *tr;
	size_t *og = NULL; /* per origin: its group (resource) */
	ResourceSpans **groups = NULL;
	uint64_t *group_res = NULL;
	size_t n_groups = 0;
	ScopeSpans **oss; /* per origin: its scope spans in the result */

	if (g->trace_id.len != KEY_TRACE_ID_LEN)
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "trace_id must be 16 bytes");
	if (ltrace_load(q, g->trace_id.data, &t) == 0) {
		ltrace_free(&t);
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
		    "trace not found");
	}
	og = xcalloc(q->n_origins, sizeof *og);
	oss = xcalloc(q->n_origins, sizeof *oss);
	for (size_t i = 0; i < q->n_origins; i++) {
		origin *o = &q->origins[i];
		ResourceSpans *fresh;
		size_t j;

		/* A fresh copy per origin: the result owns it. */
		if (o->rs != NULL) {
			size_t len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(o->rs);
			uint8_t *buf = xmalloc(len + 1);

			opentelemetry__proto__trace__v1__resource_spans__pack(
			    o->rs, buf);
			fresh = opentelemetry__proto__trace__v1__resource_spans__unpack(
			    NULL, len, buf);
			free(buf);
		} else {
			fresh = NULL;
		}
		if (fresh == NULL) {
			fresh = xmalloc(sizeof *fresh);
			opentelemetry__proto__trace__v1__resource_spans__init(
			    fresh);
		}
		if (fresh->n_scope_spans > 0) {
			oss[i] = fresh->scope_spans[0];
			for (j = 1; j < fresh->n_scope_spans; j++)
				opentelemetry__proto__trace__v1__scope_spans__free_unpacked(
				    fresh->scope_spans[j], NULL);
		} else {
			oss[i] = xmalloc(sizeof *oss[i]);
			opentelemetry__proto__trace__v1__scope_spans__init(
			    oss[i]);
		}
		free(fresh->scope_spans);
		fresh->scope_spans = NULL;
		fresh->n_scope_spans = 0;
		for (j = 0; j < n_groups; j++)
			if (group_res[j] == o->res_hash && o->res_hash != 0)
				break;
		if (j == n_groups) {
			group_res = xrealloc(group_res,
			    (n_groups + 1) * sizeof *group_res);
			group_res[n_groups] = o->res_hash;
			PUSH(groups, n_groups, fresh);
		} else {
			opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
			    fresh, NULL);
		}
		og[i] = j;
		PUSH(groups[j]->scope_spans, groups[j]->n_scope_spans, oss[i]);
	}
	for (size_t i = 0; i < t.n; i++) {
		ScopeSpans *ss = oss[t.spans[i].oi];

		PUSH(ss->spans, ss->n_spans, t.spans[i].sp);
		t.spans[i].sp = NULL;
	}
	ltrace_free(&t);
	free(og);
	free(oss);
	free(group_res);
	tr = xmalloc(sizeof *tr);
	tracequery__v1__trace_result__init(tr);
	tr->resource_spans = groups;
	tr->n_resource_spans = n_groups;
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_TRACE;
	r->trace = tr;
	return r;
}
