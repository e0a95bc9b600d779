/*
 * ingest.c - the NNG ingest socket: each request is an
 * ExportTraceServiceRequest handed to the pipeline; each reply a
 * tracequery.v1.IngestReply sent only after the write. The socket and its
 * workers are rep_server.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "common.h"
#include "daemon/log.h"
#include "daemon/stats.h"
#include "net/net.h"
#include "net/rep_server.h"
#include "tracequery.pb-c.h"

struct ingest {
	rep_server *rs;
	pipeline *p;
};

/* Encodes res as an IngestReply into msg's body. */
static int
reply(nng_msg *msg, const pipeline_result *res)
{
	Tracequery__V1__IngestReply r;
	uint8_t buf[512];
	size_t len;

	tracequery__v1__ingest_reply__init(&r);
	r.code = (Tracequery__V1__IngestReply__Code)res->code;
	r.accepted_spans = res->accepted_spans;
	r.rejected_spans = res->rejected_spans;
	r.message = (char *)(uintptr_t)res->message;
	r.retry_after_ms = res->retry_after_ms;
	len = tracequery__v1__ingest_reply__get_packed_size(&r);
	if (len > sizeof buf)
		return -1;
	tracequery__v1__ingest_reply__pack(&r, buf);
	nng_msg_clear(msg);
	return nng_msg_append(msg, buf, len);
}

static listener_stats nng_stats = { .name = "nng_ingest" };

/* Writes the request's spans through the pipeline; replies with the
 * outcome (rep_handler). */
static int
handle(void *arg, nng_msg *msg)
{
	ingest *in = arg;
	pipeline_result res;

	listener_stats_request(&nng_stats, nng_msg_len(msg));
	pipeline_submit_protobuf(in->p, nng_msg_body(msg), nng_msg_len(msg),
	    &res);
	listener_stats_reply(&nng_stats,
	    (Tracequery__V1__IngestReply__Code)res.code);
	if (res.code != PIPELINE_OK)
		log_debug("ingest: code %d: %s", (int)res.code, res.message);
	return reply(msg, &res);
}

int
ingest_start(ingest **out, const char *const *urls, int n_urls, int workers,
    size_t max_message_bytes, pipeline *p, char **cause)
{
	ingest *in = xcalloc(1, sizeof *in);

	*out = NULL;
	in->p = p;
	listener_stats_register(&nng_stats);
	/* Messages up to twice the limit are read and answered TOO_LARGE;
	 * beyond that NNG drops the connection without reading it. */
	if (rep_server_start(&in->rs, "ingest", urls, n_urls, workers,
	    max_message_bytes * 2 + 4096, handle, in, cause) != 0) {
		free(in);
		return -1;
	}
	*out = in;
	return 0;
}

void
ingest_stop(ingest *in)
{
	if (in == NULL)
		return;
	rep_server_stop(in->rs);
	free(in);
}
