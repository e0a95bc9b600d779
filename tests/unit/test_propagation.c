/* Unit tests for libtrace propagation: W3C traceparent/tracestate, baggage,
 * B3, Jaeger, the propagator set and the nng_msg carrier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

#include "propagation.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID "00f067aa0ba902b7"
#define TP_OK "00-" TID "-" SID "-01"

/* A text-map carrier: case-insensitive keys, values copied. */
struct carrier {
	size_t n;
	struct {
		char key[64];
		char val[TRACE_BAGGAGE_MAX_BYTES + 64];
	} kv[16];
};

static const char *
c_get(void *carrier, const char *key)
{
	struct carrier *c = carrier;

	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->kv[i].key, key) == 0)
			return c->kv[i].val;
	return NULL;
}

static void
c_set(void *carrier, const char *key, const char *value)
{
	struct carrier *c = carrier;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcasecmp(c->kv[i].key, key) == 0)
			break;
	assert_true(i < LEN(c->kv));
	if (i == c->n)
		c->n++;
	snprintf(c->kv[i].key, sizeof c->kv[i].key, "%s", key);
	snprintf(c->kv[i].val, sizeof c->kv[i].val, "%s", value);
}

static struct carrier *
carrier_new(void)
{
	struct carrier *c = calloc(1, sizeof *c);

	assert_non_null(c);
	return c;
}

static void
ctx_make(trace_context *ctx, const char *tid, const char *sid, uint8_t fl)
{
	memset(ctx, 0, sizeof *ctx);
	assert_true(trace__hex_lc(tid, ctx->trace_id.bytes, 16));
	assert_true(trace__hex_lc(sid, ctx->span_id.bytes, 8));
	ctx->flags = fl;
}

static void
assert_ids(const trace_context *ctx, const char *tid, const char *sid)
{
	char t[TRACE_TRACE_ID_HEXLEN + 1], s[TRACE_SPAN_ID_HEXLEN + 1];

	trace_trace_id_to_hex(&ctx->trace_id, t);
	trace_span_id_to_hex(&ctx->span_id, s);
	assert_string_equal(t, tid);
	assert_string_equal(s, sid);
}

static int
setup(void **state)
{
	(void)state;
	trace__prop_mask_set(TRACE__PROP_DEFAULT);
	trace__tracecontext_level_set(2);
	return 0;
}

/* ------------------------------------------------------------ traceparent */

static void
test_traceparent_valid(void **state)
{
	static const struct {
		const char *in, *tid, *sid;
		uint8_t flags;
	} ok[] = {
		{TP_OK, TID, SID, 1},
		{"00-" TID "-" SID "-00", TID, SID, 0},
		{"00-" TID "-" SID "-02", TID, SID, TRACE_FLAG_RANDOM},
		{"00-" TID "-" SID "-03", TID, SID, 3},
		{"00-" TID "-" SID "-ff", TID, SID, 3}, /* unknown bits dropped */
		{" " TP_OK, TID, SID, 1},
		{"\t" TP_OK, TID, SID, 1},
		{TP_OK " ", TID, SID, 1},
		{TP_OK "\t", TID, SID, 1},
		{"\t " TP_OK " \t", TID, SID, 1},
		{"cc-" TID "-" SID "-01", TID, SID, 1},
		{"cc-" TID "-" SID "-01-what-the-future-will-be-like", TID, SID,
		    1},
		{"01-" TID "-" SID "-00-", TID, SID, 0},
		{"fe-" TID "-" SID "-09", TID, SID, 1},
		{"00-00000000000000000000000000000001-0000000000000001-01",
		    "00000000000000000000000000000001", "0000000000000001", 1},
	};
	trace_context ctx;

	(void)state;
	for (size_t i = 0; i < LEN(ok); i++) {
		int rv = trace_traceparent_parse(ok[i].in, &ctx);
		if (rv != TRACE_OK)
			fail_msg("case %zu '%s': %d", i, ok[i].in,
			    rv);
		assert_ids(&ctx, ok[i].tid, ok[i].sid);
		assert_int_equal(ctx.flags, ok[i].flags);
		assert_true(ctx.is_remote);
		assert_string_equal(ctx.tracestate, "");
	}
}

static void
test_traceparent_invalid(void **state)
{
	static const char *bad[] = {
		"",
		" ",
		"00",
		"00-",
		/* version */
		"ff-" TID "-" SID "-01",
		".0-" TID "-" SID "-01",
		"0.-" TID "-" SID "-01",
		"000-" TID "-" SID "-01",
		"0000-" TID "-" SID "-01",
		"0-" TID "-" SID "-01",
		"0A-" TID "-" SID "-01",
		"AA-" TID "-" SID "-01",
		/* version 00 with anything after the flags */
		TP_OK ".",
		TP_OK "-what-the-future-will-be-like",
		TP_OK "-",
		TP_OK "0",
		/* future versions need 55 chars and '-' after the flags */
		"cc-" TID "-" SID "-01.what-the-future-will-be-like",
		"cc-" TID "-" SID "-0",
		"cc-" TID "-" SID "-01x",
		/* trace-id */
		"00-00000000000000000000000000000000-" SID "-01",
		"00-.2345678901234567890123456789012-" SID "-01",
		"00-1234567890123456789012345678901.-" SID "-01",
		"00-123456789012345678901234567890123-" SID "-01",
		"00-1234567890123456789012345678901-" SID "-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01",
		"00-4bf92f3577b34da6a3ce929d0e0e473G-" SID "-01",
		/* parent-id */
		"00-" TID "-0000000000000000-01",
		"00-" TID "-.234567890123456-01",
		"00-" TID "-123456789012345.-01",
		"00-" TID "-12345678901234567-01",
		"00-" TID "-123456789012345-01",
		"00-" TID "-00F067AA0BA902B7-01",
		/* flags */
		"00-" TID "-" SID "-.0",
		"00-" TID "-" SID "-0.",
		"00-" TID "-" SID "-001",
		"00-" TID "-" SID "-1",
		"00-" TID "-" SID "-0A",
		/* separators */
		"00_" TID "-" SID "-01",
		"00-" TID "_" SID "-01",
		"00-" TID "-" SID "_01",
		/* two fields joined, as a duplicated header arrives */
		TP_OK ", " TP_OK,
		TP_OK "," TP_OK,
		" , " TP_OK,
		"00 -" TID "-" SID "-01",
		"00-" TID " -" SID "-01",
	};
	trace_context ctx;

	(void)state;
	for (size_t i = 0; i < LEN(bad); i++) {
		memset(&ctx, 0xaa, sizeof ctx);
		if (trace_traceparent_parse(bad[i], &ctx) != TRACE_EINVAL)
			fail_msg("case %zu accepted: '%s'", i, bad[i]);
		assert_false(trace_context_is_valid(&ctx));
		assert_int_equal(ctx.flags, 0);
	}
	assert_int_equal(trace_traceparent_parse(NULL, &ctx), TRACE_EINVAL);
	assert_int_equal(trace_traceparent_parse(TP_OK, NULL), TRACE_EINVAL);
}

