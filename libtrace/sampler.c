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
#include "trace_impl.h"

uint64_t
trace__ratio_bound(double ratio)
{
	if (!(ratio > 0.0))
		return 0;
	if (ratio >= 1.0)
		return TRACE__RATIO_SPACE;
	return (uint64_t)(ratio * (double)TRACE__RATIO_SPACE);
}

void
trace__sampler_setup(struct trace__tracer *tr, enum trace__sampler sampler,
    double ratio)
{
	tr->parent_based = sampler == TRACE__PB_ALWAYS_ON ||
	    sampler == TRACE__PB_ALWAYS_OFF || sampler == TRACE__PB_RATIO;
	switch (sampler) {
	case TRACE__ALWAYS_ON:
	case TRACE__PB_ALWAYS_ON:
		tr->root_bound = TRACE__RATIO_SPACE;
		break;
	case TRACE__ALWAYS_OFF:
	case TRACE__PB_ALWAYS_OFF:
		tr->root_bound = 0;
		break;
	case TRACE__RATIO:
	case TRACE__PB_RATIO:
		tr->root_bound = trace__ratio_bound(ratio);
		break;
	}
	/* What trace__sample says without the trace ID: a root (or any
	 * span, unless parent-based) is always or never sampled at the
	 * bounds and decided by its ID in between. */
	tr->presample[TRACE__ROOT] = tr->root_bound == 0 ? TRACE__UNSAMPLED :
	    tr->root_bound == TRACE__RATIO_SPACE ? TRACE__SAMPLED :
	    TRACE__DECIDE;
	tr->presample[TRACE__PARENT_SAMPLED] = tr->parent_based ?
	    TRACE__SAMPLED : tr->presample[TRACE__ROOT];
	tr->presample[TRACE__PARENT_UNSAMPLED] = tr->parent_based ?
	    TRACE__UNSAMPLED : tr->presample[TRACE__ROOT];
}
