/*
 * ch_backend.h - the seam's ClickHouse implementation (backend.h):
 * `--store clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME
 * &quorum=N&spool=DIR&spool_max_mb=N&flush_ms=N&tls=1&ca=FILE]`, or
 * clickhouses:// for TLS (ch_spec.h). A write is
 * acknowledged once it is in the local spool (spool.h); the shipper
 * (shipper.h) moves the spool into ClickHouse in blocks; queries go to
 * ClickHouse (ch_query.h). The collector keeps no span state of its own
 * beyond the spool: any number of collectors share one cluster.
 */
#ifndef COLLECTOR_CLICKHOUSE_CH_BACKEND_H
#define COLLECTOR_CLICKHOUSE_CH_BACKEND_H

#include "backend/backend.h"

/* ch_backend_open opens the backend spec names (after "clickhouse://").
 * Returns 0, or -1 with a malloc'd *cause. */
int ch_backend_open(backend **out, const char *spec, const backend_options *o,
    char **cause);
/* ch_backend_open_tls: the same over https (after "clickhouses://"). */
int ch_backend_open_tls(backend **out, const char *spec,
    const backend_options *o, char **cause);

#endif /* COLLECTOR_CLICKHOUSE_CH_BACKEND_H */