static void
test_traceparent_format(void **state)
{
	trace_context ctx, back;
	char buf[56];

	(void)state;
	ctx_make(&ctx, TID, SID, 0x01 | 0x02 | 0x80);
	assert_int_equal(trace_traceparent_format(&ctx, buf, sizeof buf),
	    TRACE_OK);
	assert_string_equal(buf, "00-" TID "-" SID "-03");
	assert_int_equal(trace_traceparent_parse(buf, &back), TRACE_OK);
	assert_memory_equal(&back.trace_id, &ctx.trace_id, 16);
	assert_memory_equal(&back.span_id, &ctx.span_id, 8);
	assert_int_equal(back.flags, 3);
	assert_int_equal(trace_traceparent_format(&ctx, buf, 55),
	    TRACE_ENOSPACE);
	assert_int_equal(trace_traceparent_format(NULL, buf, 56),
	    TRACE_EINVAL);
	memset(&ctx.span_id, 0, 8);
	assert_int_equal(trace_traceparent_format(&ctx, buf, 56),
	    TRACE_EINVAL);
	assert_false(trace_context_is_valid(&ctx));
	assert_false(trace_context_is_valid(NULL));
}

/* ------------------------------------------------------------- tracestate */

static void
test_tracestate_valid(void **state)
{
	static const struct {
		const char *in;
		int level; /* 0: both levels */
		const char *out;
	} ok[] = {
		{"", 0, ""},
		{" ", 0, ""},
		{",", 0, ""},
		{" \t, ,\t", 0, ""},
		{"foo=1", 0, "foo=1"},
		{"foo=1,bar=2", 0, "foo=1,bar=2"},
		{"foo=1 \t , \t bar=2, \t baz=3", 0, "foo=1,bar=2,baz=3"},
		{"foo=1\t \t,\t \tbar=2,\t \tbaz=3", 0, "foo=1,bar=2,baz=3"},
		{" foo=1", 0, "foo=1"},
		{"\tfoo=1", 0, "foo=1"},
		{"foo=1 ", 0, "foo=1"},
		{"foo=1\t", 0, "foo=1"},
		{"\t foo=1 \t", 0, "foo=1"},
		{"foo=1, ", 0, "foo=1"},
		{", foo=1", 0, "foo=1"},
		{"foo=1,,bar=2", 0, "foo=1,bar=2"},
		{"foo= 1", 0, "foo= 1"},
		{"foo=a b", 0, "foo=a b"},
		{"tenant@vendor=x", 0, "tenant@vendor=x"},
		{"1tenant@vendor=x", 0, "1tenant@vendor=x"},
		{"a-_*/b=~!\"#$%&'()*+-./09:;<>?@AZ[\\]^_`az{|}", 0,
		    "a-_*/b=~!\"#$%&'()*+-./09:;<>?@AZ[\\]^_`az{|}"},
		/* Level 2 key grammar: '@' anywhere but first, digit first */
		{"foo@=1,bar=2", 2, "foo@=1,bar=2"},
		{"foo@@bar=1,bar=2", 2, "foo@@bar=1,bar=2"},
		{"foo@bar@baz=1,bar=2", 2, "foo@bar@baz=1,bar=2"},
		{"1foo=1", 2, "1foo=1"},
		/* duplicates: level 2 keeps the first */
		{"foo=1,foo=1", 2, "foo=1"},
		{"foo=1,foo=2", 2, "foo=1"},
		{"foo=1,bar=2,foo=3,bar=4,baz=5", 2, "foo=1,bar=2,baz=5"},
	};
	static const struct {
		const char *in;
		int level;
	} bad[] = {
		{"foo", 0},
		{"=1", 0},
		{"foo=", 0},
		{"foo= ", 0},
		{"foo =1", 0},
		{"FOO=1", 0},
		{"foo.bar=1", 0},
		{"@foo=1,bar=2", 0},
		{"foo=1=2", 0},
		{"foo=a\x01", 0},
		{"foo=\x7f", 0},
		{"foo=\xc3\xa9", 0},
		{"foo=1;bar=2", 0},
		{"_foo=1", 0},
		{"foo=1,bar", 0},
		/* level 1 key grammar */
		{"foo@=1,bar=2", 1},
		{"foo@@bar=1,bar=2", 1},
		{"foo@bar@baz=1,bar=2", 1},
		{"1foo=1", 1},
		{"t@1vendor=1", 1},
		/* duplicates: level 1 discards */
		{"foo=1,foo=1", 1},
		{"foo=1,foo=2", 1},
	};
	char out[TRACE_TRACESTATE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < LEN(ok); i++) {
		for (int level = 1; level <= 2; level++) {
			if (ok[i].level != 0 && ok[i].level != level)
				continue;
			int rv = trace__tracestate_parse(ok[i].in, level, out,
			    sizeof out);
			if (rv != TRACE_OK)
				fail_msg("ok %zu L%d '%s' rejected", i, level,
				    ok[i].in);
			assert_string_equal(out, ok[i].out);
		}
	}
	for (size_t i = 0; i < LEN(bad); i++) {
		for (int level = 1; level <= 2; level++) {
			if (bad[i].level != 0 && bad[i].level != level)
				continue;
			strcpy(out, "junk");
			if (trace__tracestate_parse(bad[i].in, level, out,
			    sizeof out) != TRACE_EINVAL)
				fail_msg("bad %zu L%d '%s' accepted", i, level,
				    bad[i].in);
			assert_string_equal(out, "");
		}
	}
	assert_int_equal(trace__tracestate_parse(NULL, 2, out, sizeof out),
	    TRACE_EINVAL);
	assert_int_equal(trace__tracestate_parse("a=1", 2, out, 100),
	    TRACE_EINVAL);
}

