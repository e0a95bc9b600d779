/*
 * callgrind_libtrace.c - the span hot path under valgrind's callgrind:
 * instructions per span, which unlike wall time do not move with the
 * machine's state. Each workload is its own noinline loop of N spans (the
 * bench_libtrace.c bodies), so `--toggle-collect=<loop>` counts only it;
 * a warm-up loop first makes the thread state, its caches and the light
 * spans. The exporter dials a socket nobody listens on, so no batch is
 * sent while a loop runs (the queue holds every span). Run by
 * bench/callgrind_libtrace.sh, which divides by N.
 */
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"

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

__attribute__((noinline)) static void
loop_clock(void)
{
	volatile uint64_t acc = 0;

	for (int i = 0; i < N; i++)
		acc += trace_now_unix_ns() - trace_now_unix_ns();
}

__attribute__((noinline)) static void
loop_0attrs(void)
{
	for (int i = 0; i < N; i++)
		trace_span_end(trace_span_start("bench.op"));
}

__attribute__((noinline)) static void
loop_2attrs(void)
{
	for (int i = 0; i < N; i++) {
		trace_span *s = trace_span_start("GET /users/{id}");

		trace_span_set_str(s, "http.request.method", "GET");
		trace_span_set_int(s, "http.response.status_code", 200);
		trace_span_end(s);
	}
}

__attribute__((noinline)) static void
loop_2attrs_runtime_keys(void)
{
	for (int i = 0; i < N; i++) {
		trace_span *s = (trace_span_start)("GET /users/{id}");

		(trace_span_set_str)(s, "http.request.method", "GET");
		(trace_span_set_int)(s, "http.response.status_code", 200);
		trace_span_end(s);
	}
}

__attribute__((noinline)) static void
loop_8attrs_1event(void)
{
	trace_attr ev = TRACE_ATTR_STR("cache", "miss");

	for (int i = 0; i < N; i++) {
		trace_span *s = trace_span_start("SELECT users");

		trace_span_set_str(s, "db.system.name", "postgresql");
		trace_span_set_str(s, "db.namespace", "accounts");
		trace_span_set_str(s, "db.operation.name", "SELECT");
		trace_span_set_str(s, "db.collection.name", "users");
		trace_span_set_str(s, "server.address", "db-1.internal");
		trace_span_set_int(s, "server.port", 5432);
		trace_span_set_int(s, "db.response.returned_rows", i);
		trace_span_set_bool(s, "retry", false);
		trace_span_add_event(s, "cache.lookup", &ev, 1);
		trace_span_end(s);
	}
}

/* The unsampled loops repeat the sampled bodies under always_off; the
 * driver is built with -fno-ipa-icf so that gcc keeps them apart. */
__attribute__((noinline)) static void
loop_unsampled(void)
{
	for (int i = 0; i < N; i++)
		trace_span_end(trace_span_start("bench.op"));
}

__attribute__((noinline)) static void
loop_unsampled_2attrs(void)
{
	for (int i = 0; i < N; i++) {
		trace_span *s = trace_span_start("GET /users/{id}");

		trace_span_set_str(s, "http.request.method", "GET");
		trace_span_set_int(s, "http.response.status_code", 200);
		trace_span_end(s);
	}
}

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
