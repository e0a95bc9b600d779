/* ch_shards.c - a cluster's shards and the shard of a trace (ch_shards.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "clickhouse/ch_sql.h"
#include "clickhouse/ch_shards.h"
#include "clickhouse/cityhash.h"

typedef struct shard {
	uint32_t num, weight;
	rowbinary_buf replicas; /* "h:p|h:p", NUL-terminated */
} shard;

struct ch_shards {
	shard *v;
	size_t n;
	uint64_t total_weight;
};

/* Adds one row of system.clusters to its shard (rows come by shard). */
static void
add_replica(ch_shards *s, uint32_t num, uint32_t weight, const char *host,
    uint16_t port)
{
	shard *sh;
	char addr[300];

	if (s->n == 0 || s->v[s->n - 1].num != num) {
		s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
		sh = &s->v[s->n++];
		memset(sh, 0, sizeof *sh);
		sh->num = num;
		sh->weight = weight ? weight : 1;
		s->total_weight += sh->weight;
	}
	sh = &s->v[s->n - 1];
	snprintf(addr, sizeof addr, "%s%s:%u", sh->replicas.len ? "|" : "",
	    host, (unsigned)port);
	ch_sql_add(&sh->replicas, "%s", addr);
	ch_sql_text(&sh->replicas);
}

static bool
parse(ch_shards *s, const ch_reply *rep)
{
	rowbinary_reader r;

	rowbinary_reader_init(&r, rep->data, rep->len);
	while (r.ok && r.left > 0) {
		uint32_t num, weight;
		uint16_t port;
		char *host = NULL;

		if (rowbinary_get_u32(&r, &num) &&
		    rowbinary_get_u32(&r, &weight) &&
		    rowbinary_get_cstr(&r, &host) &&
		    rowbinary_get_u16(&r, &port))
			add_replica(s, num, weight, host, port);
		free(host);
	}
	return r.ok && s->n > 0;
}

int
ch_shards_load(ch_shards **out, ch_client *c, const char *cluster,
    char **cause)
{
	ch_shards *s = xcalloc(1, sizeof *s);
	rowbinary_buf q = { 0 };
	ch_reply rep;
	int rv;

	ch_sql_add(&q, "SELECT shard_num, shard_weight, host_name, port FROM "
	    "system.clusters WHERE cluster = ");
	ch_sql_quote(&q, cluster);
	ch_sql_add(&q, " ORDER BY shard_num, replica_num FORMAT RowBinary");
	rv = ch_client_exec(c, ch_sql_text(&q), NULL, 0, NULL, 10000, &rep,
	    cause);
	if (rv == 0 && !parse(s, &rep)) {
		xasprintf(cause, "clickhouse: cluster %s is not in "
		    "system.clusters", cluster);
		rv = -1;
	}
	ch_reply_fini(&rep);
	rowbinary_buf_free(&q);
	if (rv != 0) {
		ch_shards_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
ch_shards_free(ch_shards *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		rowbinary_buf_free(&s->v[i].replicas);
	free(s->v);
	free(s);
}

size_t
ch_shards_count(const ch_shards *s)
{
	return s->n;
}

size_t
ch_shards_of(const ch_shards *s, const uint8_t *trace_id)
{
	uint64_t slot = cityhash64_short(trace_id, 16) % s->total_weight;

	for (size_t i = 0; i < s->n; i++) {
		if (slot < s->v[i].weight)
			return i;
		slot -= s->v[i].weight;
	}
	return 0;
}

const char *
ch_shards_replicas(const ch_shards *s, size_t i)
{
	return (const char *)s->v[i].replicas.b;
}
