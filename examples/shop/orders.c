/*
 * orders.c - places an order: records it, then reserves stock and charges
 * the card in parallel (a fan-out of two calls in flight at once),
 * retrying the charge when payments says it is briefly unavailable.
 */
#include <stdio.h>
#include <string.h>

#include "shop.h"

#define ORDERS_MAX_ATTEMPTS 3
#define ORDERS_CALL_TIMEOUT_MS 2000

static rpc_client *inventory, *payments;

/* Only transient failures are worth another attempt. */
static bool
retryable(const rpc_result *r)
{
	return strcmp(r->error_type, "shop.LedgerUnavailableError") == 0 ||
	       strcmp(r->error_type, "timeout") == 0;
}

/* Charge the card, retrying transient failures with a growing backoff.
 * pay holds the first attempt, already begun. */
static bool
charge(rpc_call *pay, long order, long amount)
{
	char req[SHOP_BODY_MAX];
	bool ok = rpc_call_end(pay);

	for (int attempt = 2;
	     !ok && attempt <= ORDERS_MAX_ATTEMPTS && retryable(&pay->res);
	     attempt++) {
		trace_attr ev[] = {
		    TRACE_ATTR_INT("app.rpc.attempt", attempt),
		    TRACE_ATTR_STR("error.type", pay->res.error_type),
		};
		trace_span_add_event(trace_current_span(), "retry", ev, 2);
		util_sleep_us(5000u << (attempt - 2)); /* 5 ms, 10 ms */
		snprintf(req, sizeof req, "order=%ld amount=%ld attempt=%d",
		    order, amount, attempt);
		rpc_call_begin(
		    pay, payments, req, attempt, ORDERS_CALL_TIMEOUT_MS);
		ok = rpc_call_end(pay);
	}
	return ok;
}

/* Handle "order=N user=U sku=S qty=Q". */
static void
orders_place(const char *body, rpc_result *res)
{
	long order = util_kv_int(body, "order", 0);
	long qty = util_kv_int(body, "qty", 1);
	long amount = qty * 1999;
	char sku[32], req[SHOP_BODY_MAX];
	rpc_call inv, pay;
	bool inv_ok, pay_ok;

	if (!util_kv_str(body, "sku", sku, sizeof sku))
		snprintf(sku, sizeof sku, "sku-0");
	snprintf(req, sizeof req, "%ld", order);
	trace_span_set_str(trace_current_span(), "app.order.id", req);

	util_db_query("sqlite", "orders", "INSERT", "orders",
	    "INSERT INTO orders (id, sku, qty, status) "
	    "VALUES (?, ?, ?, 'pending')",
	    util_jitter_us(400, 1500));

	/* Fan out: both requests are in flight before either reply. */
	snprintf(req, sizeof req, "order=%ld sku=%s qty=%ld", order, sku, qty);
	rpc_call_begin(&inv, inventory, req, 1, ORDERS_CALL_TIMEOUT_MS);
	snprintf(
	    req, sizeof req, "order=%ld amount=%ld attempt=1", order, amount);
	rpc_call_begin(&pay, payments, req, 1, ORDERS_CALL_TIMEOUT_MS);
	pay_ok = charge(&pay, order, amount);
	inv_ok = rpc_call_end(&inv);

	util_db_query("sqlite", "orders", "UPDATE", "orders",
	    "UPDATE orders SET status = ? WHERE id = ?",
	    util_jitter_us(300, 900));
	if (!inv_ok)
		rpc_result_err(res, inv.res.error_type, "reserve stock: %s",
		    inv.res.error_msg);
	else if (!pay_ok)
		rpc_result_err(res, pay.res.error_type, "charge card: %s",
		    pay.res.error_msg);
	else
		rpc_result_ok(res, "status=confirmed amount=%ld", amount);
}

int
orders_main(int argc, char **argv)
{
	const char *peers[2] = {"inventory", "payments"};
	shop_opts o;
	rpc_server *srv;

	shop_parse(argc, argv, peers, &o);
	shop_tracing_start("orders");
	inventory = rpc_client_open(o.peer[0], "shop.Inventory", "Reserve");
	payments = rpc_client_open(o.peer[1], "shop.Payments", "Charge");
	srv = rpc_server_start(
	    o.listen, "shop.Orders", "PlaceOrder", orders_place, o.workers);
	return shop_wait_and_stop(srv, inventory, payments);
}
