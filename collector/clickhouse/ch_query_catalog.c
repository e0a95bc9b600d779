/* ch_query_catalog.c - services and operations from the operations
 * catalog in ClickHouse (ch_query.h). */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"

response *
ch_query_services(ch_query_ctx *q)
{
	rowbinary_buf sql = { 0 };
	Tracequery__V1__ServicesResult *sv;
	rowbinary_reader r;
	ch_reply rep;
	response *resp;
	char tbl[64];

	ch_sql_add(&sql, "SELECT DISTINCT service FROM %s WHERE start_date >= ",
	    ch_query_table(q, "operations", tbl, sizeof tbl));
	ch_sql_date(&sql, q->cutoff_ns);
	ch_sql_add(&sql, " ORDER BY service");
	resp = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (resp != NULL)
		return resp;
	sv = xmalloc(sizeof *sv);
	tracequery__v1__services_result__init(sv);
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0) {
		char *name;

		if (rowbinary_get_cstr(&r, &name))
			CH_APPEND(sv->services, sv->n_services, name);
	}
	ch_reply_fini(&rep);
	if (!r.ok) {
		tracequery__v1__services_result__free_unpacked(sv, NULL);
		return ch_query_bad_reply();
	}
	resp = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	resp->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SERVICES;
	resp->services = sv;
	return resp;
}

response *
ch_query_operations(ch_query_ctx *q, const Tracequery__V1__ListOperations *lo)
{
	rowbinary_buf sql = { 0 };
	Tracequery__V1__OperationsResult *o;
	rowbinary_reader r;
	ch_reply rep;
	response *resp;
	char tbl[64];

	/* One kind per operation, as the RocksDB catalog keeps: the one
	 * seen on the latest day. */
	ch_sql_add(&sql, "SELECT name, argMax(kind, start_date) FROM %s WHERE "
	    "service = ", ch_query_table(q, "operations", tbl, sizeof tbl));
	ch_sql_quote(&sql, lo->service);
	ch_sql_add(&sql, " AND start_date >= ");
	ch_sql_date(&sql, q->cutoff_ns);
	ch_sql_add(&sql, " GROUP BY name ORDER BY name");
	resp = ch_query_run(q, ch_sql_text(&sql), &rep);
	rowbinary_buf_free(&sql);
	if (resp != NULL)
		return resp;
	o = xmalloc(sizeof *o);
	tracequery__v1__operations_result__init(o);
	rowbinary_reader_init(&r, rep.data, rep.len);
	while (r.ok && r.left > 0) {
		Tracequery__V1__Operation *op = xmalloc(sizeof *op);
		uint8_t kind = 0;

		tracequery__v1__operation__init(op);
		rowbinary_get_cstr(&r, &op->name);
		rowbinary_get_u8(&r, &kind);
		op->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)kind;
		if (op->name == NULL)
			op->name = xstrdup("");
		CH_APPEND(o->operations, o->n_operations, op);
	}
	ch_reply_fini(&rep);
	if (!r.ok) {
		tracequery__v1__operations_result__free_unpacked(o, NULL);
		return ch_query_bad_reply();
	}
	if (o->n_operations == 0) {
		tracequery__v1__operations_result__free_unpacked(o, NULL);
		return backend_response_new(
		    TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND, "no such service");
	}
	resp = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	resp->result_case = TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS;
	resp->operations = o;
	return resp;
}
