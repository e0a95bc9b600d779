/* config.c - tracecollector's command line (see config_usage). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trace/trace.h> /* TRACE_VERSION_STRING: one version for the project */

#include "daemon/collector.h"

void
config_usage(FILE *f)
{
	fprintf(f,
"usage: tracecollector [options]\n"
"\n"
"Receives spans (OTLP protobuf over NNG, and OTLP/HTTP), stores them in an\n"
"embedded RocksDB and answers tracecli's queries.\n"
"\n"
"  --store SPEC             where spans live: rocksdb:DIR (an embedded\n"
"                           RocksDB in DIR; default rocksdb:./trace-data),\n"
"                           or clickhouse://HOST:PORT[,...]/DB[?cluster=NAME\n"
"                           &quorum=N&spool=DIR] (ClickHouse's HTTP port;\n"
"                           docs/STORAGE.md); clickhouses:// (or tls=1)\n"
"                           for https, always verified, ca=FILE to trust a\n"
"                           private CA\n"
"  --db DIR                 the same as --store rocksdb:DIR\n"
"  --listen URL             ingest socket, repeatable, tcp://, tls+tcp://\n"
"                           or ipc://\n"
"                           (default tcp://127.0.0.1:7070)\n"
"  --query-listen URL       query socket (default tcp://127.0.0.1:7071)\n"
"  --otlp-http ADDR         OTLP/HTTP listener HOST:PORT, or https://HOST:PORT\n"
"                           with the --tls-* files; port 0 picks one, `none`\n"
"                           disables (default 127.0.0.1:4318)\n"
"  --otlp-grpc ADDR         OTLP/gRPC listener HOST:PORT (h2c) or\n"
"                           https://HOST:PORT (TLS, ALPN h2), port 0 picks\n"
"                           one, `off` disables (default 127.0.0.1:4317)\n"
"  --retention DURATION     keep spans this long by start time (default 72h,\n"
"                           0 keeps everything)\n"
"  --sync                   fsync the WAL before acknowledging (survives power\n"
"                           loss; without it acked spans survive a crash)\n"
"  --max-message-bytes N    largest accepted request (default 16777216)\n"
"  --ingest-workers N       ingest contexts/threads (default 4)\n"
"  --query-workers N        query contexts/threads (default 2)\n"
"  --index-flush DURATION   write buffered index records at least this\n"
"                           often (default 1s); queries always see every\n"
"                           acknowledged span\n"
"  --index-flush-spans N    and once this many spans are buffered\n"
"                           (default 32768)\n"
"  --jaeger-http ADDR       Jaeger query API (and --ui-dir) HOST:PORT, or\n"
"                           https://HOST:PORT with the --tls-* files; port 0\n"
"                           picks one, `off` disables (default\n"
"                           127.0.0.1:16686; docs/JAEGER.md)\n"
"  --ui-dir DIR             serve this Jaeger UI build at / on --jaeger-http\n"
"  --zipkin ADDR            Zipkin v2 receiver (POST /api/v2/spans) HOST:PORT,\n"
"                           or https://HOST:PORT; port 0 picks one, `off`\n"
"                           disables (default 127.0.0.1:9411; docs/ZIPKIN.md)\n"
"  --ready-file PATH        write ingest=, query=, otlp_http=, zipkin= (and\n"
"                           the other listeners') and pid= lines here once\n"
"                           every listener is up\n"
"  --log-level LEVEL        error, warn (default), info or debug\n"
"  --tls-cert FILE          PEM server certificate (chain) for every\n"
"                           tls+tcp:// and https:// listener\n"
"  --tls-key FILE           its PEM private key (unencrypted)\n"
"  --tls-ca FILE            PEM CA(s) that sign client certificates\n"
"  --tls-verify-clients     require a client certificate signed by\n"
"                           --tls-ca (mutual TLS)\n"
"  --help                   this text\n"
"  --version                print the version\n");
}

/* Parses a size with an optional k/m/g suffix (powers of 1024). */
static int
parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v == 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* NNG 1.5.2's URL parser reads past the end of a URL with userinfo
 * ("tcp://@", "tcp://x@": found by fuzz_tracecli_args), and no listener
 * URL needs one: refuse any '@' before NNG sees it. */
static int
check_nng_url(const char *flag, const char *url, char **cause)
{
	if (strchr(url, '@') == NULL)
		return 0;
	xasprintf(cause, "%s %s: a listener URL has no user part ('@')", flag,
	    url);
	return -1;
}

