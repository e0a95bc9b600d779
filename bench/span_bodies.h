/*
 * span_bodies.h - the span workloads that bench_libtrace.c times and
 * callgrind_libtrace.c counts: body_X(n) runs n spans of one shape, so
 * both measure the same code.
 */
#ifndef BENCH_SPAN_BODIES_H
#define BENCH_SPAN_BODIES_H

#include <stdint.h>

#include "trace/trace.h"

static volatile uint64_t sink_u64;

__attribute__((unused)) static void
body_clock(int n)
{
	uint64_t acc = 0;

	for (int i = 0; i < n; i++)
		acc += trace_now_unix_ns() - trace_now_unix_ns();
	sink_u64 = acc;
}

__attribute__((unused)) static void
body_0attrs(int n)
{
	for (int i = 0; i < n; i++)
		trace_span_end(trace_span_start("bench.op"));
}

__attribute__((unused)) static void
body_2attrs(int n)
{
	for (int i = 0; i < n; i++) {
		trace_span *s = trace_span_start("GET /users/{id}");

		trace_span_set_str(s, "http.request.method", "GET");
		trace_span_set_int(s, "http.response.status_code", 200);
		trace_span_end(s);
	}
}

/* body_2attrs through the functions themselves: with GCC, trace.h's
 * macros hand the library the lengths of literal names, keys and values;
 * a call with strings known only at run time (here: the parenthesised
 * names bypass the macros) makes the library measure them. */
__attribute__((unused)) static void
body_2attrs_runtime_keys(int n)
{
	for (int i = 0; i < n; i++) {
		trace_span *s = (trace_span_start)("GET /users/{id}");

		(trace_span_set_str)(s, "http.request.method", "GET");
		(trace_span_set_int)(s, "http.response.status_code", 200);
		trace_span_end(s);
	}
}

__attribute__((unused)) static void
body_8attrs_1event(int n)
{
	trace_attr ev = TRACE_ATTR_STR("cache", "miss");

	for (int i = 0; i < n; i++) {
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

#endif /* BENCH_SPAN_BODIES_H */
