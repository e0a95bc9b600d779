#!/bin/sh
# ClickHouse backend benchmarks (issue 18), on one local clickhouse-server
# started here (free loopback ports, temp dir, stopped by PID):
#   clickhouse.ingest_spans_per_s       producers -> collector -> spool ->
#                                       ClickHouse, until every span is in
#   clickhouse.client_insert_rows_per_s clickhouse-client inserting the same
#                                       rows (every table, RowBinary)
#                                       from files: the physical limit
#   clickhouse.ingest_vs_client_ratio   the two (target >= 0.7)
#   clickhouse.trace_by_id_p99_us, search_service_p99_us, search_attr_p99_us,
#   search_min_duration_p99_us, slow_top20_p99_us   (over NNG, like tracecli)
#   clickhouse.search_service_live_p99_us  the search by service while
#                                       another collector ships new spans
#   clickhouse.rss_while_shipping_mb    the collector's peak RSS
#   clickhouse.visibility_p99_ms        acked by collector a -> get-trace
#                                       finds it through collector b
#   clickhouse.bytes_per_span           ClickHouse's compressed bytes
#   clickhouse.ingest_cpu_s_{collector,server,producers}  CPU seconds each
#                                       used during the ingest
#   clickhouse.ingest_merged_rows, ingest_parts  ClickHouse's merge work and
#                                       the parts inserted, during the ingest
# BENCH_QUICK=1: 400k spans; otherwise 2M (CH_BENCH_SPANS overrides).
# CH_BENCH_INGEST_ONLY=1: stop after the ingest, client copy and ratio (no
# query samples, no visibility probe), for A/B runs of the ingest.
# CH_BENCH_SPOOL_MB=N: the collector's spool bound (default 1024 MiB).
# Samples per query (CH_BENCH_ITER overrides): 100 quick, 300 at 2M, 60
# above 2M, so that a 10M run with its slow attribute searches (a scan of
# every span's attributes, seconds each) stays within about 30 minutes.
BUILD=${BUILD:-build}
. tests/e2e/lib.sh >/dev/null
. tests/e2e/clickhouse_lib.sh
BENCH="$BUILD/bench/bench_collector"
TOOL="$BUILD/tools/collector_tool"
if ! ch_available || ! command -v clickhouse-client >/dev/null; then
	echo "bench_clickhouse.sh: clickhouse-server/-client not installed (make deps)" >&2
	exit 0
fi
if [ -n "$BENCH_QUICK" ]; then SPANS=400000; ITER=100; else SPANS=2000000; ITER=300; fi
SPANS=${CH_BENCH_SPANS:-$SPANS}
[ "$SPANS" -gt 2000000 ] && ITER=60
ITER=${CH_BENCH_ITER:-$ITER}
PRODUCERS=2
BATCH=64
TRACES=$((SPANS / 8 / PRODUCERS))
ch_start_single >/dev/null || exit 1
DB=bench
SPEC="clickhouse://$CH_URL/$DB?spool=$TMP/spool-a&flush_ms=500${CH_BENCH_SPOOL_MB:+&spool_max_mb=$CH_BENCH_SPOOL_MB}"
start_ch_collector a "$SPEC" --retention 0 || exit 1
A_PID=$COLL_PID A_IN=$COLL_INGEST A_Q=$COLL_QUERY
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }
# cpu_ticks PID...: utime + stime of the processes (clock ticks), 0 if gone.
cpu_ticks() {
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || echo "x (x) S 0 0 0 0 0 0 0 0 0 0 0 0"; done |
		sed 's/^.*) //' | awk '{ n += $12 + $13 } END { print n + 0 }'
}
ch_event() {
	ch_q "$CH_HTTP_1" "SELECT sum(value) FROM system.events WHERE event = '$1'"
}
stat() { "$TOOL" stats "$A_Q" | awk -v n="$1" '$1 == n { print $2 }'; }