static void
test_tracestate_limits(void **state)
{
	char in[8192], out[TRACE_TRACESTATE_MAX + 1], key[300], want[600];
	size_t n = 0;

	(void)state;
	/* 32 members are fine, 33 discard the header. */
	for (int i = 1; i <= 33; i++)
		n += (size_t)sprintf(in + n, "%sbar%02d=%02d", i > 1 ? "," : "",
		    i, i);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_EINVAL);
	in[strlen(in) - strlen(",bar33=33")] = '\0';
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	assert_string_equal(out, in);
	/* Empty members do not count. */
	strcat(in, ",,, ,");
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);

	/* Keys: 256 chars kept, 257 discard; level 1 tenant/vendor sizes. */
	memset(key, 'z', 256);
	key[256] = '\0';
	sprintf(in, "foo=1,%s=1", key);
	for (int level = 1; level <= 2; level++)
		assert_int_equal(trace__tracestate_parse(in, level, out,
		    sizeof out), TRACE_OK);
	assert_true(trace__tracestate_key_valid(key, 256, 1));
	assert_false(trace__tracestate_key_valid("zzz", 0, 2));
	strcat(key, "z");
	sprintf(in, "foo=1,%s=1", key);
	for (int level = 1; level <= 2; level++)
		assert_int_equal(trace__tracestate_parse(in, level, out,
		    sizeof out), TRACE_EINVAL);
	memset(key, 't', 241);
	strcpy(key + 241, "@vvvvvvvvvvvvvv"); /* 241 + 1 + 14 */
	assert_true(trace__tracestate_key_valid(key, strlen(key), 1));
	assert_true(trace__tracestate_key_valid(key, strlen(key), 2));
	memset(key, 't', 242);
	strcpy(key + 242, "@v");
	assert_false(trace__tracestate_key_valid(key, strlen(key), 1));
	assert_true(trace__tracestate_key_valid(key, strlen(key), 2));
	assert_false(trace__tracestate_key_valid("t@vvvvvvvvvvvvvvv", 17, 1));
	assert_true(trace__tracestate_key_valid("t@vvvvvvvvvvvvvvv", 17, 2));

	/* Values: 256 chars kept, 257 discard. */
	memset(want, 'v', 256);
	want[256] = '\0';
	sprintf(in, "k=%s", want);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	strcat(in, "v");
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_EINVAL);
	assert_false(trace__tracestate_value_valid("a ", 2));
	assert_true(trace__tracestate_value_valid(" a", 2));
}

static void
test_tracestate_truncation(void **state)
{
	char in[8192], out[TRACE_TRACESTATE_MAX + 1], big[200], want[1024];
	size_t n = 0;

	(void)state;
	/* Under 512 chars: untouched. 20 members of 24 chars = 499. */
	for (int i = 0; i < 20; i++)
		n += (size_t)sprintf(in + n, "%sk%02d=vvvvvvvvvvvvvvvvvvvv",
		    i ? "," : "", i);
	assert_int_equal(strlen(in), 499);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	assert_string_equal(out, in);

	/* Over 512: the members over 128 chars go first, even if on the
	 * left, then whole members from the right. */
	memset(big, 'b', 150);
	big[150] = '\0';
	sprintf(in, "big=%s,", big);
	n = strlen(in);
	for (int i = 0; i < 20; i++)
		n += (size_t)sprintf(in + n, "%sk%02d=vvvvvvvvvvvvvvvvvvvv",
		    i ? "," : "", i);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	assert_string_equal(out, in + 4 + 150 + 1);

	/* 21 small members (524 chars): the right-most one goes. */
	n = 0;
	for (int i = 0; i < 21; i++)
		n += (size_t)sprintf(in + n, "%sk%02d=vvvvvvvvvvvvvvvvvvvv",
		    i ? "," : "", i);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	memcpy(want, in, 499);
	want[499] = '\0';
	assert_string_equal(out, want);

	/* Only the big members need to go: the small right one stays. */
	sprintf(in, "a=%s,b=%s,c=%s,d=%s,e=1", big, big, big, big);
	assert_int_equal(trace__tracestate_parse(in, 2, out, sizeof out),
	    TRACE_OK);
	sprintf(want, "a=%s,b=%s,c=%s,e=1", big, big, big);
	assert_string_equal(out, want);
	assert_true(strlen(out) <= TRACE_TRACESTATE_MAX);
}

/* --------------------------------------------------------- inject/extract */

static void
test_extract_w3c(void **state)
{
	static const struct {
		const char *tp, *ts; /* NULL: header absent */
		int rv;
		const char *state_out;
	} cases[] = {
		{TP_OK, NULL, TRACE_OK, ""},
		{TP_OK, "foo=1,bar=2", TRACE_OK, "foo=1,bar=2"},
		{TP_OK, "", TRACE_OK, ""},
		{TP_OK, "foo=1, ", TRACE_OK, "foo=1"},
		{TP_OK, ", foo=1", TRACE_OK, "foo=1"},
		{TP_OK, "foo=1,bar=2, rojo=1,congo=2, baz=3", TRACE_OK,
		    "foo=1,bar=2,rojo=1,congo=2,baz=3"},
		{TP_OK, "FOO=1", TRACE_OK, ""}, /* tracestate dropped only */
		{TP_OK, "foo=1,@bar=2", TRACE_OK, ""},
		{NULL, "foo=1", TRACE_ENOTFOUND, ""},
		{"ff-" TID "-" SID "-01", "foo=1", TRACE_ENOTFOUND, ""},
		{TP_OK ", " TP_OK, "foo=1", TRACE_ENOTFOUND, ""},
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		struct carrier *c = carrier_new();
		trace_context ctx;

		if (cases[i].tp != NULL)
			c_set(c, "TraceParent", cases[i].tp);
		if (cases[i].ts != NULL)
			c_set(c, "TRACESTATE", cases[i].ts);
		assert_int_equal(trace_extract(&ctx, c, c_get), cases[i].rv);
		assert_string_equal(ctx.tracestate, cases[i].state_out);
		assert_int_equal(trace_context_is_valid(&ctx),
		    cases[i].rv == TRACE_OK);
		free(c);
	}
}

static void
test_inject_round_trip(void **state)
{
	static const unsigned sets[] = {
		TRACE__PROP_TRACECONTEXT, TRACE__PROP_B3, TRACE__PROP_B3MULTI,
		TRACE__PROP_JAEGER, TRACE__PROP_DEFAULT,
	};
	trace_context ctx, back;

	(void)state;
	for (size_t i = 0; i < LEN(sets); i++) {
		for (uint8_t fl = 0; fl <= 1; fl++) {
			struct carrier *c = carrier_new();

			trace__prop_mask_set(sets[i]);
			ctx_make(&ctx, TID, SID, fl);
			strcpy(ctx.tracestate, "vendor=x,other=y");
			assert_int_equal(trace_inject_context(&ctx, c, c_set),
			    TRACE_OK);
			assert_int_equal(trace_extract(&back, c, c_get),
			    TRACE_OK);
			assert_ids(&back, TID, SID);
			assert_int_equal(back.flags & TRACE_FLAG_SAMPLED, fl);
			assert_true(back.is_remote);
			assert_string_equal(back.tracestate,
			    (sets[i] & TRACE__PROP_TRACECONTEXT)
				? "vendor=x,other=y"
				: "");
			free(c);
		}
	}
}

