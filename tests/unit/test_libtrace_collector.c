/*
 * libtrace against the real tracecollector ($BUILD/bin/tracecollector,
 * skipped when it is not built): shutdown delivers everything queued and
 * the spans can be read back with a GetTrace query; the collector goes
 * down and comes back: span creation continues, memory stays bounded,
 * delivery resumes, and trace_stats() adds up. Every process started here
 * is stopped by PID.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

#include <nng/protocol/reqrep0/req.h>

static char bin[512], dir[128], ingest[160], query[160], ready[200];
static pid_t pid = -1;

static int
collector_start(void)
{
	struct timespec ms = {0, 20000000};
	struct stat st;

	if (pid > 0)
		return -1; /* one at a time: it locks its store */
	unlink(ready);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* Every fixed-port receiver off: another test run on the
		 * machine may hold 9411 (Zipkin's default). */
		execl(bin, bin, "--db", dir, "--listen", ingest,
		    "--query-listen", query, "--otlp-http", "none",
		    "--jaeger-http", "off", "--otlp-grpc", "off",
		    "--zipkin", "off", "--ready-file", ready,
		    "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	/* Wait for its listeners (or its death). */
	for (int i = 0; i < 1500; i++) {
		if (stat(ready, &st) == 0 && st.st_size > 0)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = -1;
			return -1;
		}
		nanosleep(&ms, NULL);
	}
	return -1;
}

static void
collector_stop(void)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
}

static int
setup(void **state)
{
	const char *build = getenv("BUILD");

	(void)state;
	snprintf(bin, sizeof bin, "%s/bin/tracecollector", build ? build : "build");
	if (access(bin, X_OK) != 0)
		return 0;
	snprintf(dir, sizeof dir, "/tmp/libtrace-collector-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ingest, sizeof ingest, "ipc://%s/ingest.sock", dir);
	snprintf(query, sizeof query, "ipc://%s/query.sock", dir);
	snprintf(ready, sizeof ready, "%s/ready", dir);
	return 0;
}

/* After each test: stop what it started, whatever happened. */
static int
after_test(void **state)
{
	(void)state;
	trace_shutdown(0);
	collector_stop();
	return 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	(void)state;
	after_test(state);
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void
begin(size_t queue)
{
	trace_config *cfg = fx_config(ingest);

	trace_config_set_queue_size(cfg, queue);
	trace_config_set_batch_size(cfg, 32);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
}

/* Set by get_trace: the array attribute of test_shutdown_delivers_to_
 * collector's root came back from the collector whole. */
static bool array_back;

/* Whether resource spans rs hold span "collector.root" with the string
 * array attribute "tags" = ["a", "b"]. */
static bool
root_array_ok(Opentelemetry__Proto__Trace__V1__ResourceSpans *rs)
{
	for (size_t j = 0; j < rs->n_scope_spans; j++)
		for (size_t k = 0; k < rs->scope_spans[j]->n_spans; k++) {
			const fx_span *sp = rs->scope_spans[j]->spans[k];
			const fx_kv *kv = fx_find_kv(sp->attributes,
			    sp->n_attributes, "tags");
			const Opentelemetry__Proto__Common__V1__ArrayValue *a;

			if (strcmp(sp->name, "collector.root") != 0 ||
			    kv == NULL || kv->value == NULL ||
			    (a = kv->value->array_value) == NULL)
				continue;
			return a->n_values == 2 &&
			    strcmp(a->values[0]->string_value, "a") == 0 &&
			    strcmp(a->values[1]->string_value, "b") == 0;
		}
	return false;
}

/* Asks the collector for a trace; returns its span count (-1: error). */
static int
get_trace(const trace_trace_id *id)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetTrace gt = TRACEQUERY__V1__GET_TRACE__INIT;
	Tracequery__V1__Response *rep;
	nng_socket s;
	nng_msg *m;
	uint8_t buf[64];
	int n = -1;

	gt.trace_id.data = (uint8_t *)id->bytes;
	gt.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &gt;
	if (nng_req0_open(&s) != 0)
		return -1;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
	if (nng_dial(s, query, NULL, 0) != 0 ||
	    nng_send(s, buf, tracequery__v1__request__pack(&req, buf), 0) != 0 ||
	    nng_recvmsg(s, &m, 0) != 0) {
		nng_close(s);
		return -1;
	}
	rep = tracequery__v1__response__unpack(NULL, nng_msg_len(m),
	    nng_msg_body(m));
	if (rep != NULL && rep->result_case ==
	    TRACEQUERY__V1__RESPONSE__RESULT_TRACE) {
		n = 0;
		for (size_t i = 0; i < rep->trace->n_resource_spans; i++) {
			n += (int)fx_count_spans(&(fx_request){
			    .n_resource_spans = 1,
			    .resource_spans = &rep->trace->resource_spans[i]});
			array_back |= root_array_ok(
			    rep->trace->resource_spans[i]);
		}
	}
	tracequery__v1__response__free_unpacked(rep, NULL);
	nng_msg_free(m);
	nng_close(s);
	return n;
}

static void
test_shutdown_delivers_to_collector(void **state)
{
	trace_stats_t st;
	trace_span *root;
	trace_trace_id tid;

	(void)state;
	if (access(bin, X_OK) != 0)
		skip();
	assert_int_equal(collector_start(), 0);
	begin(2048);
	root = trace_span_start("collector.root");
	tid = root->trace_id;
	trace_span_set_str_array(root, "tags", (const char *[]){"a", "b"}, 2);
	for (int i = 0; i < 500; i++) {
		trace_span *s = trace_span_start("collector.child");

		trace_span_set_int(s, "i", i);
		trace_span_end(s);
	}
	trace_span_end(root);
	assert_int_equal(trace_shutdown(30000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_exported, 501);
	assert_true(fx_stats_add_up(&st));
	assert_int_equal(get_trace(&tid), 501);
	assert_true(array_back);
}

static void
test_collector_down_then_back(void **state)
{
	trace_stats_t st;

	(void)state;
	if (access(bin, X_OK) != 0)
		skip();
	assert_int_equal(collector_start(), 0);
	begin(64);
	for (int i = 0; i < 20; i++)
		trace_span_end(trace_span_start("before"));
	assert_int_equal(trace_flush(20000), TRACE_OK);
	collector_stop();
	for (int i = 0; i < 5000; i++)
		trace_span_end(trace_span_start("while-down"));
	trace_stats(&st);
	assert_true(st.spans_dropped_queue_full >= 5000 - 64);
	assert_true(st.queue_depth <= 64);
	assert_int_equal(collector_start(), 0);
	assert_int_equal(trace_flush(30000), TRACE_OK);
	for (int i = 0; i < 20; i++)
		trace_span_end(trace_span_start("after"));
	assert_int_equal(trace_shutdown(30000), TRACE_OK);
	trace_stats(&st);
	assert_int_equal(st.spans_ended, 5040);
	assert_true(st.spans_exported >= 40);
	assert_true(fx_stats_add_up(&st));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_shutdown_delivers_to_collector,
		    after_test),
		cmocka_unit_test_teardown(test_collector_down_then_back,
		    after_test),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
