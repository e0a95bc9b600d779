/*
 * Unit tests for collector/index/trace_dict.c, each index flush's trace
 * dictionary: ordinals dense per hour in order of arrival, each trace's
 * earliest start, the records written for a flush read back through
 * dict_reader on a real RocksDB in a mkdtemp directory (removed
 * afterwards), and reuse after trace_dict_reset. Also index_catalog_new
 * (collector/index/index.c), which must continue the flush numbers of a store
 * and refuse a damaged one, and the RocksDB backend, which refuses a
 * store of an older layout (test_store_format.c tests the check itself).
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "../tools/spangen.h"
#include "common.h"
#include "pipeline/pipeline.h"
#include "index/index.h"
#include "format/keys.h"

/* Two consecutive hours (2025-01-01T00 and 01 UTC). */
#define HOUR_A 482136u
#define HOUR_B (HOUR_A + 1)

typedef store_fixture fixture;

STORE_FIXTURE_HOOKS("trace-dict")

/* Trace i's ID: distinct for every i, and IDs that differ in one byte
 * only (the hash table must compare all 16). */
static void
trace_id(uint64_t i, uint8_t id[KEY_TRACE_ID_LEN])
{
	uint64_t h = sg_mix(i);

	memcpy(id, &h, 8);
	memcpy(id + 8, &i, 8);
	if (i % 2 == 1) {
		trace_id(i - 1, id);
		id[15] ^= 0x80;
	}
}

static void
write_batch(store *st, const trace_dict *d, uint64_t flush)
{
	store_batch *b = store_batch_new(st);
	char *cause = NULL;

	trace_dict_write(d, b, flush);
	assert_int_equal(store_write(st, b, false, &cause), 0);
	store_batch_free(b);
}

/* A start in hour (ns since the epoch). */
static uint64_t
at(uint32_t hour, uint64_t off_ns)
{
	return (uint64_t)hour * KEY_HOUR_NS + off_ns % KEY_HOUR_NS;
}

/* Ordinals count 0, 1, 2, ... per hour (of the start) in order of
 * arrival, across the hash table's growth (it starts at 1,024 slots); a
 * trace seen again in the same hour keeps its ordinal and takes no new
 * one; the same trace in another hour is a different entry. */
static void
test_ord_dense_per_hour(void **state)
{
	trace_dict *d = trace_dict_new();
	uint32_t next[2] = { 0, 0 }, *ord_of = calloc(5000, sizeof *ord_of);
	uint8_t id[KEY_TRACE_ID_LEN];

	(void)state;
	for (uint64_t i = 0; i < 5000; i++) {
		int h = i % 3 == 0;

		trace_id(i, id);
		ord_of[i] = trace_dict_ord(d, id, at(h ? HOUR_B : HOUR_A,
		    i * 1000003));
		assert_int_equal(ord_of[i], next[h]);
		next[h]++;
	}
	/* Asked again, in reverse order and at other starts in the hour:
	 * the same ordinals. */
	for (uint64_t i = 5000; i-- > 0;) {
		trace_id(i, id);
		assert_int_equal(trace_dict_ord(d, id, at(i % 3 == 0 ? HOUR_B :
		    HOUR_A, i * 7)), ord_of[i]);
	}
	/* Repeats took no ordinal: a new trace gets the next one. */
	trace_id(99999, id);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 0)), next[0]);
	next[0]++;
	/* Every trace again in the other hour: a new entry with that
	 * hour's next ordinal, and its first ordinal stays (entries that
	 * share a slot: test_ord_same_slot_two_hours). */
	for (uint64_t i = 0; i < 5000; i++) {
		int h = i % 3 != 0;

		trace_id(i, id);
		assert_int_equal(trace_dict_ord(d, id, at(h ? HOUR_B : HOUR_A,
		    i)), next[h]);
		next[h]++;
	}
	for (uint64_t i = 0; i < 5000; i++) {
		trace_id(i, id);
		assert_int_equal(trace_dict_ord(d, id, at(i % 3 == 0 ? HOUR_B :
		    HOUR_A, i)), ord_of[i]);
	}
	free(ord_of);
	trace_dict_free(d);
	trace_dict_free(NULL);
}

