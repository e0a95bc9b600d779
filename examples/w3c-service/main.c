/*
 * w3c-service - the service side of the w3c/trace-context test suite,
 * built on libtrace and NNG's HTTP server and client.
 *
 *   w3c-service --listen http://127.0.0.1:PORT/test
 *
 * For each POST to the path, the service extracts traceparent/tracestate,
 * starts a SERVER span under that remote parent, reads the JSON body (an
 * array of {"url": ..., "arguments": ...}) and, in order, POSTs each
 * element's arguments as JSON to its url from a CLIENT span of its own, so
 * every callback carries a new parent-id. It answers only when every
 * callback has completed. See docs/W3C.md.
 *
 * NNG runs HTTP handlers on its own task threads, which must not block, so
 * the handler queues the request for a worker thread that makes the
 * (blocking) callbacks and then completes the request's aio.
 *
 * NNG 1.5.2 joins repeated header fields into one value with ", " (in
 * arrival order, each trimmed of spaces and tabs), which is exactly the
 * list join W3C asks for: two traceparent fields become an invalid value
 * (the trace restarts) and several tracestate fields one list. It does not
 * decode chunked request bodies, so those are refused with 411.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include <trace/trace.h>

#define BODY_MAX (1024 * 1024)	 /* request body limit */
#define CALLBACK_TIMEOUT_MS 5000 /* per outgoing call */

struct job {
	nng_aio *aio;
	struct job *next;
};

static struct {
	nng_mtx *mtx;
	nng_cv *cv;
	struct job *head, *tail;
	bool stop;
} q;

static const char *
req_get(void *carrier, const char *key)
{
	return nng_http_req_get_header(carrier, key);
}

static void
req_set(void *carrier, const char *key, const char *value)
{
	nng_http_req_set_header(carrier, key, value);
}

/* POST body (JSON text) to url from span s. Returns the HTTP status, or -1
 * when the call failed. */
