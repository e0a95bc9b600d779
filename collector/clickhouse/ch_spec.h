/*
 * ch_spec.h - what `--store clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE
 * [?cluster=NAME&quorum=N&tls=1&ca=FILE&spool=DIR&spool_max_mb=N
 * &flush_ms=N&timeout_ms=N]` names, plus credentials, which never come from the
 * command line: TRACE_CLICKHOUSE_USER and TRACE_CLICKHOUSE_PASSWORD, or
 * TRACE_CLICKHOUSE_CREDENTIALS naming a file whose first line is USER and
 * second line PASSWORD.
 * TLS: `clickhouses://` or tls=1 (secure=1, its older name) speaks https;
 * the server's certificate and name are always verified, against the
 * system's CAs or ca=FILE (or TRACE_CLICKHOUSE_CA), a PEM bundle for a
 * private CA. ca= without TLS is refused.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_SPEC_H
#define COLLECTOR_CLICKHOUSE_CH_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#define CH_SPEC_MAX_HOSTS 16

typedef struct ch_spec {
	char *hosts[CH_SPEC_MAX_HOSTS]; /* "host:port", HTTP interface */
	size_t n_hosts;
	char *database;
	char *cluster;   /* NULL: a single server, no ON CLUSTER */
	int quorum;      /* insert_quorum; 0: none */
	bool secure;     /* https */
	char *user;      /* NULL: ClickHouse's default user */
	char *password;
	char *ca_file;
	char *spool_dir;        /* default "trace-spool" */
	unsigned spool_max_mb;  /* default 1024 */
	unsigned flush_ms;      /* a block ships after this long; default 500 */
	unsigned timeout_ms;    /* one insert's bound; default 120000 */
} ch_spec;

/* ch_spec_parse parses url (with or without "clickhouse://") and
 * reads the credentials from the environment. Returns 0, or -1 with a
 * malloc'd *cause. */
int ch_spec_parse(ch_spec *s, const char *url, char **cause);
/* ch_spec_fini frees what ch_spec_parse allocated. */
void ch_spec_fini(ch_spec *s);
/* ch_spec_is_name: NAME is a safe SQL identifier ([A-Za-z_][A-Za-z0-9_]*). */
bool ch_spec_is_name(const char *name);

#endif /* COLLECTOR_CLICKHOUSE_CH_SPEC_H */
