/*
 * Unit tests for collector/store/store.c and the index records the pipeline
 * writes, on a real RocksDB in a mkdtemp directory (removed afterwards):
 * persistence, the lock refusal, batches and merges, each index family,
 * and retention (expired records dropped, fresh ones kept).
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
#include "format/hist.h"
#include "format/keys.h"
#include "format/postings.h"
#include "format/span_block.h"
#include "daemon/stats.h"

typedef store_fixture fixture;

STORE_FIXTURE_HOOKS("store")

static void
test_put_get_persist(void **state)
{
	fixture *f = *state;
	store_batch *b = store_batch_new(f->st);
	store_options o = { 0 };
	char *v = NULL, *cause = NULL;
	size_t vlen;

	store_batch_put(b, STORE_CF_META, "k1", 2, "v1", 2);
	store_batch_put(b, STORE_CF_SPANS, "k1", 2, "other", 5);
	assert_int_equal(store_batch_count(b), 2);
	assert_int_equal(store_write(f->st, b, false, &cause), 0);
	store_batch_free(b);
	store_close(f->st);
	assert_int_equal(store_open(&f->st, f->dir, &o, &cause), 0);
	assert_int_equal(store_get(f->st, STORE_CF_META, "k1", 2, &v, &vlen,
	    &cause), 0);
	assert_int_equal(vlen, 2);
	assert_memory_equal(v, "v1", 2);
	free(v);
	/* Families are separate key spaces. */
	assert_int_equal(store_get(f->st, STORE_CF_SPANS, "k1", 2, &v, &vlen,
	    &cause), 0);
	assert_int_equal(vlen, 5);
	free(v);
	assert_int_equal(store_get(f->st, STORE_CF_META, "k2", 2, &v, &vlen,
	    &cause), 1);
}

static void
test_locked_refusal(void **state)
{
	fixture *f = *state;
	store_options o = { 0 };
	store *second = NULL;
	char *cause = NULL;

	assert_int_equal(store_open(&second, f->dir, &o, &cause), -1);
	assert_null(second);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "locked"));
	free(cause);
}

static void
test_iter_bounds_and_delete_range(void **state)
{
	fixture *f = *state;
	store_batch *b = store_batch_new(f->st);
	char *cause = NULL;
	store_iter *it;
	int n = 0;

	for (char c = 'a'; c <= 'z'; c++)
		store_batch_put(b, STORE_CF_INDEX, &c, 1, "", 0);
	assert_int_equal(store_write(f->st, b, false, &cause), 0);
	store_batch_free(b);
	it = store_iter_new(f->st, STORE_CF_INDEX, "c", 1, "f", 1, false);
	for (; store_iter_valid(it); store_iter_next(it))
		n++;
	store_iter_free(it);
	assert_int_equal(n, 3);
	assert_int_equal(store_delete_range(f->st, STORE_CF_INDEX, "a", 1,
	    "y", 1, &cause), 0);
	it = store_iter_new(f->st, STORE_CF_INDEX, NULL, 0, NULL, 0, false);
	n = 0;
	for (; store_iter_valid(it); store_iter_next(it))
		n++;
	store_iter_free(it);
	assert_int_equal(n, 2);
}

static void
test_hist_merge_in_store(void **state)
{
	fixture *f = *state;
	store_batch *b = store_batch_new(f->st);
	char *cause = NULL, *enc, *v;
	size_t len, vlen;
	uint64_t vals[3] = { 10, 20, 30 };
	hist *h = calloc(1, sizeof *h);

	for (int i = 0; i < 4; i++) {
		len = hist_encode_values(vals, 3, &enc);
		store_batch_merge(b, STORE_CF_HIST, "h", 1, enc, len);
		free(enc);
	}
	assert_int_equal(store_write(f->st, b, false, &cause), 0);
	store_batch_free(b);
	assert_int_equal(store_get(f->st, STORE_CF_HIST, "h", 1, &v, &vlen,
	    &cause), 0);
	assert_true(hist_decode_add(h, v, vlen));
	assert_true(h->count == 12);
	assert_true(h->max == 30);
	free(v);
	free(h);
}

/* Counts index entries of one type: postings (D counts its tail
 * records' too), every record decoding exactly. */