/* The hour is the start's: the last nanosecond of hour A is in A, the
 * first of B in B. A trace's start is the earliest it was given in the
 * hour, by ordinal; an hour with no trace has no starts. */
static void
test_starts(void **state)
{
	trace_dict *d = trace_dict_new();
	uint8_t id[KEY_TRACE_ID_LEN];
	uint64_t end_a = (uint64_t)HOUR_B * KEY_HOUR_NS - 1;
	const uint64_t *st;

	(void)state;
	assert_null(trace_dict_starts(d, HOUR_A));
	trace_id(1, id);
	assert_int_equal(trace_dict_ord(d, id, end_a), 0);
	assert_int_equal(trace_dict_ord(d, id, end_a + 1), 0);
	trace_id(2, id);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 5000)), 1);
	/* Later starts leave it, an earlier one lowers it. */
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 9000)), 1);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 4000)), 1);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 4001)), 1);
	st = trace_dict_starts(d, HOUR_A);
	assert_non_null(st);
	assert_true(st[0] == end_a);
	assert_true(st[1] == at(HOUR_A, 4000));
	st = trace_dict_starts(d, HOUR_B);
	assert_non_null(st);
	assert_true(st[0] == end_a + 1);
	assert_null(trace_dict_starts(d, HOUR_B + 1));
	assert_null(trace_dict_starts(d, HOUR_A - 1));
	trace_dict_free(d);
}

/* A trace whose entries for hours A and B start their probes at the
 * same slot of any table up to 65,536 slots: the lookup for one hour
 * meets the other's entry first, and must tell them apart by hour. This
 * knows how the dictionary hashes (hash64 of the ID, seeded by the
 * hour); if that changes, the test below still passes, with less bite. */
static void
colliding_trace(uint8_t id[KEY_TRACE_ID_LEN])
{
	for (uint64_t i = 1;; i++) {
		trace_id(i * 7777777, id);
		if (((hash64(id, KEY_TRACE_ID_LEN, HOUR_A) ^
		    hash64(id, KEY_TRACE_ID_LEN, HOUR_B)) & 0xffff) == 0)
			return;
	}
}

static void
test_ord_same_slot_two_hours(void **state)
{
	trace_dict *d = trace_dict_new();
	uint8_t id[KEY_TRACE_ID_LEN], other[KEY_TRACE_ID_LEN];

	(void)state;
	/* Hour B numbers another trace first, so that the two entries'
	 * ordinals differ. */
	trace_id(1, other);
	assert_int_equal(trace_dict_ord(d, other, at(HOUR_B, 0)), 0);
	colliding_trace(id);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 10)), 0);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_B, 20)), 1);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 5)), 0);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_B, 30)), 1);
	/* Each entry keeps its own start. */
	assert_true(trace_dict_starts(d, HOUR_A)[0] == at(HOUR_A, 5));
	assert_true(trace_dict_starts(d, HOUR_B)[1] == at(HOUR_B, 20));
	trace_dict_free(d);
}

/* What a flush numbered: per hour, the IDs and starts by ordinal. */
typedef struct expect {
	uint8_t (*ids)[KEY_TRACE_ID_LEN];
	uint64_t *starts;
	uint32_t n;
} expect;

/* Which hours trace i is in: every fourth in B, the rest in A, and every
 * 50th in both. */
static int
in_b(uint64_t i)
{
	return i % 4 == 0;
}

static int
in_both(uint64_t i)
{
	return i % 50 == 0;
}

/* Numbers traces first..first+n-1 into d, recording what each hour got
 * (e[0]: A, e[1]: B). Every seventh trace comes again with an earlier
 * start, every seventh but one with a later one. */
