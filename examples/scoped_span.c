/*
 * scoped_span.c - the README's example, kept compiling: a function
 * instrumented with TRACE_SCOPED_SPAN (ends when its block exits) under a
 * root span, with attributes and a recorded exception.
 *
 *   OTEL_SERVICE_NAME=app scoped_span
 */
#include <trace/trace.h>

static int
reserve_stock(const char *sku, int quantity)
{
	TRACE_SCOPED_SPAN(span, "reserve-stock"); /* ends when the block exits */
	trace_span_set_str(span, "app.sku", sku);
	trace_span_set_int(span, "app.quantity", quantity);
	if (quantity > 10) {
		trace_span_record_exception(span, "StockError", "not enough stock");
		return -1;
	}
	return 0;
}

int
main(void)
{
	trace_init(NULL);            /* OTEL_SERVICE_NAME, TRACE_ENDPOINT, ... */
	trace_span *root = trace_span_start("checkout");
	reserve_stock("sku-42", 2);  /* a child of "checkout" */
	reserve_stock("sku-7", 12);  /* a child with an exception event */
	trace_span_end(root);
	trace_shutdown(2000);        /* flushes what is queued, 2 s at most */
	return 0;                    /* tracing never decides the exit status */
}
