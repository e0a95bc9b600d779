/*
 * store.c - RocksDB behind store.h. The only file that includes rocksdb/c.h
 * or sees a RocksDB error string.
 */
#include <stdatomic.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "common.h"
#include "format/hist.h"
#include "format/keys.h"
#include "daemon/log.h"
#include "store/store.h"

static const char *cf_names[STORE_CF_COUNT] = {
	"spans", "traces", "index", "hist", "meta"
};

struct store {
	rocksdb_t *db;
	rocksdb_options_t *db_opts;
	rocksdb_options_t *cf_opts[STORE_CF_COUNT + 1];
	rocksdb_column_family_handle_t *cf[STORE_CF_COUNT + 1];
	rocksdb_block_based_table_options_t *table_opts[STORE_CF_COUNT];
	rocksdb_cache_t *cache;
	rocksdb_compactionfilter_t *filters[STORE_CF_COUNT];
	rocksdb_mergeoperator_t *merge;
	rocksdb_writeoptions_t *wo;
	rocksdb_writeoptions_t *wo_nostall;
	rocksdb_readoptions_t *ro;
	_Atomic uint64_t cutoff_ns;
	trace_locator *locator;
	char *dir;
};

struct store_batch {
	store *s;
	rocksdb_writebatch_t *wb;
	size_t bytes;
};

struct store_iter {
	rocksdb_iterator_t *it;
	rocksdb_readoptions_t *ro;
	char *upper;
};

typedef struct filter_state {
	store *s;
	store_cf cf;
} filter_state;

/* Drops records older than the retention cutoff during compaction. */
static unsigned char
filter_cb(void *state, int level, const char *key, size_t klen,
    const char *val, size_t vlen, char **new_val, size_t *new_vlen,
    unsigned char *changed)
{
	filter_state *fs = state;
	uint64_t cutoff = atomic_load_explicit(&fs->s->cutoff_ns,
	    memory_order_relaxed);
	uint64_t t;
	idx_key ik;

	(void)level;
	(void)new_val;
	(void)new_vlen;
	*changed = 0;
	if (cutoff == 0)
		return 0;
	switch (fs->cf) {
	case STORE_CF_SPANS:
		return vlen >= 8 && key_span_value_start(val, vlen) < cutoff;
	case STORE_CF_TRACES:
		/* Its blocks start in that minute: all expired at its end. */
		return klen == KEY_TRACE_LEN &&
		    (uint64_t)key_trace_minute((const uint8_t *)key) *
		    KEY_MINUTE_NS + KEY_MINUTE_NS <= cutoff;
	case STORE_CF_INDEX:
		if (klen >= 4 && ((uint64_t)key_be64(key) >> 32) * KEY_HOUR_NS +
		    KEY_HOUR_NS <= cutoff)
			return 1;
		if (key_idx_parse(key, klen, &ik) != 0)
			return 0;
		if (ik.type == IDX_DUR || ik.type == IDX_DUR_TAIL)
			return ik.start_ns + KEY_MINUTE_NS <= cutoff;
		/* A dictionary serves its hour's postings to the end. */
		if (ik.type == IDX_DICT)
			return 0;
		return ik.start_ns < cutoff;
	case STORE_CF_HIST:
		if (key_hist_parse(key, klen, &t) != 0)
			return 0;
		return t + KEY_MINUTE_NS <= cutoff;
	default:
		return 0;
	}
}

static const char *
filter_name(void *state)
{
	(void)state;
	return "trace-retention";
}

static void
filter_destroy(void *state)
{
	free(state);
}

static void
merge_destroy(void *state)
{
	(void)state;
}

static void
merge_delete(void *state, const char *v, size_t len)
{
	(void)state;
	(void)len;
	free((void *)(uintptr_t)v);
}

static const char *
merge_name(void *state)
{
	(void)state;
	return "trace-hist-sum";
}

static int level_compression[7] = { rocksdb_lz4_compression,
	rocksdb_zstd_compression, rocksdb_zstd_compression,
	rocksdb_zstd_compression, rocksdb_zstd_compression,
	rocksdb_zstd_compression, rocksdb_zstd_compression };

