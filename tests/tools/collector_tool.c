/*
 * collector_tool - a small client of tracecollector for the e2e tests:
 * sends generated spans (tests/tools/spangen.h) or bad input over the NNG
 * ingest socket, and asks the query socket. Output is line-oriented text
 * for shell scripts. Usage: collector_tool COMMAND ... (see usage()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common.h"
#include "spangen.h"
#include "tool_dial.h"
#include "tracequery.pb-c.h"

static void
usage(void)
{
	fprintf(stderr,
"usage: collector_tool send URL SEED TRACES [BATCH_TRACES [BASE_NS STEP_NS "
"[RECORD_FILE]]]\n"
"       collector_tool bad URL KIND\n"
"       collector_tool verify-gen QURL SEED TRACES BASE_NS STEP_NS\n"
"       collector_tool verify-record QURL FILE\n"
"       collector_tool get QURL TRACE_HEX\n"
"       collector_tool search QURL [service=S] [op=O] [attr=K=V]... "
"[min=NS] [max=NS]\n"
"                      [tmin=NS] [tmax=NS] [from=NS] [to=NS] [errors] "
"[longest] [limit=N]\n"
"       collector_tool slow QURL [service=S] [op=O] [from=NS] [to=NS] "
"[top=N] [hist]\n"
"       collector_tool services QURL | ops QURL SVC | stats QURL\n");
	exit(2);
}


/* Sends buf and returns the reply (malloc'd), or NULL on a timeout. */
static uint8_t *
roundtrip(nng_socket s, const void *buf, size_t len, size_t *out_len)
{
	nng_msg *m;
	uint8_t *out;
	int rv;

	nng_msg_alloc(&m, 0);
	nng_msg_append(m, buf, len);
	if ((rv = nng_sendmsg(s, m, 0)) != 0) {
		nng_msg_free(m);
		fprintf(stderr, "send: %s\n", nng_strerror(rv));
		return NULL;
	}
	if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
		fprintf(stderr, "recv: %s\n", nng_strerror(rv));
		return NULL;
	}
	*out_len = nng_msg_len(m);
	out = malloc(*out_len + 1);
	memcpy(out, nng_msg_body(m), *out_len);
	nng_msg_free(m);
	return out;
}

static Tracequery__V1__IngestReply *
ingest(nng_socket s, const void *buf, size_t len)
{
	size_t rlen;
	uint8_t *r = roundtrip(s, buf, len, &rlen);
	Tracequery__V1__IngestReply *rep;

	if (r == NULL)
		return NULL;
	rep = tracequery__v1__ingest_reply__unpack(NULL, rlen, r);
	free(r);
	return rep;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	hex_encode(p, n, out);
}

