/*
 * bench_tracecli.c - tracecli rendering on big traces built in memory:
 *   tracecli.render_10k_text_ms  build the model and print the text
 *   tracecli.render_50k_text_ms  waterfall of a 10k / 50k-span trace
 *   tracecli.frame_50k_ms        one interactive frame of the 50k trace,
 *                                scrolled to the middle (curses on
 *                                /dev/null, 120x40)
 *   tracecli.diff_10k_ms         compare two 10k-span traces (every 7th
 *                                span slower in the second) and print
 *                                the text diff
 *   tracecli.diff_10k_over_model_build  that time over building the two
 *                                models in the same run (load-independent)
 * Targets: 50 ms, 250 ms, 16 ms, 100 ms. Prints the best of several runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/unit/tracecli_fixture.h"

static const char *services[] = {"frontend", "cart", "payments", "search",
	"inventory", "auth", "shipping", "db"};

/* A trace of n spans: fanout 6, five levels, two attributes each; every
 * slow_every-th span (0: none) lasts a quarter longer. */
static void
build_trace_with(fx *f, int n, int slow_every)
{
	pb_resource_spans *rs[ARRAY_LEN(services)];
	uint64_t *start = malloc((size_t)n * sizeof *start);
	uint64_t *dur = malloc((size_t)n * sizeof *dur);
	char name[64];

	for (size_t i = 0; i < ARRAY_LEN(services); i++)
		rs[i] = fx_resource(f, services[i]);
	start[0] = 0;
	dur[0] = 5000 * FX_MS;
	fx_span(rs[0], 1, 0, "GET /root", 0, dur[0]);
	for (int i = 1; i < n; i++) {
		int parent = (i - 1) / 6;
		int k = (i - 1) % 6;
		uint64_t slot = dur[parent] / 7;
		start[i] = start[parent] + slot * (uint64_t)k + slot / 10;
		dur[i] = slot * 9 / 10 + 1;
		if (slow_every && i % slow_every == 0)
			dur[i] += dur[i] / 4;
		snprintf(name, sizeof name, "op-%d.%d", i % 97, k);
		pb_span *s = fx_span(rs[(size_t)i % ARRAY_LEN(services)],
		    (uint64_t)i + 1, (uint64_t)parent + 1, name, start[i], dur[i]);
		fx_attr(s, fx_kv_str("http.route", "/api/v1/items"));
		fx_attr(s, fx_kv_int("item.count", i));
		if (i % 1000 == 0)
			fx_error(s, "boom");
	}
	free(start);
	free(dur);
}

static void
build_trace(fx *f, int n)
{
	build_trace_with(f, n, 0);
}

static double
ms_since(uint64_t t0)
{
	return (double)(now_mono_ns() - t0) / 1e6;
}

static double
bench_text(int n, int runs)
{
	fx f = {0};
	FILE *out = fopen("/dev/null", "w");
	plain_opts o = {120, false};
	double best = 1e9;

	build_trace(&f, n);
	for (int r = 0; r < runs; r++) {
		model_trace m;
		uint64_t t0 = now_mono_ns();
		if (model_build(&m, f.rs, f.n, SAN_UTF8) != 0)
			fatalx("model_build");
		plain_waterfall(out, &m, &o);
		fflush(out);
		double ms = ms_since(t0);
		best = ms < best ? ms : best;
		model_free(&m);
	}
	fclose(out);
	fx_free(&f);
	return best;
}

static double
bench_frame(int n, int frames)
{
	fx f = {0};
	model_trace m;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	term_opts to = {false, false, -1, out, in};
	char *cause = NULL;
	double best = 1e9;

	build_trace(&f, n);
	if (model_build(&m, f.rs, f.n, SAN_UTF8) != 0)
		fatalx("model_build");
	setenv("TERM", "xterm-256color", 1);
	setenv("LINES", "40", 1);
	setenv("COLUMNS", "120", 1);
	if (term_open(&to, &cause) != 0)
		fatalx("term_open: %s", cause);
	view *v = view_new(&m, NULL);
	for (int k = 0; k < frames; k++) {
		/* Alternate between two places so every frame changes. */
		int row = m.nrows / 2 + (k % 2) * 37;
		uint64_t t0 = now_mono_ns();
		view_select(v, row);
		view_draw(v);
		double ms = ms_since(t0);
		best = ms < best ? ms : best;
	}
	view_free(v);
	term_close();
	model_free(&m);
	fx_free(&f);
	fclose(out);
	fclose(in);
	return best;
}

/* Best time of building the two models (what a diff starts from). */
static double
bench_builds(const fx *fa, const fx *fb, int runs)
{
	double best = 1e9;

	for (int r = 0; r < runs; r++) {
		model_trace a, b;
		uint64_t t0 = now_mono_ns();
		if (model_build(&a, fa->rs, fa->n, SAN_UTF8) != 0 ||
		    model_build(&b, fb->rs, fb->n, SAN_UTF8) != 0)
			fatalx("model_build");
		double ms = ms_since(t0);
		best = ms < best ? ms : best;
		model_free(&a);
		model_free(&b);
	}
	return best;
}

/* Best time of diff_build + the text diff; *builds gets the models'
 * build time in the same run, the yardstick of the ratio. */
static double
bench_diff(int n, int runs, double *builds)
{
	fx fa = {0}, fb = {0};
	model_trace a, b;
	FILE *out = fopen("/dev/null", "w");
	plain_opts o = {120, false};
	double best = 1e9;

	build_trace_with(&fa, n, 0);
	build_trace_with(&fb, n, 7);
	*builds = bench_builds(&fa, &fb, runs);
	if (model_build(&a, fa.rs, fa.n, SAN_UTF8) != 0 ||
	    model_build(&b, fb.rs, fb.n, SAN_UTF8) != 0)
		fatalx("model_build");
	for (int r = 0; r < runs; r++) {
		trace_diff d;
		uint64_t t0 = now_mono_ns();
		diff_build(&d, &a, &b);
		plain_diff(out, &d, &o);
		fflush(out);
		double ms = ms_since(t0);
		best = ms < best ? ms : best;
		diff_free(&d);
	}
	model_free(&a);
	model_free(&b);
	fx_free(&fa);
	fx_free(&fb);
	fclose(out);
	return best;
}

int
main(void)
{
	int quick = getenv("BENCH_QUICK") != NULL;
	int runs = quick ? 2 : 5;

	printf("BENCH tracecli.render_10k_text_ms %.1f ms\n",
	    bench_text(10000, runs));
	printf("BENCH tracecli.render_50k_text_ms %.1f ms\n",
	    bench_text(50000, runs));
	printf("BENCH tracecli.frame_50k_ms %.2f ms\n",
	    bench_frame(50000, quick ? 10 : 50));
	double builds, diff = bench_diff(10000, runs, &builds);
	printf("BENCH tracecli.diff_10k_ms %.1f ms\n", diff);
	printf("BENCH tracecli.diff_10k_over_model_build %.2f ratio\n",
	    diff / builds);
	return 0;
}
