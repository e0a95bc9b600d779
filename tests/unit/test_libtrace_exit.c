/*
 * Process exit (tracer.c's atexit handler): a program that calls exit()
 * without trace_shutdown still delivers the spans it ended, even while
 * another thread is still making spans, and a program whose collector is
 * down exits after TRACE_EXIT_FLUSH_MS instead of hanging. The program is
 * this binary re-executed with --child (a fresh process, so NNG is whole).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

#define CHILD_SPANS 300

static struct fake fx;
static const char *self;

static void *
spinner(void *arg)
{
	(void)arg;
	for (;;)
		trace_span_end(trace_span_start("exit.background"));
	return NULL;
}

/* The re-executed program: make spans, leave a thread busy, exit(). */
static int
child(const char *url)
{
	trace_config *cfg = fx_config(url);
	pthread_t th;

	if (cfg == NULL || trace_init(cfg) != TRACE_OK)
		return 2;
	trace_config_free(cfg);
	for (int i = 0; i < CHILD_SPANS; i++) {
		trace_span *s = trace_span_start("exit.span");

		trace_span_set_int(s, "i", i);
		trace_span_end(s);
	}
	pthread_create(&th, NULL, spinner, NULL);
	exit(0);
}

static int
run_child(const char *url, const char *flush_ms)
{
	struct timespec ms = {0, 10000000};
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("TRACE_EXIT_FLUSH_MS", flush_ms, 1);
		execl(self, self, "--child", url, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 6000; i++) {   /* kill a hung child by PID */
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static size_t
count_named(const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < fx.nreq; i++) {
		const fx_request *r = fx.reqs[i];

		for (size_t a = 0; a < r->n_resource_spans; a++)
			for (size_t b = 0; b < r->resource_spans[a]->n_scope_spans; b++) {
				Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
				    r->resource_spans[a]->scope_spans[b];

				for (size_t c = 0; c < ss->n_spans; c++)
					n += strcmp(ss->spans[c]->name, name) == 0;
			}
	}
	return n;
}

static void
test_exit_delivers(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);
	assert_int_equal(run_child(fx.url, "20000"), 0);
	fx_stop(&fx);
	assert_int_equal(count_named("exit.span"), CHILD_SPANS);
	fx_free(&fx);
}

static void
test_exit_collector_down(void **state)
{
	char url[128];

	(void)state;
	fx_url(url, sizeof url);  /* nobody listens */
	assert_int_equal(run_child(url, "200"), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_delivers),
		cmocka_unit_test(test_exit_collector_down),
	};

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child(argv[2]);
	self = "/proc/self/exe";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