int
config_parse(config *c, int argc, char **argv, char **cause)
{
	enum { O_DB = 256, O_LISTEN, O_QUERY, O_OTLP, O_RET, O_SYNC, O_MAX,
		O_READY, O_LOG, O_HELP, O_IW, O_QW, O_TLS_CERT, O_TLS_KEY,
		O_TLS_CA, O_TLS_VERIFY, O_IFLUSH, O_IFLUSH_SPANS, O_OTLP_GRPC,
		O_STORE, O_VERSION };
	enum { O_JAEGER_HTTP = 0x400, O_UI_DIR };
	enum { O_ZIPKIN = 0x500 };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "store", required_argument, NULL, O_STORE },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "query-listen", required_argument, NULL, O_QUERY },
		{ "otlp-http", required_argument, NULL, O_OTLP },
		{ "otlp-grpc", required_argument, NULL, O_OTLP_GRPC },
		{ "retention", required_argument, NULL, O_RET },
		{ "sync", no_argument, NULL, O_SYNC },
		{ "max-message-bytes", required_argument, NULL, O_MAX },
		{ "ingest-workers", required_argument, NULL, O_IW },
		{ "query-workers", required_argument, NULL, O_QW },
		{ "index-flush", required_argument, NULL, O_IFLUSH },
		{ "index-flush-spans", required_argument, NULL,
		    O_IFLUSH_SPANS },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ "tls-ca", required_argument, NULL, O_TLS_CA },
		{ "tls-verify-clients", no_argument, NULL, O_TLS_VERIFY },
		{ "jaeger-http", required_argument, NULL, O_JAEGER_HTTP },
		{ "zipkin", required_argument, NULL, O_ZIPKIN },
		{ "ui-dir", required_argument, NULL, O_UI_DIR },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof *c);
	c->store = "rocksdb:./trace-data";
	c->query_listen = "tcp://127.0.0.1:7071";
	c->otlp_http = "127.0.0.1:4318";
	c->otlp_grpc = "127.0.0.1:4317";
	c->jaeger_http = "127.0.0.1:16686";
	c->zipkin = "127.0.0.1:9411";
	c->retention_ns = 72 * 3600ULL * 1000000000ULL;
	c->max_message_bytes = 16u << 20;
	c->ingest_workers = 4;
	c->query_workers = 2;
	c->index_flush_ns = 1000000000ULL;
	c->index_flush_spans = 32768;
	c->level = LOG_WARN;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_DB:
		case O_STORE:
			c->store = optarg; /* backend_open reads a bare DIR */
			break;
		case O_LISTEN:
			if (c->n_listen == CONFIG_MAX_LISTEN) {
				xasprintf(cause, "at most %d --listen URLs",
				    CONFIG_MAX_LISTEN);
				return -1;
			}
			if (check_nng_url("--listen", optarg, cause) != 0)
				return -1;
			c->listen[c->n_listen++] = optarg;
			break;
		case O_QUERY:
			if (check_nng_url("--query-listen", optarg, cause) != 0)
				return -1;
			c->query_listen = optarg;
			break;
		case O_OTLP:
			c->otlp_http = optarg;
			break;
		case O_OTLP_GRPC:
			c->otlp_grpc = strcmp(optarg, "off") == 0 ||
			    strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case O_RET:
			if (strcmp(optarg, "0") == 0)
				c->retention_ns = 0;
			else if (duration_parse(optarg, &c->retention_ns) != 0) {
				xasprintf(cause, "--retention: bad duration "
				    "'%s' (e.g. 72h, 30m, 10s)", optarg);
				return -1;
			}
			break;
		case O_SYNC:
			c->sync = true;
			break;
		case O_MAX:
			if (parse_size(optarg, &c->max_message_bytes) != 0) {
				xasprintf(cause, "--max-message-bytes: bad "
				    "size '%s'", optarg);
				return -1;
			}
			break;
		case O_IW:
		case O_QW: {
			int n = atoi(optarg);

			if (n < 1 || n > 64) {
				xasprintf(cause, "worker count must be 1-64");
				return -1;
			}
			if (ch == O_IW)
				c->ingest_workers = n;
			else
				c->query_workers = n;
			break;
		}
		case O_IFLUSH:
			if (duration_parse(optarg, &c->index_flush_ns) != 0 ||
			    c->index_flush_ns < 1000000ULL ||
			    c->index_flush_ns > 60000000000ULL) {
				xasprintf(cause, "--index-flush: bad duration "
				    "'%s' (1ms to 60s)", optarg);
				return -1;
			}
			break;
		case O_IFLUSH_SPANS:
			if (parse_size(optarg, &c->index_flush_spans) != 0 ||
			    c->index_flush_spans > (16u << 20)) {
				xasprintf(cause, "--index-flush-spans: bad "
				    "count '%s' (1 to 16M)", optarg);
				return -1;
			}
			break;
		case O_READY:
			c->ready_file = optarg;
			break;
		case O_JAEGER_HTTP:
			c->jaeger_http = strcmp(optarg, "off") == 0 ||
			    strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case O_ZIPKIN:
			c->zipkin = strcmp(optarg, "off") == 0 ||
			    strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case O_UI_DIR:
			c->ui_dir = optarg;
			break;
		case O_TLS_CERT:
			c->tls.cert_file = optarg;
			break;
		case O_TLS_KEY:
			c->tls.key_file = optarg;
			break;
		case O_TLS_CA:
			c->tls.ca_file = optarg;
			break;
		case O_TLS_VERIFY:
			c->tls.verify_peer = true;
			break;
		case O_LOG:
			if (log_level_parse(optarg, &c->level) != 0) {
				xasprintf(cause, "--log-level: expected error, "
				    "warn, info or debug");
				return -1;
			}
			break;
		case 'h':
		case O_HELP:
			config_usage(stdout);
			return 1;
		case O_VERSION:
			printf("tracecollector %s\n", TRACE_VERSION_STRING);
			return 1;
		default:
			xasprintf(cause, "unknown or incomplete option '%s'",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		xasprintf(cause, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (c->n_listen == 0)
		c->listen[c->n_listen++] = "tcp://127.0.0.1:7070";
	return 0;
}