static int
cmd_send(int argc, char **argv)
{
	nng_socket s;
	uint64_t seed, traces, batch = 4, base, step = 1000000;
	FILE *rec = NULL;
	uint64_t acked = 0;

	if (argc < 5)
		usage();
	s = tool_dial(argv[2], 30000);
	seed = strtoull(argv[3], NULL, 10);
	traces = strtoull(argv[4], NULL, 10);
	base = now_unix_ns() - 600ULL * 1000000000ULL;
	if (argc > 5)
		batch = strtoull(argv[5], NULL, 10);
	if (argc > 7) {
		base = strtoull(argv[6], NULL, 10);
		step = strtoull(argv[7], NULL, 10);
	}
	if (argc > 8 && (rec = fopen(argv[8], "a")) == NULL) {
		perror(argv[8]);
		return 1;
	}
	for (uint64_t t = 0; t < traces; t += batch) {
		uint64_t n = traces - t < batch ? traces - t : batch;
		sg_request *req = sg_request_new(seed, t, n, base, step);
		size_t len;
		uint8_t *buf = sg_pack(req, &len);
		Tracequery__V1__IngestReply *rep;

		for (;;) {
			rep = ingest(s, buf, len);
			if (rep == NULL) {
				printf("acked=%" PRIu64 " error=noreply\n",
				    acked);
				return 1;
			}
			if (rep->code !=
			    TRACEQUERY__V1__INGEST_REPLY__CODE__RETRY_LATER &&
			    rep->code !=
			    TRACEQUERY__V1__INGEST_REPLY__CODE__INTERNAL)
				break;
			usleep(rep->retry_after_ms * 1000);
			tracequery__v1__ingest_reply__free_unpacked(rep, NULL);
		}
		if (rep->code != TRACEQUERY__V1__INGEST_REPLY__CODE__OK) {
			printf("acked=%" PRIu64 " error=%d %s\n", acked,
			    rep->code, rep->message);
			return 1;
		}
		acked += (uint64_t)rep->accepted_spans;
		if (rec != NULL) {
			for (uint64_t i = t; i < t + n; i++) {
				for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
					sg_info in;
					char th[33], sh[17];

					sg_describe(seed, i, j, base, step, &in);
					hex(in.trace_id, 16, th);
					hex(in.span_id, 8, sh);
					fprintf(rec, "%s %s\n", th, sh);
				}
			}
			fflush(rec);
		}
		tracequery__v1__ingest_reply__free_unpacked(rep, NULL);
		free(buf);
		sg_request_free(req);
	}
	printf("acked=%" PRIu64 "\n", acked);
	if (rec)
		fclose(rec);
	nng_close(s);
	return 0;
}

