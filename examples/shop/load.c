/*
 * load.c - the load driver: sends --count checkouts to the gateway at
 * --rate per second from --concurrency threads, then prints a summary. It
 * is not traced itself: each trace begins at the gateway.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "shop.h"

#define LOAD_TIMEOUT_MS 10000

typedef struct load {
	nng_socket sock;
	long count, first;
	double rate;
	uint64_t start_ns;
	atomic_long next;
	atomic_long ok, refused, lost;
	uint64_t *latency_ns; /* per request, written by one thread each */
} load;

/* Send one checkout and wait for its reply; returns 0 (OK), 1 (an error
 * reply: the shop said no) or -1 (no reply at all). */
static int
checkout(nng_ctx ctx, nng_aio *aio, long order)
{
	char body[64];
	nng_msg *msg;
	int rv;

	snprintf(body, sizeof body, "order=%ld user=u-%ld", order, order % 97);
	if (nng_msg_alloc(&msg, 0) != 0)
		return -1;
	if (nng_msg_append(msg, body, strlen(body)) != 0) {
		nng_msg_free(msg);
		return -1;
	}
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0) {
		nng_msg_free(msg);
		return -1;
	}
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0)
		return -1;
	msg = nng_aio_get_msg(aio);
	rv = nng_msg_len(msg) >= 2 && memcmp(nng_msg_body(msg), "OK", 2) == 0
	         ? 0
	         : 1;
	nng_msg_free(msg);
	return rv;
}

/* One sender: take the next request number, wait for its slot in the
 * schedule (start + i / rate), send it. */
static void *
load_worker(void *arg)
{
	load *l = arg;
	nng_ctx ctx;
	nng_aio *aio;
	long i;
	int rv;

	if ((rv = nng_ctx_open(&ctx, l->sock)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		fatalx("load: %s", nng_strerror(rv));
	nng_aio_set_timeout(aio, LOAD_TIMEOUT_MS);
	while ((i = atomic_fetch_add(&l->next, 1)) < l->count) {
		uint64_t due = l->start_ns + (uint64_t)(i * 1e9 / l->rate);
		uint64_t now = trace_now_unix_ns();

		if (due > now)
			util_sleep_us((unsigned)((due - now) / 1000));
		now = trace_now_unix_ns();
		switch (checkout(ctx, aio, l->first + i)) {
		case 0:
			atomic_fetch_add(&l->ok, 1);
			break;
		case 1:
			atomic_fetch_add(&l->refused, 1);
			break;
		default:
			atomic_fetch_add(&l->lost, 1);
			break;
		}
		l->latency_ns[i] = trace_now_unix_ns() - now;
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
load_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"gateway", required_argument, NULL, 'g'},
	    {"rate", required_argument, NULL, 'r'},
	    {"count", required_argument, NULL, 'c'},
	    {"concurrency", required_argument, NULL, 'C'},
	    {"first", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	load l = {.count = 100, .first = 1, .rate = 50};
	const char *url = NULL;
	pthread_t threads[64];
	int ch, rv, nthreads = 16;
	uint64_t *sorted;
	double secs;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			url = optarg;
			break;
		case 'r':
			l.rate = atof(optarg);
			break;
		case 'c':
			l.count = atol(optarg);
			break;
		case 'C':
			nthreads = atoi(optarg);
			break;
		case 'f':
			l.first = atol(optarg);
			break;
		default:
			fputs("usage: shop load --gateway URL [--rate N] "
			      "[--count N] [--concurrency N] [--first N]\n",
			    stderr);
			return 2;
		}
	}
	if (url == NULL || l.rate <= 0 || l.count < 1 || nthreads < 1 ||
	    nthreads > 64 || optind != argc) {
		fputs("shop load: need --gateway URL, --rate > 0, --count > 0 "
		      "and --concurrency 1..64\n",
		    stderr);
		return 2;
	}
	if ((l.latency_ns = calloc((size_t)l.count, sizeof(uint64_t))) == NULL)
		fatal("calloc");
	if ((rv = nng_req0_open(&l.sock)) != 0 ||
	    (rv = nng_dial(l.sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		fatalx("dial %s: %s", url, nng_strerror(rv));

	l.start_ns = trace_now_unix_ns();
	for (int i = 0; i < nthreads; i++) {
		if ((rv = pthread_create(
		         &threads[i], NULL, load_worker, &l)) != 0)
			fatalx("pthread_create: %s", strerror(rv));
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	secs = (double)(trace_now_unix_ns() - l.start_ns) / 1e9;
	nng_close(l.sock);

	sorted = l.latency_ns;
	qsort(sorted, (size_t)l.count, sizeof *sorted, cmp_u64);
	printf("load: %ld requests in %.1f s: %ld ok, %ld refused, %ld lost; "
	       "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	    l.count, secs, (long)l.ok, (long)l.refused, (long)l.lost,
	    (double)sorted[l.count / 2] / 1e6,
	    (double)sorted[(l.count * 99) / 100] / 1e6,
	    (double)sorted[l.count - 1] / 1e6);
	free(l.latency_ns);
	return l.lost == 0 ? 0 : 1;
}
