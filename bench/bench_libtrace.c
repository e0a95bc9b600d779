/*
 * bench_libtrace.c - libtrace hot-path benchmarks. Prints one line per
 * figure: "BENCH <name> <value> <unit>". Each timed figure is the median,
 * over many rounds, of a round's time divided by its iterations. Between
 * rounds (untimed) trace_flush() lets the exporter drain, so every measured
 * span takes the recording path (a sink in this process acknowledges the
 * batches over a real NNG REQ/REP pair). BENCH_QUICK=1 runs fewer rounds;
 * an argument runs only the figures whose name contains it.
 *
 * Thread placement is explicit (sched_setaffinity), because a span's cost
 * depends on where the exporter runs: the sampled figures are measured
 * three times, each with a tracer started for it. A thread inherits its
 * creator's affinity, so the exporter is born on the CPU the main thread
 * is pinned to during trace_init; the timing thread then moves:
 *   span_X_ns            exporter on CPU 1, timing on CPU 0 (the
 *                        production case: application and exporter on
 *                        different cores)
 *   span_X_same_core_ns  both on CPU 0 (the exporter cannot run while a
 *                        round is timed)
 *   span_X_unpinned_ns   no pinning: whatever the scheduler gives
 * NNG's own threads and the sink's are not pinned. On a machine with one
 * CPU the three are the same.
 *
 * The targets' two ratios (span_2attrs_over_clock_floor and
 * span_2attrs_cross_over_same_core) are paired: measured in one more
 * tracer from alternating short rounds (run_paired); the same ratios
 * from the placed figures print with the suffix _unpaired.
 *
 * Heap allocations are counted, not guessed: this program interposes
 * malloc and friends (forwarding to glibc's __libc_* entry points) and
 * counts calls per thread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "trace/trace.h"
#include "span_bodies.h"

/* ------------------------------------------------------------------ */
/* Counting allocator                                                 */
/* ------------------------------------------------------------------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread uint64_t thread_allocs;
static _Atomic uint64_t all_allocs;

static void
counted(void)
{
	thread_allocs++;
	atomic_fetch_add_explicit(&all_allocs, 1, memory_order_relaxed);
}

void *
malloc(size_t n)
{
	counted();
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t sz)
{
	counted();
	return __libc_calloc(n, sz);
}

void *
realloc(void *p, size_t n)
{
	counted();
	return __libc_realloc(p, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	counted();
	return __libc_memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	counted();
	*out = __libc_memalign(align, n);
	return *out == NULL ? 12 : 0;
}

void
free(void *p)
{
	__libc_free(p);
}

/* ------------------------------------------------------------------ */
/* A sink collector                                                   */
/* ------------------------------------------------------------------ */

static nng_socket sink;
static pthread_t sink_thread;
static char url[128];
static int nsinks;

