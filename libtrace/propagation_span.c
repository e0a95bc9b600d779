/*
 * propagation_span.c - the span-level propagation entry points. They are
 * the only propagation code that needs the span core
 * (trace_span_get_context), kept apart so that the parsers link alone.
 */
#include "propagation.h"

int
trace_inject(const trace_span *s, void *carrier, trace_carrier_set_fn set)
{
	trace_context ctx;

	if (s == NULL || set == NULL)
		return TRACE_EINVAL;
	if (trace_span_get_context(s, &ctx) != TRACE_OK)
		return TRACE_EINVAL;
	return trace_inject_context(&ctx, carrier, set);
}

int
trace_nng_msg_inject(const trace_span *s, struct nng_msg *msg)
{
	trace_context ctx;

	if (s == NULL || msg == NULL)
		return TRACE_EINVAL;
	if (trace_span_get_context(s, &ctx) != TRACE_OK)
		return TRACE_EINVAL;
	return trace_nng_msg_inject_context(&ctx, msg);
}
