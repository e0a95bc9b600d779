#!/bin/sh
# A timed-out insert on a single server (plain MergeTree: nothing
# deduplicates a resent block) stores no span twice. A loopback proxy
# (ch_withhold_proxy.py) in front of clickhouse-server lets the first
# insert into each span table (spans, span_index, trace_index, span_time,
# trace_spans, op_minutes) through and withholds the server's answer, so the
# collector's insert times out (timeout_ms=1500) after the server
# committed it. The shipper then asks which blocks
# landed (ch_landed.c: by row keys; op_minutes, counts without keys, by
# its query ID in system.query_log) before sending again: every
# acknowledged span is in ClickHouse, once, in every table.
. tests/e2e/lib.sh
. tests/e2e/clickhouse_lib.sh
CLI="$BIN/tracecli"
TOOL="$BUILD/tools/collector_tool"

if ! ch_available; then
	skip "clickhouse-server not installed (make deps)"
	finish
fi
ch_start_single || { fail "clickhouse-server starts"; finish; }
python3 tests/e2e/ch_withhold_proxy.py "$CH_HTTP_1" "$TMP/proxy.port" \
	"$TMP/proxy.log" spans_local span_index_local trace_index_local \
	span_time_local trace_spans_local op_minutes_local \
	>"$TMP/proxy.out" 2>&1 &
track $!
wait_for_file "$TMP/proxy.port" 30 || { fail "the proxy starts"; finish; }
PROXY=$(cat "$TMP/proxy.port")
DB=traces_to

# The schema goes through the proxy too (no INSERT before it is made).
start_ch_collector c1 "clickhouse://127.0.0.1:$PROXY/$DB?spool=$TMP/spool&flush_ms=200&timeout_ms=1500" \
	--retention 0 || { fail "collector starts behind the proxy"; finish; }
"$TOOL" send "$COLL_INGEST" 5 500 4 "$(($(date +%s) - 100))000000000" 1000000 \
	"$TMP/acked" >"$TMP/send" 2>&1
check "4000 spans acknowledged" grep -q "acked=4000" "$TMP/send"

# stat NAME: the collector's figure.
stat() { "$TOOL" stats "$COLL_QUERY" | awk -v n="$1" '$1 == n { print $2 }'; }
i=0
until [ "$(stat clickhouse.shipped_spans)" = 4000 ] || [ $i -gt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "the proxy withheld the answers to six committed inserts" \
	"$(sort "$TMP/proxy.log" 2>/dev/null | tr '\n' ' ')" \
	"withheld op_minutes_local withheld span_index_local withheld span_time_local withheld spans_local withheld trace_index_local withheld trace_spans_local "
check_eq "every span shipped in the end" "$(stat clickhouse.shipped_spans)" 4000
check "the shipper saw the timeouts" test "$(stat clickhouse.insert_errors)" -ge 6
check "... and found those blocks in instead of sending them again" \
	test "$(stat clickhouse.resends_avoided)" -ge 6
"$TOOL" verify-record "$COLL_QUERY" "$TMP/acked" >"$TMP/verify" 2>&1
check "every acknowledged span is in ClickHouse ($(cat "$TMP/verify"))" \
	grep -q "missing=0" "$TMP/verify"
q() { ch_q "$CH_HTTP_1" "$1"; }
check_eq "spans: 4000 rows, none twice" \
	"$(q "SELECT count(), uniqExact(trace_id, span_id) FROM $DB.spans_local" | tr '\t' ' ')" "4000 4000"
check_eq "span_index: 4000 rows, none twice" \
	"$(q "SELECT count(), uniqExact(trace_id, span_id) FROM $DB.span_index_local" | tr '\t' ' ')" "4000 4000"
for t in span_time trace_spans; do
	check_eq "$t: 4000 rows, none twice" \
		"$(q "SELECT count(), uniqExact(trace_id, span_id) FROM $DB.${t}_local" | tr '\t' ' ')" "4000 4000"
done
check_eq "op_minutes counts each span once (its outcome read from query_log)" \
	"$(q "SELECT sum(n) FROM $DB.op_minutes_local")" 4000
check_eq "trace_index: no row twice" \
	"$(q "SELECT count() - uniqExact(trace_id, min_start, max_start) FROM $DB.trace_index_local")" 0
"$CLI" search --limit 1000 --json --collector "$COLL_QUERY" >"$TMP/out" 2>&1
check_eq "search counts each trace's 8 spans once" \
	"$(python3 -c "
import json; t = json.load(open('$TMP/out'))
print(len(t), sorted({x['span_count'] for x in t}))")" "500 [8]"
finish