/* Builds one bad input of kind `kind`; returns a malloc'd buffer. */
static uint8_t *
bad_input(const char *kind, size_t *len)
{
	uint64_t now = now_unix_ns();
	sg_request *req = sg_request_new(99, 0, 1, now - 1000000000ULL, 1000);
	sg_span *sp = req->resource_spans[0]->scope_spans[0]->spans[0];
	uint8_t *buf;

	if (strcmp(kind, "garbage") == 0) {
		sg_request_free(req);
		buf = malloc(64);
		for (int i = 0; i < 64; i++)
			buf[i] = (uint8_t)(0xff - i * 3);
		*len = 64;
		return buf;
	}
	if (strcmp(kind, "truncated") == 0) {
		buf = sg_pack(req, len);
		*len /= 2;
		sg_request_free(req);
		return buf;
	}
	if (strcmp(kind, "wiretype") == 0) {
		/* Field 1 (resource_spans) as a varint instead of bytes. */
		sg_request_free(req);
		buf = malloc(4);
		buf[0] = 0x08;
		buf[1] = 0x05;
		*len = 2;
		return buf;
	}
	if (strcmp(kind, "deep") == 0) {
		/* An AnyValue nested 10000 levels (array in array). */
		size_t depth = 10000, n = 0, cap = depth * 12 + 64;
		uint8_t *p = malloc(cap), *q = malloc(cap);

		/* Build inside out: any = {5: arr}, arr = {1: any}. */
		p[n++] = 0x10; /* bool_value = 1 */
		p[n++] = 0x01;
		for (size_t i = 0; i < depth; i++) {
			size_t m = 0;
			uint8_t hdr[12];
			size_t h = 0, v;

			/* arr = 0x0a len any */
			hdr[h++] = 0x0a;
			for (v = n; v >= 0x80; v >>= 7)
				hdr[h++] = (uint8_t)(v | 0x80);
			hdr[h++] = (uint8_t)v;
			memcpy(q, hdr, h);
			memcpy(q + h, p, n);
			m = h + n;
			/* any = 0x2a len arr */
			h = 0;
			hdr[h++] = 0x2a;
			for (v = m; v >= 0x80; v >>= 7)
				hdr[h++] = (uint8_t)(v | 0x80);
			hdr[h++] = (uint8_t)v;
			memcpy(p, hdr, h);
			memcpy(p + h, q, m);
			n = h + m;
		}
		free(q);
		/* Wrap as req{rs{ss{span{attr{key, value=any}}}}} by hand. */
		{
			uint8_t *w = malloc(n + 128), *t = malloc(n + 128);
			size_t wn = 0;
			static const uint8_t tags[] = { 0x12, 0x4a, 0x12, 0x12,
				0x0a };
			/* kv = key "k" + value field 2 */
			w[wn++] = 0x0a;
			w[wn++] = 0x01;
			w[wn++] = 'k';
			memcpy(t, w, wn);
			{
				size_t h = wn, v;

				t[h++] = 0x12;
				for (v = n; v >= 0x80; v >>= 7)
					t[h++] = (uint8_t)(v | 0x80);
				t[h++] = (uint8_t)v;
				memcpy(t + h, p, n);
				wn = h + n;
			}
			/* span.attributes(9)=kv, ss.spans(2), rs.scope_spans
			 * (2), req.resource_spans(1) */
			for (size_t k = 1; k < sizeof tags; k++) {
				size_t h = 0, v;

				w[h++] = tags[k];
				for (v = wn; v >= 0x80; v >>= 7)
					w[h++] = (uint8_t)(v | 0x80);
				w[h++] = (uint8_t)v;
				memcpy(w + h, t, wn);
				wn += h;
				memcpy(t, w, wn);
			}
			free(w);
			free(p);
			sg_request_free(req);
			*len = wn;
			return t;
		}
	}
	if (strcmp(kind, "zero-id") == 0) {
		memset(sp->trace_id.data, 0, 16);
	} else if (strcmp(kind, "short-id") == 0) {
		sp->span_id.len = 4;
	} else if (strcmp(kind, "end-before-start") == 0) {
		sp->end_time_unix_nano = sp->start_time_unix_nano - 1;
	} else if (strcmp(kind, "ts-1970") == 0) {
		sp->start_time_unix_nano = 1000;
		sp->end_time_unix_nano = 2000;
	} else if (strcmp(kind, "ts-2200") == 0) {
		sp->start_time_unix_nano = 7258118400000000000ULL;
		sp->end_time_unix_nano = 7258118400000001000ULL;
	} else if (strcmp(kind, "big-attr") == 0) {
		size_t n = 10u << 20;
		char *v = malloc(n + 1);

		memset(v, 'x', n);
		v[n] = '\0';
		free(sp->attributes[0]->value->string_value);
		sp->attributes[0]->value->string_value = v;
	} else if (strcmp(kind, "many-attrs") == 0) {
		size_t n = 100000;

		sp->attributes = realloc(sp->attributes,
		    n * sizeof *sp->attributes);
		for (size_t i = sp->n_attributes; i < n; i++) {
			char k[32];

			snprintf(k, sizeof k, "a%zu", i);
			sp->attributes[i] = sg_kv_int(k, (int64_t)i);
		}
		sp->n_attributes = n;
	} else if (strcmp(kind, "bad-utf8") == 0) {
		free(sp->name);
		sp->name = sg_strdup("bad\xc3\x28name\xff");
	} else if (strcmp(kind, "empty") == 0) {
		sg_request_free(req);
		req = malloc(sizeof *req);
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
	} else if (strcmp(kind, "partial") == 0) {
		/* Two traces: the first span of the request gets a bad ID. */
		sg_request_free(req);
		req = sg_request_new(98, 0, 2, now - 1000000000ULL, 1000);
		memset(req->resource_spans[0]->scope_spans[0]->spans[0]->
		    span_id.data, 0, 8);
	} else if (strncmp(kind, "size=", 5) == 0) {
		size_t n = strtoull(kind + 5, NULL, 10);

		sg_request_free(req);
		buf = calloc(1, n);
		*len = n;
		return buf;
	} else {
		fprintf(stderr, "unknown bad input %s\n", kind);
		exit(2);
	}
	buf = sg_pack(req, len);
	sg_request_free(req);
	return buf;
}

