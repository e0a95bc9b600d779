/*
 * Multi-threaded stress tests for libtrace (run under ThreadSanitizer by
 * `make tsan`): many threads start, nest, annotate and end spans while the
 * exporter drains; threads come and go; the pool is kept small so the
 * queue-full path races too; trace_stats() must add up at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

#define NTHREADS 6
#define PER_THREAD 3000

static struct fake fx;
static _Atomic int go;
/* cmocka's asserts must stay on the main thread: workers count. */
static _Atomic int failures;

static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	trace_attr ev[] = {TRACE_ATTR_INT("id", id)};

	while (!atomic_load(&go))
		;
	for (int i = 0; i < PER_THREAD; i++) {
		trace_span *a = trace_span_start("stress.outer");
		trace_span *b = trace_span_start("stress.inner");
		trace_context ctx;

		trace_span_set_int(a, "i", i);
		trace_span_set_str(b, "thread", "worker");
		trace_span_add_event(b, "tick", ev, 1);
		trace_span_get_context(b, &ctx);
		if (memcmp(ctx.trace_id.bytes, a->trace_id.bytes, 16) != 0 ||
		    memcmp(b->parent_id.bytes, a->span_id.bytes, 8) != 0)
			atomic_fetch_add(&failures, 1);
		if (i % 7 == 0)
			trace_span_record_exception(b, "E", "m");
		trace_span_end(b);
		if (trace_current_span() != a)
			atomic_fetch_add(&failures, 1);
		trace_span_end(a);
		if (trace_current_span() != NULL)
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

/* A span started on one thread, detached, ended on another. */
static void *
finisher(void *arg)
{
	trace_span_end(arg);
	return NULL;
}

static void *
stats_reader(void *arg)
{
	trace_stats_t st;

	(void)arg;
	while (!atomic_load(&go))
		;
	for (int i = 0; i < 200; i++) {
		trace_stats(&st);
		if (st.spans_ended > st.spans_started)
			atomic_fetch_add(&failures, 1);
		if (i % 50 == 0)
			trace_flush(1000);
	}
	return NULL;
}

static void
run(size_t queue)
{
	pthread_t th[NTHREADS], rd, fin;
	trace_config *cfg;
	trace_stats_t st;
	trace_span *d;

	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);
	cfg = fx_config(fx.url);
	trace_config_set_queue_size(cfg, queue);
	trace_config_set_batch_size(cfg, 128);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	atomic_store(&go, 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	pthread_create(&rd, NULL, stats_reader, NULL);
	d = trace_span_start_opts("handed-over",
	    &(trace_span_options){.detached = true});
	pthread_create(&fin, NULL, finisher, d);
	atomic_store(&go, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_join(rd, NULL);
	pthread_join(fin, NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(trace_shutdown(30000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_started, 2 * NTHREADS * PER_THREAD + 1);
	assert_int_equal(st.spans_ended, 2 * NTHREADS * PER_THREAD + 1);
	assert_true(fx_stats_add_up(&st));
	assert_int_equal(st.spans_exported, atomic_load(&fx.nspans));
	fx_free(&fx);
}

static void
test_stress_roomy(void **state)
{
	trace_stats_t st;

	(void)state;
	run(2 * NTHREADS * PER_THREAD + 64);
	trace_stats(&st);
	assert_int_equal(st.spans_dropped_queue_full, 0);
}

static void
test_stress_tight(void **state)
{
	(void)state;
	run(64); /* most spans are dropped: that path races too */
}

/* Threads that exit while their spans wait for export, and restarts. */
static void *
short_lived(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		trace_span_end(trace_span_start("short"));
	return NULL;
}

static void
test_threads_come_and_go(void **state)
{
	trace_stats_t st;
	trace_config *cfg;

	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);
	for (int round = 0; round < 3; round++) {
		cfg = fx_config(fx.url);
		assert_int_equal(trace_init(cfg), TRACE_OK);
		trace_config_free(cfg);
		for (int i = 0; i < 40; i++) {
			pthread_t t;

			pthread_create(&t, NULL, short_lived, NULL);
			pthread_join(t, NULL);
		}
		assert_int_equal(trace_shutdown(20000), TRACE_OK);
		trace_stats(&st);
		assert_int_equal(st.spans_ended, 40 * 50);
		assert_int_equal(st.spans_exported, 40 * 50);
	}
	fx_free(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_roomy),
		cmocka_unit_test(test_stress_tight),
		cmocka_unit_test(test_threads_come_and_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
