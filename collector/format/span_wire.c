/*
 * span_wire.c - a request's spans as the bytes they arrived in
 * (span_wire.h).
 */
#include <stdlib.h>
#include <string.h>

#include "otlp_types.h"
#include "common.h"
#include "format/span_wire.h"
#include "varint.h"


/* Field numbers: ExportTraceServiceRequest.resource_spans,
 * ResourceSpans.scope_spans, ScopeSpans.spans, and the Span's fields a
 * block stores beside it (span_block.h). */
enum {
	REQ_RESOURCE_SPANS = 1,
	RS_SCOPE_SPANS = 2,
	SS_SPANS = 2,
	SPAN_TRACE_ID = 1,
	SPAN_SPAN_ID = 2,
	SPAN_PARENT_SPAN_ID = 4,
	SPAN_START = 7,
	SPAN_END = 8,
};

#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_LEN 2
#define WIRE_FIXED32 5

/* One field of a message: [start, end) holds its tag and value; body is
 * where the value starts (after the length, for WIRE_LEN). */
typedef struct field {
	uint64_t num;
	unsigned type;
	const uint8_t *start, *body, *end;
} field;

/* Reads the field at *p, before end, and moves *p past it; false (and *p
 * unmoved) when it is cut short or of a wire type the pre-scan refuses. */
static bool
field_next(const uint8_t **p, const uint8_t *end, field *f)
{
	const uint8_t *q = *p;
	uint64_t tag, n;

	if (!varint_get(&q, end, &tag) || (tag >> 3) == 0)
		return false;
	f->num = tag >> 3;
	f->type = (unsigned)(tag & 7);
	switch (f->type) {
	case WIRE_VARINT:
		if (!varint_get(&q, end, &n))
			return false;
		n = 0;
		break;
	case WIRE_FIXED64:
		n = 8;
		break;
	case WIRE_FIXED32:
		n = 4;
		break;
	case WIRE_LEN:
		if (!varint_get(&q, end, &n))
			return false;
		break;
	default:
		return false;
	}
	if (n > (uint64_t)(end - q))
		return false;
	f->start = *p;
	f->body = q;
	f->end = q + n;
	*p = f->end;
	return true;
}

/* Whether a Span's field num is left out: the block stores it beside the
 * span, the parent's ID only when linked. protobuf allows a field more
 * than once (the last wins): every occurrence goes. */
static bool
dropped(uint64_t num, bool linked)
{
	switch (num) {
	case SPAN_TRACE_ID:
	case SPAN_SPAN_ID:
	case SPAN_START:
	case SPAN_END:
		return true;
	case SPAN_PARENT_SPAN_ID:
		return linked;
	default:
		return false;
	}
}

/* Whether every top-level field of the span in [p, end) reads, and its
 * length without IDs and times (unlinked), in one walk. The pre-scan has
 * read the fields already, but varint_get is stricter than its reader (a
 * tenth byte over 1): a span the walks below would cut short is never
 * copied. */
static bool
read_span(const uint8_t *p, const uint8_t *end, size_t *stripped_len)
{
	field f;

	*stripped_len = 0;
	while (p < end) {
		if (!field_next(&p, end, &f))
			return false;
		if (!dropped(f.num, false))
			*stripped_len += (size_t)(f.end - f.start);
	}
	return true;
}

/* Returns the array a of *cap elements of size, with room for element
 * n. */
static void *
grow(void *a, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 64;
	return xrealloc(a, *cap * size);
}

/* Adds the Spans of the ScopeSpans in [p, end). */
static int
scan_scope(span_wire_index *x, const uint8_t *p, const uint8_t *end)
{
	size_t s = x->n_scopes++;
	field f;

	x->spans_in = grow(x->spans_in, s, &x->cap_scopes,
	    sizeof *x->spans_in);
	x->spans_in[s] = 0;
	while (p < end) {
		if (!field_next(&p, end, &f))
			return -1;
		if (f.num != SS_SPANS || f.type != WIRE_LEN)
			continue;
		x->spans = grow(x->spans, x->n_spans, &x->cap_spans,
		    sizeof *x->spans);
		x->spans[x->n_spans] = (span_wire){ f.body,
			(size_t)(f.end - f.body), 0 };
		if (!read_span(f.body, f.end, &x->spans[x->n_spans].stripped_len))
			return -1;
		x->n_spans++;
		x->spans_in[s]++;
	}
	return 0;
}

/* Adds the ScopeSpans of the ResourceSpans in [p, end). */
static int
scan_resource(span_wire_index *x, const uint8_t *p, const uint8_t *end)
{
	size_t r = x->n_resources++;
	field f;

	x->scopes = grow(x->scopes, r, &x->cap_resources,
	    sizeof *x->scopes);
	x->scopes[r] = 0;
	while (p < end) {
		if (!field_next(&p, end, &f))
			return -1;
		if (f.num != RS_SCOPE_SPANS || f.type != WIRE_LEN)
			continue;
		if (scan_scope(x, f.body, f.end) != 0)
			return -1;
		x->scopes[r]++;
	}
	return 0;
}

int
span_wire_scan(span_wire_index *x, const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf, *end;
	field f;

	x->n_spans = x->n_resources = x->n_scopes = 0;
	if (len == 0)
		return 0; /* buf may be NULL: no arithmetic on it */
	end = buf + len;
	while (p < end) {
		if (!field_next(&p, end, &f))
			return -1;
		if (f.num == REQ_RESOURCE_SPANS && f.type == WIRE_LEN &&
		    scan_resource(x, f.body, f.end) != 0)
			return -1;
	}
	return 0;
}

bool
span_wire_matches(const span_wire_index *x, const ExportRequest *req)
{
	size_t s = 0;

	if (x->n_resources != req->n_resource_spans)
		return false;
	for (size_t i = 0; i < req->n_resource_spans; i++) {
		const ResourceSpans *rs =
		    req->resource_spans[i];

		if (x->scopes[i] != rs->n_scope_spans)
			return false;
		for (size_t j = 0; j < rs->n_scope_spans; j++)
			if (x->spans_in[s++] != rs->scope_spans[j]->n_spans)
				return false;
	}
	return true;
}

void
span_wire_index_free(span_wire_index *x)
{
	free(x->spans);
	free(x->scopes);
	free(x->spans_in);
	memset(x, 0, sizeof *x);
}

/* The two functions below walk alike, so that they agree on every input:
 * up to the first field that does not read (none, after span_wire_scan). */
size_t
span_wire_stripped_len(const uint8_t *span, size_t len, bool linked)
{
	const uint8_t *p = span, *end = span + len;
	size_t n = 0;
	field f;

	while (p < end && field_next(&p, end, &f))
		if (!dropped(f.num, linked))
			n += (size_t)(f.end - f.start);
	return n;
}

size_t
span_wire_strip(const uint8_t *span, size_t len, bool linked, uint8_t *out)
{
	const uint8_t *p = span, *end = span + len, *run = span;
	size_t n = 0;
	field f;

	/* Kept fields next to each other are copied as one run. */
	while (p < end && field_next(&p, end, &f)) {
		if (!dropped(f.num, linked))
			continue;
		memcpy(out + n, run, (size_t)(f.start - run));
		n += (size_t)(f.start - run);
		run = f.end;
	}
	memcpy(out + n, run, (size_t)(p - run));
	return n + (size_t)(p - run);
}
