/*
 * main.c - tracecollector: flags, startup in dependency order (backend,
 * pipeline, listeners, ready file), signals, and shutdown in reverse
 * (listeners stop, in-flight batches finish, the store closes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "daemon/collector.h"
#include "net/listen_guard.h"
#include "net/listen_probe.h"
#include "net/otlp_grpc.h"
#include "net/otlp_http.h"
#include "net/zipkin.h"
#include "jaeger/jaeger_http.h"

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* Warns when what's listener url can be reached from other machines
 * without TLS. */
static void
warn_exposed(const char *what, const char *url, const char *risk)
{
	if (!tls_url_is_tls(url) && !tls_url_is_loopback(url))
		log_warn("%s listener %s is not loopback-only and has no TLS: "
		    "anyone who can reach it can %s", what, url, risk);
}

/* True when an HTTP listener is https:// (it takes the --tls-* files). */
static bool
uses_https(const config *c)
{
	return strncmp(c->otlp_http, "https://", 8) == 0 ||
	    (c->zipkin != NULL && strncmp(c->zipkin, "https://", 8) == 0) ||
	    (c->jaeger_http != NULL &&
	    strncmp(c->jaeger_http, "https://", 8) == 0);
}

/* The limits and TLS every HTTP listener shares. */
static void
http_options(const config *c, http_server_options *o)
{
	memset(o, 0, sizeof *o);
	o->max_body_bytes = c->max_message_bytes;
	o->tls = &c->tls;
}

/*
 * Builds the TLS configurations when a listener is tls+tcp://: the
 * server's, and a client one for the listener guard's probes (no server
 * check: it dials its own listener; the server's certificate as client
 * certificate, accepted under --tls-verify-clients when --tls-ca signed
 * it). Unusable files fail here, before anything starts.
 */
static int
tls_setup(const config *c, nng_tls_config **srv, nng_tls_config **probe,
    char **cause)
{
	bool any = tls_url_is_tls(c->query_listen);
	tls_opts po;

	for (int i = 0; i < c->n_listen; i++)
		any = any || tls_url_is_tls(c->listen[i]);
	if (!any) {
		if ((c->tls.cert_file != NULL || c->tls.key_file != NULL ||
		    c->tls.ca_file != NULL || c->tls.verify_peer) &&
		    !uses_https(c))
			log_warn("TLS options given but no tls+tcp:// "
			    "listener: they are not used");
		return 0;
	}
	if (tls_config_new(srv, true, &c->tls, NULL, cause) != 0)
		return -1;
	memset(&po, 0, sizeof po);
	po.cert_file = c->tls.cert_file;
	po.key_file = c->tls.key_file;
	po.no_verify = true;
	if (tls_config_new(probe, false, &po, NULL, cause) != 0)
		return -1;
	listen_guard_set_tls(*srv, *probe);
	return 0;
}

/* Checks every address before the store is created, so a collector that
 * cannot listen exits without leaving a new store behind. */
static int
probe_listeners(const config *c, char **cause)
{
	for (int i = 0; i < c->n_listen; i++)
		if (listen_probe("--listen", c->listen[i], cause) != 0)
			return -1;
	if (listen_probe("--query-listen", c->query_listen, cause) != 0)
		return -1;
	if (strcmp(c->otlp_http, "none") != 0 &&
	    listen_probe("--otlp-http", c->otlp_http, cause) != 0)
		return -1;
	if (c->otlp_grpc != NULL &&
	    listen_probe("--otlp-grpc", c->otlp_grpc, cause) != 0)
		return -1;
	if (c->jaeger_http != NULL &&
	    listen_probe("--jaeger-http", c->jaeger_http, cause) != 0)
		return -1;
	if (c->zipkin != NULL && listen_probe("--zipkin", c->zipkin, cause) != 0)
		return -1;
	return 0;
}

