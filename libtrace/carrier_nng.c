/*
 * carrier_nng.c - the trace context as a prefix of an nng_msg body.
 *
 * nng messages have no user headers (REQ/REP keeps its routing in the
 * header), so the context rides at the front of the body. Layout, all
 * integers big-endian (docs/PROPAGATION.md):
 *
 *   off len
 *     0   4  magic 0x7f 'T' 'R' 'C'
 *     4   1  version (1)
 *     5   1  trace flags
 *     6   2  prefix length N, magic included
 *     8  16  trace ID
 *    24   8  span ID
 *    32   2  tracestate length L (at most 512)
 *    34   L  tracestate, ASCII, no NUL
 *
 * Version 1 has N == 34 + L. A later version may append fields (N > 34 +
 * L); a version-1 reader uses the fields it knows and strips all N bytes.
 * 0x7f cannot start a protobuf message (it would be field 15 with wire type
 * 7, which does not exist) nor JSON or text, so an untraced body is never
 * taken for a prefix by accident. Extraction validates everything before
 * it touches the message and never reads past nng_msg_len().
 */
#include <string.h>

#include <nng/nng.h>

#include "propagation.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int
trace_nng_msg_inject_context(const trace_context *ctx, nng_msg *msg)
{
	uint8_t buf[TRACE__NNG_FIXED + TRACE_TRACESTATE_MAX];
	size_t tslen;

	if (msg == NULL || !trace_context_is_valid(ctx))
		return TRACE_EINVAL;
	tslen = strnlen(ctx->tracestate, TRACE_TRACESTATE_MAX);
	buf[0] = TRACE__NNG_MAGIC0;
	buf[1] = TRACE__NNG_MAGIC1;
	buf[2] = TRACE__NNG_MAGIC2;
	buf[3] = TRACE__NNG_MAGIC3;
	buf[4] = TRACE__NNG_VERSION;
	buf[5] = ctx->flags & TRACE__FLAGS_KNOWN;
	put16(buf + 6, TRACE__NNG_FIXED + tslen);
	memcpy(buf + 8, ctx->trace_id.bytes, 16);
	memcpy(buf + 24, ctx->span_id.bytes, 8);
	put16(buf + 32, tslen);
	memcpy(buf + TRACE__NNG_FIXED, ctx->tracestate, tslen);
	/*
	 * Not nng_msg_insert(): in NNG 1.5.2 it overflows the buffer when the
	 * body has some headroom but less than the inserted length (it shifts
	 * the body from its offset start as if the headroom were tail room;
	 * ASan shows it on a fresh nng_msg_alloc(&m, 0)). Grow at the end,
	 * which NNG does right, then slide the body up.
	 */
	size_t plen = TRACE__NNG_FIXED + tslen, len = nng_msg_len(msg);
	uint8_t *body;
	if (nng_msg_realloc(msg, len + plen) != 0)
		return TRACE_ENOMEM;
	body = nng_msg_body(msg);
	memmove(body + plen, body, len);
	memcpy(body, buf, plen);
	return TRACE_OK;
}

int
trace_nng_msg_extract(nng_msg *msg, trace_context *out)
{
	char ts[TRACE_TRACESTATE_MAX + 1];
	const uint8_t *b;
	size_t len, plen, tslen;

	if (out == NULL)
		return TRACE_EINVAL;
	memset(out, 0, sizeof *out);
	if (msg == NULL)
		return TRACE_EINVAL;
	b = nng_msg_body(msg);
	len = nng_msg_len(msg);
	if (len < TRACE__NNG_FIXED || b[0] != TRACE__NNG_MAGIC0 ||
	    b[1] != TRACE__NNG_MAGIC1 || b[2] != TRACE__NNG_MAGIC2 ||
	    b[3] != TRACE__NNG_MAGIC3 || b[4] == 0)
		return TRACE_ENOTFOUND;
	plen = get16(b + 6);
	tslen = get16(b + 32);
	if (tslen > TRACE_TRACESTATE_MAX || plen > len ||
	    plen < TRACE__NNG_FIXED + tslen ||
	    (b[4] == TRACE__NNG_VERSION && plen != TRACE__NNG_FIXED + tslen))
		return TRACE_ENOTFOUND;
	memcpy(out->trace_id.bytes, b + 8, 16);
	memcpy(out->span_id.bytes, b + 24, 8);
	if (!trace_context_is_valid(out)) {
		memset(out, 0, sizeof *out);
		return TRACE_ENOTFOUND;
	}
	out->flags = b[5] & TRACE__FLAGS_KNOWN;
	out->is_remote = true;
	/* A bad tracestate is dropped; the context itself stays good. */
	memcpy(ts, b + TRACE__NNG_FIXED, tslen);
	ts[tslen] = '\0';
	if (strlen(ts) == tslen)
		trace__tracestate_parse(ts, trace__tracecontext_level(),
		    out->tracestate, sizeof out->tracestate);
	nng_msg_trim(msg, plen);
	return TRACE_OK;
}