static int
cmd_bad(int argc, char **argv)
{
	nng_socket s;
	uint8_t *buf;
	size_t len;
	Tracequery__V1__IngestReply *rep;

	if (argc < 4)
		usage();
	s = tool_dial(argv[2], 30000);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	buf = bad_input(argv[3], &len);
	rep = ingest(s, buf, len);
	free(buf);
	if (rep == NULL) {
		printf("code=none\n");
		return 1;
	}
	printf("code=%d accepted=%" PRId64 " rejected=%" PRId64 " msg=%s\n",
	    rep->code, rep->accepted_spans, rep->rejected_spans, rep->message);
	tracequery__v1__ingest_reply__free_unpacked(rep, NULL);
	nng_close(s);
	return 0;
}

static Tracequery__V1__Response *
query(nng_socket s, const Tracequery__V1__Request *req)
{
	size_t len = tracequery__v1__request__get_packed_size(req), rlen;
	uint8_t *buf = malloc(len + 1), *r;
	Tracequery__V1__Response *resp;

	tracequery__v1__request__pack(req, buf);
	r = roundtrip(s, buf, len, &rlen);
	free(buf);
	if (r == NULL)
		exit(3);
	resp = tracequery__v1__response__unpack(NULL, rlen, r);
	free(r);
	if (resp == NULL) {
		fprintf(stderr, "bad response\n");
		exit(3);
	}
	return resp;
}

static Tracequery__V1__Response *
get_trace(nng_socket s, const uint8_t *tid)
{
	Tracequery__V1__Request req;
	Tracequery__V1__GetTrace g;

	tracequery__v1__request__init(&req);
	tracequery__v1__get_trace__init(&g);
	g.trace_id.data = (uint8_t *)(uintptr_t)tid;
	g.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &g;
	return query(s, &req);
}

static const char *
svc_of(const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs)
{
	if (rs->resource == NULL)
		return "?";
	for (size_t i = 0; i < rs->resource->n_attributes; i++)
		if (strcmp(rs->resource->attributes[i]->key,
		    "service.name") == 0)
			return rs->resource->attributes[i]->value->string_value;
	return "?";
}

/* Calls fn for every span of a TraceResult. */
#define FOR_EACH_SPAN(tr, rs, sp)                                         \
	for (size_t _i = 0; _i < (tr)->n_resource_spans; _i++)            \
		for (size_t _j = 0, _c = 1; _c; _c = 0)                   \
			for (Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = \
			    (tr)->resource_spans[_i]; _c; _c = 0)         \
				for (_j = 0; _j < rs->n_scope_spans; _j++) \
					for (size_t _k = 0; _k <          \
					    rs->scope_spans[_j]->n_spans; _k++) \
						for (Opentelemetry__Proto__Trace__V1__Span *sp = \
						    rs->scope_spans[_j]->spans[_k]; sp; sp = NULL)

