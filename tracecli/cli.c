/*
 * cli.c - the command line: the flag table, parsing against the command
 * table (commands.c), --help and --version texts, and one-line usage
 * errors. Each flag appears once here, with its help; a command's --help
 * lists exactly the flags its table entry takes (tmux's cmd_entry rule).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"
#include "tracecli.h"

#define OPT_BASE 256

typedef struct opt_entry {
	const char *name;     /* long name, or NULL for -n */
	char short_name;      /* 0 when none */
	const char *arg;      /* argument name, NULL for a switch */
	opt_id id;
	const char *help;
} opt_entry;

/* Every flag, in the order --help lists them. */
static const opt_entry opts[] = {
	{"service", 0, "S", O_SERVICE, "only spans of service S"},
	{"operation", 0, "O", O_OPERATION, "only spans named O"},
	{"attr", 0, "KEY=VALUE", O_ATTR,
	    "a span attribute as text; repeat to AND several"},
	{"min-duration", 0, "D", O_MIN_DUR,
	    "a span at least D long (span-level, as in Jaeger)"},
	{"max-duration", 0, "D", O_MAX_DUR,
	    "a span at most D long (span-level; above 0)"},
	{"since", 0, "D", O_SINCE,
	    "the window: the last D (default: all the collector keeps)"},
	{"from", 0, "T", O_FROM, "the window's start (with --to)"},
	{"to", 0, "T", O_TO, "the window's end"},
	{"errors", 0, NULL, O_ERRORS, "only traces with an error span"},
	{"limit", 0, "N", O_LIMIT, "at most N traces (default 20, at most 1000)"},
	{"longest", 0, NULL, O_LONGEST, "longest traces first (same as --sort longest)"},
	{"sort", 0, "ORDER", O_SORT,
	    "newest, longest, spans (most) or errors (most) first, over the "
	    "whole window"},
	{"top", 0, "N", O_TOP,
	    "the N slowest spans (default 20) and the N worst operations by "
	    "p99 (default all); at most 1000"},
	{"histogram", 0, NULL, O_HISTOGRAM,
	    "a latency histogram (needs --service and --operation)"},
	{"plain", 0, NULL, O_PLAIN, "text even on a terminal"},
	{"stats", 0, NULL, O_STATS,
	    "per service and operation: count, total, self time, share"},
	{"baseline", 0, NULL, O_BASELINE,
	    "compare with the median trace of the same root operation"},
	{"no-mouse", 0, NULL, O_NO_MOUSE, "leave the mouse to the terminal"},
	{NULL, 'n', "N", O_FRAMES, "stop after N frames (for tests)"},
	{"ingest", 0, "URL", O_INGEST,
	    "ingest endpoint (env TRACE_ENDPOINT, default tcp://127.0.0.1:7070)"},
	{"collector", 0, "URL", O_COLLECTOR,
	    "query endpoint (env TRACE_QUERY_ENDPOINT, default "
	    "tcp://127.0.0.1:7071)"},
	{"json", 0, NULL, O_JSON, "machine-readable output"},
	{"no-color", 0, NULL, O_NO_COLOR, "no colours (also NO_COLOR)"},
	{"ascii", 0, NULL, O_ASCII, "ASCII tree, bars and ellipses only"},
	{"timeout", 0, "D", O_TIMEOUT, "reply timeout (default 10s)"},
	{"tls-ca", 0, "FILE", O_TLS_CA,
	    "CA of a tls+tcp:// collector (env TRACE_TLS_CA_FILE)"},
	{"tls-cert", 0, "FILE", O_TLS_CERT,
	    "client certificate (env TRACE_TLS_CERT_FILE)"},
	{"tls-key", 0, "FILE", O_TLS_KEY,
	    "its private key (env TRACE_TLS_KEY_FILE)"},
	{"tls-server-name", 0, "NAME", O_TLS_SERVER_NAME,
	    "name to verify (env TRACE_TLS_SERVER_NAME)"},
	{"help", 'h', NULL, O_HELP, "this text"},
	{"version", 0, NULL, O_VERSION, "print the version"},
};