/* Answers every request until the socket is closed. */
static void *
sink_main(void *arg)
{
	/* IngestReply{code: OK} is the empty message. */
	nng_msg *m;

	(void)arg;
	while (nng_recvmsg(sink, &m, 0) == 0) {
		nng_msg_clear(m);
		if (nng_sendmsg(sink, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

/* Starts a sink on a fresh ipc path, one per tracer: on the loaded test
 * machine a REP socket that had served an earlier tracer sometimes left
 * a new connection's requests unread (the kernel queue filled, every
 * flush of the run timed out). Returns 0 or -1. */
static int
sink_start(void)
{
	snprintf(url, sizeof url, "ipc:///tmp/bench-libtrace-%d-%d.sock",
	    (int)getpid(), nsinks++);
	if (nng_rep0_open(&sink) != 0 || nng_listen(sink, url, NULL, 0) != 0) {
		fprintf(stderr, "bench: cannot listen on %s\n", url);
		return -1;
	}
	pthread_create(&sink_thread, NULL, sink_main, NULL);
	return 0;
}

static void
sink_stop(void)
{
	nng_close(sink);
	pthread_join(sink_thread, NULL);
	unlink(url + strlen("ipc://"));
}

/* ------------------------------------------------------------------ */
/* Timing                                                             */
/* ------------------------------------------------------------------ */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define ITERS 1000
#define MAX_ROUNDS 401

static int rounds = 301;

typedef void (*body_fn)(int n);

/* Runs body in rounds; returns the median ns per iteration. */
static double
measure(body_fn body, bool flush)
{
	double per[MAX_ROUNDS];

	body(ITERS); /* warm caches, pool and thread state */
	if (flush)
		trace_flush(10000);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = mono_ns();

		body(ITERS);
		per[r] = (double)(mono_ns() - t0) / ITERS;
		if (flush)
			trace_flush(10000);
	}
	return median(per, rounds);
}

/* Two threads run body_2attrs together; each round's figure is a
 * thread's time per span, and the result the median over both. */
static pthread_barrier_t bar;
static double per2[2][MAX_ROUNDS];

static void *
thread_2attrs(void *arg)
{
	int id = (int)(intptr_t)arg;

	body_2attrs(ITERS);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0;

		pthread_barrier_wait(&bar);
		t0 = mono_ns();
		body_2attrs(ITERS);
		per2[id][r] = (double)(mono_ns() - t0) / ITERS;
		pthread_barrier_wait(&bar);
		if (id == 0)
			trace_flush(10000);
	}
	return NULL;
}

static double
measure_2threads(void)
{
	double all[2 * MAX_ROUNDS];
	pthread_t th[2];

	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_2attrs,
		    (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int r = 0; r < rounds; r++) {
		all[2 * r] = per2[0][r];
		all[2 * r + 1] = per2[1][r];
	}
	return median(all, 2 * rounds);
}

/* Counts allocations on this thread (the span path) and in the whole
 * process (the exporter and NNG too) over many sampled spans. */
static void
count_allocs(double *per_span, double *process_per_span)
{
	uint64_t mine = 0, all = 0, spans = 0;

	body_2attrs(ITERS);
	trace_flush(10000);
	for (int r = 0; r < 20; r++) {
		uint64_t t0 = thread_allocs, a0 = atomic_load(&all_allocs);

		body_2attrs(ITERS);
		trace_flush(10000);
		mine += thread_allocs - t0;
		all += atomic_load(&all_allocs) - a0;
		spans += ITERS;
	}
	*per_span = (double)mine / (double)spans;
	*process_per_span = (double)all / (double)spans;
}

/* Starts a sink and a tracer that sends to it. */
static int
start_tracer(const char *sampler)
{
	trace_config *cfg;
	int rv;

	if (sink_start() != 0)
		return -1;
	trace_config_new(&cfg);
	trace_config_set_endpoint(cfg, url);
	trace_config_set_service_name(cfg, "bench");
	trace_config_set_sampler(cfg, sampler, 1.0);
	trace_config_set_queue_size(cfg, 8192);
	trace_config_set_batch_size(cfg, 512);
	/* A reply lost on the loaded test machine costs a resend after 1 s
	 * (between rounds, untimed), not the default 30 s. */
	trace_config_set_export_timeout_ms(cfg, 1000);
	rv = trace_init(cfg);
	trace_config_free(cfg);
	return rv;
}

static void
stop_tracer(int timeout_ms)
{
	trace_shutdown(timeout_ms);
	sink_stop();
}

/* ------------------------------------------------------------------ */
/* Thread placement                                                   */
/* ------------------------------------------------------------------ */

enum placement { CROSS_CORE, SAME_CORE, UNPINNED, PLACEMENTS };

static const char *const placement_suffix[PLACEMENTS] = {
	[CROSS_CORE] = "", [SAME_CORE] = "_same_core", [UNPINNED] = "_unpinned",
};
/* CPUs of the exporter (pinned while trace_init creates it) and of the
 * timing thread; -1: every CPU. */
static const int exporter_cpu[PLACEMENTS] = { 1, 0, -1 };
static const int timing_cpu[PLACEMENTS] = { 0, 0, -1 };

/* Fills set with cpu (-1, or a CPU the machine lacks: every CPU it
 * has). */
static void
cpus_for(int cpu, cpu_set_t *set)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(set);
	if (cpu >= 0 && cpu < n) {
		CPU_SET(cpu, set);
	} else {
		for (int i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET(i, set);
	}
}

/* Pins the calling thread to cpu (as cpus_for reads it). */
static void
pin(int cpu)
{
	cpu_set_t set;

	cpus_for(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		perror("bench: sched_setaffinity");
}

/* Pins every thread of the process but the calling one to cpu: the
 * exporter, NNG's threads and the sink. A thread that exits meanwhile
 * is skipped. */
static void
pin_others(int cpu)
{
	pid_t self = gettid();
	struct dirent *de;
	cpu_set_t set;
	DIR *d;

	cpus_for(cpu, &set);
	if ((d = opendir("/proc/self/task")) == NULL) {
		perror("bench: /proc/self/task");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid > 0 && tid != self)
			(void)sched_setaffinity(tid, sizeof set, &set);
	}
	closedir(d);
}

static uint64_t spans_exported;

/* Warns about dropped spans (every measured span should be exported) and
 * adds up the exported ones. */
static void
report_drops(void)
{
	trace_stats_t st;

	trace_stats(&st);
	if (st.spans_dropped_queue_full + st.spans_dropped_shutdown +
	    st.spans_dropped_rejected != 0)
		fprintf(stderr, "bench: warning: %llu spans dropped\n",
		    (unsigned long long)(st.spans_dropped_queue_full +
		    st.spans_dropped_shutdown + st.spans_dropped_rejected));
	spans_exported += st.spans_exported;
}

static const char *only;

/* Whether to run the figure called name (argv[1] picks by substring). */
static bool
want(const char *name)
{
	return only == NULL || strstr(name, only) != NULL;
}

#define FIGURE(name, unit, expr) do {					\
	if (want(name))							\
		printf("BENCH libtrace." name " %.1f " unit "\n", (expr));	\
} while (0)

/* The sampled span shapes, measured in every placement. */
static const struct shape {
	const char *name;
	body_fn body;
} shapes[] = {
	{ "span_0attrs", body_0attrs },
	{ "span_2attrs", body_2attrs },
	{ "span_8attrs_1event", body_8attrs_1event },
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])
#define SPAN_2ATTRS 1

