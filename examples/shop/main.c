/*
 * main.c - `shop ROLE [flags]`: picks the role, and holds what the four
 * service roles share (flags, tracer start-up, orderly shutdown).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop.h"

static sigset_t stop_signals; /* what shop_wait_and_stop waits for */

static const char usage[] =
    "usage: shop ROLE [flags]\n"
    "  shop gateway   --listen URL --orders URL\n"
    "  shop orders    --listen URL --inventory URL --payments URL\n"
    "  shop inventory --listen URL\n"
    "  shop payments  --listen URL\n"
    "  shop load      --gateway URL [--rate N] [--count N] [--concurrency N]\n"
    "Service flags: --workers N (concurrent requests, default 8).\n"
    "URLs are NNG URLs (ipc:///tmp/x.sock, tcp://127.0.0.1:5555). Each\n"
    "service names itself with OTEL_SERVICE_NAME (default: the role) and\n"
    "sends spans to TRACE_ENDPOINT (default tcp://127.0.0.1:7070).\n";

static void
usage_exit(int status)
{
	fputs(usage, status == 0 ? stdout : stderr);
	exit(status);
}

/* Parse --listen, --workers and the two peer URL flags named in peer_names
 * (NULL when the role has fewer peers); exits 2 on a usage error. */
void
shop_parse(int argc, char **argv, const char *peer_names[2], shop_opts *o)
{
	struct option longopts[6] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"workers", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	};
	int ch, n = 3;

	for (int i = 0; i < 2; i++) {
		if (peer_names[i] != NULL)
			longopts[n++] = (struct option){
			    peer_names[i], required_argument, NULL, '0' + i};
	}

	memset(o, 0, sizeof *o);
	o->workers = 8;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o->listen = optarg;
			break;
		case 'w':
			o->workers = atoi(optarg);
			if (o->workers < 1 || o->workers > 64)
				fatalx(
				    "--workers: want 1..64, got %s", optarg);
			break;
		case '0':
		case '1':
			o->peer[ch - '0'] = optarg;
			break;
		case 'h':
			usage_exit(0);
			break;
		default:
			usage_exit(2);
		}
	}
	if (optind != argc || o->listen == NULL)
		usage_exit(2);
	for (int i = 0; i < 2; i++) {
		if (peer_names[i] != NULL && o->peer[i] == NULL) {
			fprintf(
			    stderr, "shop: --%s is required\n", peer_names[i]);
			usage_exit(2);
		}
	}
}

/* Report libtrace's complaints on stderr, prefixed by the service. */
static void
log_stderr(int level, const char *msg, void *arg)
{
	if (level <= 4)
		fprintf(stderr, "%s: libtrace: %s\n", (const char *)arg, msg);
}

/* Name this process (unless OTEL_SERVICE_NAME already does) and start the
 * tracer. A service runs on untraced when the tracer cannot start. */
void
shop_tracing_start(const char *service)
{
	static char name[64];
	trace_config *cfg = NULL;
	int rv;

	snprintf(name, sizeof name, "%s", service);
	setenv("OTEL_SERVICE_NAME", service, 0);
	if ((rv = trace_config_new(&cfg)) == TRACE_OK) {
		trace_config_set_logger(cfg, log_stderr, name);
		trace_config_set_resource_attr(
		    cfg, "service.namespace", "shop");
		trace_config_set_resource_attr(
		    cfg, "service.version", "1.4.2");
		rv = trace_init(cfg);
		trace_config_free(cfg);
	}
	if (rv != TRACE_OK && rv != TRACE_EDISABLED)
		fprintf(stderr, "%s: tracing off: %s\n", service,
		    trace_strerror(rv));
}

/* Wait for SIGTERM or SIGINT (see main), then stop serving, let requests
 * in flight finish and flush the spans. */
int
shop_wait_and_stop(rpc_server *srv, rpc_client *c0, rpc_client *c1)
{
	int sig, rv;

	sigwait(&stop_signals, &sig);
	rpc_server_stop(srv);
	rpc_client_close(c0);
	rpc_client_close(c1);
	rv = trace_shutdown(5000);
	if (rv != TRACE_OK && rv != TRACE_ECLOSED) {
		fprintf(
		    stderr, "shop: trace_shutdown: %s\n", trace_strerror(rv));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} roles[] = {
	    {"gateway", gateway_main},
	    {"orders", orders_main},
	    {"inventory", inventory_main},
	    {"payments", payments_main},
	    {"load", load_main},
	};
	struct sigaction old;

	if (argc < 2)
		usage_exit(2);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage_exit(0);

	/*
	 * Services take their stop signals in shop_wait_and_stop (sigwait):
	 * block them before any thread (nng's, libtrace's, ours) inherits the
	 * mask. SIGINT only when it is not ignored: a shell starts background
	 * jobs with SIGINT ignored so that Ctrl-C stops the foreground only,
	 * and Linux keeps a blocked signal pending even when it is ignored.
	 */
	if (strcmp(argv[1], "load") != 0) {
		sigemptyset(&stop_signals);
		sigaddset(&stop_signals, SIGTERM);
		if (sigaction(SIGINT, NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaddset(&stop_signals, SIGINT);
		pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	}
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(argv[1], roles[i].name) == 0)
			return roles[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "shop: unknown role '%s'\n", argv[1]);
	usage_exit(2);
}
