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
check_eq "a usage error is one line and a hint" "$(cat "$TMP/err")" \
    "tracecli: show: unknown flag '--bogus-flag'
Try 'tracecli show --help'."
"$CLI" --collector foo services >/dev/null 2>"$TMP/err"
check_eq "a malformed --collector is a usage error" "$?" 2
check "... that names the address" grep -q "bad collector address 'foo'" "$TMP/err"
"$CLI" --collector tcp://127.0.0.1 services >/dev/null 2>&1
check_eq "a --collector without a port is a usage error" "$?" 2
"$CLI" --collector 'tcp://x@' services >/dev/null 2>&1
check_eq "a --collector with userinfo is refused before NNG parses it" "$?" 2
"$CLI" import /dev/null --ingest 'tcp://@' >/dev/null 2>&1
check_eq "so is an --ingest address" "$?" 2
"$CLI" show 00000000000000000000000000000000 >/dev/null 2>"$TMP/err"
check_eq "an all-zero trace ID exits 2" "$?" 2
check "... saying it is all zeros" grep -q "all zeros is the invalid trace ID" "$TMP/err"
check "... not that it lacks digits" sh -c "! grep -q 'want 32 hex' '$TMP/err'"
TERM=dumb "$CLI" tui >/dev/null 2>"$TMP/err" </dev/null
check_eq "TERM=dumb tui exits 2" "$?" 2
check "TERM=dumb tui names TERM" grep -q "TERM is 'dumb'" "$TMP/err"
"$CLI" search --max-duration 0s >/dev/null 2>"$TMP/err"
check_eq "--max-duration 0s is refused, not ignored" "$?" 2
"$CLI" search --limit 5000 >/dev/null 2>"$TMP/err"
check_eq "--limit above the collector's cap is refused" "$?" 2
check "... naming the cap" grep -q "1 to 1000" "$TMP/err"
"$CLI" search --since 1h30m --collector "ipc://$TMP/nobody.sock" >/dev/null 2>&1
check_eq "compound durations parse (then unreachable)" "$?" 3
check_eq "--version" "$("$CLI" --version)" "tracecli 0.1.0"
"$CLI" search --help >"$TMP/help"
for w in --longest --ascii --sort 1h30m 7d span-level "at most 1000"; do
	check "search --help mentions $w" grep -qF -- "$w" "$TMP/help"
done
for cmd in "" services operations search show diff deps tail slow stats tui export import; do
	"$CLI" $cmd --help >"$TMP/help"
	width=$(while IFS= read -r l; do printf '%s' "$l" | wc -m; done <"$TMP/help" | sort -n | tail -n 1)
	check "$cmd --help fits 80 columns (widest $width)" [ "$width" -le 80 ]
done
"$CLI" --help >"$TMP/help"
for cmd in services operations search show diff slow stats tui export import; do
	check "--help lists $cmd" grep -q "^  $cmd " "$TMP/help"
done
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
    '["span_id","parent_span_id","service","name","kind","start_unix_nano","end_unix_nano","duration_ns","status","attributes","events","status_message","links","resource","scope"]'
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
check "search says 1 trace" grep -q "^1 trace$" "$TMP/search"
for cols in 80 120; do
	COLUMNS=$cols "$CLI" $Q search >"$TMP/search$cols"
	width=$(while IFS= read -r l; do printf '%s' "$l" | wc -m; done <"$TMP/search$cols" | sort -n | tail -n 1)
	check "search fits COLUMNS=$cols (widest $width)" [ "$width" -le $cols ]
	check "search keeps ROOT whole at $cols" grep -q "frontend: GET /checkout" "$TMP/search$cols"
done
"$CLI" $Q search --limit 1 >"$TMP/search1"
check "a list the limit did not cut says so (the collector counted)" \
    grep -q "^1 trace$" "$TMP/search1"