static void
test_inject_headers(void **state)
{
	struct carrier *c = carrier_new();
	trace_context ctx;

	(void)state;
	ctx_make(&ctx, TID, SID, 3);
	trace__prop_mask_set(trace__prop_parse(
	    " TraceContext , b3,b3multi,jaeger,bogus"));
	assert_int_equal(trace_inject_context(&ctx, c, c_set), TRACE_OK);
	assert_string_equal(c_get(c, "traceparent"), "00-" TID "-" SID "-03");
	assert_null(c_get(c, "tracestate")); /* empty: not sent */
	assert_string_equal(c_get(c, "b3"), TID "-" SID "-1");
	assert_string_equal(c_get(c, "x-b3-traceid"), TID);
	assert_string_equal(c_get(c, "x-b3-spanid"), SID);
	assert_string_equal(c_get(c, "x-b3-sampled"), "1");
	assert_string_equal(c_get(c, "uber-trace-id"), TID ":" SID ":0:1");
	assert_null(c_get(c, "baggage"));
	assert_int_equal(c->n, 6);
	free(c);

	/* none: nothing injected, nothing extracted. */
	c = carrier_new();
	trace__prop_mask_set(trace__prop_parse("tracecontext,none"));
	assert_int_equal(trace__prop_mask(), 0);
	assert_int_equal(trace_inject_context(&ctx, c, c_set), TRACE_OK);
	assert_int_equal(c->n, 0);
	c_set(c, "traceparent", TP_OK);
	assert_int_equal(trace_extract(&ctx, c, c_get), TRACE_ENOTFOUND);
	free(c);

	/* Invalid arguments. */
	memset(&ctx, 0, sizeof ctx);
	assert_int_equal(trace_inject_context(&ctx, NULL, c_set),
	    TRACE_EINVAL);
	assert_int_equal(trace_inject_context(NULL, NULL, c_set),
	    TRACE_EINVAL);
	ctx_make(&ctx, TID, SID, 1);
	assert_int_equal(trace_inject_context(&ctx, NULL, NULL),
	    TRACE_EINVAL);
	assert_int_equal(trace_extract(NULL, NULL, c_get), TRACE_EINVAL);
	assert_int_equal(trace_extract(&ctx, NULL, NULL), TRACE_EINVAL);
}

static void
test_propagators_parse(void **state)
{
	static const struct {
		const char *in;
		unsigned set;
	} cases[] = {
		{"tracecontext,baggage", TRACE__PROP_DEFAULT},
		{"tracecontext", TRACE__PROP_TRACECONTEXT},
		{"B3", TRACE__PROP_B3},
		{"b3multi", TRACE__PROP_B3MULTI},
		{"jaeger, baggage", TRACE__PROP_JAEGER | TRACE__PROP_BAGGAGE},
		{"none", 0},
		{"b3,none", 0},
		{"", TRACE__PROP_DEFAULT},
		{"xray,ottrace", TRACE__PROP_DEFAULT},
		{"b3, xray", TRACE__PROP_B3},
		{",,b3,,", TRACE__PROP_B3},
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++)
		assert_int_equal(trace__prop_parse(cases[i].in),
		    cases[i].set);
	assert_int_equal(trace__prop_parse(NULL), TRACE__PROP_DEFAULT);
}

static void
test_extract_precedence(void **state)
{
	struct carrier *c = carrier_new();
	trace_context ctx;

	(void)state;
	trace__prop_mask_set(TRACE__PROP_TRACECONTEXT | TRACE__PROP_B3 |
	    TRACE__PROP_JAEGER);
	c_set(c, "b3", "11111111111111111111111111111111-2222222222222222-1");
	c_set(c, "uber-trace-id", "3:4:0:1");
	assert_int_equal(trace_extract(&ctx, c, c_get), TRACE_OK);
	assert_ids(&ctx, "11111111111111111111111111111111",
	    "2222222222222222");
	c_set(c, "traceparent", TP_OK);
	assert_int_equal(trace_extract(&ctx, c, c_get), TRACE_OK);
	assert_ids(&ctx, TID, SID);
	/* An invalid traceparent falls through to the next format. */
	c_set(c, "traceparent", "00-" TID "-" SID "-0x");
	c_set(c, "b3", "bad");
	assert_int_equal(trace_extract(&ctx, c, c_get), TRACE_OK);
	assert_ids(&ctx, "00000000000000000000000000000003",
	    "0000000000000004");
	free(c);
}

/* --------------------------------------------------------------------- B3 */

static void
test_b3_single(void **state)
{
	static const struct {
		const char *in, *tid, *sid;
		uint8_t flags;
	} ok[] = {
		{TID "-" SID "-1", TID, SID, 1},
		{TID "-" SID "-0", TID, SID, 0},
		{TID "-" SID "-d", TID, SID, 1},
		{TID "-" SID, TID, SID, 1},
		{TID "-" SID "-1-" SID, TID, SID, 1},
		{" " TID "-" SID "-0 ", TID, SID, 0},
		{"a3ce929d0e0e4736-" SID "-1",
		    "0000000000000000a3ce929d0e0e4736", SID, 1},
	};
	static const char *bad[] = {
		"", "0", "1", "d", "-", TID, TID "-", TID "-" SID "-",
		TID "-" SID "-2", TID "-" SID "-true", TID "-" SID "-1-",
		TID "-" SID "-1-123", TID "-" SID "-1-" SID "-x",
		"00000000000000000000000000000000-" SID "-1",
		TID "-0000000000000000-1", "4BF92F3577B34DA6A3CE929D0E0E4736-" SID,
		TID "-00F067AA0BA902B7", "a3ce929d0e0e473-" SID,
		TID "0-" SID, TID "-" SID "0", "x" TID "-" SID,
	};
	trace_context ctx;
	char buf[52];

	(void)state;
	for (size_t i = 0; i < LEN(ok); i++) {
		if (trace__b3_parse(ok[i].in, &ctx) != TRACE_OK)
			fail_msg("b3 ok %zu '%s' rejected", i, ok[i].in);
		assert_ids(&ctx, ok[i].tid, ok[i].sid);
		assert_int_equal(ctx.flags, ok[i].flags);
	}
	for (size_t i = 0; i < LEN(bad); i++) {
		if (trace__b3_parse(bad[i], &ctx) != TRACE_EINVAL)
			fail_msg("b3 bad %zu '%s' accepted", i, bad[i]);
		assert_false(trace_context_is_valid(&ctx));
	}
	ctx_make(&ctx, TID, SID, 0);
	assert_int_equal(trace__b3_format(&ctx, buf, 51), TRACE_ENOSPACE);
	assert_int_equal(trace__b3_format(&ctx, buf, sizeof buf), TRACE_OK);
	assert_string_equal(buf, TID "-" SID "-0");
}

