/*
 * admission.c - the backlog bound (pipeline_impl.h). The check and the
 * add are two steps, so concurrent requests may overshoot the bound by a
 * request each: a soft bound, as intended, never a lock on the way in.
 */
#include "pipeline/pipeline_impl.h"

void
admission_init(admission *a, size_t max_bytes)
{
	a->max_bytes = max_bytes;
	atomic_init(&a->bytes, 0);
	atomic_init(&a->requests, 0);
}

bool
admission_enter(admission *a, size_t len)
{
	if (atomic_load(&a->bytes) + (int64_t)len > (int64_t)a->max_bytes)
		return false;
	atomic_fetch_add(&a->bytes, (int64_t)len);
	atomic_fetch_add(&a->requests, 1);
	return true;
}

void
admission_leave(admission *a, size_t len)
{
	atomic_fetch_sub(&a->bytes, (int64_t)len);
	atomic_fetch_sub(&a->requests, 1);
}
