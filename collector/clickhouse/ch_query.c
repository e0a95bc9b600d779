/* ch_query.c - what the ClickHouse queries share (ch_query.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clickhouse/ch_query.h"
#include "clickhouse/ch_schema.h"

#define QUERY_TIMEOUT_MS 30000
#define DAY_NS (86400ull * 1000000000ull)

ch_window
ch_query_window(const ch_query_ctx *q, uint64_t start, uint64_t end)
{
	ch_window w;

	w.from = start > q->cutoff_ns ? start : q->cutoff_ns;
	w.to = end ? end : q->now_ns + DAY_NS;
	return w;
}

const char *
ch_query_table(const ch_query_ctx *q, const char *base, char *buf,
    size_t len)
{
	return ch_schema_all(base, q->cluster, buf, len);
}

response *
ch_query_run(ch_query_ctx *q, const char *sql, ch_reply *rep)
{
	char *full, *cause = NULL;
	response *r = NULL;

	xasprintf(&full, "%s FORMAT RowBinary", sql);
	/* wait_end_of_query: an error found mid-result becomes an HTTP
	 * error instead of a 200 with a cut reply. max_query_size: a search
	 * names up to 5,000 trace IDs. */
	if (ch_client_exec(q->c, full, NULL, 0, "wait_end_of_query=1&"
	    "max_query_size=4194304",
	    QUERY_TIMEOUT_MS, rep, &cause) != 0) {
		r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__INTERNAL,
		    cause ? cause : "clickhouse query failed");
		ch_reply_fini(rep);
	}
	free(cause);
	free(full);
	return r;
}

response *
ch_query_u64(ch_query_ctx *q, rowbinary_buf *sql, uint64_t *v, bool *found)
{
	rowbinary_reader r;
	ch_reply rep;
	response *err = ch_query_run(q, ch_sql_text(sql), &rep);
	bool have;

	rowbinary_buf_free(sql);
	if (err != NULL)
		return err;
	rowbinary_reader_init(&r, rep.data, rep.len);
	have = rep.len > 0;
	if (found != NULL)
		*found = have;
	if ((have || found == NULL) && !rowbinary_get_u64(&r, v))
		err = ch_query_bad_reply();
	ch_reply_fini(&rep);
	return err;
}

response *
ch_query_bad_reply(void)
{
	return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__INTERNAL,
	    "clickhouse: reply did not decode");
}
