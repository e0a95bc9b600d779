/*
 * Unit tests for collector/format/postings.c, the byte format of index record
 * values: round trips of T postings (with and without the value hash)
 * and D postings across edge values and list sizes, the exact bytes of
 * small lists (the format is on disk), the decoders' append contract
 * (*n, *cap) and their refusal of malformed values, which must leave *n
 * and the postings already in the array untouched.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "format/keys.h"
#include "format/postings.h"

/* 2025-01-01T00:00:00Z. */
#define NOW (1735689600ULL * 1000000000ULL)
/* Ordinals of the generated lists stay below this (their trace starts
 * are an array of that many). */
#define LIST_ORDS (1u << 20)

/* Deterministic pseudo-random numbers (splitmix64). */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Trace starts for every ordinal up to UINT32_MAX: 32 GiB of address
 * space, of which only the pages written are ever backed. NULL when the
 * system will not map it (then the caller skips). */
static uint64_t *
all_starts(void)
{
	size_t len = ((size_t)UINT32_MAX + 1) * sizeof(uint64_t);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
all_starts_free(uint64_t *ts)
{
	munmap(ts, ((size_t)UINT32_MAX + 1) * sizeof(uint64_t));
}

/* D postings have padding: compare them field by field. The decoded
 * start is an offset from the trace's start, ts[ord]. */
static void
same_d(const dref *got, const dposting *want, const uint64_t *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(got[i].dur_ns == want[i].dur_ns);
		assert_int_equal(got[i].ord, want[i].ord);
		assert_true(got[i].off_ns ==
		    want[i].start_ns - ts[want[i].ord]);
	}
}

static void
same_t(const tref *got, const tposting *want, const uint64_t *ts, size_t n,
    bool with_hash)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].ord, want[i].ord);
		assert_true(got[i].off_ns ==
		    want[i].start_ns - ts[want[i].ord]);
		/* Without the hash, decode reports 0. */
		assert_int_equal(got[i].vhash, with_hash ? want[i].vhash : 0);
	}
}

/* Encodes p into a buffer of exactly n * POSTINGS_MAX_T bytes (ASan sees
 * an overrun), decodes it and checks every field comes back; returns the
 * encoded length. */
static size_t
round_trip_t(const tposting *p, size_t n, const uint64_t *ts,
    bool with_hash)
{
	uint8_t *buf = malloc(n * POSTINGS_MAX_T);
	tref *out = NULL;
	size_t len, got = 0, cap = 0;

	assert_non_null(buf);
	len = postings_encode_t(p, n, ts, with_hash, buf);
	assert_true(len >= n * (with_hash ? 4 : 2));
	assert_true(len <= n * POSTINGS_MAX_T);
	assert_int_equal(postings_decode_t(buf, len, with_hash, &out, &got,
	    &cap), (long)n);
	assert_int_equal(got, n);
	assert_true(cap >= n);
	same_t(out, p, ts, n, with_hash);
	free(out);
	free(buf);
	return len;
}

/* The same for D postings, longest first from base. */
static size_t
round_trip_d(const dposting *p, size_t n, uint64_t base, const uint64_t *ts)
{
	uint8_t *buf = malloc(n * POSTINGS_MAX_D);
	dref *out = NULL;
	size_t len, got = 0, cap = 0;

	assert_non_null(buf);
	len = postings_encode_d(p, n, base, ts, buf);
	assert_true(len >= n * 3);
	assert_true(len <= n * POSTINGS_MAX_D);
	assert_int_equal(postings_decode_d(buf, len, base, &out, &got, &cap),
	    (long)n);
	assert_int_equal(got, n);
	assert_true(cap >= n);
	same_d(out, p, ts, n);
	free(out);
	free(buf);
	return len;
}

/* An offset from the trace's start of every varint length, up to the
 * largest that start allows. */
static uint64_t
pick_off(uint64_t *s, uint64_t trace_start, size_t i)
{
	switch (i % 5) {
	case 0:
		return 0;
	case 1:
		return rnd(s) % 128;
	case 2:
		return rnd(s) % 1000000;
	case 3:
		return rnd(s) % KEY_HOUR_NS;
	default:
		return i % 3 == 0 ? UINT64_MAX - trace_start :
		    rnd(s) % (UINT64_MAX - trace_start);
	}
}

/* The start of trace ord, chosen the first time ord is used. */
static uint64_t
trace_start(uint64_t *ts, uint32_t ord, uint64_t *s)
{
	if (ts[ord] == 0)
		ts[ord] = NOW + 1 + rnd(s) % KEY_HOUR_NS;
	return ts[ord];
}

