/*
 * fuzz_propagation.c - libFuzzer target for libtrace's context parsers:
 * traceparent and tracestate (directly and through trace_extract with a
 * text-map carrier), W3C baggage, B3 (single and multi-header), Jaeger's
 * uber-trace-id and the nng_msg prefix (trace_nng_msg_extract on a real
 * nng_msg).
 *
 * Input: byte 0 picks the propagator set (low 5 bits; 0 means all) and
 * the tracestate level (bit 5: level 1). The rest is split at NUL bytes
 * into the header values, in the order of prop_keys[]; whatever follows
 * the last of them is the nng_msg body, raw.
 *
 * Invariants: every accepted context is valid, remote, with known flags
 * and a bounded tracestate; parse -> format -> parse is the identity for
 * traceparent, tracestate, B3, Jaeger and baggage; inject -> extract gives
 * back the extracted context; a rejected nng prefix leaves the message
 * unchanged and an accepted one survives a re-inject.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>

#include "fuzz.h"
#include "propagation.h"
#include "trace/trace.h"

static const char *const prop_keys[] = {
	"traceparent", "tracestate", "b3", "X-B3-TraceId", "X-B3-SpanId",
	"X-B3-Sampled", "X-B3-Flags", "X-B3-ParentSpanId", "uber-trace-id",
	"baggage",
};
#define PROP_NKEYS (sizeof prop_keys / sizeof prop_keys[0])
#define PROP_MAXSET 16

/* A text-map carrier: up to PROP_MAXSET headers, values owned. */
typedef struct prop_carrier {
	const char *key[PROP_MAXSET];
	char *val[PROP_MAXSET];
	size_t n;
} prop_carrier;

static const char *
prop_get(void *carrier, const char *key)
{
	const prop_carrier *c = carrier;

	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->key[i], key) == 0)
			return c->val[i];
	return NULL;
}

static void
prop_set(void *carrier, const char *key, const char *value)
{
	prop_carrier *c = carrier;

	FUZZ_CHECK(c->n < PROP_MAXSET);
	c->key[c->n] = key;	/* inject passes string literals */
	c->val[c->n] = fuzz_strndup((const uint8_t *)value, strlen(value));
	c->n++;
}

static void
prop_carrier_fini(prop_carrier *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->val[i]);
	c->n = 0;
}

/* Checks what every accepted context must satisfy. */
static void
prop_check_ctx(const trace_context *ctx)
{
	FUZZ_CHECK(trace_context_is_valid(ctx));
	FUZZ_CHECK(ctx->is_remote);
	FUZZ_CHECK((ctx->flags & ~TRACE__FLAGS_KNOWN) == 0);
	FUZZ_CHECK(memchr(ctx->tracestate, '\0', sizeof ctx->tracestate) !=
	    NULL);
	FUZZ_CHECK(strlen(ctx->tracestate) <= TRACE_TRACESTATE_MAX);
}

static bool
prop_same_ids(const trace_context *a, const trace_context *b)
{
	return memcmp(&a->trace_id, &b->trace_id, sizeof a->trace_id) == 0 &&
	    memcmp(&a->span_id, &b->span_id, sizeof a->span_id) == 0;
}

static void
prop_traceparent(const char *v)
{
	trace_context a, b;
	char buf[64], buf2[64];

	if (trace_traceparent_parse(v, &a) != TRACE_OK) {
		FUZZ_CHECK(!trace_context_is_valid(&a));
		return;
	}
	prop_check_ctx(&a);
	FUZZ_CHECK(a.tracestate[0] == '\0');
	FUZZ_CHECK(trace_traceparent_format(&a, buf, sizeof buf) == TRACE_OK);
	FUZZ_CHECK(strlen(buf) == 55);
	FUZZ_CHECK(trace_traceparent_format(&a, buf2, 55) == TRACE_ENOSPACE);
	FUZZ_CHECK(trace_traceparent_parse(buf, &b) == TRACE_OK);
	FUZZ_CHECK(prop_same_ids(&a, &b) && a.flags == b.flags);
	FUZZ_CHECK(trace_traceparent_format(&b, buf2, sizeof buf2) ==
	    TRACE_OK);
	FUZZ_CHECK(strcmp(buf, buf2) == 0);
}

static void
prop_tracestate(const char *v, int level)
{
	char out[TRACE_TRACESTATE_MAX + 1], again[TRACE_TRACESTATE_MAX + 1];

	if (trace__tracestate_parse(v, level, out, sizeof out) != TRACE_OK) {
		FUZZ_CHECK(out[0] == '\0');
		return;
	}
	FUZZ_CHECK(strlen(out) <= TRACE_TRACESTATE_MAX);
	/* The canonical form is a fixed point. */
	FUZZ_CHECK(trace__tracestate_parse(out, level, again, sizeof again) ==
	    TRACE_OK);
	FUZZ_CHECK(strcmp(out, again) == 0);
}

