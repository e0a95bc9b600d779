/*
 * jaeger_transform.c - POST /api/transform, the one write-free POST of
 * Jaeger's API: the Jaeger UI's "Upload" sends an OTLP JSON file there and
 * gets it back as Jaeger traces, one per trace ID, to draw it without
 * storing it. The file is read by the project's OTLP JSON decoder (so a
 * bad span is refused as on ingest) and drawn by jaeger_model.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "jaeger/jaeger_api.h"
#include "jaeger/jaeger_model.h"
#include "otlp_json.h"
#include "otlp_types.h"

static bool
same_id(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void
free_copy(ResourceSpans *rs)
{
	for (size_t j = 0; j < rs->n_scope_spans; j++) {
		free(rs->scope_spans[j]->spans);
		free(rs->scope_spans[j]);
	}
	free(rs->scope_spans);
	free(rs);
}

/* The trace IDs of req in order of first appearance. */
static size_t
trace_ids(const ExportRequest *req, const ProtobufCBinaryData ***out)
{
	const ProtobufCBinaryData **ids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < req->n_resource_spans; i++) {
		const ResourceSpans *rs = req->resource_spans[i];

		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			const ScopeSpans *ss = rs->scope_spans[j];

			for (size_t k = 0; k < ss->n_spans; k++) {
				const ProtobufCBinaryData *id =
				    &ss->spans[k]->trace_id;
				size_t m;

				for (m = 0; m < n; m++)
					if (same_id(ids[m], id))
						break;
				if (m == n) {
					ids = xrealloc(ids, (n + 1) *
					    sizeof *ids);
					ids[n++] = id;
				}
			}
		}
	}
	*out = ids;
	return n;
}

/* A shallow copy of src holding only the spans of trace id, or NULL when
 * it has none (free with free_copy). */
static ResourceSpans *
copy_for_trace(const ResourceSpans *src, const ProtobufCBinaryData *id)
{
	ResourceSpans *rs = xmalloc(sizeof *rs);
	size_t spans = 0;

	*rs = *src;
	rs->scope_spans = xcalloc(src->n_scope_spans + 1,
	    sizeof *rs->scope_spans);
	for (size_t j = 0; j < src->n_scope_spans; j++) {
		const ScopeSpans *ss = src->scope_spans[j];
		ScopeSpans *c = xmalloc(sizeof *c);

		*c = *ss;
		c->spans = xcalloc(ss->n_spans + 1, sizeof *c->spans);
		c->n_spans = 0;
		for (size_t k = 0; k < ss->n_spans; k++)
			if (same_id(&ss->spans[k]->trace_id, id))
				c->spans[c->n_spans++] = ss->spans[k];
		spans += c->n_spans;
		rs->scope_spans[j] = c;
	}
	if (spans > 0)
		return rs;
	free_copy(rs);
	return NULL;
}

/* One trace of req: the resources that hold its spans, and only those. */
static json_t *
one_trace(const ExportRequest *req, const ProtobufCBinaryData *id)
{
	ResourceSpans **rs = xcalloc(req->n_resource_spans + 1, sizeof *rs);
	size_t n = 0;
	json_t *t;

	for (size_t i = 0; i < req->n_resource_spans; i++)
		if ((rs[n] = copy_for_trace(req->resource_spans[i], id)) != NULL)
			n++;
	t = jaeger_model_trace(rs, n);
	for (size_t i = 0; i < n; i++)
		free_copy(rs[i]);
	free(rs);
	return t;
}

void
jaeger_api_transform(const char *body, size_t len, jaeger_reply *out)
{
	uint8_t *pb = NULL;
	size_t pb_len = 0, rejected = 0, n;
	char *cause = NULL;
	ExportRequest *req;
	const ProtobufCBinaryData **ids;
	json_t *data, *errors = json_null();

	memset(out, 0, sizeof *out);
	if (otlp_json_decode(body, len, &pb, &pb_len, &rejected, &cause) != 0 ||
	    (req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, pb_len, pb)) == NULL) {
		jaeger_api_error(out, false, 400, cause ? cause :
		    "not an OTLP JSON document");
		free(cause);
		free(pb);
		return;
	}
	n = trace_ids(req, &ids);
	data = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(data, one_trace(req, ids[i]));
	if (rejected > 0) {
		char msg[300];

		snprintf(msg, sizeof msg, "%zu spans refused: %s", rejected,
		    cause ? cause : "invalid");
		json_decref(errors);
		errors = json_pack("[{s:i, s:o}]", "code", 400, "msg",
		    otlp_json_string(msg));
	}
	jaeger_api_dump(out, 200, json_pack("{s:o, s:i, s:i, s:i, s:o}",
	    "data", data, "total", 0, "limit", 0, "offset", 0, "errors",
	    errors), false);
	free(ids);
	free(cause);
	free(pb);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}