static void
fill(trace_dict *d, uint64_t first, uint32_t n, expect e[2])
{
	uint8_t id[KEY_TRACE_ID_LEN];

	for (int h = 0; h < 2; h++) {
		e[h].ids = calloc(n, KEY_TRACE_ID_LEN);
		e[h].starts = calloc(n, sizeof *e[h].starts);
		e[h].n = 0;
	}
	for (uint64_t i = first; i < first + n; i++) {
		int h = in_b(i);

		trace_id(i, id);
		for (int pass = 0; pass < (in_both(i) ? 2 : 1); pass++) {
			uint32_t hour = h ? HOUR_B : HOUR_A;
			uint64_t start = at(hour, 1000 + sg_mix(i) % 1000000);
			uint32_t ord = trace_dict_ord(d, id, start);

			assert_int_equal(ord, e[h].n);
			if (i % 7 == 0)
				start -= 1000;
			if (i % 7 <= 1)
				assert_int_equal(trace_dict_ord(d, id, i % 7 ?
				    start + 1 : start), ord);
			memcpy(e[h].ids[e[h].n], id, KEY_TRACE_ID_LEN);
			e[h].starts[e[h].n++] = start;
			h = !h;
		}
	}
}

static void
expect_free(expect e[2])
{
	for (int h = 0; h < 2; h++) {
		free(e[h].ids);
		free(e[h].starts);
	}
}

/* Every ordinal of both hours reads back as its trace and start (and
 * the start alone when out is NULL). */
static void
check_all(dict_reader *r, uint64_t flush, const expect e[2])
{
	uint8_t out[KEY_TRACE_ID_LEN];
	uint64_t start;

	for (int h = 0; h < 2; h++)
		for (uint32_t o = 0; o < e[h].n; o++) {
			start = 0;
			assert_true(dict_reader_trace(r, h ? HOUR_B : HOUR_A,
			    flush, o, out, &start));
			assert_memory_equal(out, e[h].ids[o],
			    KEY_TRACE_ID_LEN);
			assert_true(start == e[h].starts[o]);
			start = 0;
			assert_true(dict_reader_trace(r, h ? HOUR_B : HOUR_A,
			    flush, o, NULL, &start));
			assert_true(start == e[h].starts[o]);
		}
}

/* How many T records the index family holds for (hour, flush), and
 * their total entries. */
static uint32_t
count_records(store *st, uint32_t hour, uint64_t flush, uint32_t *entries)
{
	store_iter *it = store_iter_new(st, STORE_CF_INDEX, NULL, 0, NULL, 0,
	    false);
	uint32_t n = 0, last = TRACE_DICT_CHUNK;

	*entries = 0;
	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen;
		const void *k = store_iter_key(it, &klen);
		idx_key p;

		assert_int_equal(key_idx_parse(k, klen, &p), 0);
		if (p.type != IDX_DICT || p.hour != hour || p.batch != flush)
			continue;
		(void)store_iter_value(it, &vlen);
		/* Chunks in order, whole entries, every one but the last
		 * full. */
		assert_int_equal(p.bucket, n);
		assert_int_equal(vlen % TRACE_DICT_ENTRY, 0);
		assert_true(vlen > 0);
		assert_int_equal(last, TRACE_DICT_CHUNK);
		last = (uint32_t)(vlen / TRACE_DICT_ENTRY);
		*entries += last;
		n++;
	}
	store_iter_free(it);
	return n;
}

/* A flush of more than two chunks of hour A (the last one partial) and
 * exactly one chunk of hour B, written and read back. */
