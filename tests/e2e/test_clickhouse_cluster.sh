#!/bin/sh
# The ClickHouse backend on a real 2-shard x 2-replica cluster with one
# ZooKeeper (free loopback ports, temp dir; started once): two stateless
# collectors, each answering for the spans the other ingested; kill -9 of
# a replica mid-ingest (quorum 2, then quorum 1 once ZooKeeper sees it
# gone): no acknowledged span lost, none stored twice, the replica catches
# up; kill -9 of a collector mid-ingest; retention drops a day on every
# replica.
. tests/e2e/lib.sh
. tests/e2e/clickhouse_lib.sh
CLI="$BIN/tracecli"
TOOL="$BUILD/tools/collector_tool"

if ! ch_available || ! zk_available; then
	skip "clickhouse-server or zookeeper not installed (make deps)"
	finish
fi
# Five servers and the waits for ZooKeeper take minutes; the sanitizer
# builds check the same code through test_clickhouse_diff.sh.
if is_sanitized "$BIN/tracecollector"; then
	skip "cluster faults run in the normal build only (CI time)"
	finish
fi
ch_start_cluster || { fail "cluster starts"; finish; }
pass "ZooKeeper and 4 ClickHouse servers answer"
DB=traces_cl
spec() { echo "clickhouse://$CH_URL/$DB?cluster=traces&quorum=2&spool=$TMP/spool-$1&flush_ms=200"; }
count() { ch_q "$1" "$2"; }

start_ch_collector a "$(spec a)" --retention 0 || { fail "collector a starts"; finish; }
A_INGEST=$COLL_INGEST A_QUERY=$COLL_QUERY A_PID=$COLL_PID
start_ch_collector b "$(spec b)" --retention 0 || { fail "collector b starts"; finish; }
B_INGEST=$COLL_INGEST B_QUERY=$COLL_QUERY B_PID=$COLL_PID
check_eq "the schema exists on every server" \
	"$(for n in 1 2 3 4; do eval "p=\$CH_HTTP_$n"; count "$p" "EXISTS TABLE $DB.spans_local"; done | tr -d '\n')" 1111

# until_ok CMD...: retries CMD for up to 60 s (cross-collector visibility
# is the other collector's flush_ms plus one insert).
until_ok() {
	i=0
	until "$@" >"$TMP/until.out" 2>&1; do
		i=$((i + 1)); [ $i -gt 240 ] && return 1; sleep 0.25
	done
}

# --- 1. each collector answers for the other's spans.
NOW=$(date +%s)
"$TOOL" send "$A_INGEST" 11 200 4 "$((NOW - 100))000000000" 1000000 "$TMP/acked-a" >/dev/null 2>&1
"$TOOL" send "$B_INGEST" 12 200 4 "$((NOW - 100))000000000" 1000000 "$TMP/acked-b" >/dev/null 2>&1
check "collector b answers for every span a acknowledged" until_ok "$TOOL" verify-record "$B_QUERY" "$TMP/acked-a"
check "collector a answers for every span b acknowledged" until_ok "$TOOL" verify-record "$A_QUERY" "$TMP/acked-b"
check_eq "the spans are spread over both shards (each holds some)" \
	"$(for n in 1 3; do eval "p=\$CH_HTTP_$n"; [ "$(count "$p" "SELECT count() FROM $DB.spans_local")" -gt 0 ] && echo y; done | tr -d '\n')" yy
check_eq "replicas of a shard hold the same spans (quorum 2)" \
	"$(count "$CH_HTTP_1" "SELECT count() FROM $DB.spans_local")" \
	"$(count "$CH_HTTP_2" "SELECT count() FROM $DB.spans_local")"
