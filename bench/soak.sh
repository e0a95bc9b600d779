#!/bin/sh
# Soak test (make soak SOAK_SECONDS=N): a real tracecollector on ipc sockets
# in a temp dir, its maximum ingest measured for a few seconds with
# libtrace producers running flat out, then SOAK_SECONDS of producers at
# half that rate (SOAK_RATE=spans/s overrides) plus a steady query load.
# Every 5 s one line: elapsed, collector RSS, spans ingested, ingest rate,
# query p50/p99. Ends with
#   SOAK ... rss_start_mb=.. rss_end_mb=.. ... rss_max_mb=..
#        query_p99_first_ms=.. query_p99_last_ms=..
# and a verdict; exits 1 when RSS or query latency keeps growing.
# Everything it starts is stopped by PID on exit.
# Usage: bench/soak.sh BUILD_DIR
BUILD=${1:-build}
SOAK_SECONDS=${SOAK_SECONDS:-60}
CAL_SECONDS=${SOAK_CAL_SECONDS:-6}
LOAD="$BUILD/bench/soak_load"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trace-soak.XXXXXX")
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "soak: $*" >&2
	exit 2
}

INGEST="ipc://$TMP/ingest.sock"
QUERY="ipc://$TMP/query.sock"
"$BUILD/bin/tracecollector" --db "$TMP/db" --listen "$INGEST" \
	--query-listen "$QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
	--ready-file "$TMP/ready" >"$TMP/collector.log" 2>&1 &
COLL=$!
PIDS="$PIDS $COLL"
i=0
while [ ! -s "$TMP/ready" ]; do
	i=$((i + 1))
	[ "$i" -gt 200 ] && { cat "$TMP/collector.log" >&2; die "no collector"; }
	sleep 0.05
done
export TRACE_ENDPOINT="$INGEST"

rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$COLL/status"; }
accepted() { "$LOAD" stats "$QUERY" | sed -n 's/^spans_accepted //p'; }
now_ms() { date +%s%3N; }

# 1. Maximum ingest: two producers flat out; count over the middle seconds.
if [ -z "$SOAK_RATE" ]; then
	CAL=""
	for s in a b; do
		"$LOAD" produce "cal-$s" 0 "$CAL_SECONDS" >"$TMP/cal-$s.log" &
		CAL="$CAL $!"
	done
	PIDS="$PIDS $CAL"
	sleep 1
	a0=$(accepted); t0=$(now_ms)
	sleep $((CAL_SECONDS - 2))
	a1=$(accepted); t1=$(now_ms)
	for p in $CAL; do
		wait "$p"
	done
	max=$(( (a1 - a0) * 1000 / (t1 - t0) ))
	[ "$max" -gt 0 ] || die "measured no ingest"
	SOAK_RATE=$((max / 2))
	echo "soak: max ingest ${max} spans/s (2 libtrace producers flat out," \
		"${CAL_SECONDS}s); soaking at ${SOAK_RATE} spans/s" \
		"for ${SOAK_SECONDS}s"
else
	echo "soak: soaking at ${SOAK_RATE} spans/s for ${SOAK_SECONDS}s"
fi

# 2. The soak: two producers at half the rate each, one query client.
for s in a b; do
	"$LOAD" produce "soak-$s" $((SOAK_RATE / 2)) "$SOAK_SECONDS" \
		>"$TMP/prod-$s.log" &
	PIDS="$PIDS $!"
	eval "PROD_$s=$!"
done
"$LOAD" query "$QUERY" "$SOAK_SECONDS" >"$TMP/query.log" &
QPID=$!
PIDS="$PIDS $QPID"

start=$(now_ms)
base=$(accepted)
last_acc=$base; last_t=$start
rss_start="" rss_max=0 samples=0 lastq=""
: >"$TMP/p99"
: >"$TMP/rss"
printf '%8s %9s %12s %10s %9s %9s\n' elapsed rss_mb spans spans/s \
	q_p50_ms q_p99_ms
