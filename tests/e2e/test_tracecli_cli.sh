#!/bin/sh
# tracecli against a real collector: import an OTLP JSON fixture, then
# show (text and JSON), search, slow, services, operations, stats, export
# and re-import; the exit codes (usage 2, not found 1, unreachable 3); and
# escape-injection strings coming back inert.
. tests/e2e/lib.sh

CLI="$BIN/tracecli"
TID=4bf92f3577b34da6a3ce929d0e0e4736
ESC=$(printf '\033')

# fixture FILE: the checkout trace, one minute ago.
fixture() {
	s=$(($(date +%s) - 60))
	sed "s/@S@/$s/g" tests/e2e/fixtures/tracecli_checkout.json >"$1"
}

# Exit codes that need no collector.
"$CLI" show --bogus-flag >/dev/null 2>"$TMP/err"
check_eq "unknown flag exits 2" "$?" 2
grep -q "unknown flag" "$TMP/err" && grep -q "usage:" "$TMP/err"
check_eq "unknown flag prints usage" "$?" 0
"$CLI" search --min-duration 5parsecs >/dev/null 2>&1
check_eq "bad duration exits 2" "$?" 2
"$CLI" search --from yesterday >/dev/null 2>&1
check_eq "bad time exits 2" "$?" 2
"$CLI" frobnicate >/dev/null 2>&1
check_eq "unknown command exits 2" "$?" 2
"$CLI" show nothex >/dev/null 2>&1
check_eq "bad trace id exits 2" "$?" 2
"$CLI" slow --limit 3 >/dev/null 2>&1
check_eq "flag of another command exits 2" "$?" 2
"$CLI" search --help >/dev/null 2>&1
check_eq "--help exits 0" "$?" 0
start=$(date +%s)
"$CLI" --collector "ipc://$TMP/nobody.sock" show $TID >/dev/null 2>"$TMP/err"
rc=$?
check_eq "unreachable collector exits 3" "$rc" 3
check "unreachable collector is quick" [ $(($(date +%s) - start)) -le 5 ]
grep -q "cannot reach collector" "$TMP/err"
check_eq "unreachable collector says so" "$?" 0
TRACE_QUERY_ENDPOINT="ipc://$TMP/nobody.sock" "$CLI" services >/dev/null 2>&1
check_eq "TRACE_QUERY_ENDPOINT is used" "$?" 3

if [ ! -x "$BIN/tracecollector" ]; then
	skip "collector not built"
	finish
fi
start_collector c1 || { fail "collector start"; finish; }
Q="--collector $COLL_QUERY"
fixture "$TMP/checkout.json"

"$CLI" import "$TMP/checkout.json" --ingest "$COLL_INGEST" >"$TMP/out" 2>&1
check_eq "import exits 0" "$?" 0
check "import reports 11 spans" grep -q "imported 11 spans, 0 rejected" "$TMP/out"

COLUMNS=120 "$CLI" $Q show $TID >"$TMP/show" 2>&1
check_eq "show exits 0" "$?" 0
check "show has the header" grep -q "^Trace $TID .* 11 spans  4 services  1 error" "$TMP/show"
check "show has the root row" grep -q "^GET /checkout .*frontend .*120ms" "$TMP/show"
check "show indents children" grep -q "^│  └─ POST /charge .*payments .*77ms .*E" "$TMP/show"
check "show flags clock skew" grep -q "fraud.check .* K" "$TMP/show"
check "show flags a missing parent" grep -q "^retry.callback .* M " "$TMP/show"
check "show has a time axis" grep -q "SELF FLAG 0 .*50ms .*100ms" "$TMP/show"
width=$(sed '1d;$d' "$TMP/show" | while IFS= read -r l; do
	printf '%s' "$l" | wc -m; done | sort -n | tail -n 1)
check "show fits COLUMNS=120 (widest $width)" [ "$width" -le 120 ]
check "escapes are inert in text" sh -c "! grep -q '$ESC' '$TMP/show'"
check "escapes are visible" grep -q 'x\\x1b\[2J' "$TMP/show"
COLUMNS=80 "$CLI" $Q show $TID --plain >"$TMP/show80"
width=$(sed '1d;$d' "$TMP/show80" | while IFS= read -r l; do
	printf '%s' "$l" | wc -m; done | sort -n | tail -n 1)
check "show fits COLUMNS=80 (widest $width)" [ "$width" -le 80 ]

"$CLI" $Q show $TID --json >"$TMP/show.json"
check_eq "show --json exits 0" "$?" 0
check_eq "show --json spans" "$(jq '.spans | length' "$TMP/show.json")" 11
check_eq "show --json span keys" \
    "$(jq -c '.spans[0] | keys_unsorted' "$TMP/show.json")" \
    '["span_id","parent_span_id","service","name","kind","start_unix_nano","end_unix_nano","duration_ns","status","attributes","events"]'
check_eq "show --json error status" \
    "$(jq -r '.spans[] | select(.status == "error") | .name' "$TMP/show.json")" \
    "POST /charge"
check_eq "show --json keeps the raw name" \
    "$(jq -r '.spans[] | select(.span_id == "000000000000000b") | .name' "$TMP/show.json" | od -c | head -n 1 | tr -s ' ')" \
    "0000000 x 033 [ 2 J 033 [ 3 1 m R E D 342 200 256"