static int
cmd_get(int argc, char **argv)
{
	nng_socket s;
	uint8_t tid[16];
	Tracequery__V1__Response *r;

	if (argc < 4 || hex_decode(argv[3], tid, 16) != 0)
		usage();
	s = tool_dial(argv[2], 30000);
	r = get_trace(s, tid);
	if (r->code != TRACEQUERY__V1__RESPONSE__CODE__OK) {
		printf("code=%d %s\n", r->code, r->message);
		return 1;
	}
	FOR_EACH_SPAN(r->trace, rs, sp) {
		char sh[17], ph[17] = "-";

		hex(sp->span_id.data, 8, sh);
		if (sp->parent_span_id.len == 8)
			hex(sp->parent_span_id.data, 8, ph);
		printf("span %s %s %s %s %" PRIu64 " %" PRIu64 " attrs=%zu\n",
		    sh, ph, svc_of(rs), sp->name, sp->start_time_unix_nano,
		    sp->end_time_unix_nano, sp->n_attributes);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return 0;
}

/* Checks every span of generated traces against the collector. */
static int
cmd_verify_gen(int argc, char **argv)
{
	nng_socket s;
	uint64_t seed, traces, base, step, missing = 0, bad = 0, ok = 0;

	if (argc < 7)
		usage();
	s = tool_dial(argv[2], 30000);
	seed = strtoull(argv[3], NULL, 10);
	traces = strtoull(argv[4], NULL, 10);
	base = strtoull(argv[5], NULL, 10);
	step = strtoull(argv[6], NULL, 10);
	for (uint64_t t = 0; t < traces; t++) {
		sg_info in[SPANGEN_PER_TRACE];
		bool found[SPANGEN_PER_TRACE] = { 0 };
		Tracequery__V1__Response *r;

		for (int j = 0; j < SPANGEN_PER_TRACE; j++)
			sg_describe(seed, t, j, base, step, &in[j]);
		r = get_trace(s, in[0].trace_id);
		if (r->code == TRACEQUERY__V1__RESPONSE__CODE__OK) {
			FOR_EACH_SPAN(r->trace, rs, sp) {
				for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
					char svc[16], op[16];

					if (memcmp(sp->span_id.data,
					    in[j].span_id, 8) != 0)
						continue;
					snprintf(svc, sizeof svc, "svc-%d",
					    in[j].service);
					snprintf(op, sizeof op, "op-%02d",
					    in[j].op);
					found[j] = true;
					if (strcmp(svc_of(rs), svc) != 0 ||
					    strcmp(sp->name, op) != 0 ||
					    sp->start_time_unix_nano !=
					    in[j].start_ns ||
					    sp->end_time_unix_nano !=
					    in[j].end_ns ||
					    sp->n_attributes != SPANGEN_ATTRS ||
					    memcmp(sp->trace_id.data,
					    in[j].trace_id, 16) != 0)
						bad++;
				}
			}
		}
		for (int j = 0; j < SPANGEN_PER_TRACE; j++) {
			if (found[j])
				ok++;
			else
				missing++;
		}
		tracequery__v1__response__free_unpacked(r, NULL);
	}
	printf("ok=%" PRIu64 " missing=%" PRIu64 " mismatched=%" PRIu64 "\n",
	    ok, missing, bad);
	nng_close(s);
	return missing || bad ? 1 : 0;
}

