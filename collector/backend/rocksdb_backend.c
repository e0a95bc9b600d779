/*
 * rocksdb_backend.c - the seam's RocksDB implementation (rocksdb_backend.h):
 * writes go through rocksdb_writer.c and the index buffer, queries to the
 * query engine (query.h), retention to retention.c, figures from the store.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/rocksdb_backend.h"
#include "backend/rocksdb_writer.h"
#include "common.h"
#include "format/keys.h"
#include "index/index.h"
#include "query/query.h"
#include "store/store.h"

typedef Tracequery__V1__Response response;

typedef struct rocksdb_backend {
	backend base;         /* first: a backend * is a rocksdb_backend * */
	store *st;
	bool owns_store;      /* opened here (rocksdb_backend_open) */
	uint64_t retention_ns;
	index_catalog *cat;
	index_buffer *ibuf;
	rocksdb_writer *wr;
} rocksdb_backend;

static rocksdb_backend *
rb(backend *b)
{
	return (rocksdb_backend *)b;
}

static void
rb_write(backend *b, const backend_batch *batch, backend_result *res)
{
	rocksdb_writer_write(rb(b)->wr, batch, res);
}

static int
rb_sync(backend *b, uint32_t timeout_ms)
{
	if (timeout_ms == 0)
		return index_buffer_sync(rb(b)->ibuf);
	return index_buffer_sync_within(rb(b)->ibuf, timeout_ms);
}

static void
rb_flush(backend *b)
{
	index_buffer_sync(rb(b)->ibuf);
	store_flush(rb(b)->st);
}

static response *
rb_get_trace(backend *b, const Tracequery__V1__GetTrace *q)
{
	return query_get_trace(rb(b)->st, rb(b)->retention_ns, q);
}

static response *
rb_search(backend *b, const Tracequery__V1__Search *q)
{
	return query_search(rb(b)->st, rb(b)->retention_ns, q);
}

static response *
rb_slow(backend *b, const Tracequery__V1__Slow *q)
{
	return query_slow(rb(b)->st, rb(b)->retention_ns, q);
}

static response *
rb_services(backend *b, const Tracequery__V1__ListServices *q)
{
	(void)q;
	return query_services(rb(b)->st, rb(b)->retention_ns);
}

static response *
rb_operations(backend *b, const Tracequery__V1__ListOperations *q)
{
	return query_operations(rb(b)->st, rb(b)->retention_ns, q);
}

static response *
rb_dependencies(backend *b, const Tracequery__V1__Dependencies *q)
{
	return query_dependencies(rb(b)->st, rb(b)->retention_ns, q);
}

static response *
rb_tail(backend *b, const Tracequery__V1__Tail *q)
{
	return query_tail(rb(b)->st, rb(b)->retention_ns, q);
}

static void
rb_stats(backend *b, Tracequery__V1__StatsResult *r)
{
	store *s = rb(b)->st;

	backend_stat_add(r, "store.disk_size", (double)store_disk_bytes(s),
	    "bytes");
	backend_stat_add(r, "store.stall_time",
	    (double)store_stall_us(s) * 1000.0, "ns");
	backend_stat_add(r, "store.estimated_keys",
	    (double)store_property_sum(s, "rocksdb.estimate-num-keys"),
	    "records");
	backend_stat_add(r, "store.pending_compaction",
	    (double)store_property_sum(s,
	    "rocksdb.estimate-pending-compaction-bytes"), "bytes");
	backend_stat_add(r, "store.trace_locator_size",
	    (double)trace_locator_bytes(store_locator(s)), "bytes");
}

/* Short retentions compact what they expire at once, so the space comes
 * back promptly; long ones leave it to RocksDB's compactions. */
static int
rb_retention_run(backend *b, uint64_t now_unix_ns, uint64_t retention_ns,
    char **cause)
{
	return retention_run_once(rb(b)->st, now_unix_ns, retention_ns,
	    retention_ns < KEY_HOUR_NS, cause);
}

static void
rb_close(backend *b)
{
	rocksdb_backend *r = rb(b);

	index_buffer_free(r->ibuf); /* writes what is buffered */
	rocksdb_writer_free(r->wr);
	index_catalog_free(r->cat);
	if (r->owns_store)
		store_close(r->st);
	free(r);
}

static const backend_ops rocksdb_ops = {
	.name = "rocksdb",
	.write = rb_write,
	.sync = rb_sync,
	.flush = rb_flush,
	.get_trace = rb_get_trace,
	.search = rb_search,
	.slow = rb_slow,
	.services = rb_services,
	.operations = rb_operations,
	.dependencies = rb_dependencies,
	.tail = rb_tail,
	.stats = rb_stats,
	.retention_run = rb_retention_run,
	.close = rb_close,
};

int
rocksdb_backend_new(backend **out, store *st, const backend_options *o,
    char **cause)
{
	rocksdb_backend *r = xcalloc(1, sizeof *r);
	index_buffer_limits il = {
		.flush_spans = o->index_flush_spans,
		.flush_ms = o->index_flush_ms,
		.idle_ms = o->idle_flush_ms,
		.min_free_bytes = o->min_free_bytes,
	};

	*out = NULL;
	r->base.ops = &rocksdb_ops;
	r->st = st;
	r->retention_ns = o->retention_ns;
	if (store_format_check(st, cause) != 0)
		goto fail;
	if ((r->cat = index_catalog_new(st, cause)) == NULL)
		goto fail;
	if (index_buffer_new(&r->ibuf, st, r->cat, &il, cause) != 0)
		goto fail;
	r->wr = rocksdb_writer_new(st, r->cat, r->ibuf, o->min_free_bytes);
	if (o->retention_ns != 0)
		store_set_cutoff(st, now_unix_ns() - o->retention_ns);
	*out = &r->base;
	return 0;
fail:
	index_catalog_free(r->cat);
	free(r);
	return -1;
}

int
rocksdb_backend_open(backend **out, const char *dir,
    const backend_options *o, char **cause)
{
	store_options so = { 0 };
	store *st;

	*out = NULL;
	if (dir[0] == '\0') {
		xasprintf(cause, "--store rocksdb:DIR needs a directory");
		return -1;
	}
	so.sync = o->sync;
	so.retention_ns = o->retention_ns;
	so.cache_bytes = 32u << 20;
	/* Index records no longer dominate the memtables (index_buffer.c):
	 * 48 MiB of them ingest as fast as 96 and keep the RSS in bounds. */
	so.write_buffer_bytes = 48u << 20;
	if (store_open(&st, dir, &so, cause) != 0)
		return -1;
	if (rocksdb_backend_new(out, st, o, cause) != 0) {
		store_close(st);
		return -1;
	}
	rb(*out)->owns_store = true;
	return 0;
}
