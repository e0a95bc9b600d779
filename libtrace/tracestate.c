/*
 * tracestate.c - validation, canonical form and truncation of the W3C
 * tracestate header.
 *
 * The whole value is validated first: a bad key or value, a member without
 * '=', or more than 32 members discards all of it (W3C allows dropping only
 * the bad members, but the test suite expects the whole header to go).
 * Duplicate keys discard the header at level 1; at level 2 the first
 * (left-most, most recent) entry is kept and later ones are dropped, which
 * the level 2 spec allows and the current test suite accepts. The valid
 * members are then joined without OWS and, when longer than 512 chars, cut
 * by the W3C rule: members over 128 chars go first, then members from the
 * right end.
 */
#include <string.h>

#include "propagation.h"

#define KEY_MAX 256
#define VALUE_MAX 256
#define LONG_MEMBER 128 /* truncation removes longer members first */

struct member {
	const char *p; /* "key=value", OWS trimmed */
	size_t len;
	size_t keylen;
	bool drop;
};

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
lcdigit(char c)
{
	return lcalpha(c) || (c >= '0' && c <= '9');
}

/* Characters allowed after a key's first one (without '@'). */
static bool
keychar(char c)
{
	return lcdigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

/* Level 1: simple-key, or tenant "@" system (multi-tenant key). */
static bool
key_valid_l1(const char *k, size_t len)
{
	const char *at = memchr(k, '@', len);

	if (at == NULL) {
		if (len < 1 || len > KEY_MAX || !lcalpha(k[0]))
			return false;
		for (size_t i = 1; i < len; i++)
			if (!keychar(k[i]))
				return false;
		return true;
	}
	size_t tlen = (size_t)(at - k), slen = len - tlen - 1;
	if (tlen < 1 || tlen > 241 || slen < 1 || slen > 14)
		return false;
	if (!lcdigit(k[0]) || !lcalpha(at[1]))
		return false;
	for (size_t i = 1; i < tlen; i++)
		if (!keychar(k[i]))
			return false;
	for (size_t i = 1; i < slen; i++)
		if (!keychar(at[1 + i]))
			return false;
	return true;
}

/* Level 2: [a-z0-9] then up to 255 of [a-z0-9_-*\/@]. */
static bool
key_valid_l2(const char *k, size_t len)
{
	if (len < 1 || len > KEY_MAX || !lcdigit(k[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!keychar(k[i]) && k[i] != '@')
			return false;
	return true;
}

bool
trace__tracestate_key_valid(const char *key, size_t len, int level)
{
	if (key == NULL)
		return false;
	return level == 1 ? key_valid_l1(key, len) : key_valid_l2(key, len);
}

/* Value chars: 0x20-0x7e except ',' and '='. A table: this runs per
 * character of every extracted tracestate. */
static bool
valchar(unsigned char c)
{
	static const uint32_t bits[8] = {
	    0x00000000u, /* 0x00-0x1f */
	    0xdfffefffu, /* 0x20-0x3f without ',' (0x2c) and '=' (0x3d) */
	    0xffffffffu, /* 0x40-0x5f */
	    0x7fffffffu, /* 0x60-0x7e */
	};

	return (bits[c >> 5] >> (c & 31)) & 1;
}

bool
trace__tracestate_value_valid(const char *val, size_t len)
{
	if (val == NULL || len < 1 || len > VALUE_MAX || val[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!valchar((unsigned char)val[i]))
			return false;
	return true;
}

/* Split one list-member into key and value and validate both. */
static bool
member_valid(struct member *m, int level)
{
	const char *eq = memchr(m->p, '=', m->len);

	if (eq == NULL)
		return false;
	m->keylen = (size_t)(eq - m->p);
	return trace__tracestate_key_valid(m->p, m->keylen, level) &&
	       trace__tracestate_value_valid(eq + 1, m->len - m->keylen - 1);
}

/* Return true when m's key appeared in one of the first n members. */
static bool
is_duplicate(const struct member *v, size_t n, const struct member *m)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].drop && v[i].keylen == m->keylen &&
		    memcmp(v[i].p, m->p, m->keylen) == 0)
			return true;
	}
	return false;
}

/* Length of the kept members joined with ','. */
static size_t
joined_len(const struct member *v, size_t n)
{
	size_t total = 0, kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].drop) {
			total += v[i].len;
			kept++;
		}
	}
	return kept > 0 ? total + kept - 1 : 0;
}

int
trace__tracestate_parse(const char *value, int level, char *out, size_t cap)
{
	struct member v[TRACE__TRACESTATE_MEMBERS];
	size_t n = 0, len;
	const char *p;

	if (out == NULL || cap < TRACE_TRACESTATE_MAX + 1)
		return TRACE_EINVAL;
	out[0] = '\0';
	if (value == NULL)
		return TRACE_EINVAL;

	for (p = value;;) {
		const char *comma = strchr(p, ',');
		const char *a = p;
		const char *b = comma != NULL ? comma : p + strlen(p);

		while (a < b && is_ows(*a))
			a++;
		while (b > a && is_ows(b[-1]))
			b--;
		if (a < b) { /* empty and all-OWS members are allowed */
			struct member m = {a, (size_t)(b - a), 0, false};

			if (n == TRACE__TRACESTATE_MEMBERS ||
			    !member_valid(&m, level))
				return TRACE_EINVAL;
			if (is_duplicate(v, n, &m)) {
				if (level == 1)
					return TRACE_EINVAL;
				m.drop = true;
			}
			v[n++] = m;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}

	/* Truncate: long members first (right to left), then the tail. */
	for (size_t i = n; i-- > 0 && joined_len(v, n) > TRACE_TRACESTATE_MAX;)
		if (v[i].len > LONG_MEMBER)
			v[i].drop = true;
	for (size_t i = n; i-- > 0 && joined_len(v, n) > TRACE_TRACESTATE_MAX;)
		v[i].drop = true;

	len = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].drop)
			continue;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, v[i].p, v[i].len);
		len += v[i].len;
	}
	out[len] = '\0';
	return TRACE_OK;
}