BASE=$(($(date +%s%N) - 3600000000000))
STEP=$((3600000000000 / TRACES))
rm -f "$TMP/go"
PRODS=""
for seed in $(seq 1 $PRODUCERS); do
	"$BENCH" produce "$A_IN" "$seed" "$TRACES" "$BATCH" "$BASE" "$STEP" \
		"$TMP/go" >"$TMP/p$seed.out" &
	track $!
	PRODS="$PRODS $!"
done
while [ "$(ls "$TMP"/go.ready.* 2>/dev/null | wc -l)" -lt $PRODUCERS ]; do sleep 0.05; done
m0=$(ch_event MergedRows) i0=$(ch_event InsertQuery) d0=$(ch_event DelayedInsertsMilliseconds)
a0=$(cpu_ticks "$A_PID") s0=$(cpu_ticks "$CH_PID_1")
t0=$(mono_ns)
touch "$TMP/go"
hwm=0 pticks=0
# Shipped means in ClickHouse; sample the RSS (and the producers' CPU
# while they live) meanwhile.
while [ "$(stat clickhouse.shipped_spans)" != "$SPANS" ]; do
	h=$(awk '/^VmHWM/ { print $2 }' "/proc/$A_PID/status")
	[ "$h" -gt "$hwm" ] && hwm=$h
	p=$(cpu_ticks $PRODS)
	[ "$p" -gt "$pticks" ] && pticks=$p
	sleep 0.1
done
t1=$(mono_ns)
a1=$(cpu_ticks "$A_PID") s1=$(cpu_ticks "$CH_PID_1")
m1=$(ch_event MergedRows) i1=$(ch_event InsertQuery) d1=$(ch_event DelayedInsertsMilliseconds)
hz=$(getconf CLK_TCK)
for p in $PRODS; do wait "$p" || exit 1; done
rate=$(echo "$SPANS $t0 $t1" | awk '{ printf "%.0f", $1 / (($3 - $2) / 1e9) }')
echo "BENCH clickhouse.ingest_spans_per_s $rate spans/s"
echo "BENCH clickhouse.rss_while_shipping_mb $(echo "$hwm" | awk '{ printf "%.1f", $1 / 1024 }') MB"
echo "BENCH clickhouse.ingest_cpu_s_collector $(((a1 - a0) / hz)) s"
echo "BENCH clickhouse.ingest_cpu_s_server $(((s1 - s0) / hz)) s"
echo "BENCH clickhouse.ingest_cpu_s_producers $((pticks / hz)) s"
echo "BENCH clickhouse.ingest_seconds $(echo "$t0 $t1" | awk '{ printf "%.1f", ($2 - $1) / 1e9 }') s"
echo "BENCH clickhouse.ingest_merged_rows $((m1 - m0)) rows"
echo "BENCH clickhouse.ingest_inserts $((i1 - i0)) inserts"
echo "BENCH clickhouse.ingest_inserts_delayed_ms $((d1 - d0)) ms"
echo "BENCH clickhouse.ingest_spans_per_block $(($(stat clickhouse.shipped_spans) / $(stat clickhouse.shipped_blocks))) spans"
# Where the shipper's time went: its inserts per table (server side).
ch_q "$CH_HTTP_1" "SYSTEM FLUSH LOGS" >/dev/null 2>&1
ch_q "$CH_HTTP_1" "SELECT extract(query, 'INSERT INTO ([a-z_.]+)') AS t, count(), round(avg(query_duration_ms)), max(query_duration_ms), sum(query_duration_ms) FROM system.query_log WHERE type = 2 AND query LIKE 'INSERT INTO%' GROUP BY t ORDER BY t FORMAT TSV" |
	awk '{ printf "# inserts into %s: %d, mean %d ms, max %d ms, total %.1f s\n", $1, $2, $3, $4, $5 / 1000 }'

