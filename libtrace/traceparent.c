/*
 * traceparent.c - the W3C traceparent header, trace and span IDs as hex.
 *
 * Parsing follows W3C Trace Context level 1 and 2 (the rules are the same
 * for traceparent): lowercase hex only, version "ff" forbidden, version "00"
 * exactly 55 chars, higher versions at least 55 chars with a '-' after the
 * flags when longer, all-zero IDs invalid. Spaces and tabs around the value
 * are ignored, as the w3c test suite expects.
 */
#include <string.h>

#include "propagation.h"

#define TP_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

/* Lowercase hex digit values plus one, so that the zero-filled rest of the
 * table (uppercase included) means "not a digit". */
/* clang-format off */
static const int8_t hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
/* clang-format on */

static const char hexdigits[] = "0123456789abcdef";

bool
trace__hex_lc(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval[(unsigned char)s[2 * i]];
		int lo = hexval[(unsigned char)s[2 * i + 1]];

		if (hi == 0 || lo == 0)
			return false;
		out[i] = (uint8_t)(((hi - 1) << 4) | (lo - 1));
	}
	return true;
}

int
trace__hexdigit(int c)
{
	if (c >= 'A' && c <= 'F')
		c += 'a' - 'A';
	return hexval[(unsigned char)c] - 1;
}

void
trace__hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

bool
trace__is_zero(const uint8_t *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8); /* IDs are 8 or 16 bytes: word loads */
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

bool
trace_context_is_valid(const trace_context *ctx)
{
	if (ctx == NULL)
		return false;
	return !trace__is_zero(ctx->trace_id.bytes, sizeof ctx->trace_id) &&
	       !trace__is_zero(ctx->span_id.bytes, sizeof ctx->span_id);
}

void
trace_trace_id_to_hex(const trace_trace_id *id, char *hex)
{
	if (id == NULL || hex == NULL)
		return;
	trace__hex_encode(id->bytes, sizeof id->bytes, hex);
}

void
trace_span_id_to_hex(const trace_span_id *id, char *hex)
{
	if (id == NULL || hex == NULL)
		return;
	trace__hex_encode(id->bytes, sizeof id->bytes, hex);
}

int
trace_traceparent_format(const trace_context *ctx, char *buf, size_t len)
{
	if (ctx == NULL || buf == NULL || !trace_context_is_valid(ctx))
		return TRACE_EINVAL;
	if (len < TP_LEN + 1)
		return TRACE_ENOSPACE;
	buf[0] = '0';
	buf[1] = '0';
	buf[2] = '-';
	trace__hex_encode(ctx->trace_id.bytes, 16, buf + 3);
	buf[35] = '-';
	trace__hex_encode(ctx->span_id.bytes, 8, buf + 36);
	buf[52] = '-';
	/* Unknown flag bits are never sent on (W3C: vendors set them to 0). */
	uint8_t flags = ctx->flags & TRACE__FLAGS_KNOWN;
	buf[53] = hexdigits[flags >> 4];
	buf[54] = hexdigits[flags & 0x0f];
	buf[55] = '\0';
	return TRACE_OK;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int
trace_traceparent_parse(const char *value, trace_context *out)
{
	const char *s, *end;
	uint8_t version, flags;
	size_t n;

	if (out == NULL)
		return TRACE_EINVAL;
	if (value == NULL)
		goto invalid;

	s = value;
	while (is_ows(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_ows(end[-1]))
		end--;
	n = (size_t)(end - s);

	/* Version: two lowercase hex digits and a '-', never "ff". */
	if (n < 3 || !trace__hex_lc(s, &version, 1) || s[2] != '-')
		goto invalid;
	if (version == 0xff)
		goto invalid;
	if (version == 0x00) {
		if (n != TP_LEN)
			goto invalid;
	} else {
		/* A future version may append fields after a '-'; what we
		 * cannot read we drop, and we send version 00 onwards. */
		if (n < TP_LEN || (n > TP_LEN && s[TP_LEN] != '-'))
			goto invalid;
	}
	if (s[35] != '-' || s[52] != '-')
		goto invalid;
	if (!trace__hex_lc(s + 3, out->trace_id.bytes, 16) ||
	    !trace__hex_lc(s + 36, out->span_id.bytes, 8) ||
	    !trace__hex_lc(s + 53, &flags, 1))
		goto invalid;
	if (!trace_context_is_valid(out))
		goto invalid;
	/* Only the string's first byte: the rest of the 513 is not read. */
	out->flags = flags & TRACE__FLAGS_KNOWN;
	out->is_remote = true;
	out->tracestate[0] = '\0';
	return TRACE_OK;

invalid:
	memset(out, 0, sizeof *out);
	return TRACE_EINVAL;
}
