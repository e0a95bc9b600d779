/*
 * fuzz_sanitize.c - libFuzzer target for tracecli's terminal sanitiser
 * (tracecli/sanitize.c): every string from the wire passes through it
 * before it reaches a terminal.
 *
 * Input: byte 0 picks the mode (bit 0: ASCII), byte 1 the output buffer
 * size for sanitize_buf and byte 2 the column count for utf8_fit; the rest
 * is the wire string (cut at its first NUL, as a C string would be).
 *
 * Invariants: the output is valid UTF-8 (ASCII in ASCII mode) holding no
 * ESC or other C0 control, no DEL, no C1 control and no bidi control or
 * line separator; it is itself clean and sanitising it again changes
 * nothing; a clean input comes back unchanged; sanitize_buf never writes
 * more than its buffer and cuts only between characters; utf8_fit stays
 * within its columns and its buffer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tracecli.h"

/* Decodes one UTF-8 character strictly; -1 when invalid. */
static int32_t
san_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	int32_t cp;
	int n;

	if (p[0] < 0x80) {
		*pp += 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 1, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 2, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 3, cp = p[0] & 0x07;
	else
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*pp += n + 1;
	return cp;
}

/* Checks that s is safe for a terminal in mode. */
static void
san_check_safe(const char *s, san_mode mode)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		int32_t cp = san_next(&p);

		FUZZ_CHECK(cp >= 0);		/* valid UTF-8 */
		FUZZ_CHECK(cp >= 0x20);		/* no C0, no ESC */
		FUZZ_CHECK(cp != 0x7f);		/* no DEL */
		FUZZ_CHECK(cp < 0x80 || cp > 0x9f); /* no C1 */
		FUZZ_CHECK(cp != 0x061c && cp != 0x200e && cp != 0x200f);
		FUZZ_CHECK(cp < 0x2028 || cp > 0x202e); /* LS, PS, LRE..RLO */
		FUZZ_CHECK(cp < 0x2066 || cp > 0x2069); /* LRI..PDI */
		if (mode == SAN_ASCII)
			FUZZ_CHECK(cp < 0x7f);
	}
	FUZZ_CHECK(sanitize_is_clean(s, mode));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	san_mode mode;
	size_t outlen, len, cut;
	int cols, w;
	char *s, *dup, *again, *buf, *fit;

	if (size < 3)
		return 0;
	mode = (data[0] & 1) ? SAN_ASCII : SAN_UTF8;
	outlen = data[1];
	cols = data[2] % 100;
	s = fuzz_strndup(data + 3, size - 3);
	len = strlen(s);

	/* sanitize_dup: safe, idempotent, identity on clean input. */
	dup = sanitize_dup(s, mode);
	san_check_safe(dup, mode);
	if (sanitize_is_clean(s, mode))
		FUZZ_CHECK(strcmp(dup, s) == 0);
	again = sanitize_dup(dup, mode);
	FUZZ_CHECK(strcmp(again, dup) == 0);
	free(again);

	/* sanitize_buf into an exact-size heap buffer (ASan sees overruns),
	 * on all of s and on a prefix that may cut a character. */
	buf = malloc(outlen + 1);
	FUZZ_CHECK(buf != NULL);
	cut = len > 0 ? (size_t)data[0] % (len + 1) : 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t n = pass == 0 ? len : cut;

		buf[outlen] = 'Z';
		if (outlen == 0)
			continue;
		FUZZ_CHECK(sanitize_buf(s, n, mode, buf, outlen) == buf);
		FUZZ_CHECK(buf[outlen] == 'Z');
		FUZZ_CHECK(strlen(buf) < outlen);
		san_check_safe(buf, mode);
		/* A cut output is a prefix of the whole one. */
		if (pass == 0)
			FUZZ_CHECK(strncmp(buf, dup, strlen(buf)) == 0);
	}
	free(buf);

	/* utf8_fit on the safe string: within columns and buffer. */
	fit = malloc(outlen + 1);
	FUZZ_CHECK(fit != NULL);
	fit[outlen] = 'Z';
	w = utf8_fit(dup, cols, (data[0] & 2) != 0, mode, fit, outlen);
	FUZZ_CHECK(fit[outlen] == 'Z');
	if (outlen > 0) {
		FUZZ_CHECK(strlen(fit) < outlen);
		FUZZ_CHECK(w >= 0 && w <= cols);
		FUZZ_CHECK(utf8_width(fit) == w);
		san_check_safe(fit, mode);
	}
	free(fit);
	free(dup);
	free(s);
	return 0;
}
