/*
 * fault_producer - a libtrace-instrumented program for the fault tests
 * (tests/e2e/test_fault_*.sh). It makes traces of SPANS_PER_TRACE spans at
 * a steady rate, each span named "fault-<seq>" with attributes fault.seq
 * (a global sequence number), fault.run and a payload, and writes what it
 * made to a record file:
 *   span TRACE_HEX SPAN_HEX SEQ      a span that got a record (exported
 *                                    unless counted as dropped later)
 *   drop SEQ                         a span dropped at start (no record)
 * Every 250 ms it prints one line on stdout (made: spans made so far):
 *   progress made=N exported=N dropped=N queue=N rss_kb=N
 * SIGUSR1 moves the cost accounting to the next phase (before, during and
 * after an outage); at the end it flushes and prints the cost of a span
 * (start, three attributes, end) per phase, its trace_stats() and its
 * peak RSS as key=value lines.
 *
 * Usage: fault_producer [-n TRACES] [-r TRACES_PER_S] [-k SPANS_PER_TRACE]
 *                       [-p PAYLOAD_BYTES] [-f FLUSH_MS] [-o RECORD_FILE]
 *                       [-u RUN_ID]
 * Configuration (endpoint, queue size) comes from the environment.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trace/trace.h>

#define PHASES 4
#define BUCKET_NS 16
#define BUCKETS 8192 /* up to 131 us, the rest in the last bucket */

typedef struct cost {
	uint64_t n, sum_ns, max_ns;
	uint32_t hist[BUCKETS];
} cost;

static volatile sig_atomic_t phase;
static cost costs[PHASES];