"$CLI" search --service svc-3 --limit 1000 --json --collector "$B_QUERY" >"$TMP/s" 2>&1
check "search through b sees traces of both producers" python3 -c "
import json; d = json.load(open('$TMP/s'))
ids = {t['trace_id'][:8] for t in d}
assert len(d) > 100, len(d)"
# Longest first with an attribute: a subquery per shard picks the traces.
longest() {
	"$CLI" search --attr http.method=GET --errors --longest --limit 5 --json \
		--collector "$1" >"$2" 2>&1
}
longest "$A_QUERY" "$TMP/longest-a"
longest "$B_QUERY" "$TMP/longest-b"
check "search --attr --errors --longest: 5 traces, the same through a and b" \
	python3 -c "
import json; a = json.load(open('$TMP/longest-a')); b = json.load(open('$TMP/longest-b'))
assert len(a) == 5 and a == b, (len(a), a == b)"

# --- 1b. A v1 cluster (the tables of v2, v3 and v4 not there yet)
# migrates when a collector starts: their tables are created ON CLUSTER and
# filled from span_index through the Distributed tables, each row on its
# shard, on both replicas.
"$CLI" search --attr http.method=GET --attr host.name=host-3 --limit 1000 --json --collector "$A_QUERY" >"$TMP/attr1" 2>&1
check "search --attr through a finds traces" grep -q '"root_service"' "$TMP/attr1"
stop_pid "$A_PID"; stop_pid "$B_PID"
for t in span_time trace_spans op_minutes attr_index; do
	count "$CH_HTTP_1" "DROP TABLE $DB.$t ON CLUSTER traces" >/dev/null
	count "$CH_HTTP_1" "DROP TABLE $DB.${t}_local ON CLUSTER traces" >/dev/null
done
count "$CH_HTTP_1" "TRUNCATE TABLE $DB.schema_version_local ON CLUSTER traces" >/dev/null
count "$CH_HTTP_1" "INSERT INTO $DB.schema_version VALUES (1, 0)" "insert_distributed_sync=1" >/dev/null
start_ch_collector a "$(spec a)" --retention 0 || { fail "collector a starts on v1"; finish; }
A_INGEST=$COLL_INGEST A_QUERY=$COLL_QUERY A_PID=$COLL_PID
start_ch_collector b "$(spec b)" --retention 0 || { fail "collector b starts on v1"; finish; }
B_INGEST=$COLL_INGEST B_QUERY=$COLL_QUERY B_PID=$COLL_PID
check_eq "v1 cluster migrated to version 4" \
	"$(count "$CH_HTTP_3" "SELECT max(version) FROM $DB.schema_version")" 4
for n in 1 2 3 4; do
	eval "p=\$CH_HTTP_$n"
	count "$p" "SYSTEM SYNC REPLICA $DB.span_time_local" >/dev/null
	count "$p" "SYSTEM SYNC REPLICA $DB.trace_spans_local" >/dev/null
done
check_eq "every replica's span_time and trace_spans hold its shard's spans once" \
	"$(for n in 1 2 3 4; do eval "p=\$CH_HTTP_$n"; count "$p" "SELECT (SELECT count() FROM $DB.span_index_local) * 2 = (SELECT count() FROM $DB.span_time_local) + (SELECT count() FROM $DB.trace_spans_local)"; done | tr -d '\n')" 1111
"$CLI" search --service svc-3 --limit 1000 --json --collector "$A_QUERY" >"$TMP/s2" 2>&1
check "search answers the same after the migration" cmp -s "$TMP/s" "$TMP/s2"
check_eq "op_minutes counts every span once" \
	"$(count "$CH_HTTP_2" "SELECT (SELECT sum(n) FROM $DB.op_minutes) = (SELECT count() FROM $DB.span_index)")" 1
for n in 1 2 3 4; do
	eval "p=\$CH_HTTP_$n"
	count "$p" "SYSTEM SYNC REPLICA $DB.attr_index_local" >/dev/null
