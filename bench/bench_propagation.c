/*
 * bench_propagation.c - cost of W3C propagation through a text-map carrier.
 *
 *   libtrace.traceparent_inject_ns   trace_inject_context(): format
 *                                    traceparent and set it and tracestate
 *   libtrace.traceparent_extract_ns  trace_extract(): parse traceparent and
 *                                    validate/normalise tracestate
 *
 * The carrier is a two-slot array that copies values (the least a real
 * header map does). Each figure is the median over ROUNDS rounds of ITERS
 * operations; BENCH_QUICK=1 runs fewer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "propagation.h"

#define ROUNDS 31

struct carrier {
	size_t n;
	struct {
		char key[16];
		char val[TRACE_TRACESTATE_MAX + 1];
	} kv[4];
};

static volatile size_t sink;

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
	size_t klen = strlen(key), vlen = strlen(value);

	if (c->n == 4 || klen >= sizeof c->kv[0].key ||
	    vlen >= sizeof c->kv[0].val)
		return;
	memcpy(c->kv[c->n].key, key, klen + 1);
	memcpy(c->kv[c->n].val, value, vlen + 1);
	c->n++;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[n / 2];
}

int
main(void)
{
	static const char tp[] =
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	static const char ts[] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
	size_t iters = getenv("BENCH_QUICK") ? 20000 : 200000;
	double inj[ROUNDS], ext[ROUNDS];
	struct carrier c, in;
	trace_context ctx, out;

	trace__prop_mask_set(TRACE__PROP_TRACECONTEXT);
	if (trace_traceparent_parse(tp, &ctx) != TRACE_OK)
		return 1;
	strcpy(ctx.tracestate, ts);
	memset(&in, 0, sizeof in);
	c_set(&in, "traceparent", tp);
	c_set(&in, "tracestate", ts);

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();
		for (size_t i = 0; i < iters; i++) {
			c.n = 0;
			trace_inject_context(&ctx, &c, c_set);
			sink += c.n;
		}
		double t1 = now_ns();
		for (size_t i = 0; i < iters; i++) {
			trace_extract(&out, &in, c_get);
			sink += out.flags;
		}
		double t2 = now_ns();
		inj[r] = (t1 - t0) / (double)iters;
		ext[r] = (t2 - t1) / (double)iters;
	}
	if (strcmp(out.tracestate, ts) != 0 || strcmp(c.kv[0].val, tp) != 0) {
		fprintf(stderr, "bench_propagation: wrong result\n");
		return 1;
	}
	printf("BENCH libtrace.traceparent_inject_ns %.1f ns\n",
	    median(inj, ROUNDS));
	printf("BENCH libtrace.traceparent_extract_ns %.1f ns\n",
	    median(ext, ROUNDS));
	return 0;
}
