/*
 * rocksdb_writer.h - the RocksDB backend's write: one request's valid
 * spans become one WriteBatch (span blocks, the traces family's entries,
 * new origins, catalog records and a log record naming the blocks),
 * written with the WAL before it returns; their index records follow
 * through the index buffer (index.h). Thread-safe.
 */
#ifndef COLLECTOR_ROCKSDB_WRITER_H
#define COLLECTOR_ROCKSDB_WRITER_H

#include "backend/backend.h"
#include "index/index.h"
#include "store/store.h"

typedef struct rocksdb_writer rocksdb_writer;

/* rocksdb_writer_new writes into st, indexing through cat and ibuf (not
 * owned); min_free_bytes: refuse a batch that would leave less disk. */
rocksdb_writer *rocksdb_writer_new(store *st, index_catalog *cat,
    index_buffer *ibuf, uint64_t min_free_bytes);
void rocksdb_writer_free(rocksdb_writer *wr);
/* rocksdb_writer_write is backend_ops.write. */
void rocksdb_writer_write(rocksdb_writer *wr, const backend_batch *batch,
    backend_result *res);

#endif /* COLLECTOR_ROCKSDB_WRITER_H */
