/*
 * gateway.c - the front door: authenticates a checkout, then asks orders
 * to place it. Every trace starts here (the load driver is untraced).
 */
#include <stdio.h>

#include "shop.h"

static rpc_client *orders;

/* Handle "order=N user=U": authenticate, then place the order. */
static void
gateway_checkout(const char *body, rpc_result *res)
{
	long order = util_kv_int(body, "order", 0);
	char req[SHOP_BODY_MAX], user[32];
	trace_span *s = trace_current_span();
	rpc_result r;

	if (!util_kv_str(body, "user", user, sizeof user))
		snprintf(user, sizeof user, "u-%ld", order % 97);
	snprintf(req, sizeof req, "%ld", order);
	trace_span_set_str(s, "app.order.id", req);
	trace_span_set_str(s, "user.id", user);

	/* A token check; cheap, but it shows as its own span. */
	trace_span *auth = trace_span_start("authenticate");
	trace_span_set_str(auth, "app.auth.method", "bearer");
	util_sleep_us(util_jitter_us(100, 400));
	trace_span_end(auth);

	snprintf(req, sizeof req, "order=%ld user=%s sku=sku-%ld qty=%ld",
	    order, user, order % 50, 1 + order % 3);
	if (!rpc_call_once(orders, req, 3000, &r)) {
		rpc_result_err(res, r.error_type, "checkout %ld failed: %s",
		    order, r.error_msg);
		return;
	}
	rpc_result_ok(res, "order=%ld %s", order, r.text);
}

int
gateway_main(int argc, char **argv)
{
	const char *peers[2] = {"orders", NULL};
	shop_opts o;
	rpc_server *srv;

	shop_parse(argc, argv, peers, &o);
	shop_tracing_start("gateway");
	orders = rpc_client_open(o.peer[0], "shop.Orders", "PlaceOrder");
	srv = rpc_server_start(
	    o.listen, "shop.Gateway", "Checkout", gateway_checkout, o.workers);
	return shop_wait_and_stop(srv, orders, NULL);
}
