/*
 * shop.h - a small instrumented shop: four services (gateway, orders,
 * inventory, payments) that call each other over NNG REQ/REP, plus a load
 * driver. One program, `shop ROLE [flags]`; each role runs as its own
 * process. Requests and replies are short text lines:
 *
 *   request  "key=value key=value ..."   (trace context prepended by libtrace)
 *   reply    "OK text" or "ERR error.type message"
 *
 * What happens is decided by the order number so that tests can predict it:
 * every 20th order (n % 20 == 7) hits a slow inventory query, payments is
 * briefly unavailable on the first attempt of n % 10 == 3 (orders retries),
 * and cards are declined for n % 25 == 13.
 */
#ifndef SHOP_H
#define SHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <trace/trace.h>

#define SHOP_SLOW_EVERY 20
#define SHOP_SLOW_AT 7
#define SHOP_RETRY_EVERY 10
#define SHOP_RETRY_AT 3
#define SHOP_DECLINE_EVERY 25
#define SHOP_DECLINE_AT 13

#define SHOP_BODY_MAX 512
#define SHOP_TEXT_MAX 192

/* What a handler answers: ok, or an error class and message. */
typedef struct rpc_result {
	bool ok;
	char text[SHOP_TEXT_MAX];      /* reply text when ok */
	char error_type[64];           /* error.type when not ok */
	char error_msg[SHOP_TEXT_MAX]; /* exception.message when not ok */
} rpc_result;

/* A handler runs on a server worker thread with the SERVER span current,
 * so spans it starts nest under it. */
typedef void (*rpc_handler_fn)(const char *body, rpc_result *res);

typedef struct rpc_server rpc_server;
typedef struct rpc_client rpc_client;

/* One call in flight; see rpc_call_begin. */
typedef struct rpc_call {
	rpc_client *client;
	trace_span *span; /* the CLIENT span, detached */
	nng_ctx ctx;
	nng_aio *aio;
	int rv;           /* nng result of the last step */
	uint64_t done_ns; /* when the reply (or failure) arrived */
	rpc_result res;
} rpc_call;

/* rpc.c */
rpc_server *rpc_server_start(const char *url, const char *service,
    const char *method, rpc_handler_fn fn, int workers);
void rpc_server_stop(rpc_server *srv);
rpc_client *rpc_client_open(
    const char *url, const char *service, const char *method);
void rpc_client_close(rpc_client *cl);
void rpc_call_begin(rpc_call *c, rpc_client *cl, const char *body, int attempt,
    int timeout_ms);
bool rpc_call_end(rpc_call *c);
bool rpc_call_once(
    rpc_client *cl, const char *body, int timeout_ms, rpc_result *res);
void rpc_result_ok(rpc_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rpc_result_err(rpc_result *res, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rpc_url_attrs(trace_span *s, const char *url);

/* util.c */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void util_sleep_us(unsigned us);
unsigned util_jitter_us(unsigned lo, unsigned hi);
long util_kv_int(const char *body, const char *key, long def);
bool util_kv_str(const char *body, const char *key, char *buf, size_t len);
void util_db_query(const char *system, const char *ns, const char *op,
    const char *table, const char *text, unsigned us);

/* Roles: each returns the process exit status. */
int gateway_main(int argc, char **argv);
int orders_main(int argc, char **argv);
int inventory_main(int argc, char **argv);
int payments_main(int argc, char **argv);
int load_main(int argc, char **argv);

/* main.c: shared by the service roles. */
typedef struct shop_opts {
	const char *listen;
	const char *peer[2];
	int workers;
} shop_opts;
void shop_parse(
    int argc, char **argv, const char *peer_names[2], shop_opts *o);
void shop_tracing_start(const char *service);
int shop_wait_and_stop(rpc_server *srv, rpc_client *c0, rpc_client *c1);

#endif /* SHOP_H */