static void
prop_b3(const char *v)
{
	trace_context a, b;
	char buf[64];

	if (trace__b3_parse(v, &a) != TRACE_OK) {
		FUZZ_CHECK(!trace_context_is_valid(&a));
		return;
	}
	prop_check_ctx(&a);
	FUZZ_CHECK(trace__b3_format(&a, buf, sizeof buf) == TRACE_OK);
	FUZZ_CHECK(trace__b3_parse(buf, &b) == TRACE_OK);
	FUZZ_CHECK(prop_same_ids(&a, &b) && a.flags == b.flags);
}

static void
prop_jaeger(const char *v)
{
	trace_context a, b;
	char buf[64];

	if (trace__jaeger_parse(v, &a) != TRACE_OK) {
		FUZZ_CHECK(!trace_context_is_valid(&a));
		return;
	}
	prop_check_ctx(&a);
	FUZZ_CHECK(trace__jaeger_format(&a, buf, sizeof buf) == TRACE_OK);
	FUZZ_CHECK(trace__jaeger_parse(buf, &b) == TRACE_OK);
	FUZZ_CHECK(prop_same_ids(&a, &b) && a.flags == b.flags);
}

/* Two baggages hold the same entries in the same order. */
static bool
prop_baggage_equal(const trace_baggage *a, const trace_baggage *b)
{
	size_t n = trace_baggage_count(a);

	if (n != trace_baggage_count(b))
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *ka, *va, *ma, *kb, *vb, *mb;

		FUZZ_CHECK(trace_baggage_entry(a, i, &ka, &va, &ma) ==
		    TRACE_OK);
		FUZZ_CHECK(trace_baggage_entry(b, i, &kb, &vb, &mb) ==
		    TRACE_OK);
		if (strcmp(ka, kb) != 0 || strcmp(va, vb) != 0 ||
		    (ma == NULL) != (mb == NULL) ||
		    (ma != NULL && strcmp(ma, mb) != 0))
			return false;
	}
	return true;
}

static void
prop_baggage(const char *v)
{
	static char buf[TRACE_BAGGAGE_MAX_BYTES + 1];
	static char buf2[TRACE_BAGGAGE_MAX_BYTES + 1];
	trace_baggage *a, *b;
	size_t n;
	int rv;

	FUZZ_CHECK(trace_baggage_new(&a) == TRACE_OK);
	rv = trace_baggage_parse(a, v);
	FUZZ_CHECK(rv == TRACE_OK || rv == TRACE_ENOTFOUND);
	n = trace_baggage_count(a);
	FUZZ_CHECK((rv == TRACE_OK) == (n > 0));
	FUZZ_CHECK(n <= TRACE_BAGGAGE_MAX_ENTRIES);
	FUZZ_CHECK(trace_baggage_format(a, buf, sizeof buf) == TRACE_OK);
	FUZZ_CHECK(strlen(buf) <= TRACE_BAGGAGE_MAX_BYTES);
	for (size_t i = 0; i < n; i++) {
		const char *k;

		FUZZ_CHECK(trace_baggage_entry(a, i, &k, NULL, NULL) ==
		    TRACE_OK);
		FUZZ_CHECK(trace_baggage_get(a, k) != NULL);
	}
	FUZZ_CHECK(trace_baggage_entry(a, n, NULL, NULL, NULL) ==
	    TRACE_ENOTFOUND);
	/* format -> parse gives the same entries and the same text. */
	FUZZ_CHECK(trace_baggage_new(&b) == TRACE_OK);
	if (n > 0) {
		FUZZ_CHECK(trace_baggage_parse(b, buf) == TRACE_OK);
		FUZZ_CHECK(prop_baggage_equal(a, b));
		FUZZ_CHECK(trace_baggage_format(b, buf2, sizeof buf2) ==
		    TRACE_OK);
		FUZZ_CHECK(strcmp(buf, buf2) == 0);
	}
	/* Removing every key empties it. */
	while (trace_baggage_count(b) > 0) {
		const char *k;
		char *key;

		FUZZ_CHECK(trace_baggage_entry(b, 0, &k, NULL, NULL) ==
		    TRACE_OK);
		key = fuzz_strndup((const uint8_t *)k, strlen(k));
		FUZZ_CHECK(trace_baggage_remove(b, key) == TRACE_OK);
		FUZZ_CHECK(trace_baggage_get(b, key) == NULL);
		free(key);
	}
	trace_baggage_free(b);
	trace_baggage_free(a);
}

