/*
 * retention_timer.c - runs the backend's retention pass on a timer
 * (backend.h), every tenth of the retention, between 1 s and 10 min, so
 * expiry keeps pace without stopping ingest. Queries hide expired
 * records at once, whatever the timer's phase.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "backend/backend.h"
#include "common.h"
#include "daemon/log.h"

struct retention_timer {
	backend *b;
	uint64_t retention_ns;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void
run_once(retention_timer *t)
{
	char *cause = NULL;

	if (backend_retention_run(t->b, now_unix_ns(), t->retention_ns,
	    &cause) != 0) {
		log_warn("retention: %s", cause ? cause : "failed");
		free(cause);
	}
}

static void *
timer_main(void *arg)
{
	retention_timer *t = arg;
	uint64_t period = t->retention_ns / 10;

	if (period < 1000000000ULL)
		period = 1000000000ULL;
	if (period > 600000000000ULL)
		period = 600000000000ULL;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec ts = deadline_after_ms(period / 1000000ULL);
		int rv = 0;

		while (!t->stop && rv != ETIMEDOUT)
			rv = pthread_cond_timedwait(&t->cv, &t->mu, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		run_once(t);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int
retention_timer_start(retention_timer **out, backend *b,
    uint64_t retention_ns, char **cause)
{
	retention_timer *t = xcalloc(1, sizeof *t);

	*out = NULL;
	t->b = b;
	t->retention_ns = retention_ns;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
		xasprintf(cause, "retention: cannot start a thread");
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
retention_timer_stop(retention_timer *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}