/* Writes the ready file atomically (temp file + rename). */
static int
write_ready(const char *path, const config *c, const otlp_http *h,
    const otlp_grpc *g, const jaeger_http *jh, const zipkin *zk,
    char **cause)
{
	char *tmp;
	FILE *f;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		xasprintf(cause, "ready file %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	for (int i = 0; i < c->n_listen; i++)
		fprintf(f, "ingest=%s\n", c->listen[i]);
	fprintf(f, "query=%s\n", c->query_listen);
	if (h != NULL) {
		const char *colon = strrchr(c->otlp_http, ':');
		int hostlen = colon ? (int)(colon - c->otlp_http) :
		    (int)strlen(c->otlp_http);

		fprintf(f, "otlp_http=%.*s:%d\n", hostlen, c->otlp_http,
		    otlp_http_port(h));
	}
	if (g != NULL)
		fprintf(f, "otlp_grpc=%s\n", otlp_grpc_addr(g));
	if (jh != NULL)
		fprintf(f, "jaeger_http=%s\n", jaeger_http_addr(jh));
	if (zk != NULL)
		fprintf(f, "zipkin=%s\n", zipkin_addr(zk));
	fprintf(f, "pid=%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		xasprintf(cause, "ready file %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* What the Jaeger API asks: the backend, through the NNG query server's
 * answer (read your writes first, GetStats with the collector's own). */
typedef struct jaeger_store {
	backend *b;
	pipeline *p;
} jaeger_store;

static Tracequery__V1__Response *
jaeger_ask(void *arg, const Tracequery__V1__Request *req)
{
	jaeger_store *js = arg;

	return query_server_answer(js->b, js->p, req);
}

int
main(int argc, char **argv)
{
	config c;
	backend_options bo;
	pipeline_limits lim;
	backend *be = NULL;
	pipeline *p = NULL;
	ingest *in = NULL;
	query_server *qs = NULL;
	otlp_http *http = NULL;
	retention_timer *ret = NULL;
	otlp_grpc *grpc = NULL;
	otlp_grpc_options go = { 0 };
	jaeger_http *jh = NULL;
	zipkin *zk = NULL;
	jaeger_store js = { 0 };
	http_server_options hopts;
	nng_tls_config *tls_srv = NULL, *tls_probe = NULL;
	char *cause = NULL;
	struct sigaction sa;
	sigset_t mask, old;
	int rv, status = 1;

	rv = config_parse(&c, argc, argv, &cause);
	if (rv == 1)
		return 0;
	if (rv != 0) {
		fprintf(stderr, "tracecollector: %s\n"
		    "Try 'tracecollector --help'.\n", cause);
		free(cause);
		return 2;
	}
	log_set_level(c.level);
	stats.start_ns = now_mono_ns();

	/* Signals: the threads started below inherit a blocked mask, so only
	 * the main thread (in sigsuspend) sees SIGINT/SIGTERM. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &old);

	if (tls_setup(&c, &tls_srv, &tls_probe, &cause) != 0)
		goto fail;
	for (int i = 0; i < c.n_listen; i++)
		warn_exposed("ingest", c.listen[i], "send spans");
	warn_exposed("query", c.query_listen, "read every stored span");
	if (strcmp(c.otlp_http, "none") != 0 && !uses_https(&c) &&
	    !tls_url_is_loopback(c.otlp_http))
		log_warn("OTLP/HTTP listener %s is not loopback-only and has "
		    "no TLS: anyone who can reach it can send spans",
		    c.otlp_http);

	if (c.zipkin != NULL && strncmp(c.zipkin, "https://", 8) != 0 &&
	    !tls_url_is_loopback(c.zipkin))
		log_warn("Zipkin listener %s is not loopback-only and has no "
		    "TLS: anyone who can reach it can send spans", c.zipkin);
	if (c.jaeger_http != NULL && !tls_url_is_loopback(c.jaeger_http))
		log_warn("Jaeger API listener %s is not loopback-only: anyone "
		    "who can reach it can read every stored span",
		    c.jaeger_http);
	if (probe_listeners(&c, &cause) != 0)
		goto fail;
	backend_options_default(&bo);
	bo.sync = c.sync;
	bo.retention_ns = c.retention_ns;
	bo.index_flush_ms = (uint32_t)(c.index_flush_ns / 1000000ULL);
	bo.index_flush_spans = c.index_flush_spans;
	if (backend_open(&be, c.store, &bo, &cause) != 0)
		goto fail;
	pipeline_limits_default(&lim);
	lim.max_message_bytes = c.max_message_bytes;
	if (pipeline_new(&p, be, &lim, &cause) != 0)
		goto fail;
	if (retention_timer_start(&ret, be, c.retention_ns, &cause) != 0)
		goto fail;
	if (query_server_start(&qs, c.query_listen, c.query_workers, be, p,
	    &cause) != 0)
		goto fail;
	if (ingest_start(&in, c.listen, c.n_listen, c.ingest_workers,
	    c.max_message_bytes, p, &cause) != 0)
		goto fail;
	http_options(&c, &hopts);
	if (strcmp(c.otlp_http, "none") != 0 && otlp_http_start_opts(&http,
	    c.otlp_http, &hopts, p, &cause) != 0)
		goto fail;
	go.max_message_bytes = c.max_message_bytes;
	go.tls = &c.tls;
	if (c.otlp_grpc != NULL && otlp_grpc_start(&grpc, c.otlp_grpc, &go,
	    p, &cause) != 0)
		goto fail;
	js = (jaeger_store){ be, p };
	if (c.jaeger_http != NULL && jaeger_http_start(&jh,
	    &(jaeger_http_options){ .addr = c.jaeger_http, .ui_dir = c.ui_dir,
	    .tls = &c.tls, .source = { .ask = jaeger_ask, .arg = &js } },
	    &cause) != 0)
		goto fail;
	if (c.zipkin != NULL && zipkin_start(&zk, c.zipkin, &hopts, p,
	    &cause) != 0)
		goto fail;
	if (c.ready_file != NULL && write_ready(c.ready_file, &c, http, grpc,
	    jh, zk, &cause) != 0)
		goto fail;
	log_info("ready: store %s, ingest %s, query %s", c.store, c.listen[0],
	    c.query_listen);

	while (!got_signal)
		sigsuspend(&old);
	log_info("signal %d: shutting down", (int)got_signal);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "tracecollector: %s\n", cause ? cause : "failed");
	free(cause);
out:
	otlp_grpc_stop(grpc);
	jaeger_http_stop(jh);
	zipkin_stop(zk);
	otlp_http_stop(http);
	ingest_stop(in);
	query_server_stop(qs);
	retention_timer_stop(ret);
	pipeline_free(p);
	backend_close(be);
	if (tls_srv != NULL)
		nng_tls_config_free(tls_srv);
	if (tls_probe != NULL)
		nng_tls_config_free(tls_probe);
	/* Releases what NNG still holds, e.g. connections stranded on a
	 * listener the guard had to restart; not when a stop left a thread
	 * stuck in NNG (rep_server.c), which nng_fini would wait for. */
	if (thread_join_abandoned() == 0)
		nng_fini();
	if (c.ready_file != NULL && status == 0)
		unlink(c.ready_file);
	return status;
}
