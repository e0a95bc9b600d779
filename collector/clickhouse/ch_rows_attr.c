/* ch_rows_attr.c - attr_index's rows from span_index's (ch_rows.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_rows.h"
#include "format/keys.h"


/* One attr_index row, its strings pointing into the span_index rows. */
typedef struct attr_row {
	const uint8_t *key, *value, *service;
	size_t key_len, value_len, service_len;
	uint32_t minute;
	uint16_t day;
	const uint8_t *trace_id;
} attr_row;

static int
cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	return c != 0 ? c : (na > nb) - (na < nb);
}

static int
cmp_attr_row(const void *pa, const void *pb)
{
	const attr_row *a = pa, *b = pb;
	int c = cmp_bytes(a->key, a->key_len, b->key, b->key_len);

	if (c == 0)
		c = cmp_bytes(a->value, a->value_len, b->value, b->value_len);
	if (c == 0)
		c = cmp_bytes(a->service, a->service_len, b->service,
		    b->service_len);
	if (c == 0)
		c = (a->minute > b->minute) - (a->minute < b->minute);
	return c != 0 ? c : memcmp(a->trace_id, b->trace_id, 16);
}

/* Reads one span_index row (ch_rows.c, put_index_row) into rows: one
 * per attribute, the keys' array first, the values' after it. */
static bool
read_index_row(rowbinary_reader *r, attr_row **rows, size_t *n,
    size_t *cap)
{
	attr_row base = { 0 };
	const uint8_t *name;
	size_t name_len;
	uint64_t start, n_keys, n_values;
	/* Skipped: duration_ns, dur_bucket; after the trace ID, span_id,
	 * parent_span_id, is_root, status, kind. */
	uint8_t skipped[8 + 8 + 3];

	if (!rowbinary_get_u16(r, &base.day) ||
	    !rowbinary_get_string(r, &base.service, &base.service_len) ||
	    !rowbinary_get_string(r, &name, &name_len) ||
	    !rowbinary_get_u64(r, &start) ||
	    !rowbinary_get_fixed(r, skipped, 8 + 2))
		return false;
	base.trace_id = r->p;
	base.minute = (uint32_t)(start / KEY_MINUTE_NS);
	if (!rowbinary_get_fixed(r, skipped, 16) ||
	    !rowbinary_get_fixed(r, skipped, 8 + 8 + 3) ||
	    !rowbinary_get_varint(r, &n_keys) || n_keys > r->left)
		return r->ok = false;
	if (*n + n_keys > *cap) {
		*cap = (*n + n_keys) * 2;
		*rows = xrealloc(*rows, *cap * sizeof **rows);
	}
	for (uint64_t i = 0; i < n_keys; i++) {
		(*rows)[*n + i] = base;
		if (!rowbinary_get_string(r, &(*rows)[*n + i].key,
		    &(*rows)[*n + i].key_len))
			return false;
	}
	if (!rowbinary_get_varint(r, &n_values) || n_values != n_keys)
		return r->ok = false;
	for (uint64_t i = 0; i < n_values; i++)
		if (!rowbinary_get_string(r, &(*rows)[*n + i].value,
		    &(*rows)[*n + i].value_len))
			return false;
	*n += n_keys;
	return true;
}

bool
ch_rows_attr_derive(const uint8_t *index_rows, size_t len,
    rowbinary_buf *out)
{
	rowbinary_reader r;
	attr_row *rows = NULL;
	size_t n = 0, cap = 0;

	rowbinary_reader_init(&r, index_rows, len);
	while (r.left > 0 && read_index_row(&r, &rows, &n, &cap))
		;
	/* Sorted, each distinct row once: a resource's attributes repeat
	 * on every span of it, most values within a trace's minute. */
	if (r.ok && n > 0)
		qsort(rows, n, sizeof *rows, cmp_attr_row);
	for (size_t i = 0; r.ok && i < n; i++) {
		if (i > 0 && cmp_attr_row(&rows[i - 1], &rows[i]) == 0)
			continue;
		rowbinary_put_u16(out, rows[i].day);
		rowbinary_put_string(out, rows[i].key, rows[i].key_len);
		rowbinary_put_string(out, rows[i].value, rows[i].value_len);
		rowbinary_put_string(out, rows[i].service,
		    rows[i].service_len);
		rowbinary_put_u32(out, rows[i].minute);
		rowbinary_put_bytes(out, rows[i].trace_id, 16);
	}
	free(rows);
	return r.ok;
}
