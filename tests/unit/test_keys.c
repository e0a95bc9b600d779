/* Unit tests for collector/format/keys.c, hist.c and the pipeline's pre-scan. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/collector.h"
#include "format/hist.h"
#include "format/attr_text.h"
#include "index/index.h"
#include "format/keys.h"

static const uint8_t tid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 15, 16 };
static const uint8_t sid[8] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8 };

static void
test_span_key(void **state)
{
	keybuf k;

	(void)state;
	key_span(&k, 29833333, tid, sid);
	assert_int_equal(k.len, KEY_SPAN_LEN);
	assert_memory_equal(k.b, "\x01\xc7\x38\x75", 4);
	assert_memory_equal(k.b + 4, tid, 16);
	assert_memory_equal(k.b + 20, sid, 8);
	/* The traces family: trace, then minute. */
	key_trace(&k, tid, 29833333);
	assert_int_equal(k.len, KEY_TRACE_LEN);
	assert_memory_equal(k.b, tid, 16);
	assert_memory_equal(k.b + 16, "\x01\xc7\x38\x75", 4);
	assert_int_equal(key_minute(29833333ULL * KEY_MINUTE_NS + 59999999999ULL),
	    29833333);
}

static void
test_index_keys_round_trip(void **state)
{
	uint64_t start = 1795300000123456789ULL;
	keybuf k;
	idx_key p;

	(void)state;
	key_idx_svc(&k, start, "checkout", 8, 77);
	assert_int_equal(key_idx_parse(k.b, k.len, &p), 0);
	assert_int_equal(p.type, IDX_SVC);
	assert_int_equal(p.hour, key_hour(start));
	assert_int_equal(p.s1_len, 8);
	assert_memory_equal(p.s1, "checkout", 8);
	assert_true(p.start_ns == start);
	assert_true(p.batch == 77);

	key_idx_op(&k, start, "svc", 3, "GET /x", 6, 1);
	assert_int_equal(key_idx_parse(k.b, k.len, &p), 0);
	assert_int_equal(p.type, IDX_OP);
	assert_memory_equal(p.s2, "GET /x", 6);
	assert_true(p.start_ns == start);

	key_idx_attr(&k, start, "http.status_code", 16, "500", 3, 2);
	assert_int_equal(key_idx_parse(k.b, k.len, &p), 0);
	assert_int_equal(p.type, IDX_ATTR);
	assert_memory_equal(p.s1, "http.status_code", 16);
	assert_memory_equal(p.s2, "500", 3);

	key_idx_val(&k, start, "request.id", 10, 1023, 5);
	assert_int_equal(key_idx_parse(k.b, k.len, &p), 0);
	assert_int_equal(p.type, IDX_VAL);
	assert_memory_equal(p.s1, "request.id", 10);
	assert_int_equal(p.bucket, 1023);
	assert_true(p.start_ns == start);
	assert_true(p.batch == 5);

	key_idx_dur(&k, start, 123456, "svc", 3, "op", 2, 9);
	assert_int_equal(key_idx_parse(k.b, k.len, &p), 0);
	assert_int_equal(p.type, IDX_DUR);
	assert_true(p.dur_ns == 123456);
	assert_int_equal(p.minute, (start % KEY_HOUR_NS) / KEY_MINUTE_NS);
	assert_true(p.batch == 9);
	/* A truncated key is refused, not misread. */
	assert_int_equal(key_idx_parse(k.b, k.len - 1, &p), -1);
}

static void
test_newer_and_longer_sort_first(void **state)
{
	uint64_t t = 1795300000000000000ULL;
	keybuf a, b;

	(void)state;
	key_idx_svc(&a, t + 5, "s", 1, 9);
	key_idx_svc(&b, t + 4, "s", 1, 1);
	assert_true(memcmp(a.b, b.b, a.len) < 0);
	key_idx_dur(&a, t, 2000, "s", 1, "o", 1, 1);
	key_idx_dur(&b, t, 1000, "s", 1, "o", 1, 0);
	assert_true(memcmp(a.b, b.b, a.len) < 0);
}

