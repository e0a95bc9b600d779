/*
 * ids.c - trace and span IDs (the generator is inlined from
 * trace_impl.h; this file seeds it).
 *
 * Each thread has a wyrand generator (one multiply per 64 bits) seeded from
 * getrandom(); the seed is taken once per thread, so the hot path makes no
 * syscall. IDs are never all zero (W3C: all-zero IDs are invalid): a zero
 * draw is drawn again, or on the hot start (span.c, ids_fill) becomes 1,
 * which costs no loop for a case of probability 2^-64. Every byte of a
 * trace ID is random, so spans
 * carry TRACE_FLAG_RANDOM (W3C Level 2). A forked child reseeds (see
 * tracer.c) so that parent and child never draw the same IDs.
 */
#include <sys/random.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "trace_impl.h"

TRACE_TLS uint64_t trace__rng_state;
TRACE_TLS int trace__rng_seeded;
static _Atomic uint64_t seed_counter;

void
trace__ids_reseed(void)
{
	uint64_t seed = 0;
	struct timespec ts;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) !=
	    (ssize_t)sizeof seed) {
		/* No entropy yet (early boot): mix what differs per thread. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^
		    (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&ts;
	}
	seed ^= atomic_fetch_add(&seed_counter, 0x632be59bd9b4e019u);
	trace__rng_state = seed;
	trace__rng_seeded = 1;
}
