/*
 * test_trace_locator_threads.c - the trace locator under concurrency (run
 * under ThreadSanitizer by `make tsan`): a load from a real store while
 * two writers add pairs and a reader looks up the pairs already added.
 * The reader never sees a miss once the locator answers, and when all
 * is done every pair, loaded or added, is found.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/keys.h"
#include "store_fixture.h"

#define MIN0 (491000u * 60u)
#define STORED 20000u
#define PER_WRITER 20000u

typedef struct shared {
	trace_locator *l;
	_Atomic uint32_t added[2]; /* pairs each writer has added */
	_Atomic int misses;
} shared;

typedef struct writer_arg {
	shared *sh;
	uint32_t id;
} writer_arg;

static void
make_id(uint8_t *id, uint32_t n)
{
	memset(id, 0, KEY_TRACE_ID_LEN);
	id[0] = 0xa5;
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* Writer w adds traces (w + 1) << 24 | i, in minute MIN0 + i % 120. */
static void *
writer(void *arg)
{
	writer_arg *a = arg;

	for (uint32_t i = 0; i < PER_WRITER; i++) {
		uint8_t id[16];
		trace_minute tm = { id, MIN0 + i % 120 };

		make_id(id, (a->id + 1) << 24 | i);
		trace_locator_add(a->sh->l, &tm, 1);
		atomic_store(&a->sh->added[a->id], i + 1);
	}
	return NULL;
}

/* Is trace n found in minute? -1: the locator cannot answer yet. */
static int
found(trace_locator *l, uint32_t n, uint32_t minute)
{
	uint8_t id[16];
	uint32_t m[16];
	int k;

	make_id(id, n);
	k = trace_locator_find(l, id, 0, m, 16);
	for (int j = 0; j < k; j++)
		if (m[j] == minute)
			return 1;
	return k < 0 ? -1 : 0;
}

static void *
reader(void *arg)
{
	shared *sh = arg;
	uint32_t r = 1;

	while (atomic_load(&sh->added[0]) < PER_WRITER ||
	    atomic_load(&sh->added[1]) < PER_WRITER) {
		for (uint32_t w = 0; w < 2; w++) {
			uint32_t n = atomic_load(&sh->added[w]), i;

			if (n == 0)
				continue;
			r = r * 1103515245u + 12345u;
			i = r % n;
			if (found(sh->l, (w + 1) << 24 | i, MIN0 + i % 120) == 0)
				atomic_fetch_add(&sh->misses, 1);
		}
	}
	return NULL;
}

static void
test_load_add_and_find_at_once(void **state)
{
	store_fixture *f = *state;
	shared sh = { 0 };
	writer_arg wa[2] = { { &sh, 0 }, { &sh, 1 } };
	pthread_t t[3];
	store_batch *b = store_batch_new(f->st);
	char *cause = NULL;

	for (uint32_t i = 0; i < STORED; i++) {
		uint8_t id[16];
		keybuf k;

		make_id(id, i);
		key_trace(&k, id, MIN0 + i % 90);
		store_batch_put(b, STORE_CF_TRACES, k.b, k.len, NULL, 0);
	}
	assert_int_equal(store_write(f->st, b, false, &cause), 0);
	store_batch_free(b);
	sh.l = trace_locator_new(0);
	assert_int_equal(trace_locator_load(sh.l, f->st), 0);
	pthread_create(&t[0], NULL, writer, &wa[0]);
	pthread_create(&t[1], NULL, writer, &wa[1]);
	pthread_create(&t[2], NULL, reader, &sh);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	trace_locator_wait(sh.l);
	assert_int_equal(atomic_load(&sh.misses), 0);
	for (uint32_t i = 0; i < STORED; i++)
		assert_int_equal(found(sh.l, i, MIN0 + i % 90), 1);
	for (uint32_t w = 0; w < 2; w++)
		for (uint32_t i = 0; i < PER_WRITER; i++)
			assert_int_equal(found(sh.l, (w + 1) << 24 | i,
			    MIN0 + i % 120), 1);
	trace_locator_free(sh.l);
}

STORE_FIXTURE_HOOKS("trace-locator-threads")

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_add_and_find_at_once,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