COLUMNS=100 "$CLI" $Q show $TID --stats >"$TMP/stats.txt"
check_eq "show --stats exits 0" "$?" 0
check "show --stats: payments has the most self time" \
    sh -c "sed -n 3p '$TMP/stats.txt' | grep -q '^payments  *4  *162ms  *40.5ms  *77ms  *99ms  *82.5%  *1$'"
check "show --stats: operations under their service" \
    sh -c "sed -n 4p '$TMP/stats.txt' | grep -q '^  db.query  *1  *60ms  *60ms  *60ms  *60ms  *50.0%  *0$'"
check "show --stats: names are inert" sh -c "! grep -q '$ESC' '$TMP/stats.txt'"
check_eq "show --stats --json shape" \
    "$("$CLI" $Q show $TID --stats --json | jq -c '[keys_unsorted, (.services[0] | keys_unsorted), (.services[0].operations[0] | keys_unsorted), .services[0].service, .services[0].self_ns]')" \
    '[["trace_id","duration_ns","services"],["service","span_count","total_ns","avg_ns","max_ns","self_ns","self_share","error_count","operations"],["operation","span_count","total_ns","avg_ns","max_ns","self_ns","self_share","error_count"],"payments",99000000]'
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
check "slow --top 3 keeps the 3 worst operations by p99" \
    grep -q "^3 of 11 operations (--top)" "$TMP/slow"
check "slow --top says the span list hit the limit" \
    grep -q "^3 spans: the limit" "$TMP/slow"
COLUMNS=120 "$CLI" $Q slow >"$TMP/slow"
check "slow has percentiles" grep -q "db.query .* 60ms .* 60ms" "$TMP/slow"
check_eq "percentiles are by p99, worst first" \
    "$(sed -n '/^Percentiles/,$p' "$TMP/slow" | sed -n '3p;4p' | awk '{print $2}' | tr '\n' ' ')" \
    "GET charge "
width=$(while IFS= read -r l; do printf '%s' "$l" | wc -m; done <"$TMP/slow" | sort -n | tail -n 1)
check "slow fits COLUMNS=120 (widest $width)" [ "$width" -le 120 ]
COLUMNS=80 "$CLI" $Q slow >"$TMP/slow80"
width=$(while IFS= read -r l; do printf '%s' "$l" | wc -m; done <"$TMP/slow80" | sort -n | tail -n 1)
check "slow fits COLUMNS=80 (widest $width)" [ "$width" -le 80 ]
check_eq "slow --json shape" \
    "$("$CLI" $Q slow --json | jq -c '[keys_unsorted, (.spans[0] | keys_unsorted), (.percentiles[0] | keys_unsorted)]')" \
    '[["spans","percentiles"],["trace_id","span_id","service","name","duration_ns","start_unix_nano"],["service","operation","p50_ns","p90_ns","p99_ns","max_ns","count"]]'
"$CLI" $Q slow --service payments --operation db.query --histogram >"$TMP/hist"
check_eq "slow --histogram exits 0" "$?" 0
check "slow --histogram draws bars" grep -q "Duration histogram" "$TMP/hist"
"$CLI" $Q slow --histogram >/dev/null 2>&1
check_eq "slow --histogram without an operation exits 2" "$?" 2

check_eq "services, alphabetically" "$("$CLI" $Q services | tr '\n' ' ')" \
    'cart evil\x1b]0;pwned\x07svc frontend payments '
check_eq "services --json" "$("$CLI" $Q services --json | jq -r 'length')" 4
check "operations" sh -c "'$CLI' $Q operations payments | grep -q '^db.query .*client'"
check_eq "operations, alphabetically" \
    "$("$CLI" $Q operations payments | sed 1d | awk '{print $1}' | tr '\n' ' ')" \
    "POST db.query fraud.check retry.callback "
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

# diff: B is the checkout with db.query 40ms slower and render gone.
TIDB=5bf92f3577b34da6a3ce929d0e0e4736
jq '(.. | objects | select(.name=="db.query") | .endTimeUnixNano) |= ((tonumber + 40000000)|tostring) | .resourceSpans[].scopeSpans[].spans |= map(select(.name != "render"))' \
    "$TMP/checkout.json" | sed "s/$TID/$TIDB/g" >"$TMP/b.json"
