/* attr_text.c - an attribute value as searchable text (attr_text.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/attr_text.h"

/* v in decimal at buf, as "%" PRId64 writes it: every span's integer
 * attributes pass here, and snprintf cost more than the rest of their
 * indexing. Returns the length. */
static size_t
int_text(int64_t v, char *buf, size_t buflen)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[n++] = '-';
	if (n + 1 > buflen)
		return (size_t)snprintf(buf, buflen, "%" PRId64, v);
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

bool
attr_text(const AnyValue *v, char *buf, size_t buflen,
    const char **out, size_t *out_len)
{
	if (v == NULL)
		return false;
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		*out = v->string_value;
		*out_len = strlen(v->string_value);
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		*out = v->bool_value ? "true" : "false";
		*out_len = strlen(*out);
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		*out_len = int_text(v->int_value, buf, buflen);
		*out = buf;
		return true;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		snprintf(buf, buflen, "%.15g", v->double_value);
		if (strtod(buf, NULL) != v->double_value)
			snprintf(buf, buflen, "%.17g", v->double_value);
		*out = buf;
		*out_len = strlen(buf);
		return true;
	default:
		return false;
	}
}

bool
attr_text_match(KeyValue *const *kv, size_t n, const char *key,
    const char *value)
{
	char buf[64];
	const char *txt;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i]->key, key) != 0)
			continue;
		if (attr_text(kv[i]->value, buf, sizeof buf, &txt,
		    &len) && len == strlen(value) &&
		    memcmp(txt, value, len) == 0)
			return true;
	}
	return false;
}

bool
attr_text_match_all(Tracequery__V1__AttrFilter *const *f, size_t n,
    const Span *sp, const ResourceSpans *rs)
{
	for (size_t i = 0; i < n; i++) {
		if (attr_text_match(sp->attributes, sp->n_attributes, f[i]->key,
		    f[i]->value))
			continue;
		if (rs != NULL && rs->resource != NULL &&
		    attr_text_match(rs->resource->attributes,
		    rs->resource->n_attributes, f[i]->key, f[i]->value))
			continue;
		return false;
	}
	return true;
}