static void
test_length_prefix_no_collision(void **state)
{
	uint64_t t = 1795300000000000000ULL;
	keybuf a, b;

	(void)state;
	key_idx_op(&a, t, "ab", 2, "c", 1, 0);
	key_idx_op(&b, t, "a", 1, "bc", 2, 0);
	assert_int_equal(a.len, b.len);
	assert_true(memcmp(a.b, b.b, a.len) != 0);
	/* Separators inside names are just bytes. */
	key_idx_attr(&a, t, "k=v", 3, "", 0, 0);
	key_idx_attr(&b, t, "k", 1, "=v", 2, 0);
	assert_true(a.len != b.len || memcmp(a.b, b.b, a.len) != 0);
}

static void
test_hist_key(void **state)
{
	uint64_t m = 1795300000000000000ULL, got;
	keybuf k;

	(void)state;
	m -= m % KEY_MINUTE_NS;
	key_hist(&k, m, "svc", 3, "op", 2);
	assert_int_equal(key_hist_parse(k.b, k.len, &got), 0);
	assert_true(got == m);
	assert_int_equal(key_hist_parse(k.b, k.len - 1, &got), -1);
}

static void
test_hist_buckets(void **state)
{
	(void)state;
	for (uint64_t v = 1; v < (1ULL << 60); v = v * 3 + 1) {
		int i = hist_index(v);
		uint64_t up = hist_upper(i);

		assert_true(i >= 0 && i < HIST_BUCKETS);
		assert_true(up >= v);
		assert_true((double)(up - v) <= (double)v / 64.0 + 1.0);
		if (i > 0)
			assert_true(hist_upper(i - 1) < v);
	}
	assert_true(hist_index(UINT64_MAX) < HIST_BUCKETS);
}

static void
test_hist_encode_merge_quantile(void **state)
{
	uint64_t vals[1000], more[1000];
	char *a, *b, *merged;
	size_t alen, blen, mlen;
	const char *ops[2];
	size_t lens[2];
	unsigned char ok;
	hist *h = calloc(1, sizeof *h);

	(void)state;
	for (int i = 0; i < 1000; i++) {
		vals[i] = (uint64_t)(i + 1) * 1000;
		more[i] = (uint64_t)(i + 1001) * 1000;
	}
	alen = hist_encode_values(vals, 1000, &a);
	blen = hist_encode_values(more, 1000, &b);
	ops[0] = a;
	ops[1] = b;
	lens[0] = alen;
	lens[1] = blen;
	merged = hist_full_merge(NULL, "", 0, NULL, 0, ops, lens, 2, &ok,
	    &mlen);
	assert_true(ok);
	assert_true(hist_decode_add(h, merged, mlen));
	assert_true(h->count == 2000);
	assert_true(h->max == 2000000);
	/* Exact p50 is 1,000,000; the bucket bound is within 1.6%. */
	assert_true(hist_quantile(h, 0.5) >= 1000000);
	assert_true(hist_quantile(h, 0.5) <= 1016000);
	assert_true(hist_quantile(h, 1.0) == 2000000);
	assert_false(hist_decode_add(h, "\xff", 1));
	free(a);
	free(b);
	free(merged);
	free(h);
}

/*
 * Operands whose buckets overlap, plus an existing value, merge into
 * exactly the histogram of all their values; a malformed operand fails
 * the merge.
 */
static void
test_hist_merge_overlapping(void **state)
{
	enum { PARTS = 4, PER = 500 };
	uint64_t vals[PARTS][PER];
	char *enc[PARTS], *merged;
	size_t lens[PARTS], mlen;
	unsigned char ok;
	hist *want = calloc(1, sizeof *want), *got = calloc(1, sizeof *got);
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int p = 0; p < PARTS; p++) {
		for (int i = 0; i < PER; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			vals[p][i] = (x % 5000000) + (p == 3 && i == 0 ?
			    UINT64_MAX / 2 : 0);
			hist_add(want, vals[p][i]);
		}
		lens[p] = hist_encode_values(vals[p], PER, &enc[p]);
	}
	merged = hist_full_merge(NULL, "", 0, enc[0], lens[0],
	    (const char *const *)enc + 1, lens + 1, PARTS - 1, &ok, &mlen);
	assert_true(ok);
	assert_true(hist_decode_add(got, merged, mlen));
	assert_true(got->count == want->count);
	assert_true(got->max == want->max);
	assert_memory_equal(got->n, want->n, sizeof want->n);
	free(merged);
	lens[2] = 1;
	merged = hist_partial_merge(NULL, "", 0, (const char *const *)enc,
	    lens, PARTS, &ok, &mlen);
	assert_false(ok);
	free(merged);
	for (int p = 0; p < PARTS; p++)
		free(enc[p]);
	free(want);
	free(got);
}

