#!/bin/sh
# Compares two builds of tracecollector by the CPU time (user + system,
# /proc/PID/stat) the collector process spends on the same work: ingesting
# 1M generated spans from 4 producers, then bench_collector's query mix
# (300 of each of its 5 queries) once compaction caught up. CPU time moves
# far less with the machine's load than wall-clock rates and p99s do (this
# VM has no hardware counters for perf). Rounds alternate which build goes
# first. Every process started here is stopped by PID.
# With RESEND=1 the same spans are sent a second time after the first
# ingest (every trace stored already, every span dropped by the resend
# filter), and that pass's CPU is printed as resend_cpu_ns_per_span.
# Usage: sh bench/compare_collector_cpu.sh OLD_BUILD NEW_BUILD [ROUNDS]
# (each BUILD holds bin/tracecollector, bench/bench_collector and
# tools/collector_tool). Prints "CPU side name value" lines.
OLD=${1:?usage: compare_collector_cpu.sh OLD_BUILD NEW_BUILD [ROUNDS]}
NEW=${2:?usage: compare_collector_cpu.sh OLD_BUILD NEW_BUILD [ROUNDS]}
ROUNDS=${3:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/compare-cpu.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT
SPANS=1000000 PRODUCERS=4 BATCH=64 ITER=300
TRACES=$((SPANS / 8 / PRODUCERS))
BASE=$(($(date +%s%N) - 7200000000000))
STEP=$((7200000000000 / TRACES))

# start BUILD NAME: a collector on a fresh store; sets CPID.
start() {
	rm -f "$T/$2.ready"
	"$1/bin/tracecollector" --db "$T/db-$2" --listen "ipc://$T/$2-in.sock" \
		--query-listen "ipc://$T/$2-q.sock" --otlp-http none \
		--otlp-grpc off --zipkin off --jaeger-http off \
		--ready-file "$T/$2.ready" >"$T/$2.log" 2>&1 &
	CPID=$!
	PIDS="$PIDS $CPID"
	while [ ! -s "$T/$2.ready" ]; do
		kill -0 "$CPID" 2>/dev/null || { cat "$T/$2.log" >&2; exit 1; }
		sleep 0.05
	done
}

# produce BUILD NAME: the producers send every span, then exit.
produce() {
	rm -f "$T/go"
	pp=""
	for s in $(seq 1 $PRODUCERS); do
		"$1/bench/bench_collector" produce "ipc://$T/$2-in.sock" "$s" \
			$TRACES $BATCH $BASE $STEP "$T/go" >/dev/null &
		pp="$pp $!"
	done
	while [ "$(ls "$T"/go.ready.* 2>/dev/null | wc -l)" -lt $PRODUCERS ]; do
		sleep 0.05
	done
	touch "$T/go"
	for p in $pp; do wait "$p"; done
	rm -f "$T"/go.ready.*
}

# cpu_ns PID: CPU time the process used so far (100 Hz ticks).
cpu_ns() { awk '{ printf "%.0f\n", ($14 + $15) * 10000000 }' "/proc/$1/stat"; }

pending() {
	"$1/tools/collector_tool" stats "ipc://$T/$2-q.sock" |
		awk '$1 == "store.pending_compaction" { print $2 }'
}

for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="new old"; else order="old new"; fi
	for side in $order; do
		[ $side = old ] && B=$OLD || B=$NEW
		rm -rf "$T/db-$side"
		start "$B" $side
		c0=$(cpu_ns $CPID)
		produce "$B" $side
		c1=$(cpu_ns $CPID)
		echo "CPU $side ingest_cpu_ns_per_span $(( (c1 - c0) / SPANS ))"
		if [ "${RESEND:-0}" = 1 ]; then
			produce "$B" $side
			c2=$(cpu_ns $CPID)
			echo "CPU $side resend_cpu_ns_per_span $(( (c2 - c1) / SPANS ))"
		fi
		i=0
		while [ "$(pending "$B" $side)" != 0 ] && [ $i -lt 240 ]; do
			i=$((i + 1))
			sleep 0.5
		done
		c0=$(cpu_ns $CPID)
		"$B/bench/bench_collector" query "ipc://$T/$side-q.sock" \
			$PRODUCERS $TRACES $BASE $STEP $ITER >/dev/null
		c1=$(cpu_ns $CPID)
		echo "CPU $side query_cpu_us_per_query $(( (c1 - c0) / (ITER * 5) / 1000 ))"
		kill $CPID
		wait $CPID 2>/dev/null
	done
done
