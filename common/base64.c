/*
 * base64.c - base64 for OTLP JSON (base64.h).
 */
#include "base64.h"
#include "common.h"

static const char b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes len bytes as padded standard base64 into a malloc'd string. */
char *
base64_encode(const uint8_t *in, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		             in[i + 2];
		*o++ = b64_digits[v >> 18 & 63];
		*o++ = b64_digits[v >> 12 & 63];
		*o++ = b64_digits[v >> 6 & 63];
		*o++ = b64_digits[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = b64_digits[v >> 18 & 63];
		*o++ = b64_digits[v >> 12 & 63];
		*o++ = i + 1 < len ? b64_digits[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
digit_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-') /* standard and URL-safe alphabets */
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes base64 (standard or URL-safe, padding optional) into out, which
 * has room for len * 3 / 4 + 3 bytes. Returns the byte count or -1. */
long
base64_decode(const char *in, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, i;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		int v = digit_value(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (len % 4 == 1)
		return -1;
	return (long)n;
}
