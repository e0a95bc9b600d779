/*
 * fuzz_postings.c - libFuzzer target for the index's value decoders
 * (collector/format/postings.c): a query decodes every index record it reads
 * with postings_decode_t or postings_decode_d, and a record's bytes are
 * whatever the disk gives back.
 *
 * Input: bytes 0-7 are base, big-endian (the D record key's longest
 * duration); its lowest bit says whether the T list carries value hashes,
 * as V records do. The rest is the record's value, given to both
 * decoders.
 *
 * Invariants: a refused value leaves the array's postings and *n as they
 * were; an accepted one appends its count, T ordinals in order, D
 * durations at most base and at most the one before, no value shorter
 * than its postings' minimal size; without its last byte a non-empty
 * accepted value is refused. Re-encoding the postings (when their
 * ordinals are below PO_ORDS, for the table of trace starts) gives a value
 * no longer than the input that decodes to the same postings and
 * re-encodes to the same bytes. The decoders accept non-minimal varints
 * (0x80 0x00 is 0), so the input's bytes themselves need not come back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "format/keys.h"
#include "format/postings.h"

/* The fewest bytes one posting takes: one byte per varint (T: then the
 * value hash, when there is one). */
#define PO_MIN_T 2
#define PO_MIN_D 3
/* Re-encoding needs a start per ordinal. */
#define PO_ORDS 65536

/* What every decode's array holds before the decoded postings. */
static const tref po_sentinel_t = { 77, 7, 0x7777 };
static const dref po_sentinel_d = { 88, 8, 8 };

/* Trace starts for re-encoding: anything, even near 2^64 (the offset
 * arithmetic is unsigned both ways). */
static const uint64_t *
po_starts(void)
{
	static uint64_t ts[PO_ORDS];
	static bool done;

	if (!done) {
		for (uint32_t i = 0; i < PO_ORDS; i++)
			ts[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		done = true;
	}
	return ts;
}

static bool
po_same_t(const tref *a, const tref *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].off_ns != b[i].off_ns || a[i].ord != b[i].ord ||
		    a[i].vhash != b[i].vhash)
			return false;
	return true;
}

/* Field by field: dref has padding. */
static bool
po_same_d(const dref *a, const dref *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].dur_ns != b[i].dur_ns || a[i].off_ns != b[i].off_ns ||
		    a[i].ord != b[i].ord)
			return false;
	return true;
}

/* Decodes v after the sentinel; returns the count (-1: refused) and the
 * array, checking the append contract either way. */
static long
po_decode_t(const uint8_t *v, size_t len, bool with_hash, tref **out)
{
	size_t n = 1, cap = 1;
	long r;

	*out = malloc(sizeof **out);
	FUZZ_CHECK(*out != NULL);
	(*out)[0] = po_sentinel_t;
	r = postings_decode_t(v, len, with_hash, out, &n, &cap);
	FUZZ_CHECK(r >= -1);
	FUZZ_CHECK(n == (r < 0 ? 1 : 1 + (size_t)r));
	FUZZ_CHECK(cap >= n);
	FUZZ_CHECK(po_same_t(*out, &po_sentinel_t, 1));
	return r;
}

static long
po_decode_d(const uint8_t *v, size_t len, uint64_t base, dref **out)
{
	size_t n = 1, cap = 1;
	long r;

	*out = malloc(sizeof **out);
	FUZZ_CHECK(*out != NULL);
	(*out)[0] = po_sentinel_d;
	r = postings_decode_d(v, len, base, out, &n, &cap);
	FUZZ_CHECK(r >= -1);
	FUZZ_CHECK(n == (r < 0 ? 1 : 1 + (size_t)r));
	FUZZ_CHECK(cap >= n);
	FUZZ_CHECK(po_same_d(*out, &po_sentinel_d, 1));
	return r;
}

/* Encodes the n decoded T postings back: no longer than len, decoding
 * to the same postings, a fixed point. */
