/*
 * clock_linux.c - span timestamps.
 *
 * A span needs two clock reads. Both come from CLOCK_MONOTONIC (a vDSO
 * call, no syscall) plus an offset to the wall clock, so a span's duration
 * never goes negative when the wall clock is stepped. The exporter thread
 * re-reads the offset once per export cycle, so timestamps follow the wall
 * clock within one schedule delay.
 */
#include <time.h>

#include "trace_impl.h"

static _Atomic int offset_set;

static uint64_t
read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
trace__mono_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

void
trace__clock_resync(void)
{
	uint64_t m1 = read_clock(CLOCK_MONOTONIC);
	uint64_t w = read_clock(CLOCK_REALTIME);
	uint64_t m2 = read_clock(CLOCK_MONOTONIC);

	atomic_store_explicit(&trace__clock_offset_ns,
	    (int64_t)(w - (m1 + (m2 - m1) / 2)), memory_order_relaxed);
	atomic_store_explicit(&offset_set, 1, memory_order_release);
}

uint64_t
trace_now_unix_ns(void)
{
	/* Callable before trace_init, unlike the span path. */
	if (TRACE_UNLIKELY(!atomic_load_explicit(&offset_set,
	    memory_order_acquire)))
		trace__clock_resync();
	return trace__now_ns();
}
