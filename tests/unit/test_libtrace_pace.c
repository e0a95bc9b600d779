/*
 * When a span thread wakes the exporter (libtrace/tracer.c,
 * trace__kick_unless_paced): every quarter of the queue it ends, unless
 * the exporter paces itself (pace_until in the future); then only once
 * half the queue waits in its ring, or once that time has passed. The
 * exporter here sleeps for a minute and dials nobody, so nothing else
 * wakes it: "woken" is the kick flag, or a batch already taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"

#define QUEUE 64
#define QUARTER (QUEUE / 4)

static struct trace__tracer *
start(void)
{
	trace_config *cfg;

	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	trace_config_set_endpoint(cfg, "ipc:///tmp/libtrace-pace-nobody");
	trace_config_set_queue_size(cfg, QUEUE);
	trace_config_set_batch_size(cfg, QUARTER);
	trace_config_set_schedule_delay_ms(cfg, 60000);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	return atomic_load(&trace__g_tracer);
}

static void
end_spans(int n)
{
	for (int i = 0; i < n; i++)
		trace_span_end(trace_span_start("s"));
}

static bool
woken(struct trace__tracer *tr)
{
	return atomic_load(&tr->kicked) != 0 ||
	    atomic_load(&tr->batches_sent) > 0;
}

static void
test_quarter_kicks(void **state)
{
	struct trace__tracer *tr = start();

	(void)state;
	end_spans(QUARTER - 1);
	assert_false(woken(tr));
	end_spans(1);
	assert_true(woken(tr));
	trace_shutdown(0);
}

static void
test_paced_spares_quarter_not_half(void **state)
{
	struct trace__tracer *tr = start();

	(void)state;
	atomic_store(&tr->pace_until, trace__mono_ns() + 3600000000000u);
	end_spans(QUARTER);
	assert_false(woken(tr));
	end_spans(QUARTER - 1);
	assert_false(woken(tr));
	end_spans(1);
	assert_true(woken(tr));
	trace_shutdown(0);
}

static void
test_overdue_pace_kicks(void **state)
{
	struct trace__tracer *tr = start();

	(void)state;
	atomic_store(&tr->pace_until, trace__mono_ns());
	end_spans(QUARTER);
	assert_true(woken(tr));
	trace_shutdown(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quarter_kicks),
		cmocka_unit_test(test_paced_spares_quarter_not_half),
		cmocka_unit_test(test_overdue_pace_kicks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