/* Wraps an AnyValue nested `depth` times in a one-span request. */
static uint8_t *
nested_request(size_t depth, size_t *len)
{
	size_t cap = depth * 16 + 256, n = 0;
	uint8_t *p = malloc(cap), *q = malloc(cap);
	static const uint8_t outer[] = { 0x12, 0x4a, 0x12, 0x12, 0x0a };

	p[n++] = 0x10;
	p[n++] = 0x01;
	for (size_t i = 0; i < depth * 2 + 1 + 4; i++) {
		/* Alternate any.array_value(5) / array.values(1), then the
		 * kv.value(2) and the outer wrappers. */
		uint8_t tag;
		size_t h = 0, v;

		if (i < depth * 2)
			tag = (i % 2 == 0) ? 0x0a : 0x2a;
		else
			tag = outer[i - depth * 2];
		q[h++] = tag;
		for (v = n; v >= 0x80; v >>= 7)
			q[h++] = (uint8_t)(v | 0x80);
		q[h++] = (uint8_t)v;
		if (tag == 0x12 && i == depth * 2) {
			/* kv: key "k" then value. */
			memmove(q + 3, q, h);
			q[0] = 0x0a;
			q[1] = 0x01;
			q[2] = 'k';
			h += 3;
		}
		memcpy(q + h, p, n);
		n += h;
		memcpy(p, q, n);
	}
	free(q);
	*len = n;
	return p;
}

static void
test_prescan_depth(void **state)
{
	size_t len;
	uint8_t *ok = nested_request(5, &len), *deep;

	(void)state;
	assert_int_equal(pipeline_prescan(ok, len, 64), 0);
	free(ok);
	deep = nested_request(5000, &len);
	assert_int_equal(pipeline_prescan(deep, len, 64), -1);
	free(deep);
	assert_int_equal(pipeline_prescan((const uint8_t *)"\x0a\x05\x01",
	    3, 64), -2);
	assert_int_equal(pipeline_prescan((const uint8_t *)"\x0b", 1, 64), -2);
	/* Field 0 (tag 80 00) inside a Resource's entity_refs, a Span's
	 * status; then a valid status (code 2). */
	assert_int_equal(pipeline_prescan((const uint8_t *)
	    "\x0a\x07\x0a\x05\x1a\x03\x80\x00\x01", 9, 64), -2);
	assert_int_equal(pipeline_prescan((const uint8_t *)
	    "\x0a\x09\x12\x07\x12\x05\x7a\x03\x80\x00\x01", 11, 64), -2);
	assert_int_equal(pipeline_prescan((const uint8_t *)
	    "\x0a\x08\x12\x06\x12\x04\x7a\x02\x18\x02", 10, 64), 0);
	assert_int_equal(pipeline_prescan(NULL, 0, 64), 0);
}

/* The text attribute search compares integers with: "%" PRId64's. */
static void
test_value_text_ints(void **state)
{
	static const int64_t ints[] = { 0, 7, -1, 200, -404, 1000000007,
		INT64_MAX, INT64_MIN };
	Opentelemetry__Proto__Common__V1__AnyValue v;
	char buf[64], want[64];
	const char *out;
	size_t len;

	(void)state;
	opentelemetry__proto__common__v1__any_value__init(&v);
	v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		v.int_value = ints[i];
		snprintf(want, sizeof want, "%" PRId64, ints[i]);
		assert_true(attr_text(&v, buf, sizeof buf, &out, &len));
		assert_string_equal(out, want);
		assert_int_equal(len, strlen(want));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_key),
		cmocka_unit_test(test_index_keys_round_trip),
		cmocka_unit_test(test_newer_and_longer_sort_first),
		cmocka_unit_test(test_length_prefix_no_collision),
		cmocka_unit_test(test_hist_key),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_encode_merge_quantile),
		cmocka_unit_test(test_hist_merge_overlapping),
		cmocka_unit_test(test_prescan_depth),
		cmocka_unit_test(test_value_text_ints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