done
check_eq "every replica's attr_index holds only its shard's traces, all of them" \
	"$(for n in 1 2 3 4; do eval "p=\$CH_HTTP_$n"; count "$p" "SELECT (SELECT uniqExact(trace_id) FROM $DB.attr_index_local) = (SELECT uniqExact(trace_id) FROM $DB.span_index_local)"; done | tr -d '\n')" 1111
"$CLI" search --attr http.method=GET --attr host.name=host-3 --limit 1000 --json --collector "$B_QUERY" >"$TMP/attr2" 2>&1
check "search --attr answers the same after the migration" cmp -s "$TMP/attr1" "$TMP/attr2"

# --- 2. kill -9 of a replica (server 1: shard 1, the first host) mid-ingest.
"$TOOL" send "$A_INGEST" 13 2500 4 "$((NOW - 50))000000000" 1000000 "$TMP/acked-r" >"$TMP/send-r" 2>&1 &
SEND=$!
wait_lines "$TMP/acked-r" 2000 "$SEND"
ch_kill9 1
wait "$SEND"
check "ingest went on with a replica dead ($(cat "$TMP/send-r"))" grep -q "acked=20000" "$TMP/send-r"
check "reads go on through the live replica" until_ok "$TOOL" verify-record "$B_QUERY" "$TMP/acked-r"
"$CLI" stats --json --collector "$A_QUERY" >"$TMP/stats" 2>&1
ch_restart 1 || { fail "server 1 restarts"; finish; }
count "$CH_HTTP_1" "SYSTEM SYNC REPLICA $DB.spans_local" >/dev/null
check_eq "the restarted replica caught up with its peer" \
	"$(count "$CH_HTTP_1" "SELECT count() FROM $DB.spans_local")" \
	"$(count "$CH_HTTP_2" "SELECT count() FROM $DB.spans_local")"
check_eq "no span stored twice on the cluster" \
	"$(count "$CH_HTTP_3" "SELECT count() - uniqExact(trace_id, span_id) FROM $DB.spans")" 0

# --- 3. kill -9 of a collector mid-ingest.
"$TOOL" send "$A_INGEST" 14 2000 4 "$((NOW - 40))000000000" 1000000 "$TMP/acked-k" >"$TMP/send-k" 2>&1 &
SEND=$!
wait_lines "$TMP/acked-k" 3000 "$SEND"
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
wait "$SEND"
start_ch_collector a "$(spec a)" --retention 0 || { fail "collector a restarts"; finish; }
A_QUERY=$COLL_QUERY A_PID=$COLL_PID A_INGEST=$COLL_INGEST
check "after kill -9 of a collector: every acknowledged span is there" \
	until_ok "$TOOL" verify-record "$B_QUERY" "$TMP/acked-k"
check_eq "still no span stored twice" \
	"$(count "$CH_HTTP_2" "SELECT count() - uniqExact(trace_id, span_id) FROM $DB.spans")" 0

# --- 4. retention drops a day on every shard and replica.
old=$(( (NOW / 86400 - 3) * 86400 + 3600 ))
"$TOOL" send "$A_INGEST" 15 100 4 "${old}000000000" 1000000 >/dev/null 2>&1
"$CLI" services --collector "$A_QUERY" >/dev/null 2>&1 # ships a's spool
# parts: per server, 0 or 1: does it hold a part of the old day?
parts() {
	for n in 1 2 3 4; do
		eval "p=\$CH_HTTP_$n"
		count "$p" "SELECT count() > 0 FROM system.parts WHERE database = '$DB' AND active AND partition = toString(toDate($old))"
	done | tr -d '\n'
}
check_eq "the old day is on every server" "$(parts)" 1111
stop_pid "$A_PID"
start_ch_collector a "$(spec a)" --retention 30s || { fail "collector a with --retention starts"; finish; }
i=0
while [ "$(parts)" != 0000 ] && [ $i -lt 240 ]; do i=$((i + 1)); sleep 0.25; done
check_eq "the old day is gone from every server" "$(parts)" 0000
finish
