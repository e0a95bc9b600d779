/*
 * w3c-service - the service side of the w3c/trace-context test suite,
 * built on libtrace, libmicrohttpd (server) and NNG's HTTP client.
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
 * libmicrohttpd runs one thread per connection, so the handler may block
 * while it makes the callbacks. It decodes chunked bodies and keeps
 * repeated header fields apart; req_get joins them as W3C asks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <trace/trace.h>

#define BODY_MAX (1024 * 1024)	 /* request body limit */
#define CALLBACK_TIMEOUT_MS 5000 /* per outgoing call */

#define CARRIER_KEYS 8		 /* header names one extraction asks for */

/* An incoming request as libtrace's carrier: each key asked for is looked
 * up once and kept until the request ends. */
struct carrier {
	struct MHD_Connection *conn;
	struct {
		char *key, *value;
	} kv[CARRIER_KEYS];
	int n;
};

/* A request's body as it arrives. */
struct request {
	char *body;
	size_t len;
	bool too_large;
};

struct join {
	const char *key;
	char *out;
	size_t len;
};

/* Appends one field of the wanted name, optional whitespace (spaces and
 * tabs) trimmed at both ends: libmicrohttpd keeps trailing ones. */
static enum MHD_Result
join_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct join *j = cls;
	size_t n;
	char *out;

	(void)kind;
	if (strcasecmp(key, j->key) != 0)
		return MHD_YES;
	if (value == NULL)
		value = "";
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if ((out = realloc(j->out, j->len + n + 2)) == NULL)
		return MHD_NO;
	if (j->out != NULL)
		out[j->len++] = ',';
	memcpy(out + j->len, value, n);
	j->len += n;
	out[j->len] = '\0';
	j->out = out;
	return MHD_YES;
}

/* W3C's combined field: every field of one name (any case), in arrival
 * order, joined with ","; two traceparent fields thus become an invalid
 * value (the trace restarts), several tracestate fields one list. */
static const char *
req_get(void *carrier, const char *key)
{
	struct carrier *c = carrier;
	struct join j = {key, NULL, 0};

	for (int i = 0; i < c->n; i++)
		if (strcasecmp(c->kv[i].key, key) == 0)
			return c->kv[i].value;
	if (c->n == CARRIER_KEYS)
		return NULL;
	MHD_get_connection_values(c->conn, MHD_HEADER_KIND, join_field, &j);
	c->kv[c->n].key = strdup(key);
	c->kv[c->n].value = j.out;
	return c->kv[c->n++].value;
}

static void
carrier_free(struct carrier *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
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

/* Make the callbacks of one harness request (body: its JSON); returns
 * the HTTP status to answer with. */
static unsigned
serve(struct MHD_Connection *conn, const struct request *rq, json_t *results)
{
	struct carrier carrier = {conn, {{NULL, NULL}}, 0};
	trace_context remote;
	trace_span_options so = {0}, co = {0};
	trace_span *server;
	json_t *list;
	json_error_t err;
	size_t i;
	json_t *el;

	so.kind = TRACE_KIND_SERVER;
	so.new_root = true;
	so.detached = true;
	if (trace_extract(&remote, &carrier, req_get) == TRACE_OK)
		so.remote = &remote;
	carrier_free(&carrier);
	server = trace_span_start_opts("POST /test", &so);

	list = json_loadb(rq->body != NULL ? rq->body : "", rq->len, 0, &err);
	if (list == NULL || !json_is_array(list)) {
		json_decref(list);
		trace_span_set_status(server, TRACE_STATUS_ERROR, "bad JSON");
		trace_span_end(server);
		return MHD_HTTP_BAD_REQUEST;
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
	return MHD_HTTP_OK;
}

/* Queues status with a JSON body (text, taken). */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *text)
{
	struct MHD_Response *res;
	enum MHD_Result rv;

	res = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
	    text, text != NULL ? MHD_RESPMEM_MUST_FREE
			       : MHD_RESPMEM_PERSISTENT);
	if (res == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(res, "Content-Type", "application/json");
	rv = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return rv;
}

/* Answers a complete request to the service path. */
static enum MHD_Result
answer(struct MHD_Connection *conn, const struct request *rq)
{
	json_t *results = json_array();
	unsigned status;
	char *text;

	if (rq->too_large)
		return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
	status = serve(conn, rq, results);
	text = json_dumps(results, JSON_COMPACT);
	json_decref(results);
	return reply(conn, status, text);
}

/* Keeps a piece of body, up to BODY_MAX. */
static void
request_append(struct request *rq, const char *data, size_t n)
{
	char *b;

	if (rq->too_large || n > BODY_MAX - rq->len) {
		rq->too_large = true;
		return;
	}
	if ((b = realloc(rq->body, rq->len + n + 1)) == NULL) {
		rq->too_large = true;
		return;
	}
	memcpy(b + rq->len, data, n);
	rq->len += n;
	b[rq->len] = '\0';
	rq->body = b;
}

/* libmicrohttpd's request callback: once with the headers, then per piece
 * of body, then once more (no body) when the request is complete. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	const char *path = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (rq == NULL) {
		if (strcmp(url, path) != 0)
			return reply(conn, MHD_HTTP_NOT_FOUND, NULL);
		if (strcmp(method, "POST") != 0)
			return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, NULL);
		if ((rq = calloc(1, sizeof *rq)) == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		request_append(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(conn, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: w3c-service --listen http://127.0.0.1:PORT/"
			"PATH\n");
	exit(2);
}

/* Starts libmicrohttpd on url's IPv4 host and port. */
static struct MHD_Daemon *
start_server(const nng_url *url)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(url->u_port));
	if (inet_pton(AF_INET, url->u_hostname, &sa.sin_addr) != 1) {
		fprintf(stderr, "w3c-service: %s: want an IPv4 address\n",
		    url->u_hostname);
		return NULL;
	}
	return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    (void *)url->u_path, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
}

int
main(int argc, char **argv)
{
	const char *listen = NULL;
	nng_url *url = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
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

	/* Signals go to sigwait() below, not to libmicrohttpd's or
	 * libtrace's threads, which inherit this mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

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

	if ((rv = nng_url_parse(&url, listen)) != 0) {
		fprintf(stderr, "w3c-service: %s: %s\n", listen,
		    nng_strerror(rv));
		return 1;
	}
	if ((d = start_server(url)) == NULL) {
		fprintf(stderr, "w3c-service: cannot listen on %s\n", listen);
		nng_url_free(url);
		return 1;
	}
	/* Report the bound port, so that ":0" can be used. */
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on http://%s:%u%s\n", url->u_hostname,
	    info != NULL ? (unsigned)info->port : 0u, url->u_path);
	fflush(stdout);

	sigwait(&sigs, &sig);

	MHD_stop_daemon(d); /* lets requests in progress finish */
	nng_url_free(url);
	trace_shutdown(1000);
	return 0;
}
