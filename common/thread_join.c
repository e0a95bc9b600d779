/*
 * thread_join.c - joining a thread that may be stuck inside a library
 * (NNG 1.5.2's socket close can wait forever: nanomsg/nng#1543, #1813),
 * without waiting forever for it.
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common.h"

static atomic_uint abandoned;

bool
thread_join_within(pthread_t t, unsigned ms)
{
	struct timespec dl = deadline_after_ms(ms);

	if (pthread_timedjoin_np(t, NULL, &dl) == 0)
		return true;
	pthread_detach(t);
	atomic_fetch_add(&abandoned, 1);
	return false;
}

unsigned
thread_join_abandoned(void)
{
	return atomic_load(&abandoned);
}
