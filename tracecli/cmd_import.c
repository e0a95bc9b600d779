/*
 * cmd_import.c - tracecli import FILE: an OTLP JSON document, or JSON
 * Lines (one document a line, as the OpenTelemetry file exporter writes),
 * sent to the ingest socket in batches; bad records are counted and the
 * first one named, good ones kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otlp_json.h"
#include "tracecli.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define DEFAULT_INGEST_URL "tcp://127.0.0.1:7070"

#define IMPORT_BATCH_SPANS 2000

static char *
read_file(const char *path, size_t *len, char **cause)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf;

	if (f == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: read error", path);
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

typedef struct import_state {
	client *cl;
	size_t total, sent, accepted, rejected;
	bool progress;
	char *first_reject;
} import_state;

static void
progress_bar(const import_state *st)
{
	int w = 40, done = st->total ? (int)(st->sent * (size_t)w / st->total) : w;

	fprintf(stderr, "\r[");
	for (int i = 0; i < w; i++)
		fputc(i < done ? '#' : '.', stderr);
	fprintf(stderr, "] %zu/%zu spans", st->sent, st->total);
	fflush(stderr);
}

/* Sends one request (a slice of resource spans); returns 0 or an exit. */
static int
import_send(import_state *st,
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
    size_t nspans)
{
	size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
	uint8_t *buf = xmalloc(len);
	Tracequery__V1__IngestReply *rep = NULL;
	char *cause = NULL;

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, buf);
	for (int attempt = 0;; attempt++) {
		int rv = client_ingest(st->cl, buf, len, &rep, &cause);
		if (rv != CLIENT_OK) {
			if (st->progress)
				fputc('\n', stderr);
			fprintf(stderr, "tracecli: import: %s\n", cause);
			free(cause);
			free(buf);
			return EXIT_UNREACHABLE;
		}
		if ((rep->code == TRACEQUERY__V1__INGEST_REPLY__CODE__RETRY_LATER ||
		    rep->code == TRACEQUERY__V1__INGEST_REPLY__CODE__INTERNAL) &&
		    attempt < 5) {
			unsigned ms = rep->retry_after_ms ? rep->retry_after_ms : 200;
			tracequery__v1__ingest_reply__free_unpacked(rep, NULL);
			usleep((ms > 5000 ? 5000 : ms) * 1000u);
			continue;
		}
		break;
	}
	free(buf);
	st->sent += nspans;
	if (rep->code == TRACEQUERY__V1__INGEST_REPLY__CODE__OK ||
	    rep->code == TRACEQUERY__V1__INGEST_REPLY__CODE__PARTIAL) {
		st->accepted += (size_t)rep->accepted_spans;
		st->rejected += (size_t)rep->rejected_spans;
	} else {
		st->rejected += nspans;
	}
	if (rep->message != NULL && *rep->message && st->first_reject == NULL)
		st->first_reject = sanitize_dup(rep->message, SAN_UTF8);
	tracequery__v1__ingest_reply__free_unpacked(rep, NULL);
	if (st->progress)
		progress_bar(st);
	return 0;
}

/* Splits one decoded request into batches of about IMPORT_BATCH_SPANS. */
static int
import_request(import_state *st, const uint8_t *pb, size_t len)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, pb);
	int rv = 0;

	if (req == NULL)
		return EXIT_NOTFOUND;
	size_t first = 0, spans = 0;
	for (size_t i = 0; i < req->n_resource_spans && rv == 0; i++) {
		for (size_t k = 0; k < req->resource_spans[i]->n_scope_spans; k++)
			spans += req->resource_spans[i]->scope_spans[k]->n_spans;
		if (spans >= IMPORT_BATCH_SPANS || i + 1 == req->n_resource_spans) {
			Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
			    part = *req;
			part.resource_spans = req->resource_spans + first;
			part.n_resource_spans = i + 1 - first;
			rv = import_send(st, &part, spans);
			first = i + 1;
			spans = 0;
		}
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	return rv;
}

static size_t
count_request_spans(const uint8_t *pb, size_t len)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, pb);
	size_t n = 0;

	if (req == NULL)
		return 0;
	for (size_t i = 0; i < req->n_resource_spans; i++)
		for (size_t k = 0; k < req->resource_spans[i]->n_scope_spans; k++)
			n += req->resource_spans[i]->scope_spans[k]->n_spans;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	return n;
}

