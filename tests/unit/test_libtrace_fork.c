/*
 * fork() safety (tracer.c): the child keeps its context and can start
 * spans without deadlocking, draws different IDs than the parent, does not
 * export (and says so), and exits cleanly; the parent goes on exporting.
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

static struct fake fx;
static _Atomic bool busy_stop;

/*
 * Skipped under the sanitizers: gcc 12's ASan/LSan and TSan do not make
 * their own allocator locks fork-safe, so a child forked while another
 * thread (here NNG's or the exporter) is inside malloc can deadlock inside
 * the sanitizer runtime (seen: LSan's LockAllocator at the child's exit).
 * glibc's malloc is fork-safe, and the plain build runs these tests.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_SANITIZER() skip()
#else
#define SKIP_UNDER_SANITIZER() do { } while (0)
#endif

struct report {
	trace_context inherited; /* the child's current span at start */
	trace_context child;     /* a span the child started */
	int flush_rv;
	int recording;
	int shutdown_rv;
};

/* Keeps another thread starting spans while the main thread forks. */
static void *
busy(void *arg)
{
	struct timespec pause = {0, 100000};

	(void)arg;
	while (!atomic_load(&busy_stop)) {
		trace_span_end(trace_span_start("busy"));
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void
child_main(int fd)
{
	struct report r = {0};
	trace_span *s;

	trace_span_get_context(trace_current_span(), &r.inherited);
	s = trace_span_start("child.op");
	trace_span_get_context(s, &r.child);
	r.recording = trace_span_is_recording(s);
	trace_span_end(s);
	r.flush_rv = trace_flush(1000);
	r.shutdown_rv = trace_shutdown(1000);
	if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(3);
	_exit(0); /* the exit() path is test_fork_exit_paths's */
}

/* Waits for pid; kills it (and fails) if it hangs. */
static int
reap(pid_t pid)
{
	struct timespec ms = {0, 10000000};
	int status;

	for (int i = 0; i < 3000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void
test_fork_child(void **state)
{
	trace_context pctx, after;
	struct report r;
	trace_config *cfg;
	trace_span *s, *p2;
	pthread_t th;
	int fds[2];
	pid_t pid;

	(void)state;
	SKIP_UNDER_SANITIZER();
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);
	cfg = fx_config(fx.url);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	pthread_create(&th, NULL, busy, NULL);
	s = trace_span_start("parent.op");
	trace_span_get_context(s, &pctx);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1]);
	}
	close(fds[1]);
	p2 = trace_span_start("parent.after-fork");
	trace_span_get_context(p2, &after);
	trace_span_end(p2);
	assert_int_equal(read(fds[0], &r, sizeof r), (ssize_t)sizeof r);
	close(fds[0]);
	assert_int_equal(reap(pid), 0);
	/* The child inherited the current span... */
	assert_memory_equal(&r.inherited.trace_id, &pctx.trace_id, 16);
	assert_memory_equal(&r.inherited.span_id, &pctx.span_id, 8);
	/* ...its span continues the trace with its own, different IDs. */
	assert_memory_equal(&r.child.trace_id, &pctx.trace_id, 16);
	assert_memory_not_equal(&r.child.span_id, &after.span_id, 8);
	assert_true(r.child.flags & TRACE_FLAG_SAMPLED);
	assert_int_equal(r.recording, 0);
	assert_int_equal(r.flush_rv, TRACE_ETIMEDOUT);
	assert_int_equal(r.shutdown_rv, TRACE_OK); /* nothing to flush */
	/* The parent keeps exporting; the child sent nothing. */
	trace_span_end(s);
	atomic_store(&busy_stop, true);
	pthread_join(th, NULL);
	assert_int_equal(trace_flush(10000), TRACE_OK);
	assert_non_null(fx_find_span(&fx, "parent.op"));
	assert_non_null(fx_find_span(&fx, "parent.after-fork"));
	assert_null(fx_find_span(&fx, "child.op"));
	assert_int_equal(trace_shutdown(5000), TRACE_OK);
	fx_free(&fx);
}

/* A child forked with no tracer running, and one that calls exit()
 * with a tracer running and spans queued. */
static void
test_fork_exit_paths(void **state)
{
	trace_config *cfg;
	pid_t pid;

	(void)state;
	SKIP_UNDER_SANITIZER();
	pid = fork();
	if (pid == 0) {
		trace_span_end(trace_span_start("x"));
		_exit(trace_is_running() ? 1 : 0);
	}
	assert_int_equal(reap(pid), 0);

	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	cfg = fx_config(fx.url); /* no collector listening */
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	for (int i = 0; i < 10; i++)
		trace_span_end(trace_span_start("queued"));
	pid = fork();
	if (pid == 0)
		exit(0); /* atexit: trace_shutdown in a child must not hang */
	assert_int_equal(reap(pid), 0);
	assert_int_equal(trace_shutdown(0), TRACE_ETIMEDOUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_exit_paths),
		cmocka_unit_test(test_fork_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