static void
test_b3_multi(void **state)
{
	static const struct {
		const char *tid, *sid, *sampled, *flags;
		int rv;
		uint8_t fl;
	} cases[] = {
		{TID, SID, "1", NULL, TRACE_OK, 1},
		{TID, SID, "0", NULL, TRACE_OK, 0},
		{TID, SID, "true", NULL, TRACE_OK, 1},
		{TID, SID, "false", NULL, TRACE_OK, 0},
		{TID, SID, NULL, NULL, TRACE_OK, 1},
		{TID, SID, "0", "1", TRACE_OK, 1},
		{TID, SID, NULL, "0", TRACE_OK, 1},
		{" a3ce929d0e0e4736 ", SID, "1", NULL, TRACE_OK, 1},
		{TID, NULL, "1", NULL, TRACE_ENOTFOUND, 0},
		{NULL, SID, "1", NULL, TRACE_ENOTFOUND, 0},
		{TID, SID, "2", NULL, TRACE_EINVAL, 0},
		{TID, SID, "1", "2", TRACE_EINVAL, 0},
		{TID, "123", "1", NULL, TRACE_EINVAL, 0},
		{"123", SID, "1", NULL, TRACE_EINVAL, 0},
		{"00000000000000000000000000000000", SID, "1", NULL,
		    TRACE_EINVAL, 0},
		{TID, "0000000000000000", "1", NULL, TRACE_EINVAL, 0},
	};
	trace_context ctx;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		struct carrier *c = carrier_new();

		if (cases[i].tid)
			c_set(c, "x-b3-traceid", cases[i].tid);
		if (cases[i].sid)
			c_set(c, "X-B3-SPANID", cases[i].sid);
		if (cases[i].sampled)
			c_set(c, "X-B3-Sampled", cases[i].sampled);
		if (cases[i].flags)
			c_set(c, "X-B3-Flags", cases[i].flags);
		if (trace__b3multi_extract(&ctx, c, c_get) != cases[i].rv)
			fail_msg("b3multi case %zu", i);
		if (cases[i].rv == TRACE_OK)
			assert_int_equal(ctx.flags, cases[i].fl);
		else
			assert_false(trace_context_is_valid(&ctx));
		free(c);
	}
}

/* ----------------------------------------------------------------- Jaeger */

static void
test_jaeger(void **state)
{
	static const struct {
		const char *in, *tid, *sid;
		uint8_t flags;
	} ok[] = {
		{TID ":" SID ":0:1", TID, SID, 1},
		{TID ":" SID ":0:0", TID, SID, 0},
		{TID ":" SID ":0:2", TID, SID, 1}, /* debug */
		{TID ":" SID ":0:03", TID, SID, 1},
		{TID ":" SID ":" SID ":1", TID, SID, 1},
		{"4BF92F3577B34DA6A3CE929D0E0E4736:" SID ":0:1", TID, SID, 1},
		{"1:2:0:1", "00000000000000000000000000000001",
		    "0000000000000002", 1},
		{"abc:f:0:0", "00000000000000000000000000000abc",
		    "000000000000000f", 0},
		{TID "%3A" SID "%3a0%3A1", TID, SID, 1},
		{" " TID ":" SID ":0:1 ", TID, SID, 1},
	};
	static const char *bad[] = {
		"", "1:2:0", "1:2:0:1:5", ":2:0:1", "1::0:1", "1:2::1",
		"1:2:0:", "0:2:0:1", "1:0:0:1", "1:2:0:100",
		"123456789012345678901234567890123:2:0:1",
		"1:12345678901234567:0:1", "1:2:12345678901234567:1",
		"1g:2:0:1", "1:2:0:x", "1-2-0-1", "1:2:0:1%3",
		"1 :2:0:1",
	};
	trace_context ctx;
	char buf[54];

	(void)state;
	for (size_t i = 0; i < LEN(ok); i++) {
		if (trace__jaeger_parse(ok[i].in, &ctx) != TRACE_OK)
			fail_msg("jaeger ok %zu '%s' rejected", i, ok[i].in);
		assert_ids(&ctx, ok[i].tid, ok[i].sid);
		assert_int_equal(ctx.flags, ok[i].flags);
	}
	for (size_t i = 0; i < LEN(bad); i++) {
		if (trace__jaeger_parse(bad[i], &ctx) != TRACE_EINVAL)
			fail_msg("jaeger bad %zu '%s' accepted", i, bad[i]);
		assert_false(trace_context_is_valid(&ctx));
	}
	ctx_make(&ctx, TID, SID, 1);
	assert_int_equal(trace__jaeger_format(&ctx, buf, 53), TRACE_ENOSPACE);
	assert_int_equal(trace__jaeger_format(&ctx, buf, sizeof buf),
	    TRACE_OK);
	assert_string_equal(buf, TID ":" SID ":0:1");
}

/* ---------------------------------------------------------------- baggage */

static void
test_baggage_basic(void **state)
{
	trace_baggage *b;
	const char *k, *v, *m;
	char buf[256];

	(void)state;
	assert_int_equal(trace_baggage_new(&b), TRACE_OK);
	assert_int_equal(trace_baggage_count(b), 0);
	assert_int_equal(trace_baggage_format(b, buf, sizeof buf), TRACE_OK);
	assert_string_equal(buf, "");
	assert_int_equal(trace_baggage_set(b, "user", "alice", NULL),
	    TRACE_OK);
	assert_int_equal(trace_baggage_set(b, "note", "a b,c;d=e%\xc3\xa9",
	    "p1;k = v"), TRACE_OK);
	assert_int_equal(trace_baggage_set(b, "empty", "", NULL), TRACE_OK);
	assert_int_equal(trace_baggage_set(b, "user", "bob", NULL), TRACE_OK);
	assert_int_equal(trace_baggage_count(b), 3);
	assert_string_equal(trace_baggage_get(b, "user"), "bob");
	assert_null(trace_baggage_get(b, "nope"));
	assert_int_equal(trace_baggage_format(b, buf, sizeof buf), TRACE_OK);
	assert_string_equal(buf,
	    "user=bob,note=a%20b%2Cc%3Bd=e%25%C3%A9;p1;k = v,empty=");
	assert_int_equal(trace_baggage_format(b, buf, 10), TRACE_ENOSPACE);
	assert_int_equal(trace_baggage_entry(b, 1, &k, &v, &m), TRACE_OK);
	assert_string_equal(k, "note");
	assert_string_equal(v, "a b,c;d=e%\xc3\xa9");
	assert_string_equal(m, "p1;k = v");
	assert_int_equal(trace_baggage_entry(b, 3, &k, &v, &m),
	    TRACE_ENOTFOUND);

	/* Round trip through the header. */
	trace_baggage *b2;
	assert_int_equal(trace_baggage_new(&b2), TRACE_OK);
	assert_int_equal(trace_baggage_parse(b2, buf), TRACE_OK);
	assert_int_equal(trace_baggage_count(b2), 3);
	assert_string_equal(trace_baggage_get(b2, "note"),
	    "a b,c;d=e%\xc3\xa9");
	assert_int_equal(trace_baggage_entry(b2, 1, NULL, NULL, &m),
	    TRACE_OK);
	assert_string_equal(m, "p1;k = v");
	assert_string_equal(trace_baggage_get(b2, "empty"), "");
	trace_baggage_free(b2);

	assert_int_equal(trace_baggage_remove(b, "user"), TRACE_OK);
	assert_int_equal(trace_baggage_remove(b, "user"), TRACE_ENOTFOUND);
	assert_int_equal(trace_baggage_count(b), 2);
	assert_int_equal(trace_baggage_entry(b, 0, &k, NULL, NULL), TRACE_OK);
	assert_string_equal(k, "note");

	/* Bad arguments. */
	assert_int_equal(trace_baggage_set(b, "bad key", "x", NULL),
	    TRACE_EINVAL);
	assert_int_equal(trace_baggage_set(b, "", "x", NULL), TRACE_EINVAL);
	assert_int_equal(trace_baggage_set(b, "k", "x", "a,b"), TRACE_EINVAL);
	assert_int_equal(trace_baggage_set(b, "k", "x", ""), TRACE_EINVAL);
	assert_int_equal(trace_baggage_set(b, "k", NULL, NULL), TRACE_EINVAL);
	assert_int_equal(trace_baggage_set(NULL, "k", "v", NULL),
	    TRACE_EINVAL);
	assert_int_equal(trace_baggage_new(NULL), TRACE_EINVAL);
	trace_baggage_free(b);
	trace_baggage_free(NULL);
}

