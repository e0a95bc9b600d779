#!/bin/sh
# kill -9 during ingest, restart: every acknowledged span is present.
# The producer records each batch's span IDs only after its ack.
. tests/e2e/lib.sh
TOOL="$BUILD/tools/collector_tool"
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

start_collector crash || { fail "collector starts"; finish; }
BASE=$(($(date +%s) * 1000000000 - 1800000000000))
"$TOOL" send "$COLL_INGEST" 7 200000 4 "$BASE" 1000 "$TMP/acked.txt" \
	>"$TMP/send.out" 2>&1 &
SENDER=$!
track "$SENDER"
# Wait until a good number of batches were acknowledged (not a timer).
i=0
acked_lines() { [ -f "$TMP/acked.txt" ] && wc -l <"$TMP/acked.txt" || echo 0; }
while [ "$(acked_lines)" -lt 20000 ]; do
	i=$((i + 1))
	[ "$i" -gt 1200 ] && break
	sleep 0.05
done
kill -9 "$COLL_PID"
wait "$COLL_PID" 2>/dev/null
wait "$SENDER" 2>/dev/null
acked=$(wc -l <"$TMP/acked.txt")
check "some spans were acknowledged before the kill" test "$acked" -ge 20000
check "the producer had not finished" sh -c \
	"! grep -q '^acked=1600000\$' '$TMP/send.out'"

rm -f "$TMP/crash.ready"
"$BIN/tracecollector" --db "$COLL_DB" --listen "$COLL_INGEST" \
	--query-listen "$COLL_QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
	--ready-file "$TMP/crash.ready" >"$TMP/crash2.log" 2>&1 &
COLL_PID=$!
track "$COLL_PID"
check "the collector restarts on the crashed store" \
	wait_for_file "$TMP/crash.ready" 30
out=$("$TOOL" verify-record "$COLL_QUERY" "$TMP/acked.txt")
check_eq "every acknowledged span is present" "$out" \
	"checked=$acked missing=0"
finish