static void
po_reencode_t(const tref *got, size_t n, size_t len, bool with_hash)
{
	const uint64_t *ts = po_starts();
	tposting *p = calloc(n, sizeof *p);
	uint8_t *enc = malloc(n * POSTINGS_MAX_T);
	uint8_t *enc2 = malloc(n * POSTINGS_MAX_T);
	size_t elen;
	tref *again;

	FUZZ_CHECK(p != NULL && enc != NULL && enc2 != NULL);
	for (size_t i = 0; i < n; i++) {
		p[i].ord = got[i].ord;
		p[i].start_ns = ts[got[i].ord] + got[i].off_ns;
		p[i].vhash = got[i].vhash;
	}
	elen = postings_encode_t(p, n, ts, with_hash, enc);
	FUZZ_CHECK(elen <= len);
	FUZZ_CHECK(po_decode_t(enc, elen, with_hash, &again) == (long)n);
	FUZZ_CHECK(po_same_t(again + 1, got, n));
	FUZZ_CHECK(postings_encode_t(p, n, ts, with_hash, enc2) == elen);
	FUZZ_CHECK(memcmp(enc, enc2, elen) == 0);
	free(again);
	free(enc2);
	free(enc);
	free(p);
}

static void
po_reencode_d(const dref *got, size_t n, size_t len, uint64_t base)
{
	const uint64_t *ts = po_starts();
	dposting *p = calloc(n, sizeof *p);
	uint8_t *enc = malloc(n * POSTINGS_MAX_D);
	uint8_t *enc2 = malloc(n * POSTINGS_MAX_D);
	size_t elen;
	dref *again;

	FUZZ_CHECK(p != NULL && enc != NULL && enc2 != NULL);
	for (size_t i = 0; i < n; i++) {
		p[i].dur_ns = got[i].dur_ns;
		p[i].ord = got[i].ord;
		p[i].start_ns = ts[got[i].ord] + got[i].off_ns;
	}
	elen = postings_encode_d(p, n, base, ts, enc);
	FUZZ_CHECK(elen <= len);
	FUZZ_CHECK(po_decode_d(enc, elen, base, &again) == (long)n);
	FUZZ_CHECK(po_same_d(again + 1, got, n));
	FUZZ_CHECK(postings_encode_d(p, n, base, ts, enc2) == elen);
	FUZZ_CHECK(memcmp(enc, enc2, elen) == 0);
	free(again);
	free(enc2);
	free(enc);
	free(p);
}

static void
po_check_t(const uint8_t *v, size_t len, bool with_hash)
{
	tref *p, *cut;
	long r = po_decode_t(v, len, with_hash, &p);
	uint32_t max_ord = 0;

	FUZZ_CHECK(r != 0 || len == 0);
	if (r > 0) {
		FUZZ_CHECK((size_t)r * (PO_MIN_T + (with_hash ? 2 : 0)) <=
		    len);
		for (long i = 1; i <= r; i++) {
			FUZZ_CHECK(i == 1 || p[i].ord >= p[i - 1].ord);
			FUZZ_CHECK(with_hash || p[i].vhash == 0);
			max_ord = p[i].ord;
		}
		/* The last posting needs its last byte. */
		FUZZ_CHECK(po_decode_t(v, len - 1, with_hash, &cut) == -1);
		free(cut);
		if (max_ord < PO_ORDS)
			po_reencode_t(p + 1, (size_t)r, len, with_hash);
	}
	free(p);
}

static void
po_check_d(const uint8_t *v, size_t len, uint64_t base)
{
	dref *p, *cut;
	long r = po_decode_d(v, len, base, &p);
	uint64_t prev = base;
	uint32_t max_ord = 0;

	FUZZ_CHECK(r != 0 || len == 0);
	if (r > 0) {
		FUZZ_CHECK((size_t)r * PO_MIN_D <= len);
		for (long i = 1; i <= r; i++) {
			FUZZ_CHECK(p[i].dur_ns <= prev);
			prev = p[i].dur_ns;
			if (p[i].ord > max_ord)
				max_ord = p[i].ord;
		}
		FUZZ_CHECK(po_decode_d(v, len - 1, base, &cut) == -1);
		free(cut);
		if (max_ord < PO_ORDS)
			po_reencode_d(p + 1, (size_t)r, len, base);
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t base;

	if (size < 8)
		return 0;
	base = key_be64(data);
	po_check_t(data + 8, size - 8, (base & 1) != 0);
	po_check_d(data + 8, size - 8, base);
	return 0;
}
