/*
 * main.c - tracecli: command dispatch, flags, exit statuses.
 *
 *   0 success, 1 not found / no results, 2 usage error,
 *   3 collector unreachable (or failing)                   (contract)
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "otlp_json.h"
#include "tracecli.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define DEFAULT_QUERY_URL "tcp://127.0.0.1:7071"
#define DEFAULT_INGEST_URL "tcp://127.0.0.1:7070"
#define MAX_ATTRS 16

typedef enum {
	CMD_SERVICES,
	CMD_OPERATIONS,
	CMD_SEARCH,
	CMD_SHOW,
	CMD_SLOW,
	CMD_STATS,
	CMD_TUI,
	CMD_EXPORT,
	CMD_IMPORT,
	CMD_COUNT
} cmd_id;

#define C(x) (1u << (x))
#define ALL_CMDS (C(CMD_COUNT) - 1)
#define WINDOW_CMDS (C(CMD_SEARCH) | C(CMD_SLOW))

static const struct command {
	const char *name;
	const char *usage;
	int min_args, max_args;
} commands[CMD_COUNT] = {
	[CMD_SERVICES] = {"services", "services", 0, 0},
	[CMD_OPERATIONS] = {"operations", "operations SERVICE", 1, 1},
	[CMD_SEARCH] = {"search",
	    "search [--service S] [--operation O] [--attr KEY=VALUE]...\n"
	    "                [--min-duration D] [--max-duration D]\n"
	    "                [--since D | --from T --to T] [--errors] "
	    "[--limit N]",
	    0, 0},
	[CMD_SHOW] = {"show", "show TRACE_ID [--plain] [-n FRAMES]", 1, 1},
	[CMD_SLOW] = {"slow",
	    "slow [--service S] [--operation O] [--since D | --from T --to T]\n"
	    "                [--top N] [--histogram]",
	    0, 0},
	[CMD_STATS] = {"stats", "stats", 0, 0},
	[CMD_TUI] = {"tui", "tui [-n FRAMES]", 0, 0},
	[CMD_EXPORT] = {"export", "export TRACE_ID... > file.json", 1, 1000},
	[CMD_IMPORT] = {"import", "import FILE [--ingest URL]", 1, 1},
};

enum {
	OPT_COLLECTOR = 256, OPT_JSON, OPT_NO_COLOR, OPT_PLAIN, OPT_ASCII,
	OPT_SERVICE, OPT_OPERATION, OPT_ATTR, OPT_MIN_DUR, OPT_MAX_DUR,
	OPT_SINCE, OPT_FROM, OPT_TO, OPT_ERRORS, OPT_LIMIT, OPT_TOP,
	OPT_HISTOGRAM, OPT_INGEST, OPT_TIMEOUT, OPT_LONGEST,
	OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_SERVER_NAME,
};

static const struct option long_opts[] = {
	{"collector", required_argument, NULL, OPT_COLLECTOR},
	{"json", no_argument, NULL, OPT_JSON},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"plain", no_argument, NULL, OPT_PLAIN},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"help", no_argument, NULL, 'h'},
	{"service", required_argument, NULL, OPT_SERVICE},
	{"operation", required_argument, NULL, OPT_OPERATION},
	{"attr", required_argument, NULL, OPT_ATTR},
	{"min-duration", required_argument, NULL, OPT_MIN_DUR},
	{"max-duration", required_argument, NULL, OPT_MAX_DUR},
	{"since", required_argument, NULL, OPT_SINCE},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"errors", no_argument, NULL, OPT_ERRORS},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"longest", no_argument, NULL, OPT_LONGEST},
	{"top", required_argument, NULL, OPT_TOP},
	{"histogram", no_argument, NULL, OPT_HISTOGRAM},
	{"ingest", required_argument, NULL, OPT_INGEST},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME},
	{NULL, 0, NULL, 0},
};

/* Which commands accept each option (the common ones: all). */
static unsigned
opt_commands(int opt)
{
	switch (opt) {
	case OPT_PLAIN:
		return C(CMD_SHOW);
	case 'n':
		return C(CMD_SHOW) | C(CMD_TUI);
	case OPT_SERVICE:
	case OPT_OPERATION:
	case OPT_SINCE:
	case OPT_FROM:
	case OPT_TO:
		return WINDOW_CMDS;
	case OPT_ATTR:
	case OPT_MIN_DUR:
	case OPT_MAX_DUR:
	case OPT_ERRORS:
	case OPT_LIMIT:
	case OPT_LONGEST:
		return C(CMD_SEARCH);
	case OPT_TOP:
	case OPT_HISTOGRAM:
		return C(CMD_SLOW);
	case OPT_INGEST:
		return C(CMD_IMPORT);
	default:
		return ALL_CMDS;
	}
}

