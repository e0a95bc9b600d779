/*
 * Tests for delivery (exporter.c): queue overflow accounting, a collector
 * that is down then back, every IngestReply code, garbage replies,
 * shutdown with and without a reachable collector, several endpoints.
 * The collector is a real NNG REP socket (libtrace_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

static struct fake fx, fx2;

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	memset(&fx2, 0, sizeof fx2);
	fx_url(fx.url, sizeof fx.url);
	fx_url(fx2.url, sizeof fx2.url);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	trace_shutdown(0);
	fx_free(&fx);
	fx_free(&fx2);
	return 0;
}

static void
begin(const char *url, size_t queue, size_t batch)
{
	trace_config *cfg = fx_config(url);

	assert_non_null(cfg);
	trace_config_set_queue_size(cfg, queue);
	trace_config_set_batch_size(cfg, batch);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
}

static void
spans(int n)
{
	for (int i = 0; i < n; i++) {
		trace_span *s = trace_span_start("export");

		trace_span_set_int(s, "i", i);
		trace_span_end(s);
	}
}

static void
test_queue_full_then_collector_back(void **state)
{
	trace_stats_t st;

	(void)state;
	begin(fx.url, 16, 8);         /* collector not started yet */
	spans(100);
	trace_stats(&st);
	assert_int_equal(st.spans_started, 100);
	assert_int_equal(st.spans_ended, 100);
	assert_int_equal(st.spans_dropped_queue_full, 84);
	assert_int_equal(trace_flush(50), TRACE_ETIMEDOUT);
	/* While it is down, creation goes on and memory stays bounded:
	 * nothing beyond the 16 pooled spans is kept. */
	spans(5000);
	trace_stats(&st);
	assert_int_equal(st.spans_dropped_queue_full, 84 + 5000);
	assert_true(st.queue_depth <= 16);
	assert_int_equal(st.spans_exported, 0);
	/* The collector comes up: delivery resumes. */
	assert_int_equal(fx_start(&fx), 0);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	spans(10);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_exported, 26);
	assert_int_equal(atomic_load(&fx.nspans), 26);
	assert_true(fx_stats_add_up(&st));
	assert_true(st.batches_acked >= 3);
	assert_true(st.batches_sent >= st.batches_acked);
}

static void
test_reply_codes(void **state)
{
	trace_stats_t st;

	(void)state;
	assert_int_equal(fx_start(&fx), 0);
	begin(fx.url, 256, 256);
	atomic_store(&fx.code, 2);            /* INVALID: drop, count */
	spans(10);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_dropped_rejected, 10);
	assert_int_equal(st.spans_exported, 0);

	fx.rejected = 3;
	atomic_store(&fx.code, 1);            /* PARTIAL: 3 of 10 */
	spans(10);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_dropped_rejected, 13);
	assert_int_equal(st.spans_exported, 7);

	/* RETRY_LATER twice, INTERNAL, garbage, then OK: resent until
	 * acknowledged, each spans counted once. */
	fx.retry_after_ms = 5;
	fx.script[0] = 3;
	fx.script[1] = 3;
	fx.script[2] = 4;
	fx.script[3] = -1;
	atomic_store(&fx.scripted, 0);
	atomic_store(&fx.nscript, 4);
	atomic_store(&fx.code, 0);
	spans(10);
	assert_int_equal(trace_flush(30000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_exported, 17);
	assert_int_equal(st.batches_retried, 4);
	assert_int_equal(st.batches_sent, 3);
	assert_int_equal(st.batches_acked, 3);
	assert_true(fx_stats_add_up(&st));
}

/* TOO_LARGE: the batch is split in halves, each delivered on its own. */
static void
test_too_large_splits(void **state)
{
	trace_stats_t st;

	trace_config *cfg = fx_config(fx.url);

	(void)state;
	assert_int_equal(fx_start(&fx), 0);
	/* Only trace_flush may start the export: one batch of 40. */
	trace_config_set_schedule_delay_ms(cfg, 600000);
	trace_config_set_queue_size(cfg, 256);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	fx.script[0] = 5;       /* the 40-span batch */
	fx.script[1] = 5;       /* its first half, 20 */
	atomic_store(&fx.scripted, 0);
	atomic_store(&fx.nscript, 2);
	spans(40);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_exported, 40);
	assert_int_equal(atomic_load(&fx.nspans), 40);
	/* 40 -> (20 -> 10 + 10) + 20: five sends, three settled halves. */
	assert_int_equal(atomic_load(&fx.nrecv), 5);
	assert_int_equal(st.batches_acked, 3);
	assert_true(fx_stats_add_up(&st));
}

static void
test_shutdown_delivers_queued(void **state)
{
	trace_stats_t st;

	(void)state;
	assert_int_equal(fx_start(&fx), 0);
	begin(fx.url, 4096, 100);
	spans(3000);
	assert_int_equal(trace_shutdown(20000), TRACE_OK);
	assert_int_equal(atomic_load(&fx.nspans), 3000);
	trace_stats(&st);
	assert_int_equal(st.spans_exported, 3000);
	assert_int_equal(st.spans_dropped_shutdown, 0);
	assert_true(fx_stats_add_up(&st));
}

static void
test_shutdown_deadline_collector_down(void **state)
{
	trace_stats_t st;

	(void)state;
	begin(fx.url, 256, 64);
	spans(100);
	assert_int_equal(trace_shutdown(100), TRACE_ETIMEDOUT);
	assert_false(trace_is_running());
	trace_stats(&st);
	assert_int_equal(st.spans_ended, 100);
	assert_int_equal(st.spans_dropped_shutdown, 100);
	assert_true(fx_stats_add_up(&st));
}

/* A collector that never answers: the exporter's wait is cut by the
 * shutdown deadline. */
static void
test_shutdown_collector_silent(void **state)
{
	nng_socket silent;
	trace_stats_t st;

	(void)state;
	assert_int_equal(nng_rep0_open(&silent), 0);
	assert_int_equal(nng_listen(silent, fx.url, NULL, 0), 0);
	begin(fx.url, 256, 64);
	spans(10);
	assert_int_equal(trace_shutdown(200), TRACE_ETIMEDOUT);
	trace_stats(&st);
	assert_int_equal(st.spans_dropped_shutdown, 10);
	assert_true(fx_stats_add_up(&st));
	nng_close(silent);
}

static void
test_two_endpoints(void **state)
{
	char both[300];
	trace_stats_t st;

	(void)state;
	assert_int_equal(fx_start(&fx), 0);
	assert_int_equal(fx_start(&fx2), 0);
	snprintf(both, sizeof both, "%s, %s", fx.url, fx2.url);
	begin(both, 1024, 10);
	/* Let both connections come up before counting. */
	spans(10);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	while (atomic_load(&fx.nrecv) == 0 || atomic_load(&fx2.nrecv) == 0) {
		spans(10);
		assert_int_equal(trace_flush(10000), TRACE_OK);
	}
	/* One collector goes away: everything reaches the other. */
	fx_stop(&fx2);
	spans(200);
	assert_int_equal(trace_flush(20000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(atomic_load(&fx.nspans) + atomic_load(&fx2.nspans),
	    st.spans_exported);
	assert_true(fx_stats_add_up(&st));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_full_then_collector_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_delivers_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_deadline_collector_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_collector_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_endpoints, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
