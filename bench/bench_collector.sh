#!/bin/sh
# Collector benchmarks (issue 4): ingest with 1 and 4 producer processes
# sending pre-encoded batches, RocksDB's own db_bench writing the same
# number and size of records, peak RSS, disk bytes per span, and query
# latencies (p99 over NNG, like tracecli) on the stored spans.
# BENCH_QUICK=1: 1M spans (under 2 minutes); otherwise 10M.
# Prints "BENCH name value unit" lines. Every process started here is
# stopped by PID.
BUILD=${BUILD:-build}
BENCH="$BUILD/bench/bench_collector"
TOOL="$BUILD/tools/collector_tool"
COLL="$BUILD/bin/tracecollector"
for f in "$BENCH" "$TOOL" "$COLL"; do
	[ -x "$f" ] || { echo "bench_collector.sh: $f not built" >&2; exit 1; }
done
if [ -n "$BENCH_QUICK" ]; then SPANS=1000000; ITER=300; else SPANS=10000000; ITER=1000; fi
PRODUCERS=4
BATCH=64                                   # traces per request (512 spans)
TRACES=$((SPANS / 8 / PRODUCERS))          # per producer
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-coll.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
# Spans start over the last two hours.
BASE=$(($(now_ns) - 7200000000000))
STEP=$((7200000000000 / TRACES))

# start_coll NAME [flags...]: a collector on $TMP/NAME-db; flags override.
start_coll() {
	n=$1; shift
	rm -f "$TMP/$n.ready"
	"$COLL" --db "$TMP/$n-db" --listen "ipc://$TMP/$n-in.sock" \
		--query-listen "ipc://$TMP/$n-q.sock" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
		--ready-file "$TMP/$n.ready" "$@" >"$TMP/$n.log" 2>&1 &
	CPID=$!
	PIDS="$PIDS $CPID"
	while [ ! -s "$TMP/$n.ready" ]; do
		kill -0 "$CPID" 2>/dev/null || { cat "$TMP/$n.log" >&2; exit 1; }
		sleep 0.05
	done
}

# run_producers NAME N TRACES: prints total spans and the rate.
run_producers() {
	name=$1 n=$2 traces=$3
	rm -f "$TMP/go"
	ppids=""
	for seed in $(seq 1 "$n"); do
		"$BENCH" produce "ipc://$TMP/$name-in.sock" "$seed" "$traces" \
			"$BATCH" "$BASE" "$STEP" "$TMP/go" >"$TMP/$name-p$seed.out" &
		ppids="$ppids $!"
	done
	PIDS="$PIDS $ppids"
	while [ "$(ls "$TMP"/go.ready.* 2>/dev/null | wc -l)" -lt "$n" ]; do
		sleep 0.05
	done
	touch "$TMP/go"
	for p in $ppids; do wait "$p" || { echo "producer failed" >&2; exit 1; }; done
	rm -f "$TMP"/go.ready.*
	cat "$TMP/$name"-p*.out | awk '
		{ s += $2; if (t0 == "" || $3 < t0) t0 = $3; if ($4 > t1) t1 = $4 }
		END { printf "%d %.0f %.3f\n", s, s / ((t1 - t0) / 1e9), (t1 - t0) / 1e9 }'
}

stat() { "$TOOL" stats "ipc://$TMP/$1-q.sock" | awk -v n="$2" '$1 == n { print $2 }'; }

# 1 producer, a quarter of the spans, fresh store.
start_coll one
set -- $(run_producers one 1 "$TRACES")
echo "BENCH collector.ingest_spans_per_s_1p $2 spans/s"
kill "$CPID"; wait "$CPID" 2>/dev/null

# 4 producers, all the spans, fresh store.
start_coll four
set -- $(run_producers four "$PRODUCERS" "$TRACES")
spans=$1 rate=$2 secs=$3
echo "BENCH collector.ingest_spans_per_s $rate spans/s"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$CPID/status")
records=$(stat four store.records_written)
rbytes=$(stat four store.bytes_written)
stored=$(stat four ingest.spans_accepted)
# Queries are timed once compaction has caught up (at most two minutes).
i=0
while [ "$(stat four store.pending_compaction)" != 0 ] && [ "$i" -lt 240 ]; do
	i=$((i + 1))
	sleep 0.5
done

"$BENCH" query "ipc://$TMP/four-q.sock" "$PRODUCERS" "$TRACES" "$BASE" \
	"$STEP" "$ITER" || exit 1
echo "BENCH query.stored_spans $stored spans"
hwm2=$(awk '/^VmHWM/ { print $2 }' "/proc/$CPID/status")
echo "BENCH collector.rss_mb $(echo "$hwm" | awk '{ printf "%.1f", $1 / 1024 }') MB"
kill "$CPID"; wait "$CPID" 2>/dev/null

# The Jaeger HTTP API beside NNG, both on loopback TCP, over this store
# (bench/bench_jaeger_api.c).
QPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_coll four --query-listen "tcp://127.0.0.1:$QPORT" \
	--jaeger-http 127.0.0.1:0
"$BUILD/bench/bench_jaeger_api" "tcp://127.0.0.1:$QPORT" \
	"$(sed -n 's/^jaeger_http=//p' "$TMP/four.ready")" "$PRODUCERS" "$TRACES" \
	"$BASE" "$STEP" "$ITER" || exit 1
kill "$CPID"; wait "$CPID" 2>/dev/null
disk=$(du -sb "$TMP/four-db" | awk '{ print $1 }')
echo "BENCH collector.disk_bytes_per_span $(echo "$disk $stored" | awk '{ printf "%.1f", $1 / $2 }') bytes"

# db_bench: the same number of records and bytes, same batch size, WAL on,
# LZ4, 4 writer threads, the same memtable budget.
DBB=$(command -v db_bench || command -v rocksdb_db_bench)
if [ -n "$DBB" ]; then
	avg=$((rbytes / records))
	per_req=$((records / (spans / (BATCH * 8))))
	"$DBB" --benchmarks=fillrandom --db="$TMP/dbbench" \
		--num=$((records / PRODUCERS)) --threads="$PRODUCERS" \
		--key_size=24 --value_size=$((avg > 25 ? avg - 24 : 1)) \
		--batch_size="$per_req" --compression_type=lz4 \
		--disable_wal=0 --sync=0 --write_buffer_size=12582912 \
		--db_write_buffer_size=50331648 --max_background_jobs=2 \
		--statistics=0 >"$TMP/dbbench.out" 2>&1
	ops=$(awk '/^fillrandom/ { for (i = 1; i <= NF; i++) if ($i ~ /^ops\/sec/) { print $(i - 1); exit } }' "$TMP/dbbench.out")
	echo "BENCH collector.dbbench_same_records_per_s $ops records/s"
	echo "BENCH collector.ingest_vs_dbbench_ratio $(echo "$records $secs $ops" | awk '{ printf "%.2f", ($1 / $2) / $3 }') ratio"
	echo "bench_collector.sh: $records records, $avg bytes each, $per_req per batch" >&2
else
	echo "bench_collector.sh: db_bench not found (Debian rocksdb-tools)" >&2
fi
