/*
 * sanitize.c - make strings from the wire safe for a terminal.
 *
 * Names, attribute keys and values, event names and service names come from
 * whoever sent spans to the collector. Written raw, an ESC could move the
 * cursor, retitle the window or worse, and a bidi override could make one
 * name read as another. Every such character becomes a visible, inert
 * escape: C0 controls and DEL as "\xNN" (or "\n", "\t", "\r"), C1 controls,
 * bidi controls and line separators as "\uNNNN", invalid UTF-8 bytes as
 * "\xNN". In ASCII mode every other non-ASCII character becomes '?'.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tracecli.h"

int32_t
utf8_decode(const char **pp)
{
	const unsigned char *p = (const unsigned char *)*pp;
	int32_t cp;
	int n;

	if (p[0] < 0x80) {
		*pp += 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 3;
		cp = p[0] & 0x07;
	} else {
		*pp += 1;
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*pp += 1;
			return -1;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
		*pp += 1;
		return -1;
	}
	*pp += n + 1;
	return cp;
}

/* True for code points that must never reach a terminal raw. */
static bool
is_dangerous(int32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes the escape for cp (or a raw byte when cp < 0) into e; returns its
 * length. */
static size_t
escape_of(int32_t cp, unsigned char raw, char *e, size_t elen)
{
	static const char hexd[] = "0123456789abcdef";

	if (cp == '\n')
		return (size_t)snprintf(e, elen, "\\n");
	if (cp == '\t')
		return (size_t)snprintf(e, elen, "\\t");
	if (cp == '\r')
		return (size_t)snprintf(e, elen, "\\r");
	if (cp < 0 || cp < 0x20 || cp == 0x7f) {
		unsigned b = cp < 0 ? raw : (unsigned)cp;
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hexd[b >> 4];
		e[3] = hexd[b & 15];
		e[4] = '\0';
		return 4;
	}
	return (size_t)snprintf(e, elen, "\\u%04x", (unsigned)cp);
}

bool
sanitize_is_clean(const char *s, san_mode mode)
{
	if (s == NULL)
		return true;
	for (const char *p = s; *p != '\0';) {
		int32_t cp = utf8_decode(&p);
		if (cp < 0 || is_dangerous(cp) || (mode == SAN_ASCII && cp > 0x7e))
			return false;
	}
	return true;
}

char *
sanitize_buf(const char *s, size_t len, san_mode mode, char *out,
    size_t outlen)
{
	const char *p = s, *end = s + len;
	size_t o = 0;
	char e[16];

	if (outlen == 0)
		return out;
	while (s != NULL && p < end && *p != '\0') {
		const char *start = p;
		int32_t cp = utf8_decode(&p);
		size_t n;
		const char *src;

		if (p > end) {	/* a sequence cut by len */
			cp = -1;
			p = start + 1;
		}
		if (cp < 0 || is_dangerous(cp)) {
			n = escape_of(cp, (unsigned char)*start, e, sizeof e);
			src = e;
		} else if (mode == SAN_ASCII && cp > 0x7e) {
			n = 1;
			src = "?";
		} else {
			n = (size_t)(p - start);
			src = start;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, src, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

char *
sanitize_dup(const char *s, san_mode mode)
{
	if (s == NULL)
		return xstrdup("");
	if (sanitize_is_clean(s, mode))
		return xstrdup(s);
	size_t len = strlen(s), cap = len * 6 + 1;	/* "\u202e" per byte */
	char *out = xmalloc(cap);
	sanitize_buf(s, len, mode, out, cap);
	return out;
}

/* Columns one code point takes; unknown widths count as one. */
static int
cp_width(int32_t cp)
{
	if (cp < 0x80)
		return 1;
	int w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

int
utf8_width(const char *s)
{
	int w = 0;

	for (const char *p = s; *p != '\0';)
		w += cp_width(utf8_decode(&p));
	return w;
}

int
utf8_fit(const char *s, int cols, bool pad, san_mode mode, char *out,
    size_t outlen)
{
	const char *ell = mode == SAN_ASCII ? "~" : "\xe2\x80\xa6";
	size_t ell_len = strlen(ell), o = 0;
	int w = 0;

	if (outlen == 0)
		return 0;
	if (cols <= 0) {
		out[0] = '\0';
		return 0;
	}
	bool cut = utf8_width(s) > cols;
	int room = cut ? cols - 1 : cols;
	for (const char *p = s; *p != '\0';) {
		const char *start = p;
		int cw = cp_width(utf8_decode(&p));
		size_t n = (size_t)(p - start);
		if (w + cw > room || o + n + 1 >= outlen)
			break;
		memcpy(out + o, start, n);
		o += n;
		w += cw;
	}
	if (cut && o + ell_len + 1 < outlen) {
		memcpy(out + o, ell, ell_len);
		o += ell_len;
		w++;
	}
	while (pad && w < cols && o + 2 < outlen) {
		out[o++] = ' ';
		w++;
	}
	out[o] = '\0';
	return w;
}