"$CLI" import "$TMP/b.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
COLUMNS=100 "$CLI" $Q diff $TID $TIDB --ascii >"$TMP/diff"
check_eq "diff exits 0" "$?" 0
check "diff marks db.query slower" grep -q '^> |     `- db.query .* 60ms  *100ms +40ms +67%$' "$TMP/diff"
check "diff marks render missing" grep -q '^- `- render .* 13ms  *- missing$' "$TMP/diff"
check "diff leaves equal spans unmarked" grep -q '^  GET /checkout .* 120ms  *120ms =$' "$TMP/diff"
check "diff sums up" grep -q '^1 added (+), 2 missing (-), 1 slower (>), 0 faster (<)$' "$TMP/diff"
width=$(while IFS= read -r l; do printf '%s' "$l" | wc -m; done <"$TMP/diff" | sort -n | tail -n 1)
check "diff fits COLUMNS=100 (widest $width)" [ "$width" -le 100 ]
check_eq "diff --json shape" \
    "$("$CLI" $Q diff $TID $TIDB --json | jq -c '[keys_unsorted, (.rows[0] | keys_unsorted), .summary, (.rows[] | select(.name == "db.query") | [.change, .a.duration_ns, .b.duration_ns])]')" \
    '[["a","b","rows","summary"],["depth","service","name","change","a","b"],{"added":1,"missing":2,"slower":1,"faster":0},["slower",60000000,100000000]]'
COLUMNS=100 "$CLI" $Q diff $TIDB --baseline >"$TMP/base"
check_eq "diff --baseline exits 0" "$?" 0
check "diff --baseline names the baseline" \
    grep -q "^Baseline (A): the median of 1 trace of frontend: GET /checkout$" "$TMP/base"
check "diff --baseline compares with it" grep -q "^A $TID" "$TMP/base"
"$CLI" $Q diff $TID >/dev/null 2>&1
check_eq "diff with one trace and no --baseline exits 2" "$?" 2
"$CLI" $Q diff $TID 0123456789abcdef0123456789abcdef >/dev/null 2>&1
check_eq "diff with an unknown trace exits 1" "$?" 1

# deps, counted by the collector over the window: frontend calls cart
# and payments (and the evil service) in both traces; POST /charge is an
# error in both, and db.query (payments -> payments) is no call.
COLUMNS=100 "$CLI" $Q deps --ascii >"$TMP/deps"
check_eq "deps exits 0" "$?" 0
check "deps says what the collector read" \
    grep -q "^Service calls in the window (21 spans read)$" "$TMP/deps"
check "deps table: frontend -> payments, errors, p50, p99" \
    grep -q "^frontend  *payments  *2  *2  *77ms  *77ms$" "$TMP/deps"
check "deps table: frontend -> cart" \
    grep -q "^frontend  *cart  *2  *0  *13ms  *13ms$" "$TMP/deps"
check "deps graph: frontend's callees hang from it" \
    sh -c "grep -A3 '^frontend$' '$TMP/deps' | grep -q '^\`-> payments  2 calls, 2 errors  p99 77ms$'"
check "deps is inert" sh -c "! grep -q '$ESC' '$TMP/deps'"
check_eq "deps --json shape" \
    "$("$CLI" $Q deps --json | jq -c '[keys_unsorted, (.edges[0] | keys_unsorted), .edges[0].callee, .spans_read, .truncated]')" \
    '[["spans_read","truncated","edges"],["caller","callee","call_count","error_count","p50_ns","p99_ns"],"cart",21,false]'
check_eq "deps --service keeps the calls to or from it" \
    "$("$CLI" $Q deps --service cart --json | jq -c '[.edges[] | [.caller, .callee]]')" \
    '[["frontend","cart"]]'
"$CLI" $Q deps --since 1s >/dev/null 2>&1
check_eq "deps of an empty window exits 1" "$?" 1