static void
test_write_read(void **state)
{
	fixture *f = *state;
	trace_dict *d = trace_dict_new();
	dict_reader *r;
	expect e[2];
	uint8_t out[KEY_TRACE_ID_LEN];
	uint64_t start;
	uint32_t n = 0, in_hour_b = 0, entries;

	/* As many traces as give hour B exactly one full chunk. */
	for (; in_hour_b < TRACE_DICT_CHUNK; n++)
		in_hour_b += in_b(n) || in_both(n);
	fill(d, 0, n, e);
	assert_int_equal(e[1].n, TRACE_DICT_CHUNK);
	assert_true(e[0].n > 2 * TRACE_DICT_CHUNK + 100);
	assert_true(e[0].n % TRACE_DICT_CHUNK != 0);
	write_batch(f->st, d, 7);
	trace_dict_free(d);

	assert_int_equal(count_records(f->st, HOUR_A, 7, &entries),
	    (e[0].n + TRACE_DICT_CHUNK - 1) / TRACE_DICT_CHUNK);
	assert_int_equal(entries, e[0].n);
	assert_int_equal(count_records(f->st, HOUR_B, 7, &entries), 1);
	assert_int_equal(entries, e[1].n);

	r = dict_reader_new(f->st);
	check_all(r, 7, e);
	/* Past the end: in the last, partial chunk, and in a chunk that
	 * does not exist. */
	assert_false(dict_reader_trace(r, HOUR_A, 7, e[0].n, out, &start));
	assert_false(dict_reader_trace(r, HOUR_A, 7,
	    (e[0].n / TRACE_DICT_CHUNK + 1) * TRACE_DICT_CHUNK, out, &start));
	assert_false(dict_reader_trace(r, HOUR_B, 7, e[1].n, out, &start));
	assert_false(dict_reader_trace(r, HOUR_A, 7, UINT32_MAX, out,
	    &start));
	/* Another flush, another hour. */
	assert_false(dict_reader_trace(r, HOUR_A, 6, 0, out, &start));
	assert_false(dict_reader_trace(r, HOUR_A, 8, 0, out, &start));
	assert_false(dict_reader_trace(r, HOUR_B + 1, 7, 0, out, &start));
	/* The misses are cached too: the answers stay right. */
	check_all(r, 7, e);
	dict_reader_free(r);
	dict_reader_free(NULL);
	expect_free(e);
}

/* Flush numbers start at 1: 0 names no flush, even if a stray record
 * carries it (the reader's cache marks free slots with flush 0, so
 * reading one would also leak and reread it on every call). */
static void
test_flush_zero(void **state)
{
	fixture *f = *state;
	trace_dict *d = trace_dict_new();
	dict_reader *r;
	uint8_t id[KEY_TRACE_ID_LEN], out[KEY_TRACE_ID_LEN];
	uint64_t start;

	trace_id(3, id);
	assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, 77)), 0);
	write_batch(f->st, d, 0);
	write_batch(f->st, d, 1);
	trace_dict_free(d);
	r = dict_reader_new(f->st);
	for (int i = 0; i < 2; i++) {
		assert_false(dict_reader_trace(r, HOUR_A, 0, 0, out, &start));
		assert_true(dict_reader_trace(r, HOUR_A, 1, 0, out, &start));
		assert_memory_equal(out, id, KEY_TRACE_ID_LEN);
		assert_true(start == at(HOUR_A, 77));
	}
	dict_reader_free(r);
}

/* A record that ends inside an entry (torn, or written with 16-byte
 * entries by 3af9d0f) answers for its whole entries only, and never reads
 * past its end. */
static void
test_short_record(void **state)
{
	fixture *f = *state;
	dict_reader *r;
	uint8_t rec[TRACE_DICT_ENTRY + KEY_TRACE_ID_LEN] = { 0 };
	uint8_t out[KEY_TRACE_ID_LEN];
	uint64_t start;
	store_batch *b = store_batch_new(f->st);
	char *cause = NULL;
	keybuf k;

	trace_id(5, rec);
	key_write_be64(rec + KEY_TRACE_ID_LEN, at(HOUR_A, 9));
	trace_id(6, rec + TRACE_DICT_ENTRY);
	key_idx_dict(&k, HOUR_A, 3, 0);
	store_batch_put(b, STORE_CF_INDEX, k.b, k.len, rec, sizeof rec);
	assert_int_equal(store_write(f->st, b, false, &cause), 0);
	store_batch_free(b);
	r = dict_reader_new(f->st);
	assert_true(dict_reader_trace(r, HOUR_A, 3, 0, out, &start));
	assert_memory_equal(out, rec, KEY_TRACE_ID_LEN);
	assert_true(start == at(HOUR_A, 9));
	assert_false(dict_reader_trace(r, HOUR_A, 3, 1, out, &start));
	assert_false(dict_reader_trace(r, HOUR_A, 3, 1, NULL, &start));
	dict_reader_free(r);
}

/* A reader that has cached many records (hits and misses, so its table
 * grows) still finds each. */
