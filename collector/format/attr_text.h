/*
 * attr_text.h - the text an attribute value is searched by: the RocksDB
 * index's attribute postings and the ClickHouse backend's attribute rows
 * both store it, and search compares the asked value with it.
 */
#ifndef COLLECTOR_FORMAT_ATTR_TEXT_H
#define COLLECTOR_FORMAT_ATTR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "otlp_types.h"
#include "tracequery.pb-c.h"

/* attr_text renders a scalar AnyValue as the text that attribute search
 * compares with (strings as is, ints in decimal, bools as true/false,
 * doubles shortest round-trip). Returns false for arrays, kvlists, bytes
 * and unset values. *out points into buf or the value. */
bool attr_text(const AnyValue *v, char *buf, size_t buflen,
    const char **out, size_t *out_len);
/* attr_text_match: does one of kv have key and, as attr_text renders
 * it, value? What both backends' searches check a span with. */
bool attr_text_match(KeyValue *const *kv, size_t n, const char *key,
    const char *value);
/* attr_text_match_all: does each of the n filters f hold on the span's
 * attributes or its resource's (rs may be NULL)? */
bool attr_text_match_all(Tracequery__V1__AttrFilter *const *f, size_t n,
    const Span *sp, const ResourceSpans *rs);

#endif /* COLLECTOR_FORMAT_ATTR_TEXT_H */
