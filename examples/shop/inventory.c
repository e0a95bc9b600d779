/*
 * inventory.c - reserves stock. Reads go through a cache first; on a miss
 * (every SHOP_SLOW_EVERY-th order) the stock query falls back to a
 * sequential scan that takes about 300 ms: the demo's slow path.
 */
#include <stdio.h>

#include "shop.h"

/* Handle "order=N sku=S qty=Q": look up stock (cache, then database) and
 * reserve it. */
static void
inventory_reserve(const char *body, rpc_result *res)
{
	long order = util_kv_int(body, "order", 0);
	long qty = util_kv_int(body, "qty", 1);
	bool slow = order % SHOP_SLOW_EVERY == SHOP_SLOW_AT;
	char sku[32], text[128];

	if (!util_kv_str(body, "sku", sku, sizeof sku))
		snprintf(sku, sizeof sku, "sku-0");
	trace_span_set_str(trace_current_span(), "app.sku", sku);
	trace_span_set_bool(trace_current_span(), "app.cache.hit", !slow);

	snprintf(text, sizeof text, "GET stock:%s", sku);
	util_db_query(
	    "redis", "0", "GET", "stock", text, util_jitter_us(80, 250));

	if (slow) {
		/* The cache missed and the planner picked a sequential scan.
		 */
		util_db_query("postgresql", "inventory", "SELECT", "stock",
		    "SELECT sku, on_hand, reserved FROM stock "
		    "WHERE lower(sku) = lower($1)",
		    util_jitter_us(290000, 320000));
	} else {
		util_db_query("postgresql", "inventory", "SELECT", "stock",
		    "SELECT sku, on_hand, reserved FROM stock WHERE sku = $1",
		    util_jitter_us(500, 2000));
	}
	util_db_query("postgresql", "inventory", "UPDATE", "stock",
	    "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2",
	    util_jitter_us(300, 1200));
	rpc_result_ok(res, "reserved=%ld sku=%s", qty, sku);
}

int
inventory_main(int argc, char **argv)
{
	const char *peers[2] = {NULL, NULL};
	shop_opts o;
	rpc_server *srv;

	shop_parse(argc, argv, peers, &o);
	shop_tracing_start("inventory");
	srv = rpc_server_start(o.listen, "shop.Inventory", "Reserve",
	    inventory_reserve, o.workers);
	return shop_wait_and_stop(srv, NULL, NULL);
}