typedef struct cli {
	cmd_id cmd;
	char **args;
	int nargs;
	client_opts co;
	const char *ingest_url;
	bool json, no_color, plain, ascii, errors, histogram, longest;
	long frames;
	const char *service, *operation;
	Tracequery__V1__AttrFilter attrs[MAX_ATTRS];
	Tracequery__V1__AttrFilter *attr_ptrs[MAX_ATTRS];
	size_t nattrs;
	uint64_t min_dur, max_dur, from, to;
	bool have_since, have_from, have_to;
	uint32_t limit, top;
	int width;
	san_mode san;
} cli;

static const char *progname = "tracecli";

static void
usage(FILE *f, int cmd)
{
	if (cmd >= 0) {
		fprintf(f, "usage: %s %s\n", progname, commands[cmd].usage);
	} else {
		fprintf(f, "usage: %s COMMAND [flags]\n\ncommands:\n", progname);
		for (int i = 0; i < CMD_COUNT; i++)
			fprintf(f, "  %s %s\n", progname, commands[i].usage);
	}
	fprintf(f,
	    "\ncommon flags:\n"
	    "  --collector URL   query endpoint (env TRACE_QUERY_ENDPOINT, "
	    "default %s)\n"
	    "  --json            machine-readable output\n"
	    "  --no-color        no colours (also NO_COLOR)\n"
	    "  --timeout D       reply timeout (default 10s)\n"
	    "  --tls-ca FILE     CA to verify a tls+tcp:// collector "
	    "(env TRACE_TLS_CA_FILE)\n"
	    "  --tls-cert FILE   client certificate for mutual TLS "
	    "(env TRACE_TLS_CERT_FILE)\n"
	    "  --tls-key FILE    its private key (env TRACE_TLS_KEY_FILE)\n"
	    "  --tls-server-name NAME  name to verify, default the URL's "
	    "host\n"
	    "                    (env TRACE_TLS_SERVER_NAME)\n"
	    "  --help            this text\n"
	    "durations: 250us 100ms 1.5s 2m 1h; times: RFC 3339 or unix seconds\n"
	    "exit: 0 ok, 1 not found / no results, 2 usage, 3 collector "
	    "unreachable\n",
	    DEFAULT_QUERY_URL);
}

NORETURN static void usage_error(int cmd, const char *fmt, ...)
    PRINTFLIKE(2, 3);

static void
usage_error(int cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr, cmd);
	exit(EXIT_USAGE);
}

static uint64_t
parse_duration_arg(int cmd, const char *flag, const char *s)
{
	uint64_t ns;

	if (duration_parse(s, &ns) != 0) {
		fprintf(stderr, "%s: %s: bad duration '%s' (e.g. 250us, 100ms, "
				"1.5s, 2m, 1h)\n", progname, flag, s);
		usage(stderr, cmd);
		exit(EXIT_USAGE);
	}
	return ns;
}

static uint64_t
parse_time_arg(int cmd, const char *flag, const char *s)
{
	uint64_t ns;

	if (time_parse(s, &ns) != 0) {
		fprintf(stderr, "%s: %s: bad time '%s' (RFC 3339 or unix "
				"seconds)\n", progname, flag, s);
		usage(stderr, cmd);
		exit(EXIT_USAGE);
	}
	return ns;
}

static uint32_t
parse_count(int cmd, const char *flag, const char *s)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > 100000) {
		fprintf(stderr, "%s: %s: bad number '%s'\n", progname, flag, s);
		usage(stderr, cmd);
		exit(EXIT_USAGE);
	}
	return (uint32_t)v;
}

/* Text width: COLUMNS, else the terminal's, else 120. */
static int
text_width(void)
{
	const char *c = getenv("COLUMNS");
	struct winsize ws;

	if (c != NULL && atoi(c) > 0)
		return atoi(c) > 1000 ? 1000 : atoi(c);
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	return 120;
}

