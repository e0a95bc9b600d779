/*
 * fuzz_pipeline.c - libFuzzer target for the collector's whole ingest path,
 * pipeline_submit_protobuf(): size and backlog limits, the nesting
 * pre-scan, protobuf-c unpack, span validation (IDs, times, UTF-8, counts
 * and sizes) and the write of valid spans with their index entries into a
 * real RocksDB store (a temp dir under TMPDIR, removed at exit; no fsync).
 * fuzz_otlp_protobuf covers the decode alone, without a store.
 *
 * Input: the bytes of one NNG ingest message or OTLP/HTTP protobuf body.
 * Seeds: tests/fuzz/corpus/otlp_protobuf/ as well as its own.
 *
 * Invariants: the result code is one of pipeline_code's; the span counts
 * agree with it (OK: none rejected; PARTIAL: some of each; INVALID and
 * TOO_LARGE: none accepted); a rejection says why; what the pre-scan
 * refuses is never written.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/rocksdb_backend.h"
#include "common.h"
#include "pipeline/pipeline.h"
#include "fuzz.h"

static store *pl_store;
static backend *pl_backend;
static pipeline *pl_pipe;
static char pl_dir[256];

static void
pl_cleanup(void)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	pipeline_free(pl_pipe);
	pl_pipe = NULL;
	backend_close(pl_backend);
	pl_backend = NULL;
	store_close(pl_store);
	pl_store = NULL;
	if (pl_dir[0] == '\0')
		return;
	/* RocksDB makes no subdirectories. */
	if ((d = opendir(pl_dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", pl_dir,
			    e->d_name);
			remove(path);
		}
		closedir(d);
	}
	rmdir(pl_dir);
	pl_dir[0] = '\0';
}

static void
pl_setup(void)
{
	store_options so = { 0 };
	backend_options bo;
	pipeline_limits lim;
	char *cause = NULL;
	const char *tmp = getenv("TMPDIR");

	snprintf(pl_dir, sizeof pl_dir, "%s/fuzz-pipeline.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(pl_dir) != NULL);
	so.cache_bytes = 8u << 20;
	so.write_buffer_bytes = 8u << 20;
	if (store_open(&pl_store, pl_dir, &so, &cause) != 0) {
		fprintf(stderr, "fuzz_pipeline: %s\n", cause);
		abort();
	}
	atexit(pl_cleanup);
	backend_options_default(&bo);
	FUZZ_CHECK(rocksdb_backend_new(&pl_backend, pl_store, &bo, &cause) ==
	    0);
	pipeline_limits_default(&lim);
	FUZZ_CHECK(pipeline_new(&pl_pipe, pl_backend, &lim, &cause) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pipeline_result res;
	int pre;

	if (pl_pipe == NULL)
		pl_setup();
	pre = pipeline_prescan(data, size, 64);
	pipeline_submit_protobuf(pl_pipe, data, size, &res);
	/* Index this input's spans now, so a crash names this input. */
	FUZZ_CHECK(backend_sync(pl_backend, 0) == 0);
	FUZZ_CHECK(memchr(res.message, '\0', sizeof res.message) != NULL);
	FUZZ_CHECK(res.accepted_spans >= 0 && res.rejected_spans >= 0);
	switch (res.code) {
	case PIPELINE_OK:
		FUZZ_CHECK(res.accepted_spans > 0 && res.rejected_spans == 0);
		break;
	case PIPELINE_PARTIAL:
		FUZZ_CHECK(res.accepted_spans > 0 && res.rejected_spans > 0);
		FUZZ_CHECK(res.message[0] != '\0');
		break;
	case PIPELINE_INVALID:
	case PIPELINE_TOO_LARGE:
		FUZZ_CHECK(res.accepted_spans == 0);
		FUZZ_CHECK(res.message[0] != '\0');
		break;
	case PIPELINE_RETRY_LATER:
	case PIPELINE_INTERNAL:
		FUZZ_CHECK(res.accepted_spans == 0);
		break;
	default:
		FUZZ_CHECK(!"unknown pipeline code");
	}
	if (pre != 0)
		FUZZ_CHECK(res.code == PIPELINE_INVALID &&
		    res.accepted_spans == 0);
	return 0;
}