/* Makes the options of one column family. */
static rocksdb_options_t *
cf_options(store *s, store_cf cf, const store_options *o)
{
	rocksdb_options_t *opts = rocksdb_options_create();
	rocksdb_block_based_table_options_t *t =
	    rocksdb_block_based_options_create();
	filter_state *fs;
	size_t wb = o->write_buffer_bytes / 4;

	rocksdb_block_based_options_set_block_cache(t, s->cache);
	/* Spans compress about 6% better in 32 KiB blocks than in 16 (a
	 * trace is one block read either way; 64 KiB saved 2% more but took
	 * trace-by-ID p99 past 1 ms); index records are read a few at a
	 * time; get-trace reads one traces entry. */
	rocksdb_block_based_options_set_block_size(t,
	    cf == STORE_CF_SPANS ? 32 * 1024 :
	    cf == STORE_CF_TRACES ? 4 * 1024 : 16 * 1024);
	/* The spans and traces families' filters and indexes stay in memory
	 * (about 2 bytes a span): get-trace must not wait for them. */
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(t,
	    cf != STORE_CF_SPANS && cf != STORE_CF_TRACES);
	rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(
	    t, 1);
	rocksdb_block_based_options_set_format_version(t, 5);
	/* Prefix compression of keys does most of the index's compaction. */
	rocksdb_block_based_options_set_block_restart_interval(t, 32);
	/* Get-trace seeks both by prefix; the filters skip files that do not
	 * hold it. Each family owns its filter policy and extractor. */
	if (cf == STORE_CF_SPANS || cf == STORE_CF_TRACES) {
		rocksdb_block_based_options_set_filter_policy(t,
		    rocksdb_filterpolicy_create_bloom_full(10));
		rocksdb_block_based_options_set_whole_key_filtering(t, 0);
		rocksdb_options_set_prefix_extractor(opts,
		    rocksdb_slicetransform_create_fixed_prefix(
		    cf == STORE_CF_SPANS ? KEY_SPAN_PREFIX_LEN :
		    KEY_TRACE_ID_LEN));
	}
	rocksdb_options_set_block_based_table_factory(opts, t);
	s->table_opts[cf] = t;
	/* LZ4 where flushes write (cheap, and L0 is soon rewritten); ZSTD
	 * below it: at 10M spans a tenth of the data sits in the level above
	 * the bottom, and LZ4 there cost about 3 bytes a span. */
	rocksdb_options_set_compression_per_level(opts, level_compression,
	    sizeof level_compression / sizeof *level_compression);
	rocksdb_options_set_compression_options(opts, -14, 1, 0, 0);
	rocksdb_options_set_bottommost_compression(opts,
	    rocksdb_zstd_compression);

	rocksdb_options_set_bottommost_compression_options(opts, -14, 3, 0, 0,
	    1);
	if (cf == STORE_CF_META || cf == STORE_CF_HIST || cf == STORE_CF_TRACES)
		wb = 4u << 20;
	rocksdb_options_set_write_buffer_size(opts, wb);
	rocksdb_options_set_max_write_buffer_number(opts, 3);
	rocksdb_options_set_level_compaction_dynamic_level_bytes(opts, 1);
	/* Index keys start with the hour, so every compaction into the
	 * level below L0 rewrites what that level holds of the current hour:
	 * a small first level bounds that rewrite (at 10M spans, 64 MiB here
	 * rather than 256 cut the index's compaction writes by a fifth). */
	rocksdb_options_set_max_bytes_for_level_base(opts,
	    cf == STORE_CF_INDEX ? 64u << 20 : 256u << 20);
	/* Spans arrive in order of time: a flush overlaps only the newest
	 * file of the level below, which small files keep cheap to rewrite. */
	rocksdb_options_set_target_file_size_base(opts,
	    cf == STORE_CF_SPANS ? 16u << 20 : 64u << 20);
	if (cf != STORE_CF_META) {
		fs = xcalloc(1, sizeof *fs);
		fs->s = s;
		fs->cf = cf;
		s->filters[cf] = rocksdb_compactionfilter_create(fs,
		    filter_destroy, filter_cb, filter_name);
		rocksdb_options_set_compaction_filter(opts, s->filters[cf]);
	}
	if (cf == STORE_CF_HIST)
		rocksdb_options_set_merge_operator(opts, s->merge);
	return opts;
}

/* Turns a RocksDB open error into words an operator can act on. */
static void
open_cause(const char *dir, const char *err, char **cause)
{
	/* Another process: "While lock file: DIR/LOCK: Resource temporarily
	 * unavailable"; this process: "lock hold by current process". */
	if (err != NULL && (strstr(err, "/LOCK") || strstr(err, "lock hold")))
		xasprintf(cause, "store %s is locked by another process "
		    "(is another tracecollector using it?)", dir);
	else
		xasprintf(cause, "store %s: %s", dir, err ? err : "unknown");
}

