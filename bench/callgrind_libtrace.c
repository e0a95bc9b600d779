/*
 * callgrind_libtrace.c - the span hot path under valgrind's callgrind:
 * instructions per span, which unlike wall time do not move with the
 * machine's state. Each workload is its own noinline loop of N spans
 * (the bodies bench_libtrace.c times, from span_bodies.h), so
 * `--toggle-collect=<loop>` counts only it;
 * a warm-up loop first makes the thread state, its caches and the light
 * spans. The exporter dials a socket nobody listens on, so no batch is
 * sent while a loop runs (the queue holds every span). Run by
 * bench/callgrind_libtrace.sh, which divides by N.
 */
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"
#include "span_bodies.h"

#define N 2100

__attribute__((noinline)) static void
warm(void)
{
	for (int i = 0; i < 100; i++) {
		trace_span *s = trace_span_start("warm");

		trace_span_set_int(s, "k", i);
		trace_span_end(s);
	}
}

/* One noinline loop per workload, for --toggle-collect. */
#define LOOP(name, body)						\
	__attribute__((noinline)) static void name(void) { body(N); }

LOOP(loop_clock, body_clock)
LOOP(loop_0attrs, body_0attrs)
LOOP(loop_2attrs, body_2attrs)
LOOP(loop_2attrs_runtime_keys, body_2attrs_runtime_keys)
LOOP(loop_8attrs_1event, body_8attrs_1event)
/* The unsampled loops run the sampled bodies under always_off; the
 * driver is built with -fno-ipa-icf so that gcc keeps them apart. */
LOOP(loop_unsampled, body_0attrs)
LOOP(loop_unsampled_2attrs, body_2attrs)

static int
start(const char *sampler)
{
	trace_config *cfg;
	int rv;

	if (trace_config_new(&cfg) != TRACE_OK)
		return -1;
	trace_config_set_endpoint(cfg, "ipc:///tmp/callgrind-libtrace-none");
	trace_config_set_sampler(cfg, sampler, 1.0);
	trace_config_set_queue_size(cfg, 16384);
	rv = trace_init(cfg);
	trace_config_free(cfg);
	if (rv != TRACE_OK)
		return -1;
	warm();
	return 0;
}

int
main(void)
{
	if (start("parentbased_always_on") != 0)
		return 1;
	loop_clock();
	loop_0attrs();
	loop_2attrs();
	loop_2attrs_runtime_keys();
	loop_8attrs_1event();
	trace_shutdown(0);
	if (start("always_off") != 0)
		return 1;
	loop_unsampled();
	loop_unsampled_2attrs();
	trace_shutdown(0);
	printf("spans per loop: %d\n", N);
	return 0;
}
