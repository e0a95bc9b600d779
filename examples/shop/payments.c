/*
 * payments.c - charges a card. The ledger is briefly unavailable on the
 * first attempt of every SHOP_RETRY_EVERY-th order (orders retries), and
 * the card network declines every SHOP_DECLINE_EVERY-th order.
 */
#include <stdio.h>

#include "shop.h"

/* Handle "order=N amount=CENTS attempt=A". */
static void
payments_charge(const char *body, rpc_result *res)
{
	long order = util_kv_int(body, "order", 0);
	long amount = util_kv_int(body, "amount", 0);
	long attempt = util_kv_int(body, "attempt", 1);
	trace_span *s = trace_current_span();

	trace_span_set_int(s, "app.payment.amount_cents", amount);
	trace_span_set_str(s, "app.payment.currency", "EUR");

	if (order % SHOP_RETRY_EVERY == SHOP_RETRY_AT && attempt == 1) {
		util_sleep_us(util_jitter_us(500, 1500));
		rpc_result_err(res, "shop.LedgerUnavailableError",
		    "ledger primary is failing over, retry later");
		return;
	}

	trace_span *fraud = trace_span_start("fraud-check");
	long score = (order * 37) % 100;
	trace_span_set_int(fraud, "app.fraud.score", score);
	util_sleep_us(util_jitter_us(300, 1500));
	trace_span_end(fraud);

	trace_span *auth = trace_span_start("authorize-card");
	trace_span_set_str(auth, "app.card.network", "visa");
	util_sleep_us(util_jitter_us(1000, 4000));
	if (order % SHOP_DECLINE_EVERY == SHOP_DECLINE_AT) {
		rpc_result_err(res, "shop.CardDeclinedError",
		    "card declined by issuer: insufficient funds (order %ld)",
		    order);
		trace_span_set_str(auth, "error.type", res->error_type);
		trace_span_record_exception(
		    auth, res->error_type, res->error_msg);
		trace_span_end(auth);
		return;
	}
	trace_span_end(auth);

	util_db_query("sqlite", "payments", "INSERT", "payments",
	    "INSERT INTO payments (order_id, amount_cents, status) "
	    "VALUES (?, ?, 'captured')",
	    util_jitter_us(300, 900));
	rpc_result_ok(res, "charged=%ld", amount);
}

int
payments_main(int argc, char **argv)
{
	const char *peers[2] = {NULL, NULL};
	shop_opts o;
	rpc_server *srv;

	shop_parse(argc, argv, peers, &o);
	shop_tracing_start("payments");
	srv = rpc_server_start(
	    o.listen, "shop.Payments", "Charge", payments_charge, o.workers);
	return shop_wait_and_stop(srv, NULL, NULL);
}