while :; do
	sleep 5
	t=$(now_ms)
	el=$(( (t - start) / 1000 ))
	rss=$(rss_kb)
	[ -n "$rss" ] || die "collector exited: $(tail -n 5 "$TMP/collector.log")"
	acc=$(accepted)
	rate=$(( (acc - last_acc) * 1000 / (t - last_t) ))
	last_acc=$acc; last_t=$t
	# The query client's newest 5 s window, unless already shown.
	q=$(tail -n 1 "$TMP/query.log")
	p50="" p99=""
	if [ -n "$q" ] && [ "$q" != "$lastq" ]; then
		p50=$(echo "$q" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p')
		p99=$(echo "$q" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
		echo "$p99" >>"$TMP/p99"
		lastq=$q
	fi
	rss_mb=$((rss / 1024))
	printf '%7ss %9s %12s %10s %9s %9s\n' "$el" "$rss_mb" \
		$((acc - base)) "$rate" "${p50:--}" "${p99:--}"
	samples=$((samples + 1))
	[ -z "$rss_start" ] && rss_start=$rss_mb
	echo "$rss_mb" >>"$TMP/rss"
	[ "$rss_mb" -gt "$rss_max" ] && rss_max=$rss_mb
	[ $(( (t - start) / 1000 + 5 )) -gt "$SOAK_SECONDS" ] && break
done
wait "$QPID"
rss_end=$rss_mb
for s in a b; do
	eval "wait \$PROD_$s"
done
cat "$TMP"/prod-*.log | sed 's/^/soak: /'
final=$(($(accepted) - base))
# Query p99 at the start and at the end: the median of the per-window p99
# over the first and the last third of the windows (one slow window, e.g.
# a RocksDB flush, does not decide the verdict).
# RSS saws up and down as RocksDB flushes memtables: compare the peak of
# the middle third of the samples with the peak of the last third.
nr=$(wc -l <"$TMP/rss")
kr=$((nr / 3)); [ "$kr" -ge 1 ] || kr=1
rss_mid=$(head -n $((nr - kr)) "$TMP/rss" | tail -n "$kr" | sort -n | tail -n 1)
rss_last=$(tail -n "$kr" "$TMP/rss" | sort -n | tail -n 1)
nw=$(wc -l <"$TMP/p99")
k=$((nw / 3)); [ "$k" -ge 1 ] || k=1
median() { sort -n | sed -n "$(( (k + 1) / 2 ))p"; }
p99_first=$(head -n "$k" "$TMP/p99" | median)
p99_last=$(tail -n "$k" "$TMP/p99" | median)

echo "SOAK seconds=$SOAK_SECONDS rate=$SOAK_RATE spans=$final" \
	"rss_start_mb=$rss_start rss_end_mb=$rss_end rss_peak_mid_mb=$rss_mid" \
	"rss_peak_last_mb=$rss_last" \
	"rss_max_mb=$rss_max query_p99_first_ms=${p99_first:-0}" \
	"query_p99_last_ms=${p99_last:-0}"

# Verdict. RSS: the last third's peak may exceed the middle third's by at
# most 10% + 16 MB (RocksDB fills its memtables, up to 96 MB, and its
# 32 MB block cache first, then stays flat; short runs may not get there).
# Latency:
# the last third's p99 within 2x + 5 ms of the first third's.
verdict=PASS
if [ $((rss_last * 10)) -gt $((rss_mid * 11 + 160)) ]; then
	verdict=FAIL
	echo "soak: RSS kept growing: peak ${rss_mid} -> ${rss_last} MB"
fi
if [ -n "$p99_first" ] && awk -v a="$p99_first" -v b="$p99_last" \
	'BEGIN { exit !(b > 2 * a + 5) }'; then
	verdict=FAIL
	echo "soak: query p99 grew: ${p99_first} -> ${p99_last} ms"
fi
echo "SOAK verdict=$verdict"
[ "$verdict" = PASS ]
