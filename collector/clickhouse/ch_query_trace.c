/*
 * ch_query_trace.c - get-trace from ClickHouse in one SELECT: the spans
 * table, ordered by trace ID, gives each span's OTLP bytes and its origin
 * (resource + scope), rebuilt into ResourceSpans grouped by resource as
 * the RocksDB backend returns them. No day bound: each day partition's
 * primary index finds the trace's granules, which costs less than the
 * round trip to the trace index that used to give the days. On a cluster
 * the read goes to the owning shard's local table only (ch_shards.h).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"
#include "otlp_types.h"

/* The distinct origins of a trace and the groups (resources) they form. */
typedef struct rebuild {
	const uint8_t **obytes;  /* per origin: its bytes in the reply */
	size_t *olen;
	ScopeSpans **oscope;     /* per origin: its scope in the result */
	size_t n_origins;
	ResourceSpans **groups;
	uint8_t **gkey;          /* per group: its packed resource */
	size_t *gkey_len;
	size_t n_groups;
} rebuild;

/* Appends the table to read trace rows from: the owning shard's local
 * table on a cluster, the local table on one server. */
static void
add_source(ch_query_ctx *q, rowbinary_buf *sql, const char *base,
    const uint8_t *trace_id)
{
	if (q->shards != NULL)
		ch_sql_add(sql, "remote('%s', %s, %s_local)", ch_shards_replicas(
		    q->shards, ch_shards_of(q->shards, trace_id)), q->database,
		    base);
	else
		ch_sql_add(sql, "%s_local", base);
}

/* The packed resource of rs (without its scopes): what groups origins. */
static uint8_t *
resource_key(ResourceSpans *rs, size_t *len)
{
	ResourceSpans r = *rs;
	uint8_t *b;

	r.n_scope_spans = 0;
	r.scope_spans = NULL;
	*len = opentelemetry__proto__trace__v1__resource_spans__get_packed_size(&r);
	b = xmalloc(*len + 1);
	opentelemetry__proto__trace__v1__resource_spans__pack(&r, b);
	return b;
}

/* Puts a new origin into its resource's group; returns its scope. */
static ScopeSpans *
add_origin(rebuild *rb, const uint8_t *ob, size_t olen)
{
	ResourceSpans *fresh = opentelemetry__proto__trace__v1__resource_spans__unpack(
	    NULL, olen, ob);
	ScopeSpans *ss;
	uint8_t *key;
	size_t klen, g;

	if (fresh == NULL) {
		fresh = xmalloc(sizeof *fresh);
		opentelemetry__proto__trace__v1__resource_spans__init(fresh);
	}
	if (fresh->n_scope_spans > 0) {
		ss = fresh->scope_spans[0];
		for (size_t j = 1; j < fresh->n_scope_spans; j++)
			opentelemetry__proto__trace__v1__scope_spans__free_unpacked(
			    fresh->scope_spans[j], NULL);
	} else {
		ss = xmalloc(sizeof *ss);
		opentelemetry__proto__trace__v1__scope_spans__init(ss);
	}
	free(fresh->scope_spans);
	fresh->scope_spans = NULL;
	fresh->n_scope_spans = 0;
	key = resource_key(fresh, &klen);
	for (g = 0; g < rb->n_groups; g++)
		if (rb->gkey_len[g] == klen && memcmp(rb->gkey[g], key, klen) == 0)
			break;
	if (g == rb->n_groups) {
		CH_APPEND(rb->groups, rb->n_groups, fresh);
		rb->gkey = xrealloc(rb->gkey, rb->n_groups * sizeof *rb->gkey);
		rb->gkey_len = xrealloc(rb->gkey_len,
		    rb->n_groups * sizeof *rb->gkey_len);
		rb->gkey[g] = key;
		rb->gkey_len[g] = klen;
	} else {
		opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
		    fresh, NULL);
		free(key);
	}
	CH_APPEND(rb->groups[g]->scope_spans, rb->groups[g]->n_scope_spans, ss);
	return ss;
}

