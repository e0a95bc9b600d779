#!/bin/sh
# Index records follow acknowledged spans through a buffer
# (collector/index/index_buffer.c). Killed with -9 before the buffer is written,
# the collector re-indexes the logged spans when it restarts: every
# acknowledged span is searchable, by service, by attribute (values kept in
# their own records and values seen once, kept in hash buckets) and by
# duration, and the recovery is counted.
. tests/e2e/lib.sh
TOOL="$BUILD/tools/collector_tool"
CLI="$BIN/tracecli"
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

# restart LOG: the collector again on the same store, logging to $TMP/LOG.log.
restart() {
	rm -f "$TMP/ibuf.ready"
	"$BIN/tracecollector" --db "$COLL_DB" --listen "$COLL_INGEST" \
		--query-listen "$COLL_QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off --log-level info \
		--ready-file "$TMP/ibuf.ready" >"$TMP/$1.log" 2>&1 &
	COLL_PID=$!
	track "$COLL_PID"
}

# A flush interval longer than the test: nothing is indexed before the kill.
start_collector ibuf --index-flush 60s --index-flush-spans 16m ||
	{ fail "collector starts"; finish; }
BASE=$(($(date +%s) * 1000000000 - 600000000000))
"$TOOL" send "$COLL_INGEST" 3 40 10 "$BASE" 1000000 "$TMP/acked.txt" \
	>"$TMP/send.out" 2>&1
check_eq "all spans acknowledged" "$(wc -l <"$TMP/acked.txt")" 320
kill -9 "$COLL_PID"
wait "$COLL_PID" 2>/dev/null

restart ibuf2
check "the collector restarts" wait_for_file "$TMP/ibuf.ready" 30
n=$("$TOOL" stats "$COLL_QUERY" | awk '$1 == "index.spans_recovered" { print $2 }')
check_eq "the logged spans were re-indexed" "$n" 320
check "the restart says so" grep -q "re-indexing 320 spans" "$TMP/ibuf2.log"

n=$("$TOOL" search "$COLL_QUERY" attr=component=http limit=1000 |
	grep -c '^trace')
check_eq "every trace found by a shared attribute" "$n" 40
n=$("$TOOL" search "$COLL_QUERY" service=svc-2 limit=1000 | grep -c '^trace')
check "traces found by service" test "$n" -gt 0
n=$("$TOOL" search "$COLL_QUERY" min=1 limit=1000 | grep -c '^trace')
check_eq "every trace found by span duration" "$n" 40

# A value unique to one span (request.id) lives in a hash bucket.
tid=$(head -n 1 "$TMP/acked.txt" | cut -d' ' -f1)
rid=$("$CLI" --collector "$COLL_QUERY" show "$tid" --json |
	jq -r '.spans[0].attributes["request.id"]')
check "a request.id was read back" test -n "$rid" -a "$rid" != null
out=$("$TOOL" search "$COLL_QUERY" "attr=request.id=$rid" limit=10 |
	grep '^trace' | cut -d' ' -f2)
check_eq "search by a value seen once finds its trace" "$out" "$tid"
n=$("$TOOL" search "$COLL_QUERY" "attr=request.id=${rid}x" limit=10 |
	grep -c '^trace')
check_eq "a value never sent finds nothing" "$n" 0

# A second restart finds nothing left to re-index.
stop_pid "$COLL_PID"
restart ibuf3
check "the collector restarts again" wait_for_file "$TMP/ibuf.ready" 30
n=$("$TOOL" stats "$COLL_QUERY" | awk '$1 == "index.spans_recovered" { print $2 }')
check_eq "nothing is re-indexed twice" "$n" 0
n=$("$TOOL" search "$COLL_QUERY" attr=component=http limit=1000 |
	grep -c '^trace')
check_eq "the index survived the clean restart" "$n" 40
finish