int
store_open(store **out, const char *dir, const store_options *user,
    char **cause)
{
	store *s = xcalloc(1, sizeof *s);
	store_options defaults = *user;
	const store_options *o = &defaults;
	const char *names[STORE_CF_COUNT + 1];
	const rocksdb_options_t *opts[STORE_CF_COUNT + 1];
	char *err = NULL;
	rocksdb_options_t *tmp;

	*out = NULL;
	s->dir = xstrdup(dir);
	if (defaults.cache_bytes == 0)
		defaults.cache_bytes = 32u << 20;
	if (defaults.write_buffer_bytes < (16u << 20))
		defaults.write_buffer_bytes = 96u << 20;
	s->cache = rocksdb_cache_create_lru(o->cache_bytes);
	s->merge = rocksdb_mergeoperator_create(NULL, merge_destroy,
	    hist_full_merge, hist_partial_merge, merge_delete, merge_name);

	tmp = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(tmp, 1);
	rocksdb_options_set_create_missing_column_families(tmp, 1);
	rocksdb_options_set_max_background_jobs(tmp, 2);
	rocksdb_options_set_db_write_buffer_size(tmp, o->write_buffer_bytes);
	rocksdb_options_set_max_total_wal_size(tmp, 256u << 20);
	rocksdb_options_set_keep_log_file_num(tmp, 2);
	rocksdb_options_set_max_open_files(tmp, 256);
	rocksdb_options_set_bytes_per_sync(tmp, 1u << 20);
	/* Files older than the retention are rewritten, so the compaction
	 * filter reclaims their space even when nothing else compacts them. */
	s->db_opts = rocksdb_options_create();
	if (o->retention_ns >= KEY_HOUR_NS) {
		char buf[64];

		snprintf(buf, sizeof buf, "periodic_compaction_seconds=%llu",
		    (unsigned long long)(o->retention_ns / 2000000000ULL));
		rocksdb_get_options_from_string(tmp, buf, s->db_opts, &err);
		if (err != NULL) {
			rocksdb_free(err);
			err = NULL;
			rocksdb_options_destroy(s->db_opts);
			s->db_opts = tmp;
			tmp = NULL;
		}
	} else {
		rocksdb_options_destroy(s->db_opts);
		s->db_opts = tmp;
		tmp = NULL;
	}
	if (tmp != NULL)
		rocksdb_options_destroy(tmp);

	names[0] = "default";
	opts[0] = s->db_opts;
	for (int i = 0; i < STORE_CF_COUNT; i++) {
		s->cf_opts[i] = cf_options(s, (store_cf)i, o);
		names[i + 1] = cf_names[i];
		opts[i + 1] = s->cf_opts[i];
	}
	{
		rocksdb_column_family_handle_t *h[STORE_CF_COUNT + 1];

		s->db = rocksdb_open_column_families(s->db_opts, dir,
		    STORE_CF_COUNT + 1, names, opts, h, &err);
		if (s->db == NULL || err != NULL) {
			open_cause(dir, err, cause);
			rocksdb_free(err);
			s->db = NULL;
			store_close(s);
			return -1;
		}
		/* cf[] is indexed by store_cf; the default family goes last. */
		for (int i = 0; i < STORE_CF_COUNT; i++)
			s->cf[i] = h[i + 1];
		s->cf[STORE_CF_COUNT] = h[0];
	}
	s->wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wo, o->sync);
	s->wo_nostall = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wo_nostall, o->sync);
	rocksdb_writeoptions_set_no_slowdown(s->wo_nostall, 1);
	s->ro = rocksdb_readoptions_create();
	s->locator = trace_locator_new(o->locator_bytes);
	if (trace_locator_load(s->locator, s) != 0)
		log_warn("store %s: cannot start loading the trace locator; "
		    "get-trace reads the traces family", dir);
	*out = s;
	return 0;
}

void
store_flush(store *s)
{
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	char *err = NULL;

	rocksdb_flushoptions_set_wait(fo, 1);
	for (int i = 0; i < STORE_CF_COUNT && s->cf[i] != NULL; i++) {
		rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
		rocksdb_free(err);
		err = NULL;
	}
	rocksdb_flushoptions_destroy(fo);
}