static void
test_reader_many_flushes(void **state)
{
	fixture *f = *state;
	trace_dict *d = trace_dict_new();
	dict_reader *r;
	expect e[40][2];
	uint8_t out[KEY_TRACE_ID_LEN];
	uint64_t start;

	for (uint64_t fl = 0; fl < 40; fl++) {
		trace_dict_reset(d);
		fill(d, fl * 1000, 300, e[fl]);
		write_batch(f->st, d, fl + 1);
	}
	trace_dict_free(d);
	r = dict_reader_new(f->st);
	for (uint64_t fl = 0; fl < 40; fl++) {
		assert_false(dict_reader_trace(r, HOUR_A, 1000 + fl, 0, out,
		    &start));
		check_all(r, fl + 1, e[fl]);
	}
	/* Again, after every record was read. */
	for (uint64_t fl = 40; fl-- > 0;)
		check_all(r, fl + 1, e[fl]);
	dict_reader_free(r);
	for (int fl = 0; fl < 40; fl++)
		expect_free(e[fl]);
}

/* After trace_dict_reset the dictionary numbers from 0 again, forgets
 * the traces, their starts and the hours it had (a trace seen before is
 * new, an hour not seen since is not written), and the earlier flush's
 * records stay as they were. */
static void
test_reset_reuse(void **state)
{
	fixture *f = *state;
	trace_dict *d = trace_dict_new();
	dict_reader *r;
	expect e1[2], e2;
	uint8_t id[KEY_TRACE_ID_LEN], out[KEY_TRACE_ID_LEN];
	uint64_t start;
	uint32_t entries;

	fill(d, 0, 600, e1);
	write_batch(f->st, d, 1);
	trace_dict_reset(d);
	assert_null(trace_dict_starts(d, HOUR_A));
	assert_null(trace_dict_starts(d, HOUR_B));
	/* Flush 2: hour A only, the first flush's traces backwards (the
	 * last one first) at later starts than before, then 100 new ones. */
	e2.ids = calloc(e1[0].n + 100, KEY_TRACE_ID_LEN);
	e2.starts = calloc(e1[0].n + 100, sizeof *e2.starts);
	e2.n = 0;
	for (uint32_t o = e1[0].n; o-- > 0;) {
		start = e1[0].starts[o] + 5000;
		assert_int_equal(trace_dict_ord(d, e1[0].ids[o], start), e2.n);
		memcpy(e2.ids[e2.n], e1[0].ids[o], KEY_TRACE_ID_LEN);
		e2.starts[e2.n++] = start;
	}
	for (uint64_t i = 10000; i < 10100; i++) {
		trace_id(i, id);
		assert_int_equal(trace_dict_ord(d, id, at(HOUR_A, i)), e2.n);
		memcpy(e2.ids[e2.n], id, KEY_TRACE_ID_LEN);
		e2.starts[e2.n++] = at(HOUR_A, i);
	}
	assert_null(trace_dict_starts(d, HOUR_B));
	write_batch(f->st, d, 2);
	assert_int_equal(count_records(f->st, HOUR_B, 2, &entries), 0);

	r = dict_reader_new(f->st);
	check_all(r, 1, e1);
	for (uint32_t o = 0; o < e2.n; o++) {
		assert_true(dict_reader_trace(r, HOUR_A, 2, o, out, &start));
		assert_memory_equal(out, e2.ids[o], KEY_TRACE_ID_LEN);
		assert_true(start == e2.starts[o]);
	}
	assert_false(dict_reader_trace(r, HOUR_A, 2, e2.n, out, &start));
	assert_false(dict_reader_trace(r, HOUR_B, 2, 0, out, &start));
	dict_reader_free(r);
	trace_dict_free(d);
	free(e2.ids);
	free(e2.starts);
	expect_free(e1);
}

/* ------------------------------------------------------ index_catalog */

static void
put(store *st, store_cf cf, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	assert_int_equal(store_fixture_put(st, cf, k, klen, v, vlen), 0);
}

/* The last flush's number, as the meta family holds it. */
static void
put_flush(store *st, uint64_t flush)
{
	uint8_t v[8];
	keybuf k;

	key_write_be64(v, flush);
	key_meta_flush(&k);
	put(st, STORE_CF_META, k.b, k.len, v, sizeof v);
}

