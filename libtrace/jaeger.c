/*
 * jaeger.c - Jaeger's uber-trace-id header:
 * "{trace-id}:{span-id}:{parent-span-id}:{flags}".
 *
 * Jaeger clients drop leading zeros, so IDs are 1-32 (trace) and 1-16
 * (span, parent) hex digits of either case, padded on the left. The flags
 * are 1-2 hex digits: 0x01 sampled, 0x02 debug (read as sampled). The
 * parent span ID is deprecated and ignored once validated. A value whose
 * colons arrive URL-encoded ("%3A") is accepted. Jaeger's uberctx-* baggage
 * headers are not supported (use W3C baggage).
 */
#include <string.h>

#include "propagation.h"

#define JAEGER_MAX 69 /* 32 + 16 + 16 + 2 digits, 3 colons */

/* Decode 1..2*n hex digits, right-aligned into n bytes (left zero pad). */
static bool
hex_padded(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len < 1 || len > 2 * n)
		return false;
	memset(out, 0, n);
	for (size_t i = 0; i < len; i++) {
		int d = trace__hexdigit(s[len - 1 - i]);
		if (d < 0)
			return false;
		out[n - 1 - i / 2] |= (uint8_t)(i % 2 ? d << 4 : d);
	}
	return true;
}

int
trace__jaeger_parse(const char *value, trace_context *out)
{
	char buf[JAEGER_MAX + 1];
	const char *f[4];
	size_t flen[4], nf = 0, n = 0;
	uint8_t parent[8], flags;

	memset(out, 0, sizeof *out);
	if (value == NULL)
		return TRACE_EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	/* Copy, turning "%3A" into ':' and stopping at trailing OWS. */
	for (const char *p = value; *p != '\0';) {
		char c = *p;
		if (c == '%' && p[1] == '3' && (p[2] == 'A' || p[2] == 'a')) {
			c = ':';
			p += 3;
		} else {
			p++;
		}
		if (n == JAEGER_MAX)
			return TRACE_EINVAL;
		buf[n++] = c;
	}
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';

	f[0] = buf;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != ':')
			continue;
		if (nf == 3)
			return TRACE_EINVAL;
		flen[nf] = (size_t)(buf + i - f[nf]);
		nf++;
		f[nf] = buf + i + 1;
	}
	flen[nf] = (size_t)(buf + n - f[nf]);
	if (++nf != 4)
		return TRACE_EINVAL;

	if (!hex_padded(f[0], flen[0], out->trace_id.bytes, 16) ||
	    !hex_padded(f[1], flen[1], out->span_id.bytes, 8) ||
	    !hex_padded(f[2], flen[2], parent, 8) ||
	    !hex_padded(f[3], flen[3], &flags, 1) ||
	    !trace_context_is_valid(out)) {
		memset(out, 0, sizeof *out);
		return TRACE_EINVAL;
	}
	out->flags = (flags & 0x03) ? TRACE_FLAG_SAMPLED : 0;
	out->is_remote = true;
	return TRACE_OK;
}

int
trace__jaeger_format(const trace_context *ctx, char *buf, size_t len)
{
	if (!trace_context_is_valid(ctx))
		return TRACE_EINVAL;
	if (len < 54)
		return TRACE_ENOSPACE;
	trace__hex_encode(ctx->trace_id.bytes, 16, buf);
	buf[32] = ':';
	trace__hex_encode(ctx->span_id.bytes, 8, buf + 33);
	memcpy(buf + 49, ":0:", 3);
	buf[52] = (ctx->flags & TRACE_FLAG_SAMPLED) ? '1' : '0';
	buf[53] = '\0';
	return TRACE_OK;
}