static void
test_baggage_parse(void **state)
{
	static const struct {
		const char *in;
		int rv;
		const char *out; /* formatted after parse */
	} cases[] = {
		{"k=v", TRACE_OK, "k=v"},
		{" k = v , k2=v2 ", TRACE_OK, "k=v,k2=v2"},
		{"k=v;p1;p2=x", TRACE_OK, "k=v;p1;p2=x"},
		{"k=v ; p1 ; p2 = x", TRACE_OK, "k=v;p1 ; p2 = x"},
		{"k=%41%42", TRACE_OK, "k=AB"},
		{"k=1,k=2", TRACE_OK, "k=2"},
		{"k=", TRACE_OK, "k="},
		{"bad key=1,k=v", TRACE_OK, "k=v"},
		{"k=a b,j=1", TRACE_OK, "j=1"},
		{"k=\"q\",j=1", TRACE_OK, "j=1"},
		{"k=%zz,j=1", TRACE_OK, "j=1"},
		{"k=%4,j=1", TRACE_OK, "j=1"},
		{"k=%00,j=1", TRACE_OK, "j=1"},
		{"k=v;,j=1", TRACE_OK, "j=1"},
		{"k=v;bad prop,j=1", TRACE_OK, "j=1"},
		{"novalue,j=1", TRACE_OK, "j=1"},
		{"=v,j=1", TRACE_OK, "j=1"},
		{"", TRACE_ENOTFOUND, ""},
		{" , ,", TRACE_ENOTFOUND, ""},
		{"bad key=1", TRACE_ENOTFOUND, ""},
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		trace_baggage *b;

		assert_int_equal(trace_baggage_new(&b), TRACE_OK);
		if (trace_baggage_parse(b, cases[i].in) != cases[i].rv)
			fail_msg("baggage case %zu '%s'", i, cases[i].in);
		assert_int_equal(trace_baggage_format(b, buf, sizeof buf),
		    TRACE_OK);
		assert_string_equal(buf, cases[i].out);
		trace_baggage_free(b);
	}
}

static void
test_baggage_limits(void **state)
{
	trace_baggage *b;
	char key[32], big[TRACE_BAGGAGE_MAX_BYTES + 8];
	char *hdr;
	size_t n = 0;

	(void)state;
	assert_int_equal(trace_baggage_new(&b), TRACE_OK);
	for (int i = 0; i < TRACE_BAGGAGE_MAX_ENTRIES; i++) {
		sprintf(key, "k%d", i);
		assert_int_equal(trace_baggage_set(b, key, "v", NULL),
		    TRACE_OK);
	}
	assert_int_equal(trace_baggage_set(b, "one-more", "v", NULL),
	    TRACE_ENOSPACE);
	assert_int_equal(trace_baggage_set(b, "k0", "replaced", NULL),
	    TRACE_OK);
	assert_int_equal(trace_baggage_count(b), TRACE_BAGGAGE_MAX_ENTRIES);
	trace_baggage_free(b);

	/* Bytes: a value that makes the header exceed 8192 is refused. */
	assert_int_equal(trace_baggage_new(&b), TRACE_OK);
	memset(big, 'x', TRACE_BAGGAGE_MAX_BYTES - 2);
	big[TRACE_BAGGAGE_MAX_BYTES - 2] = '\0';
	assert_int_equal(trace_baggage_set(b, "k", big, NULL), TRACE_OK);
	assert_int_equal(trace_baggage_set(b, "j", "", NULL), TRACE_ENOSPACE);
	big[TRACE_BAGGAGE_MAX_BYTES - 3] = '\0';
	assert_int_equal(trace_baggage_set(b, "k", big, NULL), TRACE_OK);
	big[0] = ' '; /* encodes to 3 bytes: too long again */
	assert_int_equal(trace_baggage_set(b, "k", big, NULL),
	    TRACE_ENOSPACE);
	assert_int_equal(strlen(trace_baggage_get(b, "k")),
	    TRACE_BAGGAGE_MAX_BYTES - 3);
	trace_baggage_free(b);

	/* Parsing: members past 64 are dropped, not the whole header. */
	hdr = malloc(100 * 16);
	assert_non_null(hdr);
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(hdr + n, "%sk%d=%d", i ? "," : "", i, i);
	assert_int_equal(trace_baggage_new(&b), TRACE_OK);
	assert_int_equal(trace_baggage_parse(b, hdr), TRACE_OK);
	assert_int_equal(trace_baggage_count(b), TRACE_BAGGAGE_MAX_ENTRIES);
	assert_string_equal(trace_baggage_get(b, "k63"), "63");
	assert_null(trace_baggage_get(b, "k64"));
	trace_baggage_free(b);
	free(hdr);
}

