/* ch_spec.c - the clickhouse:// store spec and its credentials (ch_spec.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_spec.h"

#define SCHEME "clickhouse://"
#define SCHEME_TLS "clickhouses://"

bool
ch_spec_is_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || isdigit((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return strlen(name) <= 64;
}

/* A host is name:port with letters, digits, '.', '-' and a port 1-65535. */
static bool
valid_host(const char *h)
{
	const char *colon = strrchr(h, ':');
	char *end;
	long port;

	if (colon == NULL || colon == h)
		return false;
	for (const char *p = h; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			return false;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port > 0 && port < 65536;
}

static int
parse_hosts(ch_spec *s, char *list, char **cause)
{
	char *save = NULL;

	for (char *h = strtok_r(list, ",", &save); h != NULL;
	    h = strtok_r(NULL, ",", &save)) {
		if (!valid_host(h)) {
			xasprintf(cause, "clickhouse store: bad host '%s' "
			    "(want HOST:PORT)", h);
			return -1;
		}
		if (s->n_hosts == CH_SPEC_MAX_HOSTS) {
			xasprintf(cause, "clickhouse store: more than %d hosts",
			    CH_SPEC_MAX_HOSTS);
			return -1;
		}
		s->hosts[s->n_hosts++] = xstrdup(h);
	}
	if (s->n_hosts == 0) {
		xasprintf(cause, "clickhouse store: no host");
		return -1;
	}
	return 0;
}

/* A decimal number from 1 to max. */
static bool
parse_uint(const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (v[0] < '0' || v[0] > '9' || *end != '\0' || n == 0 || n > max)
		return false;
	*out = (unsigned)n;
	return true;
}

static int
parse_param(ch_spec *s, const char *kv, char **cause)
{
	const char *eq = strchr(kv, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	if (klen == 7 && strncmp(kv, "cluster", 7) == 0 &&
	    ch_spec_is_name(v)) {
		free(s->cluster);
		s->cluster = xstrdup(v);
	} else if (klen == 6 && strncmp(kv, "quorum", 6) == 0 &&
	    strlen(v) == 1 && v[0] >= '0' && v[0] <= '9') {
		s->quorum = v[0] - '0';
	} else if (((klen == 6 && strncmp(kv, "secure", 6) == 0) ||
	    (klen == 3 && strncmp(kv, "tls", 3) == 0)) &&
	    (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)) {
		s->secure = v[0] == '1';
	} else if (klen == 2 && strncmp(kv, "ca", 2) == 0 && v[0] != '\0') {
		free(s->ca_file);
		s->ca_file = xstrdup(v);
	} else if (klen == 5 && strncmp(kv, "spool", 5) == 0 && v[0] != '\0') {
		free(s->spool_dir);
		s->spool_dir = xstrdup(v);
	} else if (klen == 12 && strncmp(kv, "spool_max_mb", 12) == 0 &&
	    parse_uint(v, 1u << 22, &s->spool_max_mb)) {
	} else if (klen == 8 && strncmp(kv, "flush_ms", 8) == 0 &&
	    parse_uint(v, 60000, &s->flush_ms)) {
	} else if (klen == 10 && strncmp(kv, "timeout_ms", 10) == 0 &&
	    parse_uint(v, 3600000, &s->timeout_ms) && s->timeout_ms >= 100) {
	} else {
		xasprintf(cause, "clickhouse store: bad parameter '%s' "
		    "(cluster=NAME, quorum=N, tls=0|1, ca=FILE, spool=DIR, "
		    "spool_max_mb=N, flush_ms=N, timeout_ms=N)", kv);
		return -1;
	}
	return 0;
}

static int
parse_params(ch_spec *s, char *q, char **cause)
{
	char *save = NULL;

	for (char *kv = strtok_r(q, "&", &save); kv != NULL;
	    kv = strtok_r(NULL, "&", &save))
		if (parse_param(s, kv, cause) != 0)
			return -1;
	return 0;
}

/* Reads USER and PASSWORD, one a line, from path. */
static int
read_credentials(ch_spec *s, const char *path, char **cause)
{
	FILE *f = fopen(path, "r");
	char line[2][512];

	if (f == NULL) {
		xasprintf(cause, "clickhouse credentials %s: cannot open", path);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (fgets(line[i], sizeof line[i], f) == NULL)
			line[i][0] = '\0';
		line[i][strcspn(line[i], "\r\n")] = '\0';
	}
	fclose(f);
	if (line[0][0] == '\0') {
		xasprintf(cause, "clickhouse credentials %s: no user on the "
		    "first line", path);
		return -1;
	}
	s->user = xstrdup(line[0]);
	s->password = xstrdup(line[1]);
	return 0;
}

static int
read_env(ch_spec *s, char **cause)
{
	const char *file = getenv("TRACE_CLICKHOUSE_CREDENTIALS");
	const char *user = getenv("TRACE_CLICKHOUSE_USER");
	const char *ca = getenv("TRACE_CLICKHOUSE_CA");

	if (ca != NULL && ca[0] != '\0' && s->ca_file == NULL)
		s->ca_file = xstrdup(ca);
	if (file != NULL && file[0] != '\0')
		return read_credentials(s, file, cause);
	if (user != NULL && user[0] != '\0') {
		const char *pw = getenv("TRACE_CLICKHOUSE_PASSWORD");

		s->user = xstrdup(user);
		s->password = xstrdup(pw ? pw : "");
	}
	return 0;
}

/* A CA names a file we can read, and only goes with TLS: a CA given to a
 * plain-HTTP store would suggest a protection that is not there. */
static int
check_tls(ch_spec *s, char **cause)
{
	FILE *f;

	if (s->ca_file == NULL)
		return 0;
	if (!s->secure) {
		/* The environment's CA applies only when TLS is on. */
		if (getenv("TRACE_CLICKHOUSE_CA") != NULL &&
		    strcmp(getenv("TRACE_CLICKHOUSE_CA"), s->ca_file) == 0)
			return 0;
		xasprintf(cause, "clickhouse store: ca=%s without TLS "
		    "(use clickhouses:// or tls=1)", s->ca_file);
		return -1;
	}
	if ((f = fopen(s->ca_file, "r")) == NULL) {
		xasprintf(cause, "clickhouse store: CA file %s: cannot read it",
		    s->ca_file);
		return -1;
	}
	fclose(f);
	return 0;
}

int
ch_spec_parse(ch_spec *s, const char *url, char **cause)
{
	char *copy, *slash, *q;
	int rv = -1;

	memset(s, 0, sizeof *s);
	if (strncmp(url, SCHEME, strlen(SCHEME)) == 0) {
		url += strlen(SCHEME);
	} else if (strncmp(url, SCHEME_TLS, strlen(SCHEME_TLS)) == 0) {
		url += strlen(SCHEME_TLS);
		s->secure = true;
	}
	copy = xstrdup(url);
	if (strchr(copy, '@') != NULL) {
		xasprintf(cause, "clickhouse store: credentials do not go on "
		    "the command line; use TRACE_CLICKHOUSE_CREDENTIALS or "
		    "TRACE_CLICKHOUSE_USER/_PASSWORD");
		goto out;
	}
	if ((q = strchr(copy, '?')) != NULL)
		*q++ = '\0';
	if ((slash = strchr(copy, '/')) == NULL || !ch_spec_is_name(slash + 1)) {
		xasprintf(cause, "clickhouse store: want clickhouse://HOST:PORT"
		    "[,HOST:PORT...]/DATABASE[?cluster=NAME] (clickhouses:// "
		    "for TLS), got '%s'", url);
		goto out;
	}
	*slash = '\0';
	s->database = xstrdup(slash + 1);
	s->spool_max_mb = 1024;
	s->flush_ms = 500;
	s->timeout_ms = 120000;
	if (parse_hosts(s, copy, cause) != 0 ||
	    (q != NULL && parse_params(s, q, cause) != 0) ||
	    read_env(s, cause) != 0)
		goto out;
	if (check_tls(s, cause) != 0)
		goto out;
	if (s->spool_dir == NULL)
		s->spool_dir = xstrdup("trace-spool");
	rv = 0;
out:
	free(copy);
	if (rv != 0)
		ch_spec_fini(s);
	return rv;
}

void
ch_spec_fini(ch_spec *s)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		free(s->hosts[i]);
	free(s->database);
	free(s->cluster);
	free(s->user);
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	free(s->password);
	free(s->ca_file);
	free(s->spool_dir);
	memset(s, 0, sizeof *s);
}
