/*
 * baggage.c - W3C baggage: an ordered list of key=value entries with
 * optional properties, and the `baggage` header.
 *
 * Grammar (W3C Baggage): list-member = key OWS "=" OWS value *(OWS ";" OWS
 * property), key = HTTP token, value = baggage-octets (printable ASCII
 * without space, '"', ',', ';', '\'), percent-encoded. We keep values
 * decoded and encode on output; properties are kept as text. Invalid
 * members are skipped on parse; past TRACE_BAGGAGE_MAX_ENTRIES entries or
 * TRACE_BAGGAGE_MAX_BYTES of header, members are dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "propagation.h"

struct entry {
	char *key;
	char *value; /* decoded */
	char *meta;  /* properties after ';', or NULL */
};

struct trace_baggage {
	struct entry *v;
	size_t n, cap;
};

static _Thread_local const trace_baggage *current_baggage;

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static bool
tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
token_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static bool
octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
	       c != '\\';
}

/* Encoded length of a decoded value: '%' and non-octets become %XX. */
static size_t
encoded_len(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++)
		n += (octet((unsigned char)*v) && *v != '%') ? 1 : 3;
	return n;
}

static size_t
entry_len(const struct entry *e)
{
	return strlen(e->key) + 1 + encoded_len(e->value) +
	       (e->meta != NULL ? 1 + strlen(e->meta) : 0);
}

/* Header length of b with entry `skip` replaced by `with` (either may be
 * out of range / NULL). */
static size_t
header_len(const trace_baggage *b, size_t skip, const struct entry *with)
{
	size_t total = 0, count = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (i == skip)
			continue;
		total += entry_len(&b->v[i]);
		count++;
	}
	if (with != NULL) {
		total += entry_len(with);
		count++;
	}
	return count > 0 ? total + count - 1 : 0;
}

/* Validate a property list "p1;k = v; p3" (each key a token, each value
 * baggage-octets). */
