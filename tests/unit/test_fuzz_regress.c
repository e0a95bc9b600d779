/*
 * test_fuzz_regress.c - replays every seed (tests/fuzz/corpus/<name>/) and
 * every input that once crashed a fuzzer (tests/fuzz/regress/<name>/)
 * through the fuzz targets' LLVMFuzzerTestOneInput, under the normal build
 * and so under `make asan`. The targets are included here, each with its
 * entry point renamed; their invariants abort on failure.
 * FUZZ_DIR overrides the tests/fuzz directory (default: relative to the
 * working directory, which is the repository root under make test).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_one_propagation
#include "../fuzz/fuzz_propagation.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_otlp_json
#include "../fuzz/fuzz_otlp_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_otlp_protobuf
#include "../fuzz/fuzz_otlp_protobuf.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_pipeline
#include "../fuzz/fuzz_pipeline.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_query_request
#include "../fuzz/fuzz_query_request.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_sanitize
#include "../fuzz/fuzz_sanitize.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_postings
#include "../fuzz/fuzz_postings.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_grpc_frame
#include "../fuzz/fuzz_grpc_frame.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput fuzz_one_jaeger_params
#include "../fuzz/fuzz_jaeger_params.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput fuzz_one_clickhouse_reply
#include "../fuzz/fuzz_clickhouse_reply.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput fuzz_one_zipkin
#include "../fuzz/fuzz_zipkin.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput fuzz_one_tracecli_args
#include "../fuzz/fuzz_tracecli_args.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_fn)(const uint8_t *, size_t);

/* Reads a whole file into a malloc'd buffer. */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	assert_non_null(f);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn on every regular file of dir (sorted); returns how many. */
static size_t
replay_dir(const char *dir, fuzz_fn fn)
{
	char **names = NULL, path[1024];
	size_t n = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		assert_non_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			buf = read_file(path, &len);
			print_message("replay %s (%zu bytes)\n", path, len);
			assert_int_equal(fn(buf, len), 0);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return n;
}

/* Replays the corpus (which must not be empty) and the regressions. */
static void
replay(const char *name, fuzz_fn fn)
{
	const char *root = getenv("FUZZ_DIR");
	char dir[512];

	if (root == NULL)
		root = "tests/fuzz";
	snprintf(dir, sizeof dir, "%s/corpus/%s", root, name);
	assert_true(replay_dir(dir, fn) > 0);
	snprintf(dir, sizeof dir, "%s/regress/%s", root, name);
	replay_dir(dir, fn);
}

static void
test_propagation(void **state)
{
	(void)state;
	replay("propagation", fuzz_one_propagation);
}

static void
test_jaeger_params(void **state)
{
	(void)state;
	replay("jaeger_params", fuzz_one_jaeger_params);
}

static void
test_clickhouse_reply(void **state)
{
	(void)state;
	replay("clickhouse_reply", fuzz_one_clickhouse_reply);
}

static void
test_otlp_json(void **state)
{
	(void)state;
	replay("otlp_json", fuzz_one_otlp_json);
}

static void
test_otlp_protobuf(void **state)
{
	(void)state;
	replay("otlp_protobuf", fuzz_one_otlp_protobuf);
}

static void
test_pipeline(void **state)
{
	(void)state;
	replay("pipeline", fuzz_one_pipeline);
	pl_cleanup();
}

static void
test_query_request(void **state)
{
	(void)state;
	replay("query_request", fuzz_one_query_request);
	q_cleanup();
}

static void
test_sanitize(void **state)
{
	(void)state;
	replay("sanitize", fuzz_one_sanitize);
}

static void
test_postings(void **state)
{
	(void)state;
	replay("postings", fuzz_one_postings);
}

static void
test_grpc_frame(void **state)
{
	(void)state;
	replay("grpc_frame", fuzz_one_grpc_frame);
}

static void
test_zipkin(void **state)
{
	(void)state;
	replay("zipkin", fuzz_one_zipkin);
}

static void
test_tracecli_args(void **state)
{
	(void)state;
	replay("tracecli_args", fuzz_one_tracecli_args);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_propagation),
		cmocka_unit_test(test_tracecli_args),
		cmocka_unit_test(test_otlp_json),
		cmocka_unit_test(test_jaeger_params),
		cmocka_unit_test(test_clickhouse_reply),
		cmocka_unit_test(test_otlp_protobuf),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_query_request),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_postings),
		cmocka_unit_test(test_grpc_frame),
		cmocka_unit_test(test_zipkin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