static double clock_floor_ns;
static double placed_ns[PLACEMENTS][NSHAPES];

/* The figures measured once, with the timing thread placed as given
 * (the unpinned run): they predate the placements. */
static void
run_once_figures(void)
{
	double a, b;

	FIGURE("span_2attrs_runtime_keys_ns", "ns",
	    measure(body_2attrs_runtime_keys, true));
	FIGURE("span_2attrs_2threads_ns", "ns", measure_2threads());
	if (want("allocs_per_span")) {
		count_allocs(&a, &b);
		printf("BENCH libtrace.allocs_per_span %.3f allocs\n", a);
		printf("BENCH libtrace.process_allocs_per_span %.3f allocs\n",
		    b);
	}
}

/* Starts a tracer whose exporter is born where p says, moves this
 * thread to p's timing CPU and measures every shape. */
static int
run_placement(enum placement p)
{
	char name[96];

	pin(exporter_cpu[p]);
	if (start_tracer("parentbased_always_on") != TRACE_OK)
		return -1;
	pin(timing_cpu[p]);
	if (p == CROSS_CORE && want("clock_floor_ns")) {
		clock_floor_ns = measure(body_clock, false);
		printf("BENCH libtrace.clock_floor_ns %.1f ns\n",
		    clock_floor_ns);
	}
	for (size_t i = 0; i < NSHAPES; i++) {
		snprintf(name, sizeof name, "%s%s_ns", shapes[i].name,
		    placement_suffix[p]);
		if (!want(name))
			continue;
		placed_ns[p][i] = measure(shapes[i].body, true);
		printf("BENCH libtrace.%s %.1f ns\n", name, placed_ns[p][i]);
	}
	if (p == UNPINNED)
		run_once_figures();
	report_drops();
	stop_tracer(5000);
	return 0;
}

/* The targets' ratios from the figures above (the method before issue
 * 22's fourth pass, kept beside the paired one to compare): each figure
 * is a median over its own second of the run. */
static void
report_unpaired_ratios(void)
{
	double cross = placed_ns[CROSS_CORE][SPAN_2ATTRS];
	double same = placed_ns[SAME_CORE][SPAN_2ATTRS];

	if (cross > 0 && clock_floor_ns > 0)
		printf("BENCH libtrace.span_2attrs_over_clock_floor_unpaired "
		    "%.2f ratio\n", cross / clock_floor_ns);
	if (cross > 0 && same > 0)
		printf("BENCH libtrace.span_2attrs_cross_over_same_core_unpaired "
		    "%.2f ratio\n", cross / same);
}

/* ------------------------------------------------------------------ */
/* The targets' ratios, paired                                        */
/* ------------------------------------------------------------------ */