/* The scope of the origin ob, added when first seen. */
static ScopeSpans *
origin_scope(rebuild *rb, const uint8_t *ob, size_t olen)
{
	for (size_t i = 0; i < rb->n_origins; i++)
		if (rb->olen[i] == olen && memcmp(rb->obytes[i], ob, olen) == 0)
			return rb->oscope[i];
	rb->obytes = xrealloc(rb->obytes, (rb->n_origins + 1) *
	    sizeof *rb->obytes);
	rb->olen = xrealloc(rb->olen, (rb->n_origins + 1) * sizeof *rb->olen);
	rb->oscope = xrealloc(rb->oscope, (rb->n_origins + 1) *
	    sizeof *rb->oscope);
	rb->obytes[rb->n_origins] = ob;
	rb->olen[rb->n_origins] = olen;
	rb->oscope[rb->n_origins] = add_origin(rb, ob, olen);
	return rb->oscope[rb->n_origins++];
}

static void
rebuild_fini(rebuild *rb)
{
	for (size_t g = 0; g < rb->n_groups; g++)
		free(rb->gkey[g]);
	free(rb->gkey);
	free(rb->gkey_len);
	free(rb->obytes);
	free(rb->olen);
	free(rb->oscope);
}

/* Reads (origin, span) rows into rb; false when the reply is malformed. */
static bool
read_spans(const uint8_t *p, size_t len, rebuild *rb)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, p, len);
	while (r.ok && r.left > 0) {
		const uint8_t *ob, *sb;
		size_t olen, slen;
		Span *sp;
		ScopeSpans *ss;

		if (!rowbinary_get_string(&r, &ob, &olen) ||
		    !rowbinary_get_string(&r, &sb, &slen))
			break;
		sp = opentelemetry__proto__trace__v1__span__unpack(NULL, slen,
		    sb);
		if (sp == NULL)
			continue; /* validated at ingest: cannot happen */
		ss = origin_scope(rb, ob, olen);
		CH_APPEND(ss->spans, ss->n_spans, sp);
	}
	return r.ok;
}

bool
ch_query_trace_decode(const uint8_t *p, size_t len,
    Tracequery__V1__TraceResult *tr)
{
	rebuild rb = { 0 };
	bool ok = read_spans(p, len, &rb);

	tr->resource_spans = rb.groups;
	tr->n_resource_spans = rb.n_groups;
	rebuild_fini(&rb);
	return ok;
}

static response *
trace_response(rebuild *rb)
{
	response *r;
	Tracequery__V1__TraceResult *tr = xmalloc(sizeof *tr);

	tracequery__v1__trace_result__init(tr);
	tr->resource_spans = rb->groups;
	tr->n_resource_spans = rb->n_groups;
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_TRACE;
	r->trace = tr;
	return r;
}

response *
ch_query_get_trace(ch_query_ctx *q, const Tracequery__V1__GetTrace *g)
{
	const uint8_t *id = g->trace_id.data;
	rowbinary_buf sql = { 0 };
	rebuild rb = { 0 };
	ch_reply rep;
	response *r;

	if (g->trace_id.len != 16)
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST,
		    "trace_id must be 16 bytes");
	ch_sql_add(&sql, "SELECT origin, span FROM ");
	add_source(q, &sql, "spans", id);
	ch_sql_add(&sql, " WHERE trace_id = ");
	ch_sql_id(&sql, id, 16);
	/* A span sent twice (a resend) is stored twice: return it once. */
	ch_sql_add(&sql, " AND start_ns >= %llu ORDER BY span_id LIMIT 1 BY "
	    "span_id", (unsigned long long)q->cutoff_ns);
	r = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (r != NULL)
		return r;
	if (!read_spans(rep.data, rep.len, &rb)) {
		r = ch_query_bad_reply();
		for (size_t i = 0; i < rb.n_groups; i++)
			opentelemetry__proto__trace__v1__resource_spans__free_unpacked(
			    rb.groups[i], NULL);
		free(rb.groups);
	} else if (rb.n_groups == 0) {
		r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
		    "trace not found");
	} else {
		r = trace_response(&rb);
	}
	ch_reply_fini(&rep);
	rebuild_fini(&rb);
	return r;
}
