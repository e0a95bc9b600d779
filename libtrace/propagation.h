/*
 * propagation.h - private interface of libtrace's context propagation:
 * W3C traceparent/tracestate, W3C baggage, B3, Jaeger and the nng_msg
 * carrier. The parsers here are pure functions of their input: they touch
 * no tracer state, so tests can link them without the span core. The rules
 * and wire layouts are documented in docs/PROPAGATION.md.
 */
#ifndef LIBTRACE_PROPAGATION_H
#define LIBTRACE_PROPAGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/* Propagators, as bits of the configured set (OTEL_PROPAGATORS). */
#define TRACE__PROP_TRACECONTEXT 0x01u
#define TRACE__PROP_BAGGAGE 0x02u
#define TRACE__PROP_B3 0x04u      /* single "b3" header */
#define TRACE__PROP_B3MULTI 0x08u /* X-B3-* headers */
#define TRACE__PROP_JAEGER 0x10u  /* uber-trace-id */
#define TRACE__PROP_DEFAULT (TRACE__PROP_TRACECONTEXT | TRACE__PROP_BAGGAGE)

/* Trace-flags bits libtrace knows; the others are dropped on the way. */
#define TRACE__FLAGS_KNOWN (TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM)

/* Most tracestate list-members (W3C). */
#define TRACE__TRACESTATE_MEMBERS 32

/* traceparent.c */
/* trace__hex_lc decodes exactly 2*n lowercase hex digits of s into out.
 * Returns false on any other character. */
bool trace__hex_lc(const char *s, uint8_t *out, size_t n);
/* trace__hexdigit returns the value of hex digit c (either case), or -1. */
int trace__hexdigit(int c);
/* trace__hex_encode writes 2*n lowercase hex digits and a NUL. */
void trace__hex_encode(const uint8_t *in, size_t n, char *out);
/* trace__is_zero returns true when all n bytes of p are 0. */
bool trace__is_zero(const uint8_t *p, size_t n);

/* tracestate.c */
/*
 * trace__tracestate_parse validates a tracestate value (several header
 * fields already joined with ",") with the key grammar of W3C level 1 or 2
 * and writes its canonical form ("k=v,k=v", no OWS) into out, cut to at
 * most TRACE_TRACESTATE_MAX chars by the W3C truncation rules. Returns
 * TRACE_OK (out may be "" when there are no members) or TRACE_EINVAL when
 * the whole value must be discarded (out is then ""). cap must be at least
 * TRACE_TRACESTATE_MAX + 1.
 */
int trace__tracestate_parse(
    const char *value, int level, char *out, size_t cap);
/* trace__tracestate_key_valid checks one key against a level's grammar. */
bool trace__tracestate_key_valid(const char *key, size_t len, int level);
/* trace__tracestate_value_valid checks one value (1-256 chars). */
bool trace__tracestate_value_valid(const char *val, size_t len);

/* b3.c */
/* trace__b3_parse parses a single "b3" header value. Returns TRACE_OK with
 * a valid *out, or TRACE_EINVAL (also for a bare sampling decision). */
int trace__b3_parse(const char *value, trace_context *out);
/* trace__b3_format writes "<trace>-<span>-<0|1>" (51 chars + NUL). */
int trace__b3_format(const trace_context *ctx, char *buf, size_t len);
/* trace__b3multi_extract reads the X-B3-* headers through get. */
int trace__b3multi_extract(
    trace_context *out, void *carrier, trace_carrier_get_fn get);
/* trace__b3multi_inject writes X-B3-TraceId, X-B3-SpanId, X-B3-Sampled. */
void trace__b3multi_inject(
    const trace_context *ctx, void *carrier, trace_carrier_set_fn set);

/* jaeger.c */
/* trace__jaeger_parse parses an uber-trace-id value. */
int trace__jaeger_parse(const char *value, trace_context *out);
/* trace__jaeger_format writes "<trace>:<span>:0:<0|1>" (53 chars + NUL). */
int trace__jaeger_format(const trace_context *ctx, char *buf, size_t len);

/* propagation.c */
/*
 * trace__prop_mask returns the configured propagator set. It reads
 * OTEL_PROPAGATORS (and TRACE_TRACECONTEXT_LEVEL) once, on first use,
 * unless trace__prop_mask_set() chose a set before. Thread-safe.
 */
unsigned trace__prop_mask(void);
/* trace__prop_parse turns an OTEL_PROPAGATORS list into a set.
 * Unknown names are ignored; "none" anywhere gives 0; a list naming no
 * known propagator gives the default. */
unsigned trace__prop_parse(const char *list);
/* trace__prop_mask_set overrides the set (the core may call it from
 * trace_init with a configured list; tests use it). Thread-safe. */
void trace__prop_mask_set(unsigned set);
/* trace__tracecontext_level returns 1 or 2: the W3C level whose tracestate
 * rules apply (TRACE_TRACECONTEXT_LEVEL, default 2). */
int trace__tracecontext_level(void);
/* trace__tracecontext_level_set overrides it (tests). */
void trace__tracecontext_level_set(int level);

/* carrier_nng.c: the nng_msg prefix (docs/PROPAGATION.md). */
#define TRACE__NNG_MAGIC0 0x7f
#define TRACE__NNG_MAGIC1 'T'
#define TRACE__NNG_MAGIC2 'R'
#define TRACE__NNG_MAGIC3 'C'
#define TRACE__NNG_VERSION 1
#define TRACE__NNG_FIXED 34 /* bytes before the tracestate */

#endif /* LIBTRACE_PROPAGATION_H */