static void
test_baggage_carrier(void **state)
{
	struct carrier *c = carrier_new();
	trace_baggage *b, *got;
	trace_context ctx;

	(void)state;
	assert_int_equal(trace_baggage_new(&b), TRACE_OK);
	/* Empty baggage writes no header. */
	assert_int_equal(trace_baggage_inject(b, c, c_set), TRACE_OK);
	assert_int_equal(c->n, 0);
	assert_int_equal(trace_baggage_extract(&got, c, c_get),
	    TRACE_ENOTFOUND);
	assert_null(got);
	assert_int_equal(trace_baggage_set(b, "tenant", "t 1", NULL),
	    TRACE_OK);

	/* trace_inject_context sends the current baggage when configured. */
	ctx_make(&ctx, TID, SID, 1);
	assert_null(trace_baggage_set_current(b));
	assert_ptr_equal(trace_baggage_current(), b);
	trace__prop_mask_set(TRACE__PROP_TRACECONTEXT);
	assert_int_equal(trace_inject_context(&ctx, c, c_set), TRACE_OK);
	assert_null(c_get(c, "baggage"));
	trace__prop_mask_set(TRACE__PROP_DEFAULT);
	assert_int_equal(trace_inject_context(&ctx, c, c_set), TRACE_OK);
	assert_string_equal(c_get(c, "baggage"), "tenant=t%201");
	assert_ptr_equal(trace_baggage_set_current(NULL), b);

	assert_int_equal(trace_baggage_extract(&got, c, c_get), TRACE_OK);
	assert_string_equal(trace_baggage_get(got, "tenant"), "t 1");
	trace_baggage_free(got);
	c_set(c, "baggage", "bad key=1");
	assert_int_equal(trace_baggage_extract(&got, c, c_get),
	    TRACE_ENOTFOUND);
	assert_null(got);
	assert_int_equal(trace_baggage_extract(NULL, c, c_get), TRACE_EINVAL);
	trace_baggage_free(b);
	free(c);
}

/* -------------------------------------------------------------- nng_msg */

static nng_msg *
msg_with(const void *body, size_t len)
{
	nng_msg *m;

	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	if (len > 0)
		assert_int_equal(nng_msg_append(m, body, len), 0);
	return m;
}

static void
test_nng_round_trip(void **state)
{
	static const char body[] = "\x0a\x03hello payload";
	trace_context ctx, back;
	nng_msg *m;

	(void)state;
	ctx_make(&ctx, TID, SID, 3);
	strcpy(ctx.tracestate, "vendor=x,other=y");
	m = msg_with(body, sizeof body - 1);
	assert_int_equal(trace_nng_msg_inject_context(&ctx, m), TRACE_OK);
	assert_int_equal(nng_msg_len(m), 34 + 16 + sizeof body - 1);
	assert_memory_equal(nng_msg_body(m), "\x7fTRC\x01\x03\x00\x32", 8);
	assert_int_equal(trace_nng_msg_extract(m, &back), TRACE_OK);
	assert_ids(&back, TID, SID);
	assert_int_equal(back.flags, 3);
	assert_true(back.is_remote);
	assert_string_equal(back.tracestate, "vendor=x,other=y");
	assert_int_equal(nng_msg_len(m), sizeof body - 1);
	assert_memory_equal(nng_msg_body(m), body, sizeof body - 1);
	/* A second extract finds nothing and leaves the body alone. */
	assert_int_equal(trace_nng_msg_extract(m, &back), TRACE_ENOTFOUND);
	assert_false(trace_context_is_valid(&back));
	assert_int_equal(nng_msg_len(m), sizeof body - 1);
	nng_msg_free(m);

	/* Empty body, empty tracestate. */
	ctx.tracestate[0] = '\0';
	m = msg_with(NULL, 0);
	assert_int_equal(trace_nng_msg_inject_context(&ctx, m), TRACE_OK);
	assert_int_equal(nng_msg_len(m), 34);
	assert_int_equal(trace_nng_msg_extract(m, &back), TRACE_OK);
	assert_int_equal(nng_msg_len(m), 0);
	assert_string_equal(back.tracestate, "");
	nng_msg_free(m);

	/* Full 512-char tracestate. */
	memset(ctx.tracestate, 'v', TRACE_TRACESTATE_MAX);
	memcpy(ctx.tracestate, "k=", 2);
	ctx.tracestate[TRACE_TRACESTATE_MAX] = '\0';
	m = msg_with("x", 1);
	assert_int_equal(trace_nng_msg_inject_context(&ctx, m), TRACE_OK);
	assert_int_equal(trace_nng_msg_extract(m, &back), TRACE_OK);
	/* a 510-char value is invalid tracestate: dropped, context kept */
	assert_string_equal(back.tracestate, "");
	assert_true(trace_context_is_valid(&back));
	assert_int_equal(nng_msg_len(m), 1);
	nng_msg_free(m);

	memset(&ctx, 0, sizeof ctx);
	m = msg_with("x", 1);
	assert_int_equal(trace_nng_msg_inject_context(&ctx, m), TRACE_EINVAL);
	assert_int_equal(trace_nng_msg_inject_context(NULL, m), TRACE_EINVAL);
	assert_int_equal(nng_msg_len(m), 1);
	assert_int_equal(trace_nng_msg_extract(NULL, &back), TRACE_EINVAL);
	assert_int_equal(trace_nng_msg_extract(m, NULL), TRACE_EINVAL);
	nng_msg_free(m);
}

/* Extract from body (len bytes) must fail and leave the message as is. */
static void
assert_no_prefix(const uint8_t *body, size_t len, const char *what)
{
	trace_context out;
	nng_msg *m = msg_with(body, len);

	memset(&out, 0x55, sizeof out);
	if (trace_nng_msg_extract(m, &out) != TRACE_ENOTFOUND)
		fail_msg("accepted: %s (len %zu)", what, len);
	assert_int_equal(nng_msg_len(m), len);
	if (len > 0)
		assert_memory_equal(nng_msg_body(m), body, len);
	assert_false(trace_context_is_valid(&out));
	nng_msg_free(m);
}

