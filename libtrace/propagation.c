/*
 * propagation.c - the configured propagators (OTEL_PROPAGATORS) and
 * trace_inject_context / trace_extract over text-map carriers.
 *
 * The set is read from the environment once, on first use, under
 * pthread_once; trace__prop_mask_set() may replace it at any time (an
 * atomic store), so the hot paths read one relaxed atomic.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "propagation.h"

/* Bit 31 marks "chosen" so that an explicit set wins over the environment
 * even when it is set before the first read. */
#define CHOSEN 0x80000000u

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static _Atomic unsigned prop_set;
static _Atomic int ts_level;

static const struct {
	const char *name;
	unsigned bit;
} names[] = {
    {"tracecontext", TRACE__PROP_TRACECONTEXT},
    {"baggage", TRACE__PROP_BAGGAGE},
    {"b3", TRACE__PROP_B3},
    {"b3multi", TRACE__PROP_B3MULTI},
    {"jaeger", TRACE__PROP_JAEGER},
};

unsigned
trace__prop_parse(const char *list)
{
	unsigned set = 0;
	bool none = false;

	if (list == NULL)
		return TRACE__PROP_DEFAULT;
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		const char *a = p, *b = comma != NULL ? comma : p + strlen(p);
		size_t len;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		len = (size_t)(b - a);
		if (len == 4 && strncasecmp(a, "none", 4) == 0)
			none = true;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == len &&
			    strncasecmp(a, names[i].name, len) == 0)
				set |= names[i].bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (none)
		return 0;
	return set != 0 ? set : TRACE__PROP_DEFAULT;
}

static void
env_read(void)
{
	const char *v = getenv("OTEL_PROPAGATORS");
	unsigned set = (v != NULL && *v != '\0') ? trace__prop_parse(v)
	                                         : TRACE__PROP_DEFAULT;
	unsigned expect = 0;
	int level = 2, lexpect = 0;

	/* Only if nobody chose a set explicitly in the meantime. */
	atomic_compare_exchange_strong(&prop_set, &expect, set | CHOSEN);
	v = getenv("TRACE_TRACECONTEXT_LEVEL");
	if (v != NULL && strcmp(v, "1") == 0)
		level = 1;
	atomic_compare_exchange_strong(&ts_level, &lexpect, level);
}

unsigned
trace__prop_mask(void)
{
	unsigned set = atomic_load_explicit(&prop_set, memory_order_relaxed);

	if (set == 0) {
		pthread_once(&env_once, env_read);
		set = atomic_load_explicit(&prop_set, memory_order_relaxed);
	}
	return set & ~CHOSEN;
}

void
trace__prop_mask_set(unsigned set)
{
	atomic_store(&prop_set, set | CHOSEN);
}

int
trace__tracecontext_level(void)
{
	int level = atomic_load_explicit(&ts_level, memory_order_relaxed);

	if (level == 0) {
		pthread_once(&env_once, env_read);
		level = atomic_load_explicit(&ts_level, memory_order_relaxed);
	}
	return level;
}

void
trace__tracecontext_level_set(int level)
{
	atomic_store(&ts_level, level == 1 ? 1 : 2);
}

int
trace_inject_context(
    const trace_context *ctx, void *carrier, trace_carrier_set_fn set)
{
	char buf[TRACE_TRACE_ID_HEXLEN + TRACE_SPAN_ID_HEXLEN + 24];
	unsigned props;

	if (set == NULL || !trace_context_is_valid(ctx))
		return TRACE_EINVAL;
	props = trace__prop_mask();
	if (props & TRACE__PROP_TRACECONTEXT) {
		trace_traceparent_format(ctx, buf, sizeof buf);
		set(carrier, "traceparent", buf);
		/* The span's tracestate was validated when it came in. */
		if (ctx->tracestate[0] != '\0')
			set(carrier, "tracestate", ctx->tracestate);
	}
	if (props & TRACE__PROP_B3) {
		trace__b3_format(ctx, buf, sizeof buf);
		set(carrier, "b3", buf);
	}
	if (props & TRACE__PROP_B3MULTI)
		trace__b3multi_inject(ctx, carrier, set);
	if (props & TRACE__PROP_JAEGER) {
		trace__jaeger_format(ctx, buf, sizeof buf);
		set(carrier, "uber-trace-id", buf);
	}
	if ((props & TRACE__PROP_BAGGAGE) &&
	    trace_baggage_count(trace_baggage_current()) > 0)
		trace_baggage_inject(trace_baggage_current(), carrier, set);
	return TRACE_OK;
}

/* W3C: traceparent, then tracestate only when traceparent is valid. */
static int
extract_w3c(trace_context *out, void *carrier, trace_carrier_get_fn get)
{
	const char *tp = get(carrier, "traceparent");
	const char *ts;

	if (tp == NULL)
		return TRACE_ENOTFOUND;
	if (trace_traceparent_parse(tp, out) != TRACE_OK)
		return TRACE_EINVAL;
	if ((ts = get(carrier, "tracestate")) != NULL)
		trace__tracestate_parse(ts, trace__tracecontext_level(),
		    out->tracestate, sizeof out->tracestate);
	return TRACE_OK;
}

int
trace_extract(trace_context *out, void *carrier, trace_carrier_get_fn get)
{
	unsigned props;
	const char *v;

	if (out == NULL)
		return TRACE_EINVAL;
	if (get == NULL) {
		memset(out, 0, sizeof *out);
		return TRACE_EINVAL;
	}
	props = trace__prop_mask();

	/* The first format that yields a valid context wins, in a fixed
	 * precedence: W3C (the only one with tracestate), b3, b3multi,
	 * jaeger. A failed parse leaves *out zeroed. */
	if ((props & TRACE__PROP_TRACECONTEXT) &&
	    extract_w3c(out, carrier, get) == TRACE_OK)
		return TRACE_OK;
	if ((props & TRACE__PROP_B3) && (v = get(carrier, "b3")) != NULL &&
	    trace__b3_parse(v, out) == TRACE_OK)
		return TRACE_OK;
	if ((props & TRACE__PROP_B3MULTI) &&
	    trace__b3multi_extract(out, carrier, get) == TRACE_OK)
		return TRACE_OK;
	if ((props & TRACE__PROP_JAEGER) &&
	    (v = get(carrier, "uber-trace-id")) != NULL &&
	    trace__jaeger_parse(v, out) == TRACE_OK)
		return TRACE_OK;
	memset(out, 0, sizeof *out);
	return TRACE_ENOTFOUND;
}
