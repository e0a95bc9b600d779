/*
 * jaeger_http.c - the Jaeger query listener (jaeger_http.h): checks the
 * method (GET; POST only for /api/transform) and the size of a request, turns its decoded arguments into
 * jaeger_args, and sends what jaeger_api.c or the UI answers. Counts
 * every request and refusal as jaeger_http.* (daemon/stats.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/stats.h"
#include "jaeger/jaeger_http.h"
#include "jaeger/jaeger_ui.h"
#include "net/http_server.h"

#define JSON_TYPE "application/json"
/* Only POST /api/transform has a body: an OTLP JSON file to draw. */
#define BODY_LIMIT (8u << 20)
#define TRANSFORM_PATH "/api/transform"
#define MAX_CONNECTIONS 64
#define TIMEOUT_S 30

struct jaeger_http {
	http_server *srv;
	jaeger_source source;
	jaeger_ui *ui;
	_Atomic int inflight;
};

static listener_stats jaeger_stats = { .name = "jaeger_http" };

/* The query arguments of a request, gathered by collect_arg. */
typedef struct arg_list {
	jaeger_arg args[JAEGER_HTTP_MAX_ARGS];
	size_t n;
	bool overflow;
} arg_list;

static bool
collect_arg(void *arg, const char *key, const char *value)
{
	arg_list *l = arg;

	if (l->n == JAEGER_HTTP_MAX_ARGS) {
		l->overflow = true;
		return false;
	}
	l->args[l->n++] = (jaeger_arg){ key, value ? value : "" };
	return true;
}

/* Sends a reply (its body taken) and counts refusals by kind. */
static void
send_reply(http_response *res, jaeger_reply *r, bool is_api_path)
{
	static const struct {
		unsigned status;
		stats_reject why;
	} rejects[] = {
		{ 400, STATS_REJECT_INVALID }, { 405, STATS_REJECT_PROTOCOL },
		{ 413, STATS_REJECT_TOO_LARGE }, { 500, STATS_REJECT_INTERNAL },
		{ 503, STATS_REJECT_RETRY_LATER },
	};
	size_t len = strlen(r->body);

	for (size_t i = 0; i < ARRAY_LEN(rejects); i++)
		if (r->status == rejects[i].status)
			listener_stats_reject(&jaeger_stats, rejects[i].why);
	/* An unknown path is a refusal; a trace not found is an answer. */
	if (r->status == 404 && !is_api_path)
		listener_stats_reject(&jaeger_stats, STATS_REJECT_PROTOCOL);
	if (r->warning[0] != '\0')
		http_response_header(res, "Warning", r->warning);
	if (r->status == 503)
		http_response_header(res, "Retry-After", "1");
	listener_stats_request(&jaeger_stats, len);
	http_response_take(res, r->status, JSON_TYPE, r->body, len);
	r->body = NULL;
}

/* Refuses what no endpoint takes: other methods, bodies, too many
 * arguments. Returns true when it replied. */
static bool
refuse(const http_request *req, const arg_list *args, bool api,
    http_response *res)
{
	const char *m = http_request_method(req);
	jaeger_reply r = { 0 };
	bool v3 = strncmp(http_request_path(req), "/api/v3/", 8) == 0;

	if (strcmp(http_request_path(req), TRANSFORM_PATH) == 0 &&
	    strcmp(m, "POST") != 0) {
		jaeger_api_error(&r, false, 405, "method not allowed: use POST");
		http_response_header(res, "Allow", "POST");
	} else if (strcmp(http_request_path(req), TRANSFORM_PATH) != 0 &&
	    strcmp(m, "GET") != 0 && (api || strcmp(m, "HEAD") != 0)) {
		jaeger_api_error(&r, v3, 405, "method not allowed: use GET");
		http_response_header(res, "Allow", api ? "GET" : "GET, HEAD");
	} else if (http_request_body_too_large(req)) {
		jaeger_api_error(&r, v3, 413, "request body too large");
		http_response_close(res);
	} else if (args->overflow) {
		jaeger_api_error(&r, v3, 400, "too many query parameters");
	} else {
		return false;
	}
	send_reply(res, &r, true);
	return true;
}

static void
serve_ui(jaeger_http *h, const char *path, http_response *res)
{
	jaeger_reply r = { 0 };
	const char *type = NULL;
	char *body = NULL;
	size_t len = 0;

	if (h->ui != NULL &&
	    jaeger_ui_file(h->ui, path, &body, &len, &type) == 200) {
		listener_stats_request(&jaeger_stats, len);
		http_response_take(res, 200, type, body, len);
		return;
	}
	jaeger_api_error(&r, false, 404, h->ui != NULL ? "not found" :
	    "not found (this collector serves no UI: see --ui-dir)");
	send_reply(res, &r, false);
}

/* Answers one request (http_handler_fn). */
static void
handle(void *arg, const http_request *req, http_response *res)
{
	jaeger_http *h = arg;
	const char *path = http_request_path(req);
	bool api = strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0;
	arg_list *args = xcalloc(1, sizeof *args);
	jaeger_reply r = { 0 };

	http_request_query_each(req, collect_arg, args);
	if (refuse(req, args, api, res)) {
		free(args);
		return;
	}
	if (!api) {
		serve_ui(h, path, res);
	} else if (atomic_fetch_add(&h->inflight, 1) >=
	    JAEGER_HTTP_MAX_INFLIGHT) {
		jaeger_api_error(&r, strncmp(path, "/api/v3/", 8) == 0, 503,
		    "busy: too many queries at once, retry");
		send_reply(res, &r, true);
	} else if (strcmp(path, TRANSFORM_PATH) == 0) {
		size_t len;
		const uint8_t *body = http_request_body(req, &len);

		jaeger_api_transform((const char *)body, len, &r);
		send_reply(res, &r, true);
	} else {
		jaeger_api_handle(&h->source, path, args->args, args->n,
		    now_unix_ns(), &r);
		send_reply(res, &r, true);
	}
	if (api)
		atomic_fetch_sub(&h->inflight, 1);
	free(args);
}

int
jaeger_http_start(jaeger_http **out, const jaeger_http_options *o,
    char **cause)
{
	http_server_options so = { .name = "jaeger-http",
		.max_body_bytes = BODY_LIMIT, .max_connections = MAX_CONNECTIONS,
		.timeout_s = TIMEOUT_S, .tls = o->tls };
	jaeger_http *h = xcalloc(1, sizeof *h);

	*out = NULL;
	h->source = o->source;
	if (o->ui_dir != NULL && jaeger_ui_open(&h->ui, o->ui_dir, cause) != 0)
		goto fail;
	if (http_server_start(&h->srv, o->addr, &so, handle, h, cause) != 0)
		goto fail;
	listener_stats_register(&jaeger_stats);
	*out = h;
	return 0;
fail:
	jaeger_ui_close(h->ui);
	free(h);
	return -1;
}

const char *
jaeger_http_addr(const jaeger_http *h)
{
	return http_server_addr(h->srv);
}

void
jaeger_http_stop(jaeger_http *h)
{
	if (h == NULL)
		return;
	http_server_stop(h->srv);
	jaeger_ui_close(h->ui);
	free(h);
}
