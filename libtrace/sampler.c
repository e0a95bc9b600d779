/*
 * sampler.c - the OpenTelemetry samplers (OTEL_TRACES_SAMPLER).
 *
 * traceidratio compares the right-most 7 bytes of the trace ID (the part
 * W3C Level 2 guarantees random) with ratio * 2^56, so every service that
 * sees a trace makes the same decision without talking to the others.
 * parentbased_* follow the parent's sampled flag (local or remote) and
 * consult their root sampler only for new traces. trace__sample itself is
 * inlined from trace_impl.h.
 */
#include <string.h>

#include "trace_impl.h"

#define RATIO_SPACE (UINT64_C(1) << 56)

uint64_t
trace__ratio_bound(double ratio)
{
	if (!(ratio > 0.0))
		return 0;
	if (ratio >= 1.0)
		return RATIO_SPACE;
	return (uint64_t)(ratio * (double)RATIO_SPACE);
}

bool
trace__ratio_sample(const struct trace__tracer *tr, uint64_t tid_hi)
{
	uint64_t v = 0;
	uint8_t b[8];

	memcpy(b, &tid_hi, 8);
	for (int i = 1; i < 8; i++)  /* bytes 9..15, big-endian */
		v = v << 8 | b[i];
	return v < tr->ratio_bound;
}
