/*
 * b3.c - Zipkin B3 propagation, single header ("b3") and multi-header
 * (X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId, X-B3-Sampled, X-B3-Flags).
 *
 * IDs are lowercase hex as the B3 spec writes them: a trace ID of 16 or 32
 * digits (a 64-bit one is padded on the left with zeros), a span ID of 16.
 * Sampling: "1" sampled, "0" not, "d" (or X-B3-Flags: 1) debug, which we
 * read as sampled. An absent sampling state means the caller deferred the
 * decision; libtrace reads it as sampled, which is what its default
 * parent-based sampler would decide for a new root. A bare "b3: 0" carries
 * no IDs and so no context. B3 carries no tracestate.
 */
#include <string.h>

#include "propagation.h"

/* Parse a 16- or 32-digit trace ID of exactly len chars. */
static bool
trace_id_parse(const char *s, size_t len, trace_trace_id *id)
{
	memset(id, 0, sizeof *id);
	if (len == 32)
		return trace__hex_lc(s, id->bytes, 16);
	if (len == 16)
		return trace__hex_lc(s, id->bytes + 8, 8);
	return false;
}

static bool
span_id_parse(const char *s, size_t len, trace_span_id *id)
{
	return len == 16 && trace__hex_lc(s, id->bytes, 8);
}

static const char *
trim(const char *s, size_t *len)
{
	const char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*len = (size_t)(e - s);
	return s;
}

int
trace__b3_parse(const char *value, trace_context *out)
{
	const char *s, *f[4];
	size_t len, flen[4], nf = 0;

	memset(out, 0, sizeof *out);
	if (value == NULL)
		return TRACE_EINVAL;
	s = trim(value, &len);

	/* Split into at most four '-' separated fields. */
	f[0] = s;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '-')
			continue;
		if (nf == 3)
			return TRACE_EINVAL;
		flen[nf] = (size_t)(s + i - f[nf]);
		nf++;
		f[nf] = s + i + 1;
	}
	flen[nf] = (size_t)(s + len - f[nf]);
	nf++;
	if (nf < 2) /* "0", "1", "d": a decision without IDs */
		return TRACE_EINVAL;

	if (!trace_id_parse(f[0], flen[0], &out->trace_id) ||
	    !span_id_parse(f[1], flen[1], &out->span_id))
		goto invalid;
	out->flags = TRACE_FLAG_SAMPLED; /* deferred */
	if (nf >= 3) {
		if (flen[2] != 1)
			goto invalid;
		switch (f[2][0]) {
		case '0':
			out->flags = 0;
			break;
		case '1':
		case 'd':
			break;
		default:
			goto invalid;
		}
	}
	if (nf == 4) {
		trace_span_id parent;
		if (!span_id_parse(f[3], flen[3], &parent))
			goto invalid;
	}
	if (!trace_context_is_valid(out))
		goto invalid;
	out->is_remote = true;
	return TRACE_OK;

invalid:
	memset(out, 0, sizeof *out);
	return TRACE_EINVAL;
}

int
trace__b3_format(const trace_context *ctx, char *buf, size_t len)
{
	if (!trace_context_is_valid(ctx))
		return TRACE_EINVAL;
	if (len < 52)
		return TRACE_ENOSPACE;
	trace__hex_encode(ctx->trace_id.bytes, 16, buf);
	buf[32] = '-';
	trace__hex_encode(ctx->span_id.bytes, 8, buf + 33);
	buf[49] = '-';
	buf[50] = (ctx->flags & TRACE_FLAG_SAMPLED) ? '1' : '0';
	buf[51] = '\0';
	return TRACE_OK;
}

int
trace__b3multi_extract(
    trace_context *out, void *carrier, trace_carrier_get_fn get)
{
	const char *tid, *sid, *v;
	size_t tlen, slen, len;

	memset(out, 0, sizeof *out);
	tid = get(carrier, "X-B3-TraceId");
	sid = get(carrier, "X-B3-SpanId");
	if (tid == NULL || sid == NULL)
		return TRACE_ENOTFOUND;
	tid = trim(tid, &tlen);
	sid = trim(sid, &slen);
	if (!trace_id_parse(tid, tlen, &out->trace_id) ||
	    !span_id_parse(sid, slen, &out->span_id))
		goto invalid;

	out->flags = TRACE_FLAG_SAMPLED; /* deferred */
	if ((v = get(carrier, "X-B3-Sampled")) != NULL) {
		v = trim(v, &len);
		if ((len == 1 && v[0] == '1') ||
		    (len == 4 && memcmp(v, "true", 4) == 0))
			out->flags = TRACE_FLAG_SAMPLED;
		else if ((len == 1 && v[0] == '0') ||
		         (len == 5 && memcmp(v, "false", 5) == 0))
			out->flags = 0;
		else
			goto invalid;
	}
	if ((v = get(carrier, "X-B3-Flags")) != NULL) {
		v = trim(v, &len);
		if (len == 1 && v[0] == '1')
			out->flags = TRACE_FLAG_SAMPLED; /* debug */
		else if (!(len == 1 && v[0] == '0'))
			goto invalid;
	}
	if (!trace_context_is_valid(out))
		goto invalid;
	out->is_remote = true;
	return TRACE_OK;

invalid:
	memset(out, 0, sizeof *out);
	return TRACE_EINVAL;
}

void
trace__b3multi_inject(
    const trace_context *ctx, void *carrier, trace_carrier_set_fn set)
{
	char tid[TRACE_TRACE_ID_HEXLEN + 1], sid[TRACE_SPAN_ID_HEXLEN + 1];

	trace__hex_encode(ctx->trace_id.bytes, 16, tid);
	trace__hex_encode(ctx->span_id.bytes, 8, sid);
	set(carrier, "X-B3-TraceId", tid);
	set(carrier, "X-B3-SpanId", sid);
	set(carrier, "X-B3-Sampled",
	    (ctx->flags & TRACE_FLAG_SAMPLED) ? "1" : "0");
}
