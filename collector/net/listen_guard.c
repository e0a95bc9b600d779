/* listen_guard.c - self-restarting NNG listeners (see listen_guard.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common.h"
#include "daemon/log.h"
#include "net/listen_guard.h"

#define GUARD_MAX 8
#define PROBE_EVERY_MS 2000
#define PROBE_TIMEOUT_MS 10000
/* A stop waits this long for a probe in progress (see listen_guard_stop). */
#define GUARD_STOP_WAIT_MS 3000

struct listen_guard {
	nng_socket sock;
	const char *what;
	char *urls[GUARD_MAX];
	nng_listener l[GUARD_MAX];
	int n;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* Set once by main before any listener starts; read-only afterwards. */
static struct nng_tls_config *tls_server, *tls_probe;

void
listen_guard_set_tls(struct nng_tls_config *server,
    struct nng_tls_config *probe)
{
	tls_server = server;
	tls_probe = probe;
}

static int
listen_one(listen_guard *g, int i, char **cause)
{
	int rv;

	if (tls_url_is_tls(g->urls[i]) && tls_server == NULL) {
		xasprintf(cause, "%s listener %s needs --tls-cert and "
		    "--tls-key", g->what, g->urls[i]);
		return -1;
	}
	if ((rv = tls_listen(g->sock, g->urls[i], tls_server, &g->l[i])) == 0)
		return 0;
	if (rv == NNG_EADDRINUSE)
		xasprintf(cause, "%s address %s is already in use", g->what,
		    g->urls[i]);
	else
		xasprintf(cause, "%s listen %s: %s", g->what, g->urls[i],
		    nng_strerror(rv));
	return -1;
}

/* Returns true when a ping to url gets any reply in time. A TLS
 * listener that completes or refuses a handshake is answering too (under
 * --tls-verify-clients the probe's certificate, the server's own, may not
 * be one it accepts); only a refused connection or a timeout is not. */
static bool
probe(const char *url)
{
	nng_socket s;
	nng_msg *m = NULL;
	bool ok = false;
	int rv;

	if (nng_req0_open(&s) != 0)
		return true; /* cannot tell; assume fine */
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, PROBE_TIMEOUT_MS);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, PROBE_TIMEOUT_MS);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, PROBE_TIMEOUT_MS * 2);
	if ((rv = tls_dial(s, url, tls_probe, 0)) != 0) {
		nng_close(s);
		return tls_url_is_tls(url) && rv != NNG_ECONNREFUSED &&
		    rv != NNG_ETIMEDOUT;
	}
	if (nng_send(s, (void *)(uintptr_t)LISTEN_GUARD_PING,
	    LISTEN_GUARD_PING_LEN, 0) == 0 && nng_recvmsg(s, &m, 0) == 0) {
		ok = true;
		nng_msg_free(m);
	}
	nng_close(s);
	return ok;
}

static void *
guard_main(void *arg)
{
	listen_guard *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec ts = deadline_after_ms(PROBE_EVERY_MS);

		while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu,
		    &ts) == 0)
			;
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->mu);
		for (int i = 0; i < g->n; i++) {
			char *cause = NULL;

			if (probe(g->urls[i]))
				continue;
			pthread_mutex_lock(&g->mu);
			if (g->stop) {
				pthread_mutex_unlock(&g->mu);
				break;
			}
			log_warn("%s listener %s stopped answering (NNG 1.5.2 "
			    "bug #1518?); restarting it", g->what, g->urls[i]);
			nng_listener_close(g->l[i]);
			if (listen_one(g, i, &cause) != 0) {
				log_error("%s", cause);
				free(cause);
			}
			pthread_mutex_unlock(&g->mu);
		}
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int
listen_guard_start(listen_guard **out, nng_socket sock, const char *what,
    const char *const *urls, int n_urls, char **cause)
{
	listen_guard *g = xcalloc(1, sizeof *g);

	*out = NULL;
	g->sock = sock;
	g->what = what;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	for (int i = 0; i < n_urls && i < GUARD_MAX; i++) {
		g->urls[g->n++] = xstrdup(urls[i]);
		if (listen_one(g, i, cause) != 0)
			goto fail;
	}
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		xasprintf(cause, "%s: cannot start a thread", what);
		goto fail;
	}
	g->started = true;
	*out = g;
	return 0;
fail:
	listen_guard_stop(g);
	return -1;
}

void
listen_guard_stop(listen_guard *g)
{
	if (g == NULL)
		return;
	if (g->started) {
		pthread_mutex_lock(&g->mu);
		g->stop = true;
		pthread_cond_signal(&g->cv);
		pthread_mutex_unlock(&g->mu);
		/* A probe stuck in NNG (see thread_join_within) keeps g. */
		if (!thread_join_within(g->thread, GUARD_STOP_WAIT_MS)) {
			log_warn("%s: the listener guard is stuck in NNG; going "
			    "on without it", g->what);
			return;
		}
	}
	for (int i = 0; i < g->n; i++)
		free(g->urls[i]);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}