void
store_close(store *s)
{
	if (s == NULL)
		return;
	trace_locator_free(s->locator);
	if (s->db != NULL) {
		/* A graceful close leaves no WAL to replay: flush first. */
		store_flush(s);
		for (int i = 0; i <= STORE_CF_COUNT; i++)
			if (s->cf[i] != NULL)
				rocksdb_column_family_handle_destroy(s->cf[i]);
		rocksdb_close(s->db);
	}
	if (s->wo)
		rocksdb_writeoptions_destroy(s->wo);
	if (s->wo_nostall)
		rocksdb_writeoptions_destroy(s->wo_nostall);
	if (s->ro)
		rocksdb_readoptions_destroy(s->ro);
	for (int i = 0; i < STORE_CF_COUNT; i++) {
		if (s->cf_opts[i])
			rocksdb_options_destroy(s->cf_opts[i]);
		if (s->table_opts[i])
			rocksdb_block_based_options_destroy(s->table_opts[i]);
		if (s->filters[i])
			rocksdb_compactionfilter_destroy(s->filters[i]);
	}
	if (s->db_opts)
		rocksdb_options_destroy(s->db_opts);
	/* The options took ownership of the merge operator, the prefix
	 * extractor and the bloom policy (shared_ptr inside the C API). */
	if (s->cache)
		rocksdb_cache_destroy(s->cache);
	free(s->dir);
	free(s);
}

void
store_set_cutoff(store *s, uint64_t cutoff_ns)
{
	atomic_store(&s->cutoff_ns, cutoff_ns);
	trace_locator_expire(s->locator, cutoff_ns);
}

trace_locator *
store_locator(store *s)
{
	return s->locator;
}

store_batch *
store_batch_new(store *s)
{
	store_batch *b = xcalloc(1, sizeof *b);

	b->s = s;
	b->wb = rocksdb_writebatch_create();
	return b;
}

void
store_batch_free(store_batch *b)
{
	if (b == NULL)
		return;
	rocksdb_writebatch_destroy(b->wb);
	free(b);
}

void
store_batch_clear(store_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
	b->bytes = 0;
}

void
store_batch_put(store_batch *b, store_cf cf, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	rocksdb_writebatch_put_cf(b->wb, b->s->cf[cf], k, klen, v, vlen);
	b->bytes += klen + vlen;
}

void
store_batch_delete(store_batch *b, store_cf cf, const void *k, size_t klen)
{
	rocksdb_writebatch_delete_cf(b->wb, b->s->cf[cf], k, klen);
	b->bytes += klen;
}

void
store_batch_merge(store_batch *b, store_cf cf, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	rocksdb_writebatch_merge_cf(b->wb, b->s->cf[cf], k, klen, v,
	    vlen);
	b->bytes += klen + vlen;
}

size_t
store_batch_count(const store_batch *b)
{
	return (size_t)rocksdb_writebatch_count(b->wb);
}

size_t
store_batch_bytes(const store_batch *b)
{
	return b->bytes;
}

int
store_write(store *s, store_batch *b, bool no_stall, char **cause)
{
	char *err = NULL;

	rocksdb_write(s->db, no_stall ? s->wo_nostall : s->wo, b->wb, &err);
	if (err == NULL)
		return 0;
	if (no_stall && (strstr(err, "Incomplete") || strstr(err, "stall"))) {
		rocksdb_free(err);
		return 1;
	}
	xasprintf(cause, "store write: %s", err);
	rocksdb_free(err);
	return -1;
}

/* The reads that failed on this thread (store_read_errors). */
static _Thread_local uint64_t thread_read_errors;

uint64_t
store_read_errors(void)
{
	return thread_read_errors;
}

int
store_get(store *s, store_cf cf, const void *k, size_t klen, char **val,
    size_t *vlen, char **cause)
{
	char *err = NULL, *v;

	v = rocksdb_get_cf(s->db, s->ro, s->cf[cf], k, klen, vlen, &err);
	if (err != NULL) {
		thread_read_errors++;
		xasprintf(cause, "store read: %s", err);
		rocksdb_free(err);
		return -1;
	}
	if (v == NULL)
		return 1;
	*val = xmalloc(*vlen + 1);
	memcpy(*val, v, *vlen);
	(*val)[*vlen] = '\0';
	rocksdb_free(v);
	return 0;
}