static bool
meta_valid(const char *m, size_t len)
{
	const char *end = m + len;

	for (const char *p = m; p <= end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *a = p, *b = semi != NULL ? semi : end;
		const char *eq;

		while (a < b && is_ows(*a))
			a++;
		while (b > a && is_ows(b[-1]))
			b--;
		eq = memchr(a, '=', (size_t)(b - a));
		if (eq == NULL) {
			if (!token_valid(a, (size_t)(b - a)))
				return false;
		} else {
			const char *ke = eq, *vs = eq + 1;
			while (ke > a && is_ows(ke[-1]))
				ke--;
			while (vs < b && is_ows(*vs))
				vs++;
			if (!token_valid(a, (size_t)(ke - a)))
				return false;
			for (const char *q = vs; q < b; q++)
				if (!octet((unsigned char)*q))
					return false;
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return true;
}

static void
entry_free(struct entry *e)
{
	free(e->key);
	free(e->value);
	free(e->meta);
}

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static size_t
find(const trace_baggage *b, const char *key, size_t klen)
{
	for (size_t i = 0; i < b->n; i++)
		if (strlen(b->v[i].key) == klen &&
		    memcmp(b->v[i].key, key, klen) == 0)
			return i;
	return SIZE_MAX;
}

/* Insert or replace; takes ownership of e's strings on TRACE_OK. */
static int
put(trace_baggage *b, struct entry *e)
{
	size_t i = find(b, e->key, strlen(e->key));

	if (header_len(b, i, e) > TRACE_BAGGAGE_MAX_BYTES)
		return TRACE_ENOSPACE;
	if (i != SIZE_MAX) {
		entry_free(&b->v[i]);
		b->v[i] = *e;
		return TRACE_OK;
	}
	if (b->n == TRACE_BAGGAGE_MAX_ENTRIES)
		return TRACE_ENOSPACE;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		struct entry *v = realloc(b->v, cap * sizeof *v);
		if (v == NULL)
			return TRACE_ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *e;
	return TRACE_OK;
}

int
trace_baggage_new(trace_baggage **out)
{
	if (out == NULL)
		return TRACE_EINVAL;
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return TRACE_ENOMEM;
	return TRACE_OK;
}

void
trace_baggage_free(trace_baggage *b)
{
	if (b == NULL)
		return;
	if (current_baggage == b)
		current_baggage = NULL;
	for (size_t i = 0; i < b->n; i++)
		entry_free(&b->v[i]);
	free(b->v);
	free(b);
}

int
trace_baggage_set(
    trace_baggage *b, const char *key, const char *value, const char *metadata)
{
	struct entry e;
	int rv;

	if (b == NULL || key == NULL || value == NULL)
		return TRACE_EINVAL;
	if (!token_valid(key, strlen(key)))
		return TRACE_EINVAL;
	if (metadata != NULL &&
	    (metadata[0] == '\0' || !meta_valid(metadata, strlen(metadata))))
		return TRACE_EINVAL;
	e.key = dupn(key, strlen(key));
	e.value = dupn(value, strlen(value));
	e.meta = metadata != NULL ? dupn(metadata, strlen(metadata)) : NULL;
	if (e.key == NULL || e.value == NULL ||
	    (metadata != NULL && e.meta == NULL)) {
		entry_free(&e);
		return TRACE_ENOMEM;
	}
	if ((rv = put(b, &e)) != TRACE_OK)
		entry_free(&e);
	return rv;
}

const char *
trace_baggage_get(const trace_baggage *b, const char *key)
{
	size_t i;

	if (b == NULL || key == NULL)
		return NULL;
	i = find(b, key, strlen(key));
	return i == SIZE_MAX ? NULL : b->v[i].value;
}

int
trace_baggage_remove(trace_baggage *b, const char *key)
{
	size_t i;

	if (b == NULL || key == NULL)
		return TRACE_EINVAL;
	if ((i = find(b, key, strlen(key))) == SIZE_MAX)
		return TRACE_ENOTFOUND;
	entry_free(&b->v[i]);
	memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof b->v[0]);
	b->n--;
	return TRACE_OK;
}

size_t
trace_baggage_count(const trace_baggage *b)
{
	return b != NULL ? b->n : 0;
}

int
trace_baggage_entry(const trace_baggage *b, size_t i, const char **key,
    const char **value, const char **metadata)
{
	if (b == NULL)
		return TRACE_EINVAL;
	if (i >= b->n)
		return TRACE_ENOTFOUND;
	if (key != NULL)
		*key = b->v[i].key;
	if (value != NULL)
		*value = b->v[i].value;
	if (metadata != NULL)
		*metadata = b->v[i].meta;
	return TRACE_OK;
}

/* Parse one trimmed list-member [a, b) into *e (allocated). Returns
 * TRACE_OK, TRACE_EINVAL (skip it) or TRACE_ENOMEM. */
static int
member_parse(const char *a, const char *b, struct entry *e)
{
	const char *semi = memchr(a, ';', (size_t)(b - a));
	const char *kv_end = semi != NULL ? semi : b;
	const char *eq = memchr(a, '=', (size_t)(kv_end - a));
	const char *ke, *vs, *ve;
	char *d;

	memset(e, 0, sizeof *e);
	if (eq == NULL)
		return TRACE_EINVAL;
	for (ke = eq; ke > a && is_ows(ke[-1]);)
		ke--;
	for (vs = eq + 1; vs < kv_end && is_ows(*vs);)
		vs++;
	for (ve = kv_end; ve > vs && is_ows(ve[-1]);)
		ve--;
	if (!token_valid(a, (size_t)(ke - a)))
		return TRACE_EINVAL;
	for (const char *q = vs; q < ve; q++)
		if (!octet((unsigned char)*q))
			return TRACE_EINVAL;
	if (semi != NULL) {
		const char *ms = semi + 1, *me = b;
		while (ms < me && is_ows(*ms))
			ms++;
		if (ms == me || !meta_valid(ms, (size_t)(me - ms)))
			return TRACE_EINVAL;
		if ((e->meta = dupn(ms, (size_t)(me - ms))) == NULL)
			return TRACE_ENOMEM;
	}
	e->key = dupn(a, (size_t)(ke - a));
	e->value = d = malloc((size_t)(ve - vs) + 1);
	if (e->key == NULL || d == NULL) {
		entry_free(e);
		return TRACE_ENOMEM;
	}
	/* Percent-decode; a broken escape makes the member invalid. */
	for (const char *q = vs; q < ve; q++) {
		if (*q == '%') {
			int hi = q + 2 < ve ? trace__hexdigit(q[1]) : -1;
			int lo = hi >= 0 ? trace__hexdigit(q[2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				entry_free(e);
				return TRACE_EINVAL;
			}
			*d++ = (char)(hi << 4 | lo);
			q += 2;
		} else {
			*d++ = *q;
		}
	}
	*d = '\0';
	return TRACE_OK;
}

int
trace_baggage_parse(trace_baggage *b, const char *value)
{
	size_t added = 0;

	if (b == NULL || value == NULL)
		return TRACE_EINVAL;
	for (const char *p = value;;) {
		const char *comma = strchr(p, ',');
		const char *a = p, *e = comma != NULL ? comma : p + strlen(p);
		struct entry en;
		int rv;

		while (a < e && is_ows(*a))
			a++;
		while (e > a && is_ows(e[-1]))
			e--;
		if (a < e) {
			rv = member_parse(a, e, &en);
			if (rv == TRACE_ENOMEM)
				return rv;
			if (rv == TRACE_OK) {
				if ((rv = put(b, &en)) == TRACE_OK)
					added++;
				else
					entry_free(&en);
				if (rv == TRACE_ENOMEM)
					return rv;
			}
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return added > 0 ? TRACE_OK : TRACE_ENOTFOUND;
}

int
trace_baggage_format(const trace_baggage *b, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need, o = 0;

	if (b == NULL || buf == NULL || len == 0)
		return TRACE_EINVAL;
	need = header_len(b, SIZE_MAX, NULL);
	if (need + 1 > len)
		return TRACE_ENOSPACE;
	for (size_t i = 0; i < b->n; i++) {
		const struct entry *e = &b->v[i];
		size_t kl = strlen(e->key);

		if (i > 0)
			buf[o++] = ',';
		memcpy(buf + o, e->key, kl);
		o += kl;
		buf[o++] = '=';
		for (const char *v = e->value; *v != '\0'; v++) {
			unsigned char c = (unsigned char)*v;
			if (octet(c) && c != '%') {
				buf[o++] = (char)c;
			} else {
				buf[o++] = '%';
				buf[o++] = hex[c >> 4];
				buf[o++] = hex[c & 0x0f];
			}
		}
		if (e->meta != NULL) {
			size_t ml = strlen(e->meta);
			buf[o++] = ';';
			memcpy(buf + o, e->meta, ml);
			o += ml;
		}
	}
	buf[o] = '\0';
	return TRACE_OK;
}

int
trace_baggage_inject(
    const trace_baggage *b, void *carrier, trace_carrier_set_fn set)
{
	size_t need;
	char *buf;
	int rv;

	if (b == NULL || set == NULL)
		return TRACE_EINVAL;
	if (b->n == 0)
		return TRACE_OK;
	need = header_len(b, SIZE_MAX, NULL) + 1;
	if ((buf = malloc(need)) == NULL)
		return TRACE_ENOMEM;
	if ((rv = trace_baggage_format(b, buf, need)) == TRACE_OK)
		set(carrier, "baggage", buf);
	free(buf);
	return rv;
}

int
trace_baggage_extract(
    trace_baggage **out, void *carrier, trace_carrier_get_fn get)
{
	const char *v;
	int rv;

	if (out == NULL)
		return TRACE_EINVAL;
	*out = NULL;
	if (get == NULL)
		return TRACE_EINVAL;
	if ((v = get(carrier, "baggage")) == NULL)
		return TRACE_ENOTFOUND;
	if ((rv = trace_baggage_new(out)) != TRACE_OK)
		return rv;
	if ((rv = trace_baggage_parse(*out, v)) != TRACE_OK) {
		trace_baggage_free(*out);
		*out = NULL;
	}
	return rv;
}

const trace_baggage *
trace_baggage_set_current(const trace_baggage *b)
{
	const trace_baggage *prev = current_baggage;

	current_baggage = b;
	return prev;
}

const trace_baggage *
trace_baggage_current(void)
{
	return current_baggage;
}
