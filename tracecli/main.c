/*
 * main.c - tracecli: defaults from the environment, the command line
 * (cli.c), then the command's entry point (commands.c).
 *
 *   0 success, 1 not found / no results, 2 usage error,
 *   3 collector unreachable (or failing),
 *   128 + signal when Ctrl-C or SIGTERM ended an interactive view (contract)
 */
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tracecli.h"

#define DEFAULT_QUERY_URL "tcp://127.0.0.1:7071"

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

/* Returns the variable's value, or NULL when unset or empty. */
static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
defaults(cli_args *c)
{
	memset(c, 0, sizeof *c);
	c->frames = -1;
	c->co.url = env_nonempty("TRACE_QUERY_ENDPOINT");
	if (c->co.url == NULL)
		c->co.url = DEFAULT_QUERY_URL;
	c->co.dial_ms = 3000;
	c->co.timeout_ms = 10000;
	c->co.max_reply_bytes = (size_t)256 << 20;
	/* TLS settings shared with libtrace's variables; flags win. */
	c->co.tls.ca_file = env_nonempty("TRACE_TLS_CA_FILE");
	c->co.tls.cert_file = env_nonempty("TRACE_TLS_CERT_FILE");
	c->co.tls.key_file = env_nonempty("TRACE_TLS_KEY_FILE");
	c->co.tls.server_name = env_nonempty("TRACE_TLS_SERVER_NAME");
	c->no_color = env_nonempty("NO_COLOR") != NULL;
}

int
main(int argc, char **argv)
{
	cli_args c;

	setlocale(LC_ALL, "");
	defaults(&c);
	bool ascii_env = want_ascii();
	cli_parse(&c, argc, argv);
	c.ascii = c.ascii || ascii_env;
	c.san = c.ascii ? SAN_ASCII : SAN_UTF8;
	c.width = text_width();
	int rv = c.cmd->exec(&c);
	free(c.pos);
	return rv;
}