check "show --json output is inert" sh -c "! grep -q '$ESC' '$TMP/show.json'"

"$CLI" $Q show 0123456789abcdef0123456789abcdef >/dev/null 2>"$TMP/err"
check_eq "unknown trace exits 1" "$?" 1
check "unknown trace says not found" grep -q "not found" "$TMP/err"

"$CLI" $Q search --service payments >"$TMP/search"
check_eq "search exits 0" "$?" 0
check "search lists the trace" grep -q "^$TID .*frontend: GET /checkout" "$TMP/search"
check_eq "search --json shape" \
    "$("$CLI" $Q search --json | jq -c '.[0] | keys_unsorted')" \
    '["trace_id","root_service","root_name","start_unix_nano","duration_ns","span_count","error_count","services"]'
check_eq "search --errors" "$("$CLI" $Q search --errors --json | jq -r '.[0].error_count')" 1
"$CLI" $Q search --service nosuchservice >/dev/null 2>&1
check_eq "search without results exits 1" "$?" 1
"$CLI" $Q search --min-duration 1h >/dev/null 2>&1
check_eq "search --min-duration 1h finds nothing" "$?" 1

"$CLI" $Q slow --top 3 >"$TMP/slow"
check_eq "slow exits 0" "$?" 0
check "slow says span-level" grep -q "span-level" "$TMP/slow"
check "slow lists the slowest span first" sh -c "sed -n 3p '$TMP/slow' | grep -q 'GET /checkout'"
check "slow has percentiles" grep -q "db.query .* 60ms .* 60ms" "$TMP/slow"
check_eq "slow --json shape" \
    "$("$CLI" $Q slow --json | jq -c '[keys_unsorted, (.spans[0] | keys_unsorted), (.percentiles[0] | keys_unsorted)]')" \
    '[["spans","percentiles"],["trace_id","span_id","service","name","duration_ns","start_unix_nano"],["service","operation","p50_ns","p90_ns","p99_ns","max_ns","count"]]'
"$CLI" $Q slow --service payments --operation db.query --histogram >"$TMP/hist"
check_eq "slow --histogram exits 0" "$?" 0
check "slow --histogram draws bars" grep -q "Duration histogram" "$TMP/hist"
"$CLI" $Q slow --histogram >/dev/null 2>&1
check_eq "slow --histogram without an operation exits 2" "$?" 2

check_eq "services" "$("$CLI" $Q services | sort | tr '\n' ' ')" \
    'cart evil\x1b]0;pwned\x07svc frontend payments '
check_eq "services --json" "$("$CLI" $Q services --json | jq -r 'length')" 4
check "operations" sh -c "'$CLI' $Q operations payments | grep -q '^db.query .*client'"
"$CLI" $Q stats >"$TMP/stats"
check_eq "stats exits 0" "$?" 0
check "stats has a table" grep -q "^STAT" "$TMP/stats"

"$CLI" $Q export $TID >"$TMP/export.json"
check_eq "export exits 0" "$?" 0
check_eq "export is OTLP JSON" \
    "$(jq '[.resourceSpans[].scopeSpans[].spans[]] | length' "$TMP/export.json")" 11
check "export is inert" sh -c "! grep -q '$ESC' '$TMP/export.json'"
"$CLI" $Q export $TID 0123456789abcdef0123456789abcdef >/dev/null 2>&1
check_eq "export with a missing trace exits 1" "$?" 1

# Round trip into a second collector: the same trace comes back.
start_collector c2 || { fail "collector c2 start"; finish; }
"$CLI" import "$TMP/export.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "re-import exits 0" "$?" 0
"$CLI" --collector "$COLL_QUERY" show $TID --json >"$TMP/show2.json"
check_eq "export then import keeps every span" \
    "$(jq -c '[.spans[] | [.span_id, .parent_span_id, .name, .start_unix_nano, .end_unix_nano, .status]]' "$TMP/show2.json")" \
    "$(jq -c '[.spans[] | [.span_id, .parent_span_id, .name, .start_unix_nano, .end_unix_nano, .status]]' "$TMP/show.json")"

# Bad records are reported and the good ones kept.
jq '.resourceSpans[0].scopeSpans[0].spans[1].traceId = "zz"' "$TMP/checkout.json" \
    | sed 's/4bf92f3577b34da6a3ce929d0e0e4736/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/g' >"$TMP/bad.json"
"$CLI" import "$TMP/bad.json" --ingest "$COLL_INGEST" >"$TMP/out" 2>"$TMP/err"
check_eq "import with a bad record exits 0" "$?" 0
check "import counts the good spans" grep -q "imported 10 spans, 1 rejected" "$TMP/out"
check "import reports the bad record" grep -q "bad record" "$TMP/err"
printf 'not json at all' >"$TMP/junk.json"
"$CLI" import "$TMP/junk.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "import of junk exits 1" "$?" 1
"$CLI" import "$TMP/missing.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "import of a missing file exits 2" "$?" 2
"$CLI" import "$TMP/checkout.json" --ingest "ipc://$TMP/nobody.sock" >/dev/null 2>&1
check_eq "import to an unreachable collector exits 3" "$?" 3

finish
