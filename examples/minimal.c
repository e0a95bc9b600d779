/*
 * minimal.c - the smallest complete libtrace program: a root span and a
 * child span with attributes, both ended, then a flushing shutdown.
 *
 *   OTEL_SERVICE_NAME=minimal TRACE_ENDPOINT=tcp://127.0.0.1:7070 minimal
 *
 * Its exit status is 0 whether or not the collector took the spans
 * (tracing never changes what a program does); it reports drops from
 * trace_stats() on stderr instead.
 *
 * With --print it writes what it sent and, for tests only, exits 1 unless
 * both spans were acknowledged:
 *   trace TRACE_ID
 *   span SPAN_ID PARENT_SPAN_ID|- START_UNIX_NS END_UNIX_NS NAME
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <trace/trace.h>

static void print_sent(const trace_context *root, const trace_context *child,
    const uint64_t t[4]);
static bool report_drops(void);

int
main(int argc, char **argv)
{
	trace_span_options opts = {0};
	trace_context root_ctx, child_ctx;
	uint64_t t[4];

	if (trace_init(NULL) != TRACE_OK) /* config from OTEL_*, TRACE_* */
		return 1;

	/* trace_span_start(name) and trace_span_end(s) read the clock
	 * themselves; explicit times here only let --print report them.
	 * A span started with no parent given nests under the thread's
	 * current span: root is the child's parent. */
	opts.start_unix_ns = t[0] = trace_now_unix_ns();
	trace_span *root = trace_span_start_opts("checkout", &opts);
	opts.start_unix_ns = t[1] = trace_now_unix_ns();
	trace_span *child = trace_span_start_opts("reserve-stock", &opts);
	trace_span_set_str(child, "app.sku", "sku-42");
	trace_span_set_int(child, "app.quantity", 2);

	trace_span_get_context(root, &root_ctx);
	trace_span_get_context(child, &child_ctx);
	trace_span_end_at(child, t[2] = trace_now_unix_ns());
	trace_span_end_at(root, t[3] = trace_now_unix_ns());

	bool print = argc > 1 && strcmp(argv[1], "--print") == 0;
	if (print)
		print_sent(&root_ctx, &child_ctx, t);
	trace_shutdown(2000); /* flushes what is queued, 2 s at most */
	bool delivered = report_drops();
	return print && !delivered ? 1 : 0;
}

/* Says on stderr how many spans were dropped (the counters keep their
 * final values after trace_shutdown); true when none was. */
static bool
report_drops(void)
{
	trace_stats_t st;
	unsigned long long dropped;

	trace_stats(&st);
	dropped = st.spans_dropped_queue_full + st.spans_dropped_no_memory +
	          st.spans_dropped_rejected + st.spans_dropped_shutdown;
	if (dropped > 0)
		fprintf(stderr, "minimal: %llu of %llu spans not delivered\n",
		    dropped, (unsigned long long)st.spans_ended);
	return dropped == 0 && st.spans_exported == st.spans_ended;
}

/* Print the IDs, names and times of both spans. */
static void
print_sent(
    const trace_context *root, const trace_context *child, const uint64_t t[4])
{
	char tid[TRACE_TRACE_ID_HEXLEN + 1];
	char rid[TRACE_SPAN_ID_HEXLEN + 1], cid[TRACE_SPAN_ID_HEXLEN + 1];

	trace_trace_id_to_hex(&root->trace_id, tid);
	trace_span_id_to_hex(&root->span_id, rid);
	trace_span_id_to_hex(&child->span_id, cid);
	printf("trace %s\n", tid);
	printf("span %s - %llu %llu checkout\n", rid, (unsigned long long)t[0],
	    (unsigned long long)t[3]);
	printf("span %s %s %llu %llu reserve-stock\n", cid, rid,
	    (unsigned long long)t[1], (unsigned long long)t[2]);
	fflush(stdout);
}