/* ASCII only for TERM=dumb or vt100 and for non-UTF-8 locales. */
static bool
want_ascii(void)
{
	const char *term = getenv("TERM");
	const char *cs = nl_langinfo(CODESET);

	if (term != NULL && (strcmp(term, "dumb") == 0 ||
	    strncmp(term, "vt100", 5) == 0 || strncmp(term, "vt52", 4) == 0))
		return true;
	return cs == NULL || (strcmp(cs, "UTF-8") != 0 && strcmp(cs, "utf8") != 0);
}

static cmd_id
find_command(const char *name)
{
	for (int i = 0; i < CMD_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return (cmd_id)i;
	return CMD_COUNT;
}

static void
parse_args(cli *c, int argc, char **argv)
{
	struct { int opt; const char *arg; } seen[256];
	int nseen = 0, ch;
	char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
	int npos = 0;
	bool help = false;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":hn:", long_opts, NULL)) != -1) {
		if (ch == '?') {
			const char *bad = argv[optind - 1];
			if (optopt != 0 && optopt < 256) {
				static char s[3] = "-?";
				s[1] = (char)optopt;
				bad = s;
			}
			usage_error(-1, "unknown flag '%s'", bad);
		}
		if (ch == ':')
			usage_error(-1, "flag '%s' needs a value", argv[optind - 1]);
		if (ch == 'h') {
			help = true;
			continue;
		}
		if (nseen < (int)ARRAY_LEN(seen)) {
			seen[nseen].opt = ch;
			seen[nseen].arg = optarg;
			nseen++;
		}
	}
	for (int i = optind; i < argc; i++)
		pos[npos++] = argv[i];
	if (npos == 0) {
		free(pos);
		if (help) {
			usage(stdout, -1);
			exit(EXIT_OK_);
		}
		usage_error(-1, "%s", "missing command");
	}
	c->cmd = find_command(pos[0]);
	if (c->cmd == CMD_COUNT) {
		if (strcmp(pos[0], "help") == 0) {
			free(pos);
			usage(stdout, -1);
			exit(EXIT_OK_);
		}
		usage_error(-1, "unknown command '%s'", pos[0]);
	}
	if (help) {
		free(pos);
		usage(stdout, (int)c->cmd);
		exit(EXIT_OK_);
	}
	c->args = pos + 1;
	c->nargs = npos - 1;
	if (c->nargs < commands[c->cmd].min_args) {
		usage_error((int)c->cmd, "%s: missing argument",
		    commands[c->cmd].name);
	}
	if (c->nargs > commands[c->cmd].max_args)
		usage_error((int)c->cmd, "unexpected argument '%s'",
		    c->args[commands[c->cmd].max_args]);

	for (int k = 0; k < nseen; k++) {
		const char *a = seen[k].arg;
		int o = seen[k].opt;
		if (!(opt_commands(o) & C(c->cmd))) {
			const char *name = "-n";
			for (const struct option *lo = long_opts; lo->name; lo++)
				if (lo->val == o)
					name = lo->name;
			fprintf(stderr, "%s: --%s does not apply to %s\n", progname,
			    name, commands[c->cmd].name);
			usage(stderr, (int)c->cmd);
			exit(EXIT_USAGE);
		}
		switch (o) {
		case OPT_COLLECTOR:
			c->co.url = a;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_NO_COLOR:
			c->no_color = true;
			break;
		case OPT_PLAIN:
			c->plain = true;
			break;
		case OPT_ASCII:
			c->ascii = true;
			break;
		case 'n':
			c->frames = parse_count((int)c->cmd, "-n", a);
			break;
		case OPT_SERVICE:
			c->service = a;
			break;
		case OPT_OPERATION:
			c->operation = a;
			break;
		case OPT_ATTR: {
			const char *eq = strchr(a, '=');
			if (eq == NULL || eq == a)
				usage_error((int)c->cmd,
				    "--attr wants KEY=VALUE, got '%s'", a);
			if (c->nattrs == MAX_ATTRS)
				usage_error((int)c->cmd, "%s", "too many --attr");
			tracequery__v1__attr_filter__init(&c->attrs[c->nattrs]);
			c->attrs[c->nattrs].key = xstrndup(a, (size_t)(eq - a));
			c->attrs[c->nattrs].value = (char *)(uintptr_t)(eq + 1);
			c->attr_ptrs[c->nattrs] = &c->attrs[c->nattrs];
			c->nattrs++;
			break;
		}
		case OPT_MIN_DUR:
			c->min_dur = parse_duration_arg((int)c->cmd,
			    "--min-duration", a);
			break;
		case OPT_MAX_DUR:
			c->max_dur = parse_duration_arg((int)c->cmd,
			    "--max-duration", a);
			break;
		case OPT_SINCE: {
			uint64_t d = parse_duration_arg((int)c->cmd, "--since", a);
			uint64_t now = now_unix_ns();
			c->from = d < now ? now - d : 0;
			c->have_since = true;
			break;
		}
		case OPT_FROM:
			c->from = parse_time_arg((int)c->cmd, "--from", a);
			c->have_from = true;
			break;
		case OPT_TO:
			c->to = parse_time_arg((int)c->cmd, "--to", a);
			c->have_to = true;
			break;
		case OPT_ERRORS:
			c->errors = true;
			break;
		case OPT_LIMIT:
			c->limit = parse_count((int)c->cmd, "--limit", a);
			break;
		case OPT_LONGEST:
			c->longest = true;
			break;
		case OPT_TOP:
			c->top = parse_count((int)c->cmd, "--top", a);
			break;
		case OPT_HISTOGRAM:
			c->histogram = true;
			break;
		case OPT_INGEST:
			c->ingest_url = a;
			break;
		case OPT_TLS_CA:
			c->co.tls.ca_file = a;
			break;
		case OPT_TLS_CERT:
			c->co.tls.cert_file = a;
			break;
		case OPT_TLS_KEY:
			c->co.tls.key_file = a;
			break;
		case OPT_TLS_SERVER_NAME:
			c->co.tls.server_name = a;
			break;
		case OPT_TIMEOUT: {
			uint64_t d = parse_duration_arg((int)c->cmd, "--timeout", a);
			if (d < 1000000 || d > 3600000000000ull)
				usage_error((int)c->cmd, "--timeout %s out of range",
				    a);
			c->co.timeout_ms = (int)(d / 1000000);
			break;
		}
		default:
			break;
		}
	}
	if (c->have_since && (c->have_from || c->have_to))
		usage_error((int)c->cmd, "%s", "--since excludes --from/--to");
	if (c->have_from && c->have_to && c->to < c->from)
		usage_error((int)c->cmd, "%s", "--to is before --from");
	if (c->min_dur && c->max_dur && c->max_dur < c->min_dur)
		usage_error((int)c->cmd, "%s",
		    "--max-duration is below --min-duration");
	if (c->json && c->cmd == CMD_TUI)
		usage_error((int)c->cmd, "%s", "--json does not apply to tui");
	/* pos[0] (the command) stays reachable through c->args - 1. */
}