store_iter *
store_iter_new(store *s, store_cf cf, const void *lower, size_t lower_len,
    const void *upper, size_t upper_len, bool prefix_hint)
{
	store_iter *it = xcalloc(1, sizeof *it);

	it->ro = rocksdb_readoptions_create();
	if (upper != NULL) {
		it->upper = xmalloc(upper_len ? upper_len : 1);
		memcpy(it->upper, upper, upper_len);
		rocksdb_readoptions_set_iterate_upper_bound(it->ro, it->upper,
		    upper_len);
	}
	if (prefix_hint)
		rocksdb_readoptions_set_prefix_same_as_start(it->ro, 1);
	else
		rocksdb_readoptions_set_total_order_seek(it->ro, 1);
	it->it = rocksdb_create_iterator_cf(s->db, it->ro, s->cf[cf]);
	if (lower != NULL)
		rocksdb_iter_seek(it->it, lower, lower_len);
	else
		rocksdb_iter_seek_to_first(it->it);
	return it;
}

void
store_iter_seek(store_iter *it, const void *k, size_t klen)
{
	rocksdb_iter_seek(it->it, k, klen);
}

void
store_iter_seek_last(store_iter *it)
{
	rocksdb_iter_seek_to_last(it->it);
}

bool
store_iter_valid(const store_iter *it)
{
	return rocksdb_iter_valid(it->it) != 0;
}

void
store_iter_next(store_iter *it)
{
	rocksdb_iter_next(it->it);
}

const void *
store_iter_key(const store_iter *it, size_t *len)
{
	return rocksdb_iter_key(it->it, len);
}

const void *
store_iter_value(const store_iter *it, size_t *len)
{
	return rocksdb_iter_value(it->it, len);
}

bool
store_iter_failed(const store_iter *it)
{
	char *err = NULL;

	rocksdb_iter_get_error(it->it, &err);
	rocksdb_free(err);
	return err != NULL;
}

void
store_iter_free(store_iter *it)
{
	if (it == NULL)
		return;
	/* An iterator that stopped on an error looked like one at its end:
	 * count it, so the query it served is answered as failed. */
	if (store_iter_failed(it))
		thread_read_errors++;
	rocksdb_iter_destroy(it->it);
	rocksdb_readoptions_destroy(it->ro);
	free(it->upper);
	free(it);
}

int
store_delete_range(store *s, store_cf cf, const void *begin,
    size_t begin_len, const void *end, size_t end_len, char **cause)
{
	char *err = NULL;

	rocksdb_delete_range_cf(s->db, s->wo, s->cf[cf], begin, begin_len, end,
	    end_len, &err);
	if (err != NULL) {
		xasprintf(cause, "store delete range: %s", err);
		rocksdb_free(err);
		return -1;
	}
	rocksdb_compact_range_cf(s->db, s->cf[cf], begin, begin_len, end,
	    end_len);
	return 0;
}

void
store_compact(store *s, store_cf cf)
{
	rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();

	rocksdb_compactoptions_set_bottommost_level_compaction(co, 2);
	rocksdb_compact_range_cf_opt(s->db, s->cf[cf], co, NULL, 0, NULL, 0);
	rocksdb_compactoptions_destroy(co);
}

uint64_t
store_property_sum(store *s, const char *name)
{
	uint64_t sum = 0, v;

	for (int i = 0; i <= STORE_CF_COUNT; i++)
		if (rocksdb_property_int_cf(s->db, s->cf[i], name, &v) == 0)
			sum += v;
	return sum;
}

uint64_t
store_free_bytes(store *s)
{
	struct statvfs v;

	if (statvfs(s->dir, &v) != 0)
		return UINT64_MAX;
	return (uint64_t)v.f_bavail * v.f_frsize;
}

uint64_t
store_disk_bytes(store *s)
{
	/* Both properties are per column family. */
	return store_property_sum(s, "rocksdb.live-sst-files-size") +
	    store_property_sum(s, "rocksdb.cur-size-all-mem-tables");
}

uint64_t
store_stall_us(store *s)
{
	char *st = rocksdb_property_value(s->db, "rocksdb.stats");
	const char *p;
	unsigned h = 0, m = 0;
	double sec = 0;
	uint64_t us = 0;

	if (st == NULL)
		return 0;
	if ((p = strstr(st, "Cumulative stall:")) != NULL &&
	    sscanf(p, "Cumulative stall: %u:%u:%lf", &h, &m, &sec) == 3)
		us = ((uint64_t)h * 3600 + m * 60) * 1000000 +
		    (uint64_t)(sec * 1e6);
	rocksdb_free(st);
	return us;
}