# The same rows, inserted by clickhouse-client from RowBinary files into
# a copy of the tables, in parts of about 500k spans per table, at least
# four (one 2M-span file, and a 2.5M-span part at 10M, had the server
# reset the connection; the collector too inserts in blocks).
PARTS=$(( (SPANS + 499999) / 500000 ))
[ "$PARTS" -lt 4 ] && PARTS=4
ch_q "$CH_HTTP_1" "CREATE DATABASE copy" >/dev/null
TABLES="spans span_index trace_index operations span_time trace_spans op_minutes attr_index"
for t in $TABLES; do
	ch_q "$CH_HTTP_1" "CREATE TABLE copy.$t AS $DB.${t}_local" >/dev/null
	key=$(case $t in operations|op_minutes) echo "cityHash64(service, name)" ;; *) echo "cityHash64(trace_id)" ;; esac)
	for part in $(seq 0 $((PARTS - 1))); do
		ch_q "$CH_HTTP_1" "SELECT * FROM $DB.${t}_local WHERE $key % $PARTS = $part FORMAT RowBinary" >"$TMP/$t.$part.rb"
	done
done
c0=$(mono_ns)
for t in $TABLES; do
	for part in $(seq 0 $((PARTS - 1))); do
		# A small table (the catalog) leaves some parts empty.
		[ -s "$TMP/$t.$part.rb" ] || continue
		clickhouse-client --host 127.0.0.1 --port "$CH_TCP_1" \
			--query "INSERT INTO copy.$t FORMAT RowBinary" <"$TMP/$t.$part.rb" || exit 1
	done
done
c1=$(mono_ns)
crate=$(echo "$SPANS $c0 $c1" | awk '{ printf "%.0f", $1 / (($3 - $2) / 1e9) }')
echo "BENCH clickhouse.client_insert_rows_per_s $crate spans/s"
echo "BENCH clickhouse.ingest_vs_client_ratio $(echo "$rate $crate" | awk '{ printf "%.2f", $1 / $2 }') ratio"
bytes=$(ch_q "$CH_HTTP_1" "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '$DB' AND active")
echo "BENCH clickhouse.bytes_per_span $(echo "$bytes $SPANS" | awk '{ printf "%.1f", $1 / $2 }') bytes"
[ -n "$CH_BENCH_INGEST_ONLY" ] && exit 0

"$BENCH" query "$A_Q" $PRODUCERS "$TRACES" "$BASE" "$STEP" "$ITER" |
	sed 's/^BENCH query\./BENCH clickhouse./'

start_ch_collector b "clickhouse://$CH_URL/$DB?spool=$TMP/spool-b" --retention 0 || exit 1
B_IN=$COLL_INGEST B_Q=$COLL_QUERY

# Search by service while spans arrive: 40 new traces (320 spans) every
# ~0.3 s into collector b, which ships them every 500 ms as a live
# cluster's collectors do; the searches go to a, as tracecli's would
# (a's own spool is empty, so no query waits for a shipment).
rm -f "$TMP/live.stop"
(i=0; while [ ! -e "$TMP/live.stop" ]; do
	i=$((i + 1))
	"$TOOL" send "$B_IN" $((5000 + i)) 40 40 "$(date +%s%N)" 5000000 >/dev/null || exit 1
	sleep 0.2
done) &
LIVE=$!
track $LIVE
sleep 2
"$BENCH" search "$A_Q" "$ITER" search_service_live_p99_us |
	sed 's/^BENCH query\./BENCH clickhouse./'
touch "$TMP/live.stop"
wait $LIVE

# Visibility: a trace acknowledged by collector a, found through b.
for i in $(seq 1 20); do
	"$TOOL" send "$A_IN" $((100 + i)) 1 1 "$(date +%s%N)" 1000 "$TMP/vis" >/dev/null
	s0=$(mono_ns)
	tid=$(tail -1 "$TMP/vis" | cut -d' ' -f1)
	until "$TOOL" get "$B_Q" "$tid" >/dev/null 2>&1; do sleep 0.02; done
	echo $(( ($(mono_ns) - s0) / 1000000 ))
done | sort -n | tail -1 | awk '{ print "BENCH clickhouse.visibility_p99_ms " $1 " ms" }'