static int
post_json(trace_span *s, const char *url, const char *body)
{
	nng_url *u = NULL;
	nng_http_client *cli = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	int status = -1, rv;

	if ((rv = nng_url_parse(&u, url)) != 0 ||
	    (rv = nng_http_client_alloc(&cli, u)) != 0 ||
	    (rv = nng_http_req_alloc(&req, u)) != 0 ||
	    (rv = nng_http_res_alloc(&res)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		goto out;
	nng_http_req_set_method(req, "POST");
	nng_http_req_set_header(req, "Content-Type", "application/json");
	trace_inject(s, req, req_set);
	if ((rv = nng_http_req_copy_data(req, body, strlen(body))) != 0)
		goto out;
	nng_aio_set_timeout(aio, CALLBACK_TIMEOUT_MS);
	nng_http_client_transact(cli, req, res, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0)
		status = nng_http_res_get_status(res);
out:
	if (rv != 0)
		fprintf(stderr, "w3c-service: POST %s: %s\n", url,
		    nng_strerror(rv));
	nng_aio_free(aio);
	nng_http_res_free(res);
	nng_http_req_free(req);
	nng_http_client_free(cli);
	nng_url_free(u);
	return status;
}

/* Make the callbacks of one harness request; returns the HTTP status to
 * answer with. */
static uint16_t
serve(nng_http_req *req, json_t *results)
{
	trace_context remote;
	trace_span_options so = {0}, co = {0};
	trace_span *server;
	json_t *list;
	json_error_t err;
	void *body;
	size_t len, i;
	json_t *el;
	const char *te = nng_http_req_get_header(req, "Transfer-Encoding");

	if (te != NULL && strcasecmp(te, "identity") != 0)
		return NNG_HTTP_STATUS_LENGTH_REQUIRED;

	so.kind = TRACE_KIND_SERVER;
	so.new_root = true;
	so.detached = true;
	if (trace_extract(&remote, req, req_get) == TRACE_OK)
		so.remote = &remote;
	server = trace_span_start_opts("POST /test", &so);

	nng_http_req_get_data(req, &body, &len);
	list = json_loadb(body, len, 0, &err);
	if (list == NULL || !json_is_array(list)) {
		json_decref(list);
		trace_span_set_status(server, TRACE_STATUS_ERROR, "bad JSON");
		trace_span_end(server);
		return NNG_HTTP_STATUS_BAD_REQUEST;
	}
	co.kind = TRACE_KIND_CLIENT;
	co.parent = server;
	co.detached = true;
	json_array_foreach(list, i, el) {
		const char *url = json_string_value(json_object_get(el, "url"));
		json_t *args = json_object_get(el, "arguments");
		char *text;
		int status = -1;

		if (url == NULL) {
			json_array_append_new(results, json_integer(-1));
			continue;
		}
		text = args != NULL ? json_dumps(args, JSON_COMPACT |
					  JSON_ENCODE_ANY)
				    : strdup("[]");
		trace_span *client = trace_span_start_opts("POST", &co);
		trace_span_set_str(client, "url.full", url);
		if (text != NULL)
			status = post_json(client, url, text);
		trace_span_set_int(client, "http.response.status_code",
		    status);
		if (status < 200 || status > 299)
			trace_span_set_status(client, TRACE_STATUS_ERROR,
			    "callback failed");
		trace_span_end(client);
		free(text);
		json_array_append_new(results, json_integer(status));
	}
	json_decref(list);
	trace_span_end(server);
	return NNG_HTTP_STATUS_OK;
}

/* Answer one queued request and complete its aio. */
static void
answer(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	json_t *results = json_array();
	nng_http_res *res = NULL;
	uint16_t status;
	char *text;
	int rv;

	status = serve(req, results);
	text = json_dumps(results, JSON_COMPACT);
	json_decref(results);
	if ((rv = nng_http_res_alloc(&res)) != 0)
		goto fail;
	nng_http_res_set_status(res, status);
	nng_http_res_set_header(res, "Content-Type", "application/json");
	if (text != NULL && (rv = nng_http_res_copy_data(res, text,
	    strlen(text))) != 0)
		goto fail;
	free(text);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
	return;
fail:
	free(text);
	nng_http_res_free(res);
	nng_aio_finish(aio, rv);
}

static void
worker(void *arg)
{
	(void)arg;
	nng_mtx_lock(q.mtx);
	for (;;) {
		while (q.head == NULL && !q.stop)
			nng_cv_wait(q.cv);
		if (q.head == NULL)
			break;
		struct job *j = q.head;
		if ((q.head = j->next) == NULL)
			q.tail = NULL;
		nng_mtx_unlock(q.mtx);
		answer(j->aio);
		free(j);
		nng_mtx_lock(q.mtx);
	}
	nng_mtx_unlock(q.mtx);
}

/* NNG handler: runs on an NNG thread and must not block, so queue. */
static void
handle(nng_aio *aio)
{
	struct job *j = malloc(sizeof *j);

	if (j == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	j->aio = aio;
	j->next = NULL;
	nng_mtx_lock(q.mtx);
	if (q.tail != NULL)
		q.tail->next = j;
	else
		q.head = j;
	q.tail = j;
	nng_cv_wake1(q.cv);
	nng_mtx_unlock(q.mtx);
}

/* A port in network byte order, as NNG stores it, to a number. */
static unsigned
port_of(uint16_t net)
{
	const uint8_t *p = (const uint8_t *)&net;

	return (unsigned)(p[0] << 8 | p[1]);
}

static void
usage(void)
{
	fprintf(stderr, "usage: w3c-service --listen http://127.0.0.1:PORT/"
			"PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *listen = NULL;
	nng_url *url = NULL;
	nng_http_server *srv = NULL;
	nng_http_handler *h = NULL;
	nng_thread *thr = NULL;
	nng_sockaddr sa;
	sigset_t sigs;
	trace_config *cfg = NULL;
	int rv, sig;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else
			usage();
	}
	if (listen == NULL)
		usage();

	/* Signals go to sigwait() below, not to NNG's or libtrace's
	 * threads, which inherit this mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (trace_config_new(&cfg) == TRACE_OK) {
		if (getenv("OTEL_SERVICE_NAME") == NULL)
			trace_config_set_service_name(cfg, "w3c-service");
		rv = trace_init(cfg);
		trace_config_free(cfg);
		if (rv != TRACE_OK)
			fprintf(stderr, "w3c-service: trace_init: %s "
					"(no spans, no propagation)\n",
			    trace_strerror(rv));
	}

	if ((rv = nng_mtx_alloc(&q.mtx)) != 0 ||
	    (rv = nng_cv_alloc(&q.cv, q.mtx)) != 0 ||
	    (rv = nng_thread_create(&thr, worker, NULL)) != 0 ||
	    (rv = nng_url_parse(&url, listen)) != 0 ||
	    (rv = nng_http_server_hold(&srv, url)) != 0 ||
	    (rv = nng_http_handler_alloc(&h, url->u_path, handle)) != 0 ||
	    (rv = nng_http_handler_set_method(h, "POST")) != 0 ||
	    (rv = nng_http_handler_collect_body(h, true, BODY_MAX)) != 0 ||
	    (rv = nng_http_server_add_handler(srv, h)) != 0) {
		fprintf(stderr, "w3c-service: %s: %s\n", listen,
		    nng_strerror(rv));
		return 1;
	}
	h = NULL; /* the server owns it now */
	if ((rv = nng_http_server_start(srv)) != 0) {
		fprintf(stderr, "w3c-service: listen %s: %s\n", listen,
		    nng_strerror(rv));
		return 1;
	}
	/* Report the bound port, so that ":0" can be used. */
	if (nng_http_server_get_addr(srv, &sa) == 0 &&
	    sa.s_family == NNG_AF_INET)
		printf("listening on http://%s:%u%s\n", url->u_hostname,
		    port_of(sa.s_in.sa_port), url->u_path);
	else
		printf("listening on %s\n", listen);
	fflush(stdout);

	sigwait(&sigs, &sig);

	nng_http_server_stop(srv);
	nng_http_server_release(srv);
	nng_mtx_lock(q.mtx);
	q.stop = true;
	nng_cv_wake(q.cv);
	nng_mtx_unlock(q.mtx);
	nng_thread_destroy(thr);
	nng_cv_free(q.cv);
	nng_mtx_free(q.mtx);
	nng_url_free(url);
	trace_shutdown(1000);
	return 0;
}