static void
on_usr1(int sig)
{
	(void)sig;
	if (phase < PHASES - 1)
		phase++;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads a "Name:   N kB" line of /proc/self/status; 0 when absent. */
static uint64_t
status_kb(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t len = strlen(name);
	uint64_t v = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtoull(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void
cost_add(cost *c, uint64_t ns)
{
	uint64_t b = ns / BUCKET_NS;

	c->n++;
	c->sum_ns += ns;
	if (ns > c->max_ns)
		c->max_ns = ns;
	c->hist[b < BUCKETS ? b : BUCKETS - 1]++;
}

/* The upper bound of the bucket holding quantile q. */
static uint64_t
cost_quantile(const cost *c, double q)
{
	uint64_t want = (uint64_t)((double)c->n * q), seen = 0;

	for (size_t i = 0; i < BUCKETS; i++) {
		seen += c->hist[i];
		if (seen > want)
			return (i + 1) * BUCKET_NS;
	}
	return c->max_ns;
}

static void
print_stats(const char *tag)
{
	trace_stats_t st;

	trace_stats(&st);
	printf("%s spans_started=%" PRIu64 " spans_ended=%" PRIu64
	    " spans_exported=%" PRIu64 " spans_dropped_queue_full=%" PRIu64
	    " spans_dropped_no_memory=%" PRIu64
	    " spans_dropped_rejected=%" PRIu64
	    " spans_dropped_shutdown=%" PRIu64 " batches_sent=%" PRIu64
	    " batches_acked=%" PRIu64 " batches_retried=%" PRIu64
	    " queue_depth=%" PRIu64 "\n", tag, st.spans_started,
	    st.spans_ended, st.spans_exported, st.spans_dropped_queue_full,
	    st.spans_dropped_no_memory, st.spans_dropped_rejected,
	    st.spans_dropped_shutdown, st.batches_sent, st.batches_acked,
	    st.batches_retried, st.queue_depth);
}

static void
progress(uint64_t made)
{
	trace_stats_t st;

	trace_stats(&st);
	printf("progress made=%" PRIu64 " exported=%" PRIu64 " dropped=%"
	    PRIu64 " queue=%" PRIu64 " rss_kb=%" PRIu64 "\n", made,
	    st.spans_exported, st.spans_dropped_queue_full, st.queue_depth,
	    status_kb("VmRSS"));
	fflush(stdout);
}

/* Makes one span with the recognisable name and attributes; records it. */
static void
one_span(FILE *rec, uint64_t seq, const char *run, const char *payload)
{
	char name[32], th[TRACE_TRACE_ID_HEXLEN + 1];
	char sh[TRACE_SPAN_ID_HEXLEN + 1];
	trace_context ctx;
	trace_span *s;
	uint64_t t0, t1;
	bool rec_ok;

	snprintf(name, sizeof name, "fault-%06" PRIu64, seq);
	t0 = mono_ns();
	s = trace_span_start(name);
	trace_span_set_int(s, "fault.seq", (int64_t)seq);
	trace_span_set_str(s, "fault.run", run);
	trace_span_set_str(s, "fault.payload", payload);
	rec_ok = trace_span_is_recording(s);
	trace_span_get_context(s, &ctx);
	trace_span_end(s);
	t1 = mono_ns();
	cost_add(&costs[phase], t1 - t0);
	if (rec == NULL)
		return;
	if (rec_ok) {
		trace_trace_id_to_hex(&ctx.trace_id, th);
		trace_span_id_to_hex(&ctx.span_id, sh);
		fprintf(rec, "span %s %s %" PRIu64 "\n", th, sh, seq);
	} else {
		fprintf(rec, "drop %" PRIu64 "\n", seq);
	}
}

int
main(int argc, char **argv)
{
	uint64_t traces = 1000, rate = 500, per_trace = 4, payload_len = 200;
	uint64_t seq = 0, next_progress, start, t;
	int flush_ms = 30000, ch, rv;
	const char *record = NULL, *run = "fault";
	char *payload;
	FILE *rec = NULL;
	struct sigaction sa;

	while ((ch = getopt(argc, argv, "n:r:k:p:f:o:u:")) != -1) {
		switch (ch) {
		case 'n': traces = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case 'k': per_trace = strtoull(optarg, NULL, 10); break;
		case 'p': payload_len = strtoull(optarg, NULL, 10); break;
		case 'f': flush_ms = atoi(optarg); break;
		case 'o': record = optarg; break;
		case 'u': run = optarg; break;
		default:
			fprintf(stderr, "usage: fault_producer [-n TRACES] "
			    "[-r TRACES_PER_S] [-k SPANS_PER_TRACE] "
			    "[-p PAYLOAD_BYTES] [-f FLUSH_MS] [-o FILE] "
			    "[-u RUN]\n");
			return 2;
		}
	}
	if (rate == 0 || per_trace == 0 || payload_len > 65536)
		return 2;
	if ((payload = malloc(payload_len + 1)) == NULL)
		return 1;
	for (uint64_t i = 0; i < payload_len; i++)
		payload[i] = (char)('a' + i % 26);
	payload[payload_len] = '\0';
	if (record != NULL && (rec = fopen(record, "w")) == NULL) {
		perror(record);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	if ((rv = trace_init(NULL)) != TRACE_OK) {
		fprintf(stderr, "trace_init: %s\n", trace_strerror(rv));
		return 1;
	}
	printf("rss_init_kb=%" PRIu64 "\n", status_kb("VmRSS"));
	start = mono_ns();
	next_progress = start;
	for (uint64_t i = 0; i < traces; i++) {
		struct timespec due;
		trace_span *root;
		uint64_t t0, t1, at;

		/* The root stays open while its children are made. */
		t0 = mono_ns();
		root = trace_span_start("fault-root");
		trace_span_set_int(root, "fault.trace", (int64_t)i);
		t1 = mono_ns();
		for (uint64_t k = 1; k < per_trace; k++)
			one_span(rec, seq++, run, payload);
		if (rec != NULL) {
			char th[TRACE_TRACE_ID_HEXLEN + 1];
			char sh[TRACE_SPAN_ID_HEXLEN + 1];
			trace_context ctx;

			trace_span_get_context(root, &ctx);
			trace_trace_id_to_hex(&ctx.trace_id, th);
			trace_span_id_to_hex(&ctx.span_id, sh);
			if (trace_span_is_recording(root))
				fprintf(rec, "span %s %s root\n", th, sh);
			else
				fprintf(rec, "drop root\n");
		}
		at = mono_ns();
		trace_span_end(root);
		cost_add(&costs[phase], t1 - t0 + mono_ns() - at);

		t = mono_ns();
		if (t >= next_progress) {
			progress((i + 1) * per_trace);
			next_progress = t + 250000000u;
		}
		at = start + (i + 1) * 1000000000u / rate;
		due.tv_sec = (time_t)(at / 1000000000u);
		due.tv_nsec = (long)(at % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due,
		    NULL) == EINTR)
			;
	}
	progress(traces * per_trace);
	printf("loop_done traces=%" PRIu64 " spans=%" PRIu64 "\n", traces,
	    traces * per_trace);
	if (rec != NULL)
		fclose(rec);
	for (int p = 0; p < PHASES; p++) {
		if (costs[p].n == 0)
			continue;
		printf("cost phase=%d spans=%" PRIu64 " mean_ns=%" PRIu64
		    " p99_ns=%" PRIu64 " max_ns=%" PRIu64 "\n", p, costs[p].n,
		    costs[p].sum_ns / costs[p].n,
		    cost_quantile(&costs[p], 0.99), costs[p].max_ns);
	}
	rv = trace_flush(flush_ms);
	printf("flush=%s\n", trace_strerror(rv));
	print_stats("flushed");
	rv = trace_shutdown(flush_ms);
	printf("shutdown=%s\n", trace_strerror(rv));
	print_stats("final");
	printf("rss_peak_kb=%" PRIu64 "\n", status_kb("VmHWM"));
	free(payload);
	return 0;
}