/* An empty store is a new one: accepted. */
static void
test_catalog_empty_store(void **state)
{
	fixture *f = *state;
	char *cause = NULL;
	index_catalog *c = index_catalog_new(f->st, &cause);

	assert_non_null(c);
	assert_null(cause);
	index_catalog_free(c);
	index_catalog_free(NULL);
}

/* A store with a flush number is accepted; a damaged one is not. */
static void
test_catalog_accepts_new_format(void **state)
{
	fixture *f = *state;
	char *cause = NULL;
	index_catalog *c;
	keybuf k;

	key_idx_svc(&k, 1735689600ULL * 1000000000ULL, "checkout", 8, 5);
	put(f->st, STORE_CF_INDEX, k.b, k.len, "\x00\x00", 2);
	put_flush(f->st, 41);
	c = index_catalog_new(f->st, &cause);
	assert_non_null(c);
	assert_null(cause);
	index_catalog_free(c);
	/* A damaged flush number would restart the numbering over old
	 * dictionaries: refused. */
	key_meta_flush(&k);
	put(f->st, STORE_CF_META, k.b, k.len, "\x00\x29", 2);
	c = index_catalog_new(f->st, &cause);
	assert_null(c);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
}

/* A pipeline over a store whose last flush was 41 numbers its flushes
 * from 42: a restart must not write dictionaries (and batch numbers)
 * over the ones that postings already on disk refer to. */
static void
test_catalog_continues_flushes(void **state)
{
	fixture *f = *state;
	pipeline_limits lim;
	pipeline *p;
	pipeline_result res;
	sg_request *req;
	char *cause = NULL, *v = NULL;
	size_t vlen, n_dict = 0;
	store_iter *it;
	keybuf k;

	put_flush(f->st, 41);
	pipeline_limits_default(&lim);
	assert_int_equal(pipeline_new(&p, store_fixture_backend(f), &lim,
	    &cause), 0);
	req = sg_request_new(1, 0, 10, now_unix_ns() - 60000000000ULL,
	    1000000);
	pipeline_submit_request(p, req, &res);
	sg_request_free(req);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(backend_sync(f->be, 0), 0);

	key_meta_flush(&k);
	assert_int_equal(store_get(f->st, STORE_CF_META, k.b, k.len, &v,
	    &vlen, &cause), 0);
	assert_int_equal(vlen, 8);
	assert_true(key_be64(v) >= 42);
	free(v);
	it = store_iter_new(f->st, STORE_CF_INDEX, NULL, 0, NULL, 0, false);
	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen;
		const void *key = store_iter_key(it, &klen);
		idx_key pk;

		assert_int_equal(key_idx_parse(key, klen, &pk), 0);
		if (pk.type == IDX_DICT) {
			assert_true(pk.batch >= 42);
			n_dict++;
		} else {
			assert_true(key_batch_flush(pk.batch) >= 42);
		}
	}
	store_iter_free(it);
	assert_true(n_dict > 0);
	pipeline_free(p);
}

/* The RocksDB backend, which the collector starts with, refuses an index
 * of an older layout (no format mark). */
static void
test_pipeline_refuses_old_format(void **state)
{
	fixture *f = *state;
	char *cause = NULL;
	keybuf k;

	key_idx_svc(&k, 1735689600ULL * 1000000000ULL, "checkout", 8, 5);
	put(f->st, STORE_CF_INDEX, k.b, k.len, "012345678901234567890123",
	    24);
	assert_null(store_fixture_backend_with(f, NULL, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "older"));
	free(cause);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ord_dense_per_hour),
		cmocka_unit_test(test_starts),
		cmocka_unit_test(test_ord_same_slot_two_hours),
		T(test_write_read),
		T(test_flush_zero),
		T(test_short_record),
		T(test_reader_many_flushes),
		T(test_reset_reuse),
		T(test_catalog_empty_store),
		T(test_catalog_accepts_new_format),
		T(test_catalog_continues_flushes),
		T(test_pipeline_refuses_old_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