/* Runs one query; on failure prints why and returns the exit status. */
static int
query(const cli *c, const pb_request *req, pb_response **resp)
{
	char *cause = NULL;
	int rv = client_query(&c->co, req, resp, &cause);

	if (rv != CLIENT_OK) {
		fprintf(stderr, "%s: %s\n", progname, cause);
		free(cause);
		return rv == CLIENT_BADURL ? EXIT_USAGE : EXIT_UNREACHABLE;
	}
	switch ((*resp)->code) {
	case TRACEQUERY__V1__RESPONSE__CODE__OK:
		return EXIT_OK_;
	case TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND:
		rv = EXIT_NOTFOUND;
		break;
	case TRACEQUERY__V1__RESPONSE__CODE__BAD_REQUEST:
		rv = EXIT_USAGE;
		break;
	default:
		rv = EXIT_UNREACHABLE;
		break;
	}
	char *msg = sanitize_dup((*resp)->message, c->san);
	if (rv != EXIT_NOTFOUND ||
	    req->query_case != TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE)
		fprintf(stderr, "%s: collector: %s\n", progname,
		    *msg ? msg : "request failed");
	free(msg);
	tracequery__v1__response__free_unpacked(*resp, NULL);
	*resp = NULL;
	return rv;
}

static plain_opts
popts(const cli *c)
{
	plain_opts o = {c->width, c->ascii};
	return o;
}

static int
finish_output(int rv)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", progname, strerror(errno));
		return EXIT_NOTFOUND;
	}
	return rv;
}