/* n T postings in ordinal order, ordinal steps of every varint length
 * (0 too: a bucket can hold a trace twice), starting from first. */
static tposting *
make_t(size_t n, uint32_t first, uint64_t *ts, uint64_t seed)
{
	tposting *p = calloc(n, sizeof *p);
	uint32_t ord = first;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		uint32_t step = (uint32_t)(i % 4 == 0 ? 0 : i % 4 == 1 ? 1 :
		    i % 4 == 2 ? rnd(&seed) % 128 : rnd(&seed) % 2048);

		if (i > 0 && ord + step < LIST_ORDS)
			ord += step;
		p[i].ord = ord;
		p[i].start_ns = trace_start(ts, ord, &seed);
		p[i].start_ns += pick_off(&seed, p[i].start_ns, i);
		p[i].vhash = (uint16_t)rnd(&seed);
	}
	return p;
}

/* A duration difference of every varint length, at most left. */
static uint64_t
pick_delta(uint64_t r, uint64_t left, size_t i)
{
	uint64_t d;

	switch (i % 4) {
	case 0:
		d = 0;
		break;
	case 1:
		d = r % 128;
		break;
	case 2:
		d = r % (1ULL << 30);
		break;
	default:
		d = r % (left / 4 + 1);
		break;
	}
	return d > left ? left : d;
}

/* n D postings longest first from base (differences 0, small, large and
 * the rest of base), ordinals in any order, starts anywhere after their
 * trace's. */
static dposting *
make_d(size_t n, uint64_t base, uint64_t *ts, uint64_t seed)
{
	static const uint32_t edge[] = { 0, 127, 128, 16383, 16384,
		LIST_ORDS - 1 };
	dposting *p = calloc(n, sizeof *p);
	uint64_t cur = base;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd(&seed);

		/* A longer list's last posting takes all that is left. */
		cur -= n > 1 && i == n - 1 ? cur : pick_delta(r, cur, i);
		p[i].dur_ns = cur;
		p[i].ord = i % 3 == 0 ? edge[(i / 3) % 6] :
		    (uint32_t)(r % LIST_ORDS);
		p[i].start_ns = trace_start(ts, p[i].ord, &seed);
		p[i].start_ns += pick_off(&seed, p[i].start_ns, i);
	}
	return p;
}

/* Postings at the extremes: ordinal 0 and UINT32_MAX, offset 0 and
 * UINT64_MAX; the largest posting takes exactly POSTINGS_MAX_T bytes
 * (the bound the index sizes its buffer by is tight). */
static void
test_t_edges(void **state)
{
	uint64_t *ts = all_starts();
	tposting p[3];

	(void)state;
	if (ts == NULL)
		skip();
	ts[0] = NOW;
	ts[UINT32_MAX] = 0;
	for (int h = 0; h < 2; h++) {
		p[0] = (tposting){ NOW, 0, 0 };
		assert_int_equal(round_trip_t(p, 1, ts, h), h ? 4 : 2);
		p[0] = (tposting){ UINT64_MAX, UINT32_MAX, UINT16_MAX };
		assert_int_equal(round_trip_t(p, 1, ts, h),
		    POSTINGS_MAX_T - (h ? 0 : 2));
		/* From the first ordinal to the last, and a repeat. */
		p[0] = (tposting){ UINT64_MAX, 0, 1 };
		p[1] = (tposting){ 5, UINT32_MAX, 2 };
		p[2] = (tposting){ 0, UINT32_MAX, 3 };
		round_trip_t(p, 3, ts, h);
	}
	all_starts_free(ts);
}

/* Lists of 1, 32 (a list's first record) and 1,024 (a full record). */
static void
test_t_lists(void **state)
{
	static const size_t sizes[] = { 1, 32, 1024 };
	static const uint32_t firsts[] = { 0, 1000, LIST_ORDS - 1 };

	(void)state;
	for (size_t s = 0; s < 3; s++)
		for (size_t f = 0; f < 3; f++) {
			uint64_t *ts = calloc(LIST_ORDS, sizeof *ts);
			tposting *p = make_t(sizes[s], firsts[f], ts,
			    s * 3 + f);

			round_trip_t(p, sizes[s], ts, false);
			round_trip_t(p, sizes[s], ts, true);
			free(p);
			free(ts);
		}
}

/* The bytes on disk: per posting the ordinal's step from the one before
 * (the first's from 0) and the offset from the trace's start, LEB128
 * varints, low group first; V postings then 16 bits of hash,
 * big-endian. */
