/*
 * fetch.c - one query and what its failure means as an exit status
 * (contract: 1 not found, 2 bad request or address, 3 unreachable or
 * failing), trace ID parsing, and the one get-trace call every command and
 * view uses.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

int
query_run(const client_opts *co, const pb_request *req, pb_response **resp,
    char **cause)
{
	int rv = client_query(co, req, resp, cause);

	if (rv != CLIENT_OK)
		return rv == CLIENT_BADURL ? EXIT_USAGE : EXIT_UNREACHABLE;
	switch ((*resp)->code) {
	case TRACEQUERY__V1__RESPONSE__CODE__OK:
		return EXIT_OK_;
	case TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND:
		rv = EXIT_NOTFOUND;
		break;
	case TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST:
		rv = EXIT_USAGE;
		break;
	default:
		rv = EXIT_UNREACHABLE;
		break;
	}
	char *msg = sanitize_dup((*resp)->message, SAN_UTF8);
	xasprintf(cause, "collector: %s", *msg ? msg : "request failed");
	free(msg);
	tracequery__v1__response__free_unpacked(*resp, NULL);
	*resp = NULL;
	return rv;
}

int
trace_id_parse(const char *hex, uint8_t id[16], char **cause)
{
	char *s;

	if (strlen(hex) == 32 && hex_decode(hex, id, 16) == 0) {
		if (!is_all_zero(id, 16))
			return 0;
		xasprintf(cause, "bad trace ID '%s': all zeros is the invalid "
		    "trace ID (W3C Trace Context)", hex);
		return EXIT_USAGE;
	}
	s = sanitize_dup(hex, SAN_ASCII);
	xasprintf(cause, "bad trace ID '%s' (want 32 hex digits, got %zu "
	    "characters)", s, strlen(hex));
	free(s);
	return EXIT_USAGE;
}

int
trace_fetch(const client_opts *co, const uint8_t id[16], pb_response **resp,
    char **cause)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetTrace gt = TRACEQUERY__V1__GET_TRACE__INIT;
	char hex[33];
	int rv;

	gt.trace_id.data = (uint8_t *)(uintptr_t)id;
	gt.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &gt;
	rv = query_run(co, &req, resp, cause);
	if (rv == EXIT_OK_ &&
	    ((*resp)->result_case != TRACEQUERY__V1__RESPONSE__RESULT_TRACE ||
	    (*resp)->trace->n_resource_spans == 0)) {
		tracequery__v1__response__free_unpacked(*resp, NULL);
		*resp = NULL;
		rv = EXIT_NOTFOUND;
	}
	if (rv == EXIT_NOTFOUND) {
		free(*cause);
		hex_encode(id, 16, hex);
		xasprintf(cause, "trace %s not found", hex);
	}
	return rv;
}

int
trace_load(const client_opts *co, const uint8_t id[16], san_mode san,
    model_trace *m, char **cause)
{
	pb_response *resp = NULL;
	int rv = trace_fetch(co, id, &resp, cause);

	if (rv != EXIT_OK_)
		return rv;
	if (model_build(m, resp->trace->resource_spans,
	    resp->trace->n_resource_spans, san) != 0) {
		char hex[33];
		hex_encode(id, 16, hex);
		xasprintf(cause, "trace %s has no usable spans", hex);
		model_free(m);
		tracequery__v1__response__free_unpacked(resp, NULL);
		return EXIT_NOTFOUND;
	}
	model_own(m, resp);
	return EXIT_OK_;
}
