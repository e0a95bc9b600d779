/*
 * The record pool (libtrace/pool.c): every record is taken once until it
 * is released, each starts on a cache line, none is lost, the last freed
 * is reused first, threads take and release concurrently (also under
 * `make tsan`), and the exporter hands records back without writing into
 * them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

#define NREC 300
#define NTHREADS 4
#define ROUNDS 20000

/* A tracer with only a pool, as trace_init would make it. */
static struct trace__tracer *
pool_new(size_t nrec)
{
	struct trace__tracer *tr = aligned_alloc(64,
	    (sizeof *tr + 63) & ~(size_t)63);

	assert_non_null(tr);
	memset(tr, 0, sizeof *tr);
	tr->limits.attr_value_len = TRACE_NO_LIMIT;
	assert_int_equal(trace__pool_init(tr, nrec, 256), TRACE_OK);
	return tr;
}

static void
pool_delete(struct trace__tracer *tr)
{
	trace__pool_free(tr);
	free(tr);
}

/* Takes every free record; checks none comes twice. */
static size_t
take_all(struct trace__tracer *tr, struct trace__rec **all)
{
	bool seen[NREC] = {false};
	size_t n = 0, got;

	while ((got = trace__pool_take(tr, all + n, TRACE__CHAIN_MAX)) > 0) {
		for (size_t i = n; i < n + got; i++) {
			assert_true(all[i]->index < NREC);
			assert_ptr_equal(all[i], tr->pool +
			    (size_t)all[i]->index * tr->stride);
			/* On a cache line: a span uses no line more than
			 * its bytes need (docs/LIBTRACE.md). */
			assert_int_equal((uintptr_t)all[i] % 64, 0);
			assert_false(seen[all[i]->index]);
			seen[all[i]->index] = true;
		}
		n += got;
		assert_true(n <= NREC);
	}
	return n;
}

static void
test_pool_each_record_once(void **state)
{
	struct trace__tracer *tr = pool_new(NREC);
	struct trace__rec *all[NREC];

	(void)state;
	assert_int_equal(take_all(tr, all), NREC);
	assert_int_equal(trace__pool_take(tr, all, 1), 0);
	trace__pool_release(tr, all, NREC);
	assert_int_equal(take_all(tr, all), NREC);
	pool_delete(tr);
}

static void
test_pool_last_freed_first(void **state)
{
	struct trace__tracer *tr = pool_new(NREC);
	struct trace__rec *all[NREC], *out[2];

	(void)state;
	assert_int_equal(take_all(tr, all), NREC);
	trace__pool_release(tr, &all[7], 1);
	trace__pool_release(tr, &all[3], 1);
	assert_int_equal(trace__pool_take(tr, out, 2), 2);
	assert_ptr_equal(out[0], all[3]);
	assert_ptr_equal(out[1], all[7]);
	pool_delete(tr);
}

/* Threads take chains of 1..32 records, claim each (a record held twice
 * is a failure), release them, and repeat. */
static struct trace__tracer *shared;
static _Atomic uint8_t held[NREC];
static _Atomic int failures;

static void *
churn(void *arg)
{
	uint64_t rng = (uint64_t)(intptr_t)arg * 0x9e3779b97f4a7c15u + 1;
	struct trace__rec *mine[TRACE__CHAIN_MAX];

	for (int r = 0; r < ROUNDS; r++) {
		size_t want = (size_t)(trace__wy(&rng) % TRACE__CHAIN_MAX) + 1;
		size_t n = trace__pool_take(shared, mine, want);

		for (size_t i = 0; i < n; i++)
			if (atomic_exchange(&held[mine[i]->index], 1) != 0)
				atomic_fetch_add(&failures, 1);
		for (size_t i = 0; i < n; i++)
			atomic_store(&held[mine[i]->index], 0);
		trace__pool_release(shared, mine, n);
	}
	return NULL;
}

static void
test_pool_threads_lose_nothing(void **state)
{
	pthread_t th[NTHREADS];
	struct trace__rec *all[NREC];

	(void)state;
	shared = pool_new(NREC);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i + 1));
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(take_all(shared, all), NREC);
	pool_delete(shared);
}

/* The exporter reads a record and frees it without writing into it:
 * the bytes a span left behind are the same after its export. */
static void
test_export_leaves_record_unwritten(void **state)
{
	struct fake fx;
	trace_config *cfg;
	trace_span *s;
	struct trace__rec *r;
	unsigned char before[512];
	size_t len;

	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);
	cfg = fx_config(fx.url);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	s = trace_span_start("unwritten");
	trace_span_set_str(s, "k", "v");
	r = (struct trace__rec *)s;
	assert_true(s->recording);
	trace_span_end(s);
	/* Read while the exporter may be reading too (reads only). */
	len = offsetof(struct trace__rec, arena) + r->used;
	assert_true(len <= sizeof before);
	memcpy(before, r, len);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	assert_int_equal(atomic_load(&fx.nspans), 1);
	assert_memory_equal(before, r, len);
	assert_int_equal(trace_shutdown(5000), TRACE_OK);
	fx_free(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_each_record_once),
		cmocka_unit_test(test_pool_last_freed_first),
		cmocka_unit_test(test_pool_threads_lose_nothing),
		cmocka_unit_test(test_export_leaves_record_unwritten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