static void
test_t_bytes(void **state)
{
	uint64_t ts[301] = { 0 };
	tposting p[] = { { 1000, 0, 0xabcd }, { 2000, 300, 0x1234 },
		{ 2001, 300, 0x0001 } };
	const uint8_t want[] = { 0x00, 0x00, 0xac, 0x02, 0xf4, 0x03, 0x00,
		0xf5, 0x03 };
	const uint8_t want_h[] = { 0x00, 0x00, 0xab, 0xcd, 0xac, 0x02, 0xf4,
		0x03, 0x12, 0x34, 0x00, 0xf5, 0x03, 0x00, 0x01 };
	uint8_t buf[3 * POSTINGS_MAX_T];

	(void)state;
	ts[0] = 1000;
	ts[300] = 1500;
	assert_int_equal(postings_encode_t(p, 3, ts, false, buf),
	    sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	assert_int_equal(postings_encode_t(p, 3, ts, true, buf),
	    sizeof want_h);
	assert_memory_equal(buf, want_h, sizeof want_h);
}

static void
test_d_edges(void **state)
{
	uint64_t *ts = all_starts();
	dposting p[2] = { { 0, 0, 0 } };

	(void)state;
	if (ts == NULL)
		skip();
	ts[0] = NOW;
	ts[UINT32_MAX] = 0;
	/* Zero difference, ordinal and offset. */
	p[0] = (dposting){ 42, NOW, 0 };
	assert_int_equal(round_trip_d(p, 1, 42, ts), 3);
	/* The largest difference, ordinal and offset: POSTINGS_MAX_D. */
	p[0] = (dposting){ 0, UINT64_MAX, UINT32_MAX };
	assert_int_equal(round_trip_d(p, 1, UINT64_MAX, ts), POSTINGS_MAX_D);
	/* Ordinals need not be in order; equal durations. */
	p[0] = (dposting){ 9, UINT64_MAX, UINT32_MAX };
	p[1] = (dposting){ 9, NOW, 0 };
	round_trip_d(p, 2, 9, ts);
	all_starts_free(ts);
}

static void
test_d_lists(void **state)
{
	static const size_t sizes[] = { 1, 32, 1024 };
	static const uint64_t bases[] = { 3600000000000ULL, UINT64_MAX, 0 };

	(void)state;
	for (size_t s = 0; s < 3; s++)
		for (size_t b = 0; b < 3; b++) {
			uint64_t *ts = calloc(LIST_ORDS, sizeof *ts);
			dposting *p = make_d(sizes[s], bases[b], ts,
			    100 + s * 3 + b);

			round_trip_d(p, sizes[s], bases[b], ts);
			free(p);
			free(ts);
		}
}

/* Per posting: the duration's difference to the one before (the first's
 * to base), the ordinal and the offset; no span ID (slow finds it in
 * the trace). */
static void
test_d_bytes(void **state)
{
	uint64_t ts[3] = { 0, 0, NOW };
	dposting p[] = { { 500, NOW + 1, 2 }, { 200, NOW + 300, 2 } };
	const uint8_t want[] = { 0x0a, 0x02, 0x01, 0xac, 0x02, 0x02, 0xac,
		0x02 };
	uint8_t buf[2 * POSTINGS_MAX_D];

	(void)state;
	assert_int_equal(postings_encode_d(p, 2, 510, ts, buf), sizeof want);
	assert_memory_equal(buf, want, sizeof want);
}

/* Decode appends after the *n postings already there; a full array
 * grows and keeps them. */
static void
test_decode_grows(void **state)
{
	static const tref old[5] = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 },
		{ 10, 11, 12 }, { 13, 14, 15 } };
	uint64_t *ts = calloc(LIST_ORDS, sizeof *ts);
	tposting *p = make_t(95, 7, ts, 9);
	tref *out = malloc(sizeof old);
	uint8_t buf[95 * POSTINGS_MAX_T];
	size_t len, n = 5, cap = 5;

	(void)state;
	memcpy(out, old, sizeof old);
	len = postings_encode_t(p, 95, ts, true, buf);
	assert_int_equal(postings_decode_t(buf, len, true, &out, &n, &cap),
	    95);
	assert_int_equal(n, 100);
	assert_true(cap >= 100);
	assert_memory_equal(out, old, sizeof old);
	same_t(out + 5, p, ts, 95, true);
	free(out);
	free(p);
	free(ts);
}