static int
count_index(store *st, int type)
{
	store_iter *it = store_iter_new(st, STORE_CF_INDEX, NULL, 0, NULL, 0,
	    false);
	tref *t = NULL;
	dref *d = NULL;
	size_t n_t = 0, n_d = 0, cap_t = 0, cap_d = 0;
	int n = 0;

	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen;
		const void *k = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);
		idx_key p;
		long got;

		if (key_idx_parse(k, klen, &p) != 0 || (p.type != type &&
		    !(type == IDX_DUR && p.type == IDX_DUR_TAIL)))
			continue;
		if (type == IDX_DUR)
			got = postings_decode_d(v, vlen, p.dur_ns, &d, &n_d,
			    &cap_d);
		else
			got = postings_decode_t(v, vlen, type == IDX_VAL, &t,
			    &n_t, &cap_t);
		assert_true(got > 0);
		n += (int)got;
	}
	store_iter_free(it);
	free(t);
	free(d);
	return n;
}

static void
submit(pipeline *p, uint64_t seed, uint64_t traces, uint64_t base,
    pipeline_result *res)
{
	sg_request *req = sg_request_new(seed, 0, traces, base, 1000000);

	pipeline_submit_request(p, req, res);
	sg_request_free(req);
}

static void
test_pipeline_writes_each_index(void **state)
{
	fixture *f = *state;
	pipeline_limits lim;
	pipeline *p;
	pipeline_result res;
	uint64_t base = now_unix_ns() - 60ULL * 1000000000ULL;
	char *cause = NULL, *v;
	size_t vlen, off = 0;
	keybuf k;
	sg_info in;
	span_block_entry e;
	store_iter *it;
	const uint8_t *bv;
	uint8_t lo[KEY_SPAN_PREFIX_LEN], hi[KEY_SPAN_PREFIX_LEN];
	int n, rv;

	pipeline_limits_default(&lim);
	assert_int_equal(pipeline_new(&p, store_fixture_backend(f), &lim,
	    &cause), 0);
	submit(p, 1, 10, base, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(res.accepted_spans, 10 * SPANGEN_PER_TRACE);
	/* The index follows the spans; a sync waits for it. */
	assert_int_equal(count_index(f->st, IDX_DUR), 0);
	assert_int_equal(backend_sync(f->be, 0), 0);
	/* One duration posting per span; one posting per trace and name. */
	assert_int_equal(count_index(f->st, IDX_DUR), 10 * SPANGEN_PER_TRACE);
	assert_true(count_index(f->st, IDX_SVC) <= 10 * SPANGEN_SERVICES);
	assert_true(count_index(f->st, IDX_SVC) >= 10);
	assert_true(count_index(f->st, IDX_OP) >= 10);
	assert_true(count_index(f->st, IDX_OP) <= 10 * SPANGEN_PER_TRACE);
	/* component=http: one posting per trace; request.id, unique per
	 * span, goes to the value buckets. */
	assert_true(count_index(f->st, IDX_ATTR) > 10 * SPANGEN_ATTRS);
	assert_true(count_index(f->st, IDX_VAL) >= 10 * SPANGEN_PER_TRACE);
	/* A trace's spans from one request are one block, keyed by trace
	 * and the span that came first, its earliest start first. */
	sg_describe(1, 3, 0, base, 1000000, &in);
	/* Its block is under (minute, trace), and the traces family names
	 * that minute. */
	key_span(&k, key_minute(in.start_ns), in.trace_id, in.span_id);
	memcpy(lo, k.b, KEY_SPAN_PREFIX_LEN);
	memcpy(hi, k.b, KEY_SPAN_PREFIX_LEN);
	hi[KEY_SPAN_PREFIX_LEN - 1]++;
	key_trace(&k, in.trace_id, key_minute(in.start_ns));
	assert_int_equal(store_get(f->st, STORE_CF_TRACES, k.b, k.len, &v,
	    &vlen, &cause), 0);
	assert_int_equal(vlen, 0);
	free(v);
	it = store_iter_new(f->st, STORE_CF_SPANS, lo, KEY_SPAN_PREFIX_LEN, hi,
	    KEY_SPAN_PREFIX_LEN, true);
	assert_true(store_iter_valid(it));
	bv = store_iter_value(it, &vlen);
	assert_true(key_span_value_start(bv, vlen) == in.start_ns);
	n = 0;
	while ((rv = span_block_next(bv, vlen, &off, &e)) == 1)
		n++;
	assert_int_equal(rv, 0);
	assert_int_equal(n, SPANGEN_PER_TRACE);
	store_iter_next(it);
	assert_false(store_iter_valid(it));
	store_iter_free(it);
	/* The catalog knows the service and the operation. */
	key_meta_service(&k, "svc-0", 5);
	assert_int_equal(store_get(f->st, STORE_CF_META, k.b, k.len, &v,
	    &vlen, &cause), 0);
	free(v);
	pipeline_free(p);
}

static void
test_retention_drops_old_keeps_new(void **state)
{
	fixture *f = *state;
	pipeline_limits lim;
	pipeline *p;
	pipeline_result res;
	uint64_t now = now_unix_ns();
	uint64_t old = now - 3 * KEY_HOUR_NS, fresh = now - 60000000000ULL;
	char *cause = NULL, *v;
	size_t vlen;
	keybuf k;
	sg_info in;

	pipeline_limits_default(&lim);
	assert_int_equal(pipeline_new(&p, store_fixture_backend(f), &lim,
	    &cause), 0);
	submit(p, 1, 20, old, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	submit(p, 2, 20, fresh, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_int_equal(backend_sync(f->be, 0), 0);
	assert_int_equal(retention_run_once(f->st, now_unix_ns(), KEY_HOUR_NS,
	    true, &cause), 0);

	/* The old trace's block and its entry in the traces family are
	 * gone; the fresh ones stay. */
	sg_describe(1, 5, 0, old, 1000000, &in);
	key_span(&k, key_minute(in.start_ns), in.trace_id, in.span_id);
	assert_int_equal(store_get(f->st, STORE_CF_SPANS, k.b, k.len, &v,
	    &vlen, &cause), 1);
	key_trace(&k, in.trace_id, key_minute(in.start_ns));
	assert_int_equal(store_get(f->st, STORE_CF_TRACES, k.b, k.len, &v,
	    &vlen, &cause), 1);
	sg_describe(2, 5, 0, fresh, 1000000, &in);
	key_span(&k, key_minute(in.start_ns), in.trace_id, in.span_id);
	assert_int_equal(store_get(f->st, STORE_CF_SPANS, k.b, k.len, &v,
	    &vlen, &cause), 0);
	free(v);
	key_trace(&k, in.trace_id, key_minute(in.start_ns));
	assert_int_equal(store_get(f->st, STORE_CF_TRACES, k.b, k.len, &v,
	    &vlen, &cause), 0);
	free(v);
	/* Only the fresh producer's index records remain. */
	assert_int_equal(count_index(f->st, IDX_DUR), 20 * SPANGEN_PER_TRACE);
	pipeline_free(p);
}

/* Once requests stop for idle_flush_ms, the memtables go to files (so
 * queries stop searching them); not before. */
static void
test_idle_flush(void **state)
{
	fixture *f = *state;
	pipeline_limits lim;
	pipeline *p;
	pipeline_result res;
	char *cause = NULL;
	uint64_t before = stats.idle_flushes;
	int waited = 0;

	backend_options bo;

	backend_options_default(&bo);
	bo.index_flush_ms = 50;
	bo.idle_flush_ms = 1000;
	pipeline_limits_default(&lim);
	assert_non_null(store_fixture_backend_with(f, &bo, &cause));
	assert_int_equal(pipeline_new(&p, f->be, &lim, &cause), 0);
	submit(p, 1, 10, now_unix_ns() - 60ULL * 1000000000ULL, &res);
	assert_int_equal(res.code, PIPELINE_OK);
	assert_true(store_property_sum(f->st,
	    "rocksdb.num-entries-active-mem-table") > 0);
	assert_true(stats.idle_flushes == before);
	while (stats.idle_flushes == before && waited++ < 100)
		usleep(100000);
	assert_true(stats.idle_flushes == before + 1);
	assert_true(store_property_sum(f->st,
	    "rocksdb.num-entries-active-mem-table") == 0);
	/* Still idle: no second flush. */
	usleep(600000);
	assert_true(stats.idle_flushes == before + 1);
	pipeline_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_persist, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locked_refusal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_iter_bounds_and_delete_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_merge_in_store,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_writes_each_index, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retention_drops_old_keeps_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_flush, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