static void
test_nng_garbage(void **state)
{
	uint8_t good[34 + 7 + 5], b[sizeof good];
	trace_context ctx, out;
	nng_msg *m;
	size_t plen = 34 + 7;

	(void)state;
	ctx_make(&ctx, TID, SID, 1);
	strcpy(ctx.tracestate, "foo=bar");
	m = msg_with("tail!", 5);
	assert_int_equal(trace_nng_msg_inject_context(&ctx, m), TRACE_OK);
	assert_int_equal(nng_msg_len(m), sizeof good);
	memcpy(good, nng_msg_body(m), sizeof good);
	nng_msg_free(m);

	/* Every truncation of a valid prefix. */
	for (size_t n = 0; n < plen; n++)
		assert_no_prefix(good, n, "truncated");

	/* Each header byte corrupted. */
	static const struct {
		size_t off;
		uint8_t val;
		const char *what;
	} bad[] = {
		{0, 0x00, "magic0"}, {1, 't', "magic1"}, {2, 'r', "magic2"},
		{3, 'c', "magic3"}, {4, 0, "version 0"},
		{6, 0xff, "length huge"}, {7, 0x20, "length < fixed"},
		{7, 0x2a, "v1 length != fixed + tracestate"},
		{7, 0x2e, "length past the body"},
		{32, 0x02, "tracestate length > 512"},
		{33, 0x08, "tracestate length > prefix"},
	};
	for (size_t i = 0; i < LEN(bad); i++) {
		memcpy(b, good, sizeof good);
		b[bad[i].off] = bad[i].val;
		assert_no_prefix(b, sizeof good, bad[i].what);
	}
	/* Zero IDs. */
	memcpy(b, good, sizeof good);
	memset(b + 8, 0, 16);
	assert_no_prefix(b, sizeof good, "zero trace id");
	memcpy(b, good, sizeof good);
	memset(b + 24, 0, 8);
	assert_no_prefix(b, sizeof good, "zero span id");

	/* Random garbage never matches, whatever its length. */
	srand(42);
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(rand() % 80);
		for (size_t j = 0; j < n && j < sizeof b; j++)
			b[j] = (uint8_t)rand();
		if (n > 4)
			memcpy(b, "\x7fTRC", 4); /* get past the magic */
		n = n < sizeof b ? n : sizeof b;
		m = msg_with(b, n);
		memset(&out, 0, sizeof out);
		if (trace_nng_msg_extract(m, &out) == TRACE_OK) {
			/* Only a well-formed prefix may be accepted. */
			assert_true(trace_context_is_valid(&out));
			assert_int_equal(nng_msg_len(m),
			    n - (size_t)(b[6] << 8 | b[7]));
		} else {
			assert_int_equal(nng_msg_len(m), n);
		}
		nng_msg_free(m);
	}

	/* A NUL inside the tracestate drops the tracestate only. */
	memcpy(b, good, sizeof good);
	b[34 + 3] = '\0';
	m = msg_with(b, sizeof good);
	assert_int_equal(trace_nng_msg_extract(m, &out), TRACE_OK);
	assert_string_equal(out.tracestate, "");
	assert_int_equal(nng_msg_len(m), 5);
	nng_msg_free(m);

	/* A future version with extra fields: known fields used, all
	 * stripped. */
	uint8_t fut[34 + 7 + 3 + 5];
	memcpy(fut, good, plen);
	memcpy(fut + plen, "EXT", 3);
	memcpy(fut + plen + 3, "tail!", 5);
	fut[4] = 2;
	fut[7] = (uint8_t)(plen + 3);
	m = msg_with(fut, sizeof fut);
	assert_int_equal(trace_nng_msg_extract(m, &out), TRACE_OK);
	assert_string_equal(out.tracestate, "foo=bar");
	assert_int_equal(nng_msg_len(m), 5);
	assert_memory_equal(nng_msg_body(m), "tail!", 5);
	nng_msg_free(m);
}

/* ------------------------------------------------- with the span core */

static void
test_span_inject(void **state)
{
	struct carrier *c = carrier_new();
	trace_config *cfg;
	trace_context remote, sc, back;
	trace_span_options o = {0};
	trace_span *s;
	nng_msg *m;
	char ep[128];

	(void)state;
	assert_int_equal(trace_inject(NULL, c, c_set), TRACE_EINVAL);
	assert_int_equal(trace_nng_msg_inject(NULL, NULL), TRACE_EINVAL);

	/* A tracer whose collector never answers: spans still propagate. */
	snprintf(ep, sizeof ep, "ipc:///tmp/trace-test-prop-%d.sock",
	    (int)getpid());
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	assert_int_equal(trace_config_set_endpoint(cfg, ep), TRACE_OK);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);

	/* A child of a remote parent keeps its trace-id and tracestate and
	 * gets a span ID of its own. */
	assert_int_equal(trace_traceparent_parse("00-" TID "-" SID "-03",
	    &remote), TRACE_OK);
	strcpy(remote.tracestate, "rojo=1,congo=2");
	o.kind = TRACE_KIND_SERVER;
	o.remote = &remote;
	s = trace_span_start_opts("server", &o);
	assert_non_null(s);
	assert_int_equal(trace_span_get_context(s, &sc), TRACE_OK);
	assert_memory_equal(&sc.trace_id, &remote.trace_id, 16);
	assert_memory_not_equal(&sc.span_id, &remote.span_id, 8);

	assert_int_equal(trace_inject(s, c, c_set), TRACE_OK);
	assert_string_equal(c_get(c, "tracestate"), "rojo=1,congo=2");
	assert_int_equal(trace_extract(&back, c, c_get), TRACE_OK);
	assert_memory_equal(&back.trace_id, &sc.trace_id, 16);
	assert_memory_equal(&back.span_id, &sc.span_id, 8);
	assert_int_equal(back.flags & TRACE_FLAG_RANDOM, TRACE_FLAG_RANDOM);

	m = msg_with("body", 4);
	assert_int_equal(trace_nng_msg_inject(s, m), TRACE_OK);
	assert_int_equal(trace_nng_msg_extract(m, &back), TRACE_OK);
	assert_memory_equal(&back.span_id, &sc.span_id, 8);
	assert_string_equal(back.tracestate, "rojo=1,congo=2");
	assert_int_equal(nng_msg_len(m), 4);
	nng_msg_free(m);

	trace_span_end(s);
	trace_shutdown(100);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_traceparent_valid, setup),
		cmocka_unit_test_setup(test_traceparent_invalid, setup),
		cmocka_unit_test_setup(test_traceparent_format, setup),
		cmocka_unit_test_setup(test_tracestate_valid, setup),
		cmocka_unit_test_setup(test_tracestate_limits, setup),
		cmocka_unit_test_setup(test_tracestate_truncation, setup),
		cmocka_unit_test_setup(test_extract_w3c, setup),
		cmocka_unit_test_setup(test_inject_round_trip, setup),
		cmocka_unit_test_setup(test_inject_headers, setup),
		cmocka_unit_test_setup(test_propagators_parse, setup),
		cmocka_unit_test_setup(test_extract_precedence, setup),
		cmocka_unit_test_setup(test_b3_single, setup),
		cmocka_unit_test_setup(test_b3_multi, setup),
		cmocka_unit_test_setup(test_jaeger, setup),
		cmocka_unit_test_setup(test_baggage_basic, setup),
		cmocka_unit_test_setup(test_baggage_parse, setup),
		cmocka_unit_test_setup(test_baggage_limits, setup),
		cmocka_unit_test_setup(test_baggage_carrier, setup),
		cmocka_unit_test_setup(test_nng_round_trip, setup),
		cmocka_unit_test_setup(test_nng_garbage, setup),
		cmocka_unit_test_setup(test_span_inject, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