int
cmd_import(const cli_args *c)
{
	import_state st = {0};
	client_opts io = c->co;
	char *url_owned = NULL;
	char *cause = NULL;
	size_t len = 0, bad = 0;
	uint8_t **docs = NULL;
	size_t *doc_len = NULL, ndocs = 0;
	int rv = EXIT_OK_;

	char *text = read_file(c->args[0], &len, &cause);
	if (text == NULL) {
		fprintf(stderr, "tracecli: import: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	/* One OTLP JSON document, or JSON Lines (one per line, as the
	 * OpenTelemetry file exporter writes). */
	uint8_t *pb = NULL;
	size_t pb_len = 0, rejected = 0;
	if (otlp_json_decode(text, len, &pb, &pb_len, &rejected, &cause) == 0) {
		docs = xmalloc(sizeof *docs);
		doc_len = xmalloc(sizeof *doc_len);
		docs[0] = pb;
		doc_len[0] = pb_len;
		ndocs = 1;
		bad += rejected;
		if (rejected && cause)
			st.first_reject = sanitize_dup(cause, SAN_UTF8);
		free(cause);
		cause = NULL;
	} else {
		char *first_cause = cause;
		cause = NULL;
		size_t lineno = 0, good_lines = 0;
		for (char *line = text, *next; line != NULL && *line; line = next) {
			next = strchr(line, '\n');
			size_t ll = next ? (size_t)(next - line) : strlen(line);
			if (next)
				next++;
			lineno++;
			if (ll == 0 || (ll == 1 && line[0] == '\r'))
				continue;
			rejected = 0;
			if (otlp_json_decode(line, ll, &pb, &pb_len, &rejected,
			    &cause) != 0) {
				if (st.first_reject == NULL) {
					char *s = sanitize_dup(cause, SAN_UTF8);
					xasprintf(&st.first_reject, "line %zu: %s", lineno,
					    s);
					free(s);
				}
				free(cause);
				cause = NULL;
				bad++;
				continue;
			}
			free(cause);
			cause = NULL;
			good_lines++;
			bad += rejected;
			docs = xrealloc(docs, (ndocs + 1) * sizeof *docs);
			doc_len = xrealloc(doc_len, (ndocs + 1) * sizeof *doc_len);
			docs[ndocs] = pb;
			doc_len[ndocs++] = pb_len;
		}
		if (good_lines == 0) {
			char *s = sanitize_dup(first_cause, SAN_UTF8);
			fprintf(stderr, "tracecli: import: %s: not OTLP JSON: "
			    "%s\n", c->args[0], s);
			free(s);
			free(first_cause);
			free(st.first_reject);
			free(text);
			free(docs);
			free(doc_len);
			return EXIT_NOTFOUND;
		}
		free(first_cause);
	}
	free(text);

	for (size_t i = 0; i < ndocs; i++)
		st.total += count_request_spans(docs[i], doc_len[i]);
	io.url = c->ingest_url ? c->ingest_url : getenv("TRACE_ENDPOINT");
	if (io.url == NULL || *io.url == '\0')
		io.url = DEFAULT_INGEST_URL;
	if (strchr(io.url, ',') != NULL) {	/* a list: use the first */
		url_owned = xstrndup(io.url, (size_t)(strchr(io.url, ',') - io.url));
		io.url = url_owned;
	}
	int crv = client_url_check(io.url, &cause);
	if (crv == CLIENT_OK)
		crv = client_open(&st.cl, &io, &cause);
	if (crv != CLIENT_OK) {
		fprintf(stderr, "tracecli: import: %s\n", cause);
		free(cause);
		rv = crv == CLIENT_BADURL ? EXIT_USAGE : EXIT_UNREACHABLE;
		goto done;
	}
	st.progress = isatty(STDERR_FILENO) && !c->json;
	for (size_t i = 0; i < ndocs && rv == EXIT_OK_; i++)
		rv = import_request(&st, docs[i], doc_len[i]);
	if (st.progress)
		fputc('\n', stderr);
	if (rv == EXIT_OK_) {
		size_t rej = st.rejected + bad;
		if (c->json) {
			printf("{\"spans\":%zu,\"accepted\":%zu,\"rejected\":%zu}\n",
			    st.total + bad, st.accepted, rej);
		} else {
			printf("imported %zu span%s, %zu rejected\n", st.accepted,
			    st.accepted == 1 ? "" : "s", rej);
		}
		if (rej > 0)
			fprintf(stderr, "tracecli: import: %zu bad record%s "
			    "skipped%s%s\n", rej, rej == 1 ? "" : "s",
			    st.first_reject ? "; first: " : "",
			    st.first_reject ? st.first_reject : "");
		if (st.accepted == 0)
			rv = EXIT_NOTFOUND;
	}
done:
	client_close(st.cl);
	free(url_owned);
	for (size_t i = 0; i < ndocs; i++)
		free(docs[i]);
	free(docs);
	free(doc_len);
	free(st.first_reject);
	return cli_finish(rv);
}