/* With room enough, neither the array nor *cap changes. */
static void
test_decode_room(void **state)
{
	uint64_t *ts = calloc(LIST_ORDS, sizeof *ts);
	tposting *p = make_t(97, 0, ts, 11);
	tref *out = calloc(200, sizeof *out), *keep = out;
	uint8_t buf[97 * POSTINGS_MAX_T];
	size_t len, n = 3, cap = 200;

	(void)state;
	out[2].off_ns = 77;
	len = postings_encode_t(p, 97, ts, false, buf);
	assert_int_equal(postings_decode_t(buf, len, false, &out, &n, &cap),
	    97);
	assert_ptr_equal(out, keep);
	assert_int_equal(cap, 200);
	assert_int_equal(n, 100);
	assert_true(out[2].off_ns == 77);
	same_t(out + 3, p, ts, 97, false);
	free(out);
	free(p);
	free(ts);
}

/* D lists, decoded in two records into one array from nothing, as a
 * query reads a list's D record and then its d record. */
static void
test_decode_d_appends(void **state)
{
	uint64_t *ts = calloc(LIST_ORDS, sizeof *ts);
	dposting *p = make_d(100, 1ULL << 40, ts, 10);
	dref *out = NULL;
	uint8_t buf[60 * POSTINGS_MAX_D];
	size_t len, n = 0, cap = 0;

	(void)state;
	len = postings_encode_d(p, 60, 1ULL << 40, ts, buf);
	assert_int_equal(postings_decode_d(buf, len, 1ULL << 40, &out, &n,
	    &cap), 60);
	assert_int_equal(n, 60);
	len = postings_encode_d(p + 60, 40, p[59].dur_ns, ts, buf);
	assert_int_equal(postings_decode_d(buf, len, p[59].dur_ns, &out, &n,
	    &cap), 40);
	assert_int_equal(n, 100);
	assert_true(cap >= 100);
	same_d(out, p, ts, 100);
	free(out);
	free(p);
	free(ts);
}

/* An empty value is an empty list: 0, and the array is not touched. */
static void
test_decode_empty(void **state)
{
	tref *t = NULL;
	dref *d = NULL;
	size_t n = 0, cap = 0;
	uint8_t none = 0;

	(void)state;
	assert_int_equal(postings_decode_t(&none, 0, false, &t, &n, &cap), 0);
	assert_int_equal(postings_decode_t(&none, 0, true, &t, &n, &cap), 0);
	assert_int_equal(postings_decode_d(&none, 0, 10, &d, &n, &cap), 0);
	assert_null(t);
	assert_null(d);
	assert_int_equal(n, 0);
	assert_int_equal(cap, 0);
}

/* The two postings every malformed decode starts from (and must keep). */
static const tref sentinel_t[2] = { { 11, 1, 2 }, { 22, 3, 4 } };
static const dref sentinel_d[2] = { { 11, 12, 13 }, { 22, 23, 24 } };

/* v must be refused: -1, *n unchanged, the sentinels intact. */
static void
bad_t(const void *v, size_t len, bool with_hash)
{
	tref *out = malloc(sizeof sentinel_t);
	size_t n = 2, cap = 2;

	memcpy(out, sentinel_t, sizeof sentinel_t);
	assert_int_equal(postings_decode_t(v, len, with_hash, &out, &n,
	    &cap), -1);
	assert_int_equal(n, 2);
	assert_memory_equal(out, sentinel_t, sizeof sentinel_t);
	free(out);
}

static void
bad_d(const void *v, size_t len, uint64_t base)
{
	dref *out = malloc(sizeof sentinel_d);
	size_t n = 2, cap = 2;

	memcpy(out, sentinel_d, sizeof sentinel_d);
	assert_int_equal(postings_decode_d(v, len, base, &out, &n, &cap), -1);
	assert_int_equal(n, 2);
	for (int i = 0; i < 2; i++) {
		assert_true(out[i].dur_ns == sentinel_d[i].dur_ns);
		assert_true(out[i].off_ns == sentinel_d[i].off_ns);
		assert_int_equal(out[i].ord, sentinel_d[i].ord);
	}
	free(out);
}

/* Decodes v and returns how many postings (-1: refused); *last gets the
 * last one. */
static long
good_t(const void *v, size_t len, bool with_hash, tref *last)
{
	tref *out = NULL;
	size_t n = 0, cap = 0;
	long r = postings_decode_t(v, len, with_hash, &out, &n, &cap);

	if (r > 0 && last != NULL)
		*last = out[r - 1];
	free(out);
	return r;
}

static long
good_d(const void *v, size_t len, uint64_t base)
{
	dref *out = NULL;
	size_t n = 0, cap = 0;
	long r = postings_decode_d(v, len, base, &out, &n, &cap);

	free(out);
	return r;
}