static int
cmd_verify_record(int argc, char **argv)
{
	nng_socket s;
	FILE *f;
	char th[64], sh[64];
	uint64_t n = 0, missing = 0;

	if (argc < 4)
		usage();
	s = tool_dial(argv[2], 30000);
	if ((f = fopen(argv[3], "r")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	/* Lines come in trace order; fetch each trace once. */
	Tracequery__V1__Response *r = NULL;
	uint8_t cur[16] = { 0 };

	while (fscanf(f, "%63s %63s", th, sh) == 2) {
		uint8_t tid[16], sid[8];
		bool found = false;

		if (hex_decode(th, tid, 16) != 0 || hex_decode(sh, sid, 8) != 0)
			continue;
		if (r == NULL || memcmp(cur, tid, 16) != 0) {
			if (r != NULL)
				tracequery__v1__response__free_unpacked(r,
				    NULL);
			r = get_trace(s, tid);
			memcpy(cur, tid, 16);
		}
		n++;
		if (r->code == TRACEQUERY__V1__RESPONSE__CODE__OK) {
			FOR_EACH_SPAN(r->trace, rs, sp) {
				(void)rs;
				if (memcmp(sp->span_id.data, sid, 8) == 0)
					found = true;
			}
		}
		if (!found)
			missing++;
	}
	if (r != NULL)
		tracequery__v1__response__free_unpacked(r, NULL);
	fclose(f);
	printf("checked=%" PRIu64 " missing=%" PRIu64 "\n", n, missing);
	nng_close(s);
	return missing ? 1 : 0;
}

static int
cmd_search(int argc, char **argv)
{
	nng_socket s;
	Tracequery__V1__Request req;
	Tracequery__V1__Search se;
	Tracequery__V1__AttrFilter *af[8], afs[8];
	Tracequery__V1__Response *r;
	int rc;

	if (argc < 3)
		usage();
	tracequery__v1__request__init(&req);
	tracequery__v1__search__init(&se);
	se.attributes = af;
	for (int i = 3; i < argc; i++) {
		char *a = argv[i], *eq;

		if (strncmp(a, "service=", 8) == 0)
			se.service = a + 8;
		else if (strncmp(a, "op=", 3) == 0)
			se.operation = a + 3;
		else if (strncmp(a, "attr=", 5) == 0 && se.n_attributes < 8 &&
		    (eq = strchr(a + 5, '=')) != NULL) {
			Tracequery__V1__AttrFilter *f = &afs[se.n_attributes];

			tracequery__v1__attr_filter__init(f);
			*eq = '\0';
			f->key = a + 5;
			f->value = eq + 1;
			af[se.n_attributes++] = f;
		} else if (strncmp(a, "min=", 4) == 0)
			se.min_duration_ns = strtoull(a + 4, NULL, 10);
		else if (strncmp(a, "max=", 4) == 0)
			se.max_duration_ns = strtoull(a + 4, NULL, 10);
		else if (strncmp(a, "tmin=", 5) == 0)
			se.min_trace_duration_ns = strtoull(a + 5, NULL, 10);
		else if (strncmp(a, "tmax=", 5) == 0)
			se.max_trace_duration_ns = strtoull(a + 5, NULL, 10);
		else if (strncmp(a, "from=", 5) == 0)
			se.start_unix_nano = strtoull(a + 5, NULL, 10);
		else if (strncmp(a, "to=", 3) == 0)
			se.end_unix_nano = strtoull(a + 3, NULL, 10);
		else if (strcmp(a, "errors") == 0)
			se.errors_only = 1;
		else if (strcmp(a, "longest") == 0)
			se.order = TRACEQUERY__V1__SEARCH__ORDER__LONGEST;
		else if (strncmp(a, "limit=", 6) == 0)
			se.limit = (uint32_t)atoi(a + 6);
		else
			usage();
	}
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &se;
	s = tool_dial(argv[2], 30000);
	r = query(s, &req);
	rc = r->code == TRACEQUERY__V1__RESPONSE__CODE__OK ? 0 : 1;
	if (r->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH) {
		for (size_t i = 0; i < r->search->n_traces; i++) {
			Tracequery__V1__TraceSummary *t = r->search->traces[i];
			char th[33];

			hex(t->trace_id.data, 16, th);
			printf("trace %s %s %s %" PRIu64 " %" PRIu64
			    " spans=%u errors=%u services=%zu\n", th,
			    t->root_service, t->root_name, t->start_unix_nano,
			    t->duration_ns, t->span_count, t->error_count,
			    t->n_services);
		}
	} else {
		printf("code=%d %s\n", r->code, r->message);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return rc;
}

static int
cmd_slow(int argc, char **argv)
{
	nng_socket s;
	Tracequery__V1__Request req;
	Tracequery__V1__Slow sl;
	Tracequery__V1__Response *r;
	int rc;

	if (argc < 3)
		usage();
	tracequery__v1__request__init(&req);
	tracequery__v1__slow__init(&sl);
	for (int i = 3; i < argc; i++) {
		char *a = argv[i];

		if (strncmp(a, "service=", 8) == 0)
			sl.service = a + 8;
		else if (strncmp(a, "op=", 3) == 0)
			sl.operation = a + 3;
		else if (strncmp(a, "from=", 5) == 0)
			sl.start_unix_nano = strtoull(a + 5, NULL, 10);
		else if (strncmp(a, "to=", 3) == 0)
			sl.end_unix_nano = strtoull(a + 3, NULL, 10);
		else if (strncmp(a, "top=", 4) == 0)
			sl.top = (uint32_t)atoi(a + 4);
		else if (strcmp(a, "hist") == 0)
			sl.histogram = 1;
		else
			usage();
	}
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &sl;
	s = tool_dial(argv[2], 30000);
	r = query(s, &req);
	rc = r->code == TRACEQUERY__V1__RESPONSE__CODE__OK ? 0 : 1;
	if (r->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SLOW) {
		Tracequery__V1__SlowResult *sr = r->slow;

		for (size_t i = 0; i < sr->n_spans; i++) {
			char th[33], sh[17];

			hex(sr->spans[i]->trace_id.data, 16, th);
			hex(sr->spans[i]->span_id.data, 8, sh);
			printf("span %s %s %s %s %" PRIu64 " %" PRIu64 "\n",
			    th, sh, sr->spans[i]->service, sr->spans[i]->name,
			    sr->spans[i]->duration_ns,
			    sr->spans[i]->start_unix_nano);
		}
		for (size_t i = 0; i < sr->n_percentiles; i++) {
			Tracequery__V1__OperationPercentiles *p =
			    sr->percentiles[i];

			printf("pct %s %s p50=%" PRIu64 " p90=%" PRIu64
			    " p99=%" PRIu64 " max=%" PRIu64 " count=%" PRIu64
			    "\n", p->service, p->operation, p->p50_ns,
			    p->p90_ns, p->p99_ns, p->max_ns, p->count);
		}
		for (size_t i = 0; i < sr->n_histogram; i++)
			printf("bucket %" PRIu64 " %" PRIu64 "\n",
			    sr->histogram[i]->upper_ns,
			    sr->histogram[i]->count);
	} else {
		printf("code=%d %s\n", r->code, r->message);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return rc;
}

static int
cmd_catalog(int argc, char **argv)
{
	nng_socket s;
	Tracequery__V1__Request req;
	Tracequery__V1__ListServices ls;
	Tracequery__V1__ListOperations lo;
	Tracequery__V1__GetStats gs;
	Tracequery__V1__Response *r;
	int rc;

	tracequery__v1__request__init(&req);
	if (strcmp(argv[1], "services") == 0) {
		tracequery__v1__list_services__init(&ls);
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
		req.services = &ls;
	} else if (strcmp(argv[1], "ops") == 0) {
		if (argc < 4)
			usage();
		tracequery__v1__list_operations__init(&lo);
		lo.service = argv[3];
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_OPERATIONS;
		req.operations = &lo;
	} else {
		tracequery__v1__get_stats__init(&gs);
		req.query_case = TRACEQUERY__V1__REQUEST__QUERY_STATS;
		req.stats = &gs;
	}
	s = tool_dial(argv[2], 30000);
	r = query(s, &req);
	rc = r->code == TRACEQUERY__V1__RESPONSE__CODE__OK ? 0 : 1;
	switch (r->result_case) {
	case TRACEQUERY__V1__RESPONSE__RESULT_SERVICES:
		for (size_t i = 0; i < r->services->n_services; i++)
			printf("%s\n", r->services->services[i]);
		break;
	case TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS:
		for (size_t i = 0; i < r->operations->n_operations; i++)
			printf("%s %d\n", r->operations->operations[i]->name,
			    r->operations->operations[i]->kind);
		break;
	case TRACEQUERY__V1__RESPONSE__RESULT_STATS:
		for (size_t i = 0; i < r->stats->n_stats; i++)
			printf("%s %.0f %s\n", r->stats->stats[i]->name,
			    r->stats->stats[i]->value,
			    r->stats->stats[i]->unit);
		break;
	default:
		printf("code=%d %s\n", r->code, r->message);
	}
	tracequery__v1__response__free_unpacked(r, NULL);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc, argv);
	if (strcmp(argv[1], "bad") == 0)
		return cmd_bad(argc, argv);
	if (strcmp(argv[1], "get") == 0)
		return cmd_get(argc, argv);
	if (strcmp(argv[1], "verify-gen") == 0)
		return cmd_verify_gen(argc, argv);
	if (strcmp(argv[1], "verify-record") == 0)
		return cmd_verify_record(argc, argv);
	if (strcmp(argv[1], "search") == 0)
		return cmd_search(argc, argv);
	if (strcmp(argv[1], "slow") == 0)
		return cmd_slow(argc, argv);
	if (strcmp(argv[1], "services") == 0 || strcmp(argv[1], "ops") == 0 ||
	    strcmp(argv[1], "stats") == 0)
		return cmd_catalog(argc, argv);
	usage();
	return 2;
}