# queries: the collector's count of query requests (this one included).
queries() {
	"$CLI" $Q stats --json | jq '.[] | select(.name == "query.requests") | .value'
}

# wait_polls N: until N queries besides this function's own came in (a
# tail's polls), so a tail that polls one at a time has answered N - 1.
wait_polls() {
	w0=$(queries) i=0
	while [ $i -le 200 ]; do
		w=$(queries) i=$((i + 1))
		[ $((w - w0 - i)) -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# tail: a trace imported after it starts is printed once; so is one whose
# spans started ten minutes before they arrive (the collector's cursor
# follows index flushes, not span starts); it stops by PID.
"$CLI" $Q tail --service frontend >"$TMP/tail" 2>&1 &
TAIL_PID=$!
track $TAIL_PID
check "tail polls" wait_polls 2
TIDT=6bf92f3577b34da6a3ce929d0e0e4736
sed "s/@S@/$(date +%s)/g; s/$TID/$TIDT/g" tests/e2e/fixtures/tracecli_checkout.json >"$TMP/tail.json"
"$CLI" import "$TMP/tail.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
TIDL=6cf92f3577b34da6a3ce929d0e0e4736
sed "s/@S@/$(($(date +%s) - 600))/g; s/$TID/$TIDL/g" tests/e2e/fixtures/tracecli_checkout.json >"$TMP/late.json"
"$CLI" import "$TMP/late.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
i=0
until { grep -q "$TIDT" "$TMP/tail" && grep -q "$TIDL" "$TMP/tail"; } || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "tail prints the new trace" grep -q " 120ms  *11  *1 $TIDT frontend: GET /checkout$" "$TMP/tail"
check "tail prints the trace that arrived ten minutes late" grep -q " 120ms  *11  *1 $TIDL frontend: GET /checkout$" "$TMP/tail"
check "tail polls twice more" wait_polls 2	# the traces must not come again
check_eq "tail prints it once" "$(grep -c "$TIDT" "$TMP/tail")" 1
check_eq "... and the late one once" "$(grep -c "$TIDL" "$TMP/tail")" 1
check "tail leaves older traces out" sh -c "! grep -q '$TID' '$TMP/tail'"
stop_pid $TAIL_PID

# Most spans and most errors over the whole window: a second copy of the
# late trace's spans (other span IDs) gives it 22 spans and 2 errors; it
# is the oldest trace, yet comes first.
jq '(.. | objects | select(has("spanId")) | .spanId) |= sub("^0"; "f") |
    (.. | objects | select(has("parentSpanId")) | .parentSpanId) |= sub("^0"; "f")' \
    "$TMP/late.json" >"$TMP/late2.json"
"$CLI" import "$TMP/late2.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "search --sort spans: the most spans in the window first" \
    "$("$CLI" $Q search --sort spans --limit 1 --json | jq -c '.[0] | [.trace_id, .span_count]')" \
    "[\"$TIDL\",22]"
check_eq "search --sort errors: the most errors first" \
    "$("$CLI" $Q search --sort errors --limit 1 --json | jq -c '.[0] | [.trace_id, .error_count]')" \
    "[\"$TIDL\",2]"
check_eq "... while newest first lists another" \
    "$("$CLI" $Q search --limit 1 --json | jq -r '.[0].trace_id' | grep -c "$TIDL")" 0

# "N of M": with the tail's traces, a search of 1 says how many match.
"$CLI" $Q search --limit 1 >"$TMP/search1"
ALL=$("$CLI" $Q search --limit 1000 --json | jq length)
check "a cut list says how many match in all" \
    grep -q "^1 of $ALL traces (--limit N, at most 1000)$" "$TMP/search1"
check "... of more than one" [ "$ALL" -gt 1 ]
check_eq "search --json keeps its shape" \
    "$("$CLI" $Q search --limit 1 --json | jq -c '.[0] | keys_unsorted | length')" 8

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