#define COMMON_OPTS                                                       \
	(OPT_BIT(O_COLLECTOR) | OPT_BIT(O_JSON) | OPT_BIT(O_NO_COLOR) |   \
	    OPT_BIT(O_ASCII) | OPT_BIT(O_TIMEOUT) | OPT_BIT(O_TLS_CA) |   \
	    OPT_BIT(O_TLS_CERT) | OPT_BIT(O_TLS_KEY) |                    \
	    OPT_BIT(O_TLS_SERVER_NAME) | OPT_BIT(O_HELP) |                 \
	    OPT_BIT(O_VERSION))

static const char *progname = "tracecli";

typedef struct seen_opt {
	opt_id id;
	const char *arg;
} seen_opt;

static const opt_entry *
opt_find(opt_id id)
{
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (opts[i].id == id)
			return &opts[i];
	return NULL;
}

/* "--name" or "-n" of a flag, for messages. */
static const char *
opt_label(opt_id id, char *buf, size_t len)
{
	const opt_entry *o = opt_find(id);

	if (o == NULL)
		snprintf(buf, len, "?");
	else if (o->name != NULL)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

const cmd_entry *
cli_find_command(const char *name)
{
	for (size_t i = 0; i < cmd_count; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

#define HELP_WIDTH 80
#define HELP_INDENT 23

/* Prints text from column HELP_INDENT, wrapped at HELP_WIDTH. */
static void
print_wrapped(FILE *f, const char *text)
{
	int room = HELP_WIDTH - HELP_INDENT;

	while ((int)strlen(text) > room) {
		int cut = room;
		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = room;
		fprintf(f, "%.*s\n%*s", cut, text, HELP_INDENT, "");
		text += cut + (text[cut] == ' ');
	}
	fprintf(f, "%s\n", text);
}

static void
print_flag(FILE *f, const opt_entry *o)
{
	char left[64];

	if (o->name != NULL)
		snprintf(left, sizeof left, "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof left, "-%c %s", o->short_name, o->arg);
	if ((int)strlen(left) > HELP_INDENT - 3)
		fprintf(f, "  %s\n%*s", left, HELP_INDENT, "");
	else
		fprintf(f, "  %-*s ", HELP_INDENT - 3, left);
	print_wrapped(f, o->help);
}

void
cli_help(FILE *f, const cmd_entry *cmd)
{
	if (cmd == NULL) {
		fprintf(f, "usage: %s COMMAND [flags]   (%s COMMAND --help for "
		    "its flags)\n\ncommands:\n", progname, progname);
		for (size_t i = 0; i < cmd_count; i++)
			fprintf(f, "  %-11s %s\n", cmd_table[i].name,
			    cmd_table[i].summary);
	} else {
		fprintf(f, "usage: %s %s%s%s [flags]\n%s\n", progname, cmd->name,
		    *cmd->args ? " " : "", cmd->args, cmd->summary);
		if (cmd->opts != 0) {
			fprintf(f, "\nflags:\n");
			for (size_t i = 0; i < ARRAY_LEN(opts); i++)
				if (cmd->opts & OPT_BIT(opts[i].id))
					print_flag(f, &opts[i]);
		}
		if (cmd->more != NULL)
			fprintf(f, "\n%s\n", cmd->more);
	}
	fprintf(f, "\ncommon flags:\n");
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (COMMON_OPTS & OPT_BIT(opts[i].id))
			print_flag(f, &opts[i]);
	fprintf(f,
	    "\ndurations: 250us 100ms 1.5s 2m 1h 7d, or sums such as 1h30m\n"
	    "times: RFC 3339 (2026-01-02T15:04:05Z) or unix seconds\n"
	    "exit: 0 ok, 1 not found / no results, 2 usage, 3 collector "
	    "unreachable\n      or failing, 130/143 interrupted (Ctrl-C / "
	    "SIGTERM)\n");
}

void
cli_usage_error(const cmd_entry *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", progname, cmd ? " " : "",
	    cmd ? cmd->name : "");
	exit(EXIT_USAGE);
}

static uint64_t
duration_arg(const cmd_entry *cmd, opt_id id, const char *s)
{
	uint64_t ns;
	char lab[32];

	if (duration_text_parse(s, &ns) != 0)
		cli_usage_error(cmd, "%s: bad duration '%s' (e.g. 250us, 100ms, "
		    "1.5s, 2m, 1h30m, 7d)", opt_label(id, lab, sizeof lab), s);
	return ns;
}

static uint32_t
count_arg(const cmd_entry *cmd, opt_id id, const char *s, long max)
{
	char *end, lab[32];

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > max)
		cli_usage_error(cmd, "%s: bad number '%s' (1 to %ld)",
		    opt_label(id, lab, sizeof lab), s, max);
	return (uint32_t)v;
}

/* A search flag: checked by the spec (the tui's form uses the same). */
static void
search_arg(cli_args *c, search_field f, opt_id id, const char *a)
{
	char *cause = NULL, lab[32];

	if (search_spec_set(&c->search, f, a, &cause) != 0) {
		opt_label(id, lab, sizeof lab);
		fprintf(stderr, "%s: %s: %s: %s\nTry '%s %s --help'.\n",
		    progname, c->cmd->name, lab, cause, progname, c->cmd->name);
		free(cause);
		exit(EXIT_USAGE);
	}
	if (f != SF_ATTR)
		c->search_text[f] = a;
}

static void
apply_opt(cli_args *c, opt_id id, const char *a)
{
	const cmd_entry *cmd = c->cmd;

	switch (id) {
	case O_SERVICE: search_arg(c, SF_SERVICE, id, a); break;
	case O_OPERATION: search_arg(c, SF_OPERATION, id, a); break;
	case O_ATTR: search_arg(c, SF_ATTR, id, a); break;
	case O_MIN_DUR: search_arg(c, SF_MIN_DUR, id, a); break;
	case O_MAX_DUR: search_arg(c, SF_MAX_DUR, id, a); break;
	case O_SINCE: search_arg(c, SF_SINCE, id, a); break;
	case O_FROM: search_arg(c, SF_FROM, id, a); break;
	case O_TO: search_arg(c, SF_TO, id, a); break;
	case O_LIMIT: search_arg(c, SF_LIMIT, id, a); break;
	case O_SORT: search_arg(c, SF_SORT, id, a); break;
	case O_LONGEST: search_arg(c, SF_SORT, id, "longest"); break;
	case O_ERRORS: c->search.errors = true; break;
	case O_TOP: c->top = count_arg(cmd, id, a, SEARCH_MAX_LIMIT); break;
	case O_FRAMES: c->frames = count_arg(cmd, id, a, 100000000); break;
	case O_HISTOGRAM: c->histogram = true; break;
	case O_PLAIN: c->plain = true; break;
	case O_STATS: c->stats = true; break;
	case O_BASELINE: c->baseline = true; break;
	case O_NO_MOUSE: c->no_mouse = true; break;
	case O_INGEST: c->ingest_url = a; break;
	case O_COLLECTOR: c->co.url = a; break;
	case O_JSON: c->json = true; break;
	case O_NO_COLOR: c->no_color = true; break;
	case O_ASCII: c->ascii = true; break;
	case O_TLS_CA: c->co.tls.ca_file = a; break;
	case O_TLS_CERT: c->co.tls.cert_file = a; break;
	case O_TLS_KEY: c->co.tls.key_file = a; break;
	case O_TLS_SERVER_NAME: c->co.tls.server_name = a; break;
	case O_TIMEOUT: {
		uint64_t d = duration_arg(cmd, id, a);
		if (d < 1000000 || d > 3600000000000ull)
			cli_usage_error(cmd, "--timeout %s out of range (1ms to "
			    "1h)", a);
		c->co.timeout_ms = (int)(d / 1000000);
		break;
	}
	default:
		break;
	}
}

/* getopt_long's table, built from opts[]. */
static void
long_options(struct option *lo, char *shorts)
{
	size_t k = 0, s = 0;

	shorts[s++] = ':';
	for (size_t i = 0; i < ARRAY_LEN(opts); i++) {
		if (opts[i].name != NULL) {
			lo[k].name = opts[i].name;
			lo[k].has_arg = opts[i].arg ? required_argument :
						      no_argument;
			lo[k].flag = NULL;
			lo[k].val = OPT_BASE + (int)opts[i].id;
			k++;
		}
		if (opts[i].short_name != 0) {
			shorts[s++] = opts[i].short_name;
			if (opts[i].arg)
				shorts[s++] = ':';
		}
	}
	memset(&lo[k], 0, sizeof lo[k]);
	shorts[s] = '\0';
}

static opt_id
opt_of(int ch)
{
	if (ch >= OPT_BASE)
		return (opt_id)(ch - OPT_BASE);
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (opts[i].short_name == ch)
			return opts[i].id;
	return O_COUNT;
}

/* The command is the first word that is not a flag or a flag's value. */
static const cmd_entry *
command_word(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return cli_find_command(a);
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? cli_find_command(argv[i + 1]) : NULL;
		for (size_t k = 0; k < ARRAY_LEN(opts); k++) {
			bool hit = (opts[k].name && a[1] == '-' &&
			    strcmp(a + 2, opts[k].name) == 0) ||
			    (opts[k].short_name && a[1] == opts[k].short_name &&
			    a[2] == '\0');
			if (hit && opts[k].arg)
				i++;
		}
	}
	return NULL;
}

static void
check_command(cli_args *c, char **pos, int npos, bool help, bool version)
{
	if (version) {
		printf("%s %s\n", progname, TRACE_VERSION_STRING);
		exit(EXIT_OK_);
	}
	if (npos == 0) {
		if (help) {
			cli_help(stdout, NULL);
			exit(EXIT_OK_);
		}
		cli_usage_error(NULL, "%s", "missing command");
	}
	if (strcmp(pos[0], "help") == 0) {
		cli_help(stdout, npos > 1 ? cli_find_command(pos[1]) : NULL);
		exit(EXIT_OK_);
	}
	if ((c->cmd = cli_find_command(pos[0])) == NULL) {
		char *s = sanitize_dup(pos[0], SAN_ASCII);
		cli_usage_error(NULL, "unknown command '%s'", s);
	}
	if (help) {
		cli_help(stdout, c->cmd);
		exit(EXIT_OK_);
	}
	c->args = pos + 1;
	c->nargs = npos - 1;
	if (c->nargs < c->cmd->min_args)
		cli_usage_error(c->cmd, "missing %s", c->cmd->args);
	if (c->nargs > c->cmd->max_args) {
		char *s = sanitize_dup(c->args[c->cmd->max_args], SAN_ASCII);
		cli_usage_error(c->cmd, "unexpected argument '%s'", s);
	}
}

static void
check_flags(const cli_args *c)
{
	const search_spec *s = &c->search;
	char *cause = NULL;

	if (search_spec_check(s, &cause) != 0)
		cli_usage_error(c->cmd, "%s", cause);
	if (c->json && c->cmd->exec == cmd_tui)
		cli_usage_error(c->cmd, "%s", "--json does not apply to tui");
	if (client_url_check(c->co.url, &cause) != CLIENT_OK)
		cli_usage_error(c->cmd, "%s", cause);
	if (c->ingest_url != NULL &&
	    client_url_check(c->ingest_url, &cause) != CLIENT_OK)
		cli_usage_error(c->cmd, "--ingest: %s", cause);
}

void
cli_parse(cli_args *c, int argc, char **argv)
{
	struct option lo[ARRAY_LEN(opts) + 1];
	seen_opt seen[256];
	char shorts[2 * ARRAY_LEN(opts) + 2], lab[32];
	char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
	int nseen = 0, npos = 0, ch;
	bool help = false, version = false;
	const cmd_entry *guess = command_word(argc, argv);

	long_options(lo, shorts);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			char *bad = sanitize_dup(argv[optind - 1], SAN_ASCII);
			if (ch == '?' && optopt != 0 && optopt < OPT_BASE)
				snprintf(bad, strlen(bad) + 1, "-%c", optopt);
			cli_usage_error(guess, ch == '?' ? "unknown flag '%s'" :
			    "flag '%s' needs a value", bad);
		}
		opt_id id = opt_of(ch);
		help |= id == O_HELP;
		version |= id == O_VERSION;
		if (nseen < (int)ARRAY_LEN(seen))
			seen[nseen++] = (seen_opt){id, optarg};
	}
	while (optind < argc)
		pos[npos++] = argv[optind++];
	c->pos = pos;
	check_command(c, pos, npos, help, version);
	for (int k = 0; k < nseen; k++) {
		uint64_t allowed = c->cmd->opts | COMMON_OPTS;
		if (!(allowed & OPT_BIT(seen[k].id)))
			cli_usage_error(c->cmd, "%s does not apply to %s",
			    opt_label(seen[k].id, lab, sizeof lab), c->cmd->name);
		apply_opt(c, seen[k].id, seen[k].arg);
	}
	check_flags(c);
}