/* trace_extract through a carrier, then inject -> extract again. */
static void
prop_extract(prop_carrier *in, unsigned mask)
{
	trace_context a, b;
	prop_carrier out = { 0 };
	trace_baggage *bag = NULL;
	int rv;

	rv = trace_extract(&a, in, prop_get);
	FUZZ_CHECK(rv == TRACE_OK || rv == TRACE_ENOTFOUND);
	if (rv == TRACE_OK) {
		prop_check_ctx(&a);
		if (!(mask & TRACE__PROP_TRACECONTEXT))
			FUZZ_CHECK(a.tracestate[0] == '\0');
	} else {
		FUZZ_CHECK(!trace_context_is_valid(&a));
	}
	rv = trace_baggage_extract(&bag, in, prop_get);
	FUZZ_CHECK(rv == TRACE_OK || rv == TRACE_ENOTFOUND);
	FUZZ_CHECK((rv == TRACE_OK) == (bag != NULL));
	if (!trace_context_is_valid(&a)) {
		trace_baggage_free(bag);
		return;
	}
	trace_baggage_set_current(bag);
	FUZZ_CHECK(trace_inject_context(&a, &out, prop_set) == TRACE_OK);
	trace_baggage_set_current(NULL);
	FUZZ_CHECK(trace_extract(&b, &out, prop_get) == TRACE_OK);
	FUZZ_CHECK(prop_same_ids(&a, &b));
	FUZZ_CHECK((a.flags & TRACE_FLAG_SAMPLED) ==
	    (b.flags & TRACE_FLAG_SAMPLED));
	if (mask & TRACE__PROP_TRACECONTEXT) {
		FUZZ_CHECK(a.flags == b.flags);
		FUZZ_CHECK(strcmp(a.tracestate, b.tracestate) == 0);
	}
	if (bag != NULL && (mask & TRACE__PROP_BAGGAGE)) {
		trace_baggage *bag2 = NULL;

		FUZZ_CHECK(trace_baggage_extract(&bag2, &out, prop_get) ==
		    TRACE_OK);
		FUZZ_CHECK(prop_baggage_equal(bag, bag2));
		trace_baggage_free(bag2);
	}
	trace_baggage_free(bag);
	prop_carrier_fini(&out);
}

/* trace_nng_msg_extract on a real message holding body. */
static void
prop_nng(const uint8_t *body, size_t len)
{
	trace_context a, b;
	nng_msg *m;
	int rv;

	FUZZ_CHECK(nng_msg_alloc(&m, 0) == 0);
	FUZZ_CHECK(nng_msg_append(m, body, len) == 0);
	rv = trace_nng_msg_extract(m, &a);
	FUZZ_CHECK(rv == TRACE_OK || rv == TRACE_ENOTFOUND);
	if (rv != TRACE_OK) {
		/* Unchanged, context zeroed. */
		FUZZ_CHECK(!trace_context_is_valid(&a));
		FUZZ_CHECK(nng_msg_len(m) == len);
		FUZZ_CHECK(len == 0 ||
		    memcmp(nng_msg_body(m), body, len) == 0);
		nng_msg_free(m);
		return;
	}
	prop_check_ctx(&a);
	FUZZ_CHECK(nng_msg_len(m) + TRACE__NNG_FIXED <= len);
	FUZZ_CHECK(nng_msg_len(m) == 0 ||
	    memcmp(nng_msg_body(m), body + (len - nng_msg_len(m)),
	    nng_msg_len(m)) == 0);
	/* Re-inject what was read and read it back. */
	FUZZ_CHECK(trace_nng_msg_inject_context(&a, m) == TRACE_OK);
	FUZZ_CHECK(trace_nng_msg_extract(m, &b) == TRACE_OK);
	FUZZ_CHECK(prop_same_ids(&a, &b) && a.flags == b.flags);
	FUZZ_CHECK(strcmp(a.tracestate, b.tracestate) == 0);
	nng_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prop_carrier in = { 0 };
	const uint8_t *p, *end = data + size;
	unsigned mask;
	int level;

	if (size == 0)
		return 0;
	mask = data[0] & 0x1fu;
	if (mask == 0)
		mask = 0x1fu;
	level = (data[0] & 0x20u) ? 1 : 2;
	trace__prop_mask_set(mask);
	trace__tracecontext_level_set(level);

	/* Split the header values at NUL bytes. */
	p = data + 1;
	for (size_t i = 0; i < PROP_NKEYS && p < end; i++) {
		const uint8_t *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = z != NULL ? (size_t)(z - p) : (size_t)(end - p);

		in.key[in.n] = prop_keys[i];
		in.val[in.n] = fuzz_strndup(p, n);
		in.n++;
		p += n + (z != NULL);
	}

	for (size_t i = 0; i < in.n; i++) {
		const char *k = in.key[i], *v = in.val[i];

		if (strcmp(k, "traceparent") == 0) {
			prop_traceparent(v);
		} else if (strcmp(k, "tracestate") == 0) {
			prop_tracestate(v, 1);
			prop_tracestate(v, 2);
		} else if (strcmp(k, "b3") == 0) {
			prop_b3(v);
		} else if (strcmp(k, "uber-trace-id") == 0) {
			prop_jaeger(v);
		} else if (strcmp(k, "baggage") == 0) {
			prop_baggage(v);
		}
	}
	prop_extract(&in, mask);
	prop_nng(p, (size_t)(end - p));
	prop_carrier_fini(&in);
	return 0;
}