static void
test_t_malformed(void **state)
{
	/* An 11-byte varint (then a 1-byte one): more than 64 bits. */
	const uint8_t long11[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x00, 0x00 };
	uint8_t v[16] = { 0 };
	tref last;

	(void)state;
	/* Truncated varints: in the step, in the offset, an offset
	 * missing, and a valid posting followed by a cut one. */
	bad_t("\x80", 1, false);
	bad_t("\x00\x80", 2, false);
	bad_t("\x00", 1, false);
	bad_t("\x01\x02\x00\x80", 4, false);
	assert_int_equal(good_t("\x01\x02\x00\x81\x01", 5, false, &last), 2);
	assert_true(last.ord == 1 && last.off_ns == 129);
	/* Overlong varints, as step and as offset. */
	bad_t(long11, sizeof long11, false);
	memcpy(v + 1, long11, 11);
	bad_t(v, 12, false);
	/* A 10th byte with more than bit 63: 2^64, and a second spelling
	 * of UINT64_MAX. */
	bad_t("\x00\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 11, false);
	bad_t("\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, false);
	/* The largest offset is fine. */
	assert_int_equal(good_t("\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\x01", 11, false, &last), 1);
	assert_true(last.off_ns == UINT64_MAX);
	/* A step of 2^32, and steps adding up past UINT32_MAX; up to it is
	 * fine. */
	bad_t("\x80\x80\x80\x80\x10\x00", 6, false);
	bad_t("\xff\xff\xff\xff\x0f\x00\x01\x00", 8, false);
	bad_t("\x01\x00\xff\xff\xff\xff\x0f\x00", 8, false);
	/* A step that would wrap the running ordinal back to 0. */
	bad_t("\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00", 13,
	    false);
	assert_int_equal(good_t("\xff\xff\xff\xff\x0f\x00\x00\x00", 8, false,
	    &last), 2);
	assert_int_equal(last.ord, UINT32_MAX);
	assert_int_equal(good_t("\x01\x00\xfe\xff\xff\xff\x0f\x00", 8, false,
	    &last), 2);
	assert_int_equal(last.ord, UINT32_MAX);
	/* A value hash cut short, or missing. */
	bad_t("\x00\x00\x12", 3, true);
	bad_t("\x00\x00", 2, true);
	assert_int_equal(good_t("\x00\x00\x12\x34", 4, true, &last), 1);
	assert_int_equal(last.vhash, 0x1234);
}

static void
test_d_malformed(void **state)
{
	uint8_t v[64];

	(void)state;
	/* A valid posting: difference 0, ordinal 0, offset 0. */
	memcpy(v, "\x00\x00\x00", 3);
	assert_int_equal(good_d(v, 3, 5), 1);
	/* The offset or the ordinal missing (a value cut after them). */
	bad_d(v, 2, 5);
	bad_d(v, 1, 5);
	/* Truncated varints in each of the three numbers. */
	bad_d("\x80", 1, 5);
	bad_d("\x00\x80", 2, 5);
	bad_d("\x00\x00\x80", 3, 5);
	/* A valid posting, then a cut one. */
	memcpy(v + 3, "\x00\x00", 2);
	bad_d(v, 5, 5);
	/* A difference larger than base, at once or added up. */
	v[0] = 0x06;
	bad_d(v, 3, 5);
	v[0] = 0x05;
	assert_int_equal(good_d(v, 3, 5), 1);
	memcpy(v + 3, v, 3);
	v[3] = 0x01;
	bad_d(v, 6, 5);
	assert_int_equal(good_d(v, 6, 6), 2);
	/* An ordinal past UINT32_MAX, and UINT32_MAX. */
	memcpy(v, "\x00\x80\x80\x80\x80\x10\x00", 7);
	bad_d(v, 7, 5);
	memcpy(v, "\x00\xff\xff\xff\xff\x0f\x00", 7);
	assert_int_equal(good_d(v, 7, 5), 1);
	/* An overlong varint as the difference. */
	memset(v, 0x80, 10);
	memcpy(v + 10, "\x00\x00\x00", 3);
	bad_d(v, 13, UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_t_edges),
		cmocka_unit_test(test_t_lists),
		cmocka_unit_test(test_t_bytes),
		cmocka_unit_test(test_d_edges),
		cmocka_unit_test(test_d_lists),
		cmocka_unit_test(test_d_bytes),
		cmocka_unit_test(test_decode_grows),
		cmocka_unit_test(test_decode_room),
		cmocka_unit_test(test_decode_d_appends),
		cmocka_unit_test(test_decode_empty),
		cmocka_unit_test(test_t_malformed),
		cmocka_unit_test(test_d_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