static int
cmd_services(const cli *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__ListServices ls = TRACEQUERY__V1__LIST_SERVICES__INIT;
	pb_response *resp = NULL;
	int rv;

	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SERVICES;
	req.services = &ls;
	if ((rv = query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__ServicesResult empty = TRACEQUERY__V1__SERVICES_RESULT__INIT;
	const Tracequery__V1__ServicesResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SERVICES ?
	    resp->services : &empty;
	plain_opts o = popts(c);
	if (c->json)
		json_services(stdout, r);
	else
		plain_services(stdout, r, &o);
	rv = r->n_services ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "%s: no services yet\n", progname);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return finish_output(rv);
}

static int
cmd_operations(const cli *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__ListOperations lo;
	pb_response *resp = NULL;
	int rv;

	tracequery__v1__list_operations__init(&lo);
	lo.service = c->args[0];
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_OPERATIONS;
	req.operations = &lo;
	if ((rv = query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__OperationsResult empty =
	    TRACEQUERY__V1__OPERATIONS_RESULT__INIT;
	const Tracequery__V1__OperationsResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS ?
	    resp->operations : &empty;
	plain_opts o = popts(c);
	if (c->json)
		json_operations(stdout, r);
	else
		plain_operations(stdout, r, &o);
	rv = r->n_operations ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json) {
		char *s = sanitize_dup(c->args[0], c->san);
		fprintf(stderr, "%s: no operations for service '%s'\n", progname, s);
		free(s);
	}
	tracequery__v1__response__free_unpacked(resp, NULL);
	return finish_output(rv);
}

static int
cmd_search(const cli *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Search s;
	pb_response *resp = NULL;
	int rv;

	tracequery__v1__search__init(&s);
	s.service = (char *)(uintptr_t)(c->service ? c->service : "");
	s.operation = (char *)(uintptr_t)(c->operation ? c->operation : "");
	s.n_attributes = c->nattrs;
	s.attributes = (Tracequery__V1__AttrFilter **)(uintptr_t)c->attr_ptrs;
	s.min_duration_ns = c->min_dur;
	s.max_duration_ns = c->max_dur;
	s.start_unix_nano = c->from;
	s.end_unix_nano = c->to;
	s.errors_only = c->errors;
	s.limit = c->limit;
	s.order = c->longest ? TRACEQUERY__V1__SEARCH__ORDER__LONGEST :
				TRACEQUERY__V1__SEARCH__ORDER__NEWEST;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	req.search = &s;
	if ((rv = query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__SearchResult empty = TRACEQUERY__V1__SEARCH_RESULT__INIT;
	const Tracequery__V1__SearchResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SEARCH ?
	    resp->search : &empty;
	plain_opts o = popts(c);
	if (c->json)
		json_search(stdout, r);
	else if (r->n_traces > 0)
		plain_search(stdout, r, &o);
	rv = r->n_traces ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "%s: no traces match\n", progname);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return finish_output(rv);
}

static int
cmd_slow(const cli *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__Slow s;
	pb_response *resp = NULL;
	int rv;

	tracequery__v1__slow__init(&s);
	if (c->histogram && (c->service == NULL || c->operation == NULL))
		usage_error(CMD_SLOW, "%s",
		    "--histogram needs --service and --operation");
	s.service = (char *)(uintptr_t)(c->service ? c->service : "");
	s.operation = (char *)(uintptr_t)(c->operation ? c->operation : "");
	s.start_unix_nano = c->from;
	s.end_unix_nano = c->to;
	s.top = c->top;
	s.histogram = c->histogram;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SLOW;
	req.slow = &s;
	if ((rv = query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__SlowResult empty = TRACEQUERY__V1__SLOW_RESULT__INIT;
	const Tracequery__V1__SlowResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_SLOW ?
	    resp->slow : &empty;
	plain_opts o = popts(c);
	if (c->json)
		json_slow(stdout, r, c->histogram);
	else if (r->n_spans > 0)
		plain_slow(stdout, r, &o, c->histogram);
	rv = r->n_spans ? EXIT_OK_ : EXIT_NOTFOUND;
	if (rv && !c->json)
		fprintf(stderr, "%s: no spans in the window\n", progname);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return finish_output(rv);
}

static int
cmd_stats(const cli *c)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetStats gs = TRACEQUERY__V1__GET_STATS__INIT;
	pb_response *resp = NULL;
	int rv;

	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_STATS;
	req.stats = &gs;
	if ((rv = query(c, &req, &resp)) != 0)
		return rv;
	Tracequery__V1__StatsResult empty = TRACEQUERY__V1__STATS_RESULT__INIT;
	const Tracequery__V1__StatsResult *r =
	    resp->result_case == TRACEQUERY__V1__RESPONSE__RESULT_STATS ?
	    resp->stats : &empty;
	plain_opts o = popts(c);
	if (c->json)
		json_stats(stdout, r);
	else
		plain_stats(stdout, r, &o);
	tracequery__v1__response__free_unpacked(resp, NULL);
	return finish_output(EXIT_OK_);
}

/* Fetches one trace; on success *resp holds it. */
static int
fetch_trace(const cli *c, const char *hex, pb_response **resp)
{
	Tracequery__V1__Request req = TRACEQUERY__V1__REQUEST__INIT;
	Tracequery__V1__GetTrace gt = TRACEQUERY__V1__GET_TRACE__INIT;
	uint8_t id[16];
	int rv;

	if (strlen(hex) != 32 || hex_decode(hex, id, 16) != 0 ||
	    is_all_zero(id, 16)) {
		char *s = sanitize_dup(hex, c->san);
		fprintf(stderr, "%s: bad trace ID '%s' (want 32 hex digits)\n",
		    progname, s);
		free(s);
		return EXIT_USAGE;
	}
	gt.trace_id.data = id;
	gt.trace_id.len = 16;
	req.query_case = TRACEQUERY__V1__REQUEST__QUERY_GET_TRACE;
	req.get_trace = &gt;
	rv = query(c, &req, resp);
	if (rv == EXIT_OK_ &&
	    ((*resp)->result_case != TRACEQUERY__V1__RESPONSE__RESULT_TRACE ||
	    (*resp)->trace->n_resource_spans == 0)) {
		tracequery__v1__response__free_unpacked(*resp, NULL);
		*resp = NULL;
		rv = EXIT_NOTFOUND;
	}
	if (rv == EXIT_NOTFOUND)
		fprintf(stderr, "%s: trace %s not found\n", progname, hex);
	return rv;
}

static bool
want_interactive(const cli *c)
{
	const char *term = getenv("TERM");

	if (c->plain || c->json)
		return false;
	if (getenv("TRACECLI_FAKETTY") != NULL)
		return true;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return false;
	return term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}

static int
cmd_show(const cli *c)
{
	pb_response *resp = NULL;
	model_trace m;
	int rv;

	if ((rv = fetch_trace(c, c->args[0], &resp)) != 0)
		return rv;
	if (model_build(&m, resp->trace->resource_spans,
	    resp->trace->n_resource_spans, c->san) != 0) {
		fprintf(stderr, "%s: trace %s has no usable spans\n", progname,
		    c->args[0]);
		model_free(&m);
		tracequery__v1__response__free_unpacked(resp, NULL);
		return EXIT_NOTFOUND;
	}
	model_own(&m, resp);
	if (c->json) {
		json_show(stdout, &m);
	} else if (want_interactive(c)) {
		term_opts to = {c->no_color, c->ascii, c->frames, NULL, NULL};
		char *cause = NULL;
		if (term_open(&to, &cause) != 0) {
			fprintf(stderr, "%s: %s\n", progname, cause);
			free(cause);
			model_free(&m);
			return EXIT_USAGE;
		}
		model_collapse_big(&m, 400);
		view *v = view_new(&m);
		view_run(v);
		view_free(v);
		term_close();
	} else {
		plain_opts o = popts(c);
		plain_waterfall(stdout, &m, &o);
	}
	model_free(&m);
	return finish_output(EXIT_OK_);
}

static int
cmd_tui(const cli *c)
{
	term_opts to = {c->no_color, c->ascii, c->frames, NULL, NULL};
	char *cause = NULL;

	if (!want_interactive(c)) {
		fprintf(stderr, "%s: tui needs a terminal\n", progname);
		return EXIT_USAGE;
	}
	if (term_open(&to, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", progname, cause);
		free(cause);
		return EXIT_USAGE;
	}
	int rv = tui_run(&c->co, c->san);
	term_close();
	return rv;
}

static int
cmd_export(const cli *c)
{
	pb_response **resps = xcalloc((size_t)c->nargs, sizeof *resps);
	pb_resource_spans **all = NULL;
	size_t nall = 0;
	int rv = EXIT_OK_, found = 0;
	char *cause = NULL;

	for (int i = 0; i < c->nargs; i++) {
		int r = fetch_trace(c, c->args[i], &resps[i]);
		if (r == EXIT_NOTFOUND) {
			rv = EXIT_NOTFOUND;
			continue;
		}
		if (r != EXIT_OK_) {
			rv = r;
			goto done;
		}
		const Tracequery__V1__TraceResult *t = resps[i]->trace;
		all = xrealloc(all, (nall + t->n_resource_spans) * sizeof *all);
		for (size_t k = 0; k < t->n_resource_spans; k++)
			all[nall++] = t->resource_spans[k];
		found++;
	}
	if (found == 0)
		goto done;
	char *text = otlp_json_encode(all, nall, isatty(STDOUT_FILENO), &cause);
	if (text == NULL) {
		fprintf(stderr, "%s: export: %s\n", progname,
		    cause ? cause : "encoding failed");
		free(cause);
		rv = EXIT_NOTFOUND;
		goto done;
	}
	/* Lossless, and still inert on a terminal. */
	char *safe = json_ascii(text);
	fputs(safe, stdout);
	fputc('\n', stdout);
	free(safe);
	free(text);
	rv = finish_output(rv);
done:
	for (int i = 0; i < c->nargs; i++)
		if (resps[i] != NULL)
			tracequery__v1__response__free_unpacked(resps[i], NULL);
	free(resps);
	free(all);
	return rv;
}

/* ---------------------------------------------------------------- import */

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
			fprintf(stderr, "%s: import: %s\n", progname, cause);
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

static int
cmd_import(const cli *c)
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
		fprintf(stderr, "%s: import: %s\n", progname, cause);
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
			fprintf(stderr, "%s: import: %s: not OTLP JSON: %s\n",
			    progname, c->args[0], s);
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
	int crv = client_open(&st.cl, &io, &cause);
	if (crv != CLIENT_OK) {
		fprintf(stderr, "%s: import: %s\n", progname, cause);
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
			fprintf(stderr, "%s: import: %zu bad record%s skipped%s%s\n",
			    progname, rej, rej == 1 ? "" : "s",
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
	return finish_output(rv);
}

/* Returns the variable's value, or NULL when unset or empty. */
static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
main(int argc, char **argv)
{
	cli c;
	int rv;

	memset(&c, 0, sizeof c);
	setlocale(LC_ALL, "");
	c.frames = -1;
	c.co.url = getenv("TRACE_QUERY_ENDPOINT");
	if (c.co.url == NULL || *c.co.url == '\0')
		c.co.url = DEFAULT_QUERY_URL;
	c.co.dial_ms = 3000;
	c.co.timeout_ms = 10000;
	c.co.max_reply_bytes = (size_t)256 << 20;
	/* TLS settings shared with libtrace's variables; flags win. */
	c.co.tls.ca_file = env_nonempty("TRACE_TLS_CA_FILE");
	c.co.tls.cert_file = env_nonempty("TRACE_TLS_CERT_FILE");
	c.co.tls.key_file = env_nonempty("TRACE_TLS_KEY_FILE");
	c.co.tls.server_name = env_nonempty("TRACE_TLS_SERVER_NAME");
	c.no_color = getenv("NO_COLOR") != NULL && *getenv("NO_COLOR") != '\0';
	bool ascii_env = want_ascii();
	parse_args(&c, argc, argv);
	c.ascii = c.ascii || ascii_env;
	c.san = c.ascii ? SAN_ASCII : SAN_UTF8;
	c.width = text_width();

	switch (c.cmd) {
	case CMD_SERVICES:
		rv = cmd_services(&c);
		break;
	case CMD_OPERATIONS:
		rv = cmd_operations(&c);
		break;
	case CMD_SEARCH:
		rv = cmd_search(&c);
		break;
	case CMD_SHOW:
		rv = cmd_show(&c);
		break;
	case CMD_SLOW:
		rv = cmd_slow(&c);
		break;
	case CMD_STATS:
		rv = cmd_stats(&c);
		break;
	case CMD_TUI:
		rv = cmd_tui(&c);
		break;
	case CMD_EXPORT:
		rv = cmd_export(&c);
		break;
	case CMD_IMPORT:
		rv = cmd_import(&c);
		break;
	default:
		rv = EXIT_USAGE;
		break;
	}
	for (size_t i = 0; i < c.nattrs; i++)
		free(c.attrs[i].key);
	free(c.args - 1);
	return rv;
}