/*
 * This VM switches speed state (the clock floor reads 44 or 56 ns from
 * one run to the next, at any load) and each figure above is a median
 * over its own second of the run, so a ratio of two of them mostly
 * measured the switch. The targets' ratios are paired instead: within
 * one tracer, short rounds of the clock floor (F), of span_2attrs with
 * every other thread on CPU 1 (C, cross-core) and on CPU 0 (S, same
 * core) alternate as F C S, then S C F, a few ms apart; each triple
 * gives C/F and C/S, and a ratio is their median over the triples. The
 * timing thread stays on CPU 0; the others move before an untimed round
 * and its flush (span_round), so the exporter drains the records where
 * it then sits, as in the placed figures.
 */
static double paired_over_floor[MAX_ROUNDS], paired_over_same[MAX_ROUNDS];
/* The rounds themselves (floor, cross-core, same core), whose medians
 * print too: they tell which speed state the ratios came from. */
static double paired_ns[3][MAX_ROUNDS];

/* Times one round of body (n = ITERS); ns per iteration. */
static double
time_round(body_fn body)
{
	uint64_t t0 = mono_ns();

	body(ITERS);
	return (double)(mono_ns() - t0) / ITERS;
}

/* A span_2attrs round with every other thread on others_cpu. The first
 * round after a move is not timed: it cost about 10 ns more per span
 * than the next (cross-core medians 80-104 against 70-72 ns, 2026-12-06
 * 14:06, load 4), a cost of the move itself, which the placed figures
 * (no moves) do not pay. */
static double
span_round(int others_cpu)
{
	pin_others(others_cpu);
	trace_flush(10000);
	body_2attrs(ITERS);
	trace_flush(10000);
	return time_round(body_2attrs);
}

/* Measures the paired ratios in a tracer of their own and prints them
 * under the targets' names, with the paired rounds' medians. */
static int
run_paired(void)
{
	if (!want("span_2attrs_over_clock_floor") &&
	    !want("span_2attrs_cross_over_same_core") &&
	    !want("span_2attrs_paired"))
		return 0;
	if (start_tracer("parentbased_always_on") != TRACE_OK)
		return -1;
	pin(0);
	body_2attrs(ITERS); /* warm caches, pool and thread state */
	for (int r = 0; r < rounds; r++) {
		double f, c, s;

		if (r % 2 == 0) {
			f = time_round(body_clock);
			c = span_round(1);
			s = span_round(0);
		} else {
			s = span_round(0);
			c = span_round(1);
			f = time_round(body_clock);
		}
		paired_over_floor[r] = c / f;
		paired_over_same[r] = c / s;
		paired_ns[0][r] = f;
		paired_ns[1][r] = c;
		paired_ns[2][r] = s;
	}
	/* All five, whichever was asked for: they belong together. */
	printf("BENCH libtrace.span_2attrs_over_clock_floor %.2f ratio\n",
	    median(paired_over_floor, rounds));
	printf("BENCH libtrace.span_2attrs_cross_over_same_core %.2f ratio\n",
	    median(paired_over_same, rounds));
	printf("BENCH libtrace.span_2attrs_paired_clock_floor_ns %.1f ns\n",
	    median(paired_ns[0], rounds));
	printf("BENCH libtrace.span_2attrs_paired_cross_core_ns %.1f ns\n",
	    median(paired_ns[1], rounds));
	printf("BENCH libtrace.span_2attrs_paired_same_core_ns %.1f ns\n",
	    median(paired_ns[2], rounds));
	report_drops();
	stop_tracer(5000);
	/* Leave every thread free again, as the unpinned figures did. */
	pin(-1);
	pin_others(-1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (getenv("BENCH_QUICK") != NULL)
		rounds = 51;
	only = argc > 1 ? argv[1] : NULL;
	for (int p = 0; p < PLACEMENTS; p++)
		if (run_placement((enum placement)p) != 0)
			return 1;
	report_unpaired_ratios();
	if (run_paired() != 0)
		return 1;
	if (only == NULL)
		printf("BENCH libtrace.spans_exported %llu spans\n",
		    (unsigned long long)spans_exported);

	if (start_tracer("always_off") != TRACE_OK)
		return 1;
	FIGURE("span_unsampled_ns", "ns", measure(body_0attrs, false));
	FIGURE("span_unsampled_2attrs_ns", "ns", measure(body_2attrs, false));
	stop_tracer(1000);
	return 0;
}
