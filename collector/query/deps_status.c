/*
 * deps_status.c - a span's status code from its packed bytes: a walk over
 * the top-level fields to Span.status (field 15), then over the Status to
 * its code (field 3). Nothing is allocated.
 */
#include "common.h"
#include "varint.h"
#include "query/deps_status.h"

#define SPAN_STATUS_FIELD 15
#define STATUS_CODE_FIELD 3
#define STATUS_CODE_ERROR 2

/* Skips the value of one field of wire type wt; false when malformed.
 * A length-delimited value is returned in *sub. */
static bool
skip_value(const uint8_t **p, const uint8_t *end, unsigned wt,
    const uint8_t **sub, size_t *sub_len)
{
	uint64_t v;

	switch (wt) {
	case 0:
		return varint_get(p, end, &v);
	case 1:
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case 5:
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	case 2:
		if (!varint_get(p, end, &v) || v > (uint64_t)(end - *p))
			return false;
		*sub = *p;
		*sub_len = (size_t)v;
		*p += v;
		return true;
	default:
		return false;
	}
}

/* The varint of field `field` in message m (the last one wins, as in
 * protobuf), or `none`. */
static uint64_t
varint_field(const uint8_t *m, size_t len, unsigned field, uint64_t none)
{
	const uint8_t *p = m, *end = m + len;
	uint64_t key, v = none;

	while (p < end && varint_get(&p, end, &key)) {
		const uint8_t *at = p, *sub = NULL;
		size_t sub_len = 0;
		if (!skip_value(&p, end, (unsigned)(key & 7), &sub, &sub_len))
			return none;
		if ((key >> 3) == field && (key & 7) == 0)
			varint_get(&at, end, &v);
	}
	return v;
}

bool
deps_span_is_error(const uint8_t *packed, size_t len)
{
	const uint8_t *p = packed, *end = packed + len;
	const uint8_t *status = NULL;
	size_t status_len = 0;
	uint64_t key;

	if (packed == NULL)
		return false;
	while (p < end && varint_get(&p, end, &key)) {
		const uint8_t *sub = NULL;
		size_t sub_len = 0;
		if (!skip_value(&p, end, (unsigned)(key & 7), &sub, &sub_len))
			return false;
		if ((key >> 3) == SPAN_STATUS_FIELD && sub != NULL) {
			status = sub;
			status_len = sub_len;
		}
	}
	return status != NULL && varint_field(status, status_len,
	    STATUS_CODE_FIELD, 0) == STATUS_CODE_ERROR;
}
