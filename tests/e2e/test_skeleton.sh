#!/bin/sh
# The walking skeleton with real processes: examples/minimal sends a root
# span and a child span to a tracecollector; `tracecli show --json` must
# give back exactly what was sent (IDs, names, parent, timestamps). Also:
# an unknown trace ID exits 1, an unreachable collector exits 3.
. tests/e2e/lib.sh

start_collector skel || { fail "collector starts"; finish; }
pass "collector starts"
CLI="$BIN/tracecli --collector $COLL_QUERY"

# jq 1.6 reads numbers as doubles, which cannot hold a nanosecond time
# exactly: quote every integer of 16 digits or more before jq sees it.
bigints() { sed -E 's/(": *)([0-9]{16,})/\1"\2"/g' "$1"; }

# minimal --print: "trace ID" then "span ID PARENT START END NAME" lines.
TRACE_ENDPOINT=$COLL_INGEST OTEL_SERVICE_NAME=skeleton \
	"$BIN/minimal" --print >"$TMP/sent.txt" 2>"$TMP/minimal.err"
check_eq "minimal exits 0 (its spans were acknowledged)" "$?" 0
trace_id=$(awk '$1 == "trace" { print $2 }' "$TMP/sent.txt")
check "minimal prints a 32-hex trace id" \
	sh -c "echo '$trace_id' | grep -Eq '^[0-9a-f]{32}$'"

$CLI show "$trace_id" --json >"$TMP/show.raw" 2>"$TMP/show.err"
check_eq "tracecli show exits 0" "$?" 0
bigints "$TMP/show.raw" >"$TMP/show.json"
check_eq "show returns the trace id" \
	"$(jq -r .trace_id "$TMP/show.json" 2>/dev/null)" "$trace_id"
check_eq "show returns 2 spans" \
	"$(jq '.spans | length' "$TMP/show.json" 2>/dev/null)" 2

# Each sent span, field by field. The root's parent reads back as "" (or
# null, or all zeros) where minimal prints "-".
while read -r tag id parent start end name; do
	[ "$tag" = span ] || continue
	span=$(jq -c --arg id "$id" '.spans[] | select(.span_id == $id)' \
		"$TMP/show.json" 2>/dev/null)
	if [ -z "$span" ]; then
		fail "span $name ($id) is stored"
		continue
	fi
	pass "span $name ($id) is stored"
	got_parent=$(echo "$span" | jq -r '.parent_span_id // ""
		| if . == "0000000000000000" then "" else . end')
	[ "$parent" = "-" ] && parent=""
	check_eq "$name: parent_span_id" "$got_parent" "$parent"
	check_eq "$name: name" "$(echo "$span" | jq -r .name)" "$name"
	check_eq "$name: service" "$(echo "$span" | jq -r .service)" skeleton
	check_eq "$name: start_unix_nano" \
		"$(echo "$span" | jq -r '.start_unix_nano | tostring')" "$start"
	check_eq "$name: end_unix_nano" \
		"$(echo "$span" | jq -r '.end_unix_nano | tostring')" "$end"
	check_eq "$name: duration_ns" \
		"$(echo "$span" | jq -r '.duration_ns | tostring')" \
		"$((end - start))"
done <"$TMP/sent.txt"

child=$(jq -c '.spans[] | select(.name == "reserve-stock")' \
	"$TMP/show.json" 2>/dev/null)
check_eq "child keeps its string attribute" \
	"$(echo "$child" | jq -r '.attributes["app.sku"]')" sku-42
check_eq "child keeps its int attribute" \
	"$(echo "$child" | jq -r '.attributes["app.quantity"] | tostring')" 2

# The text waterfall names both spans.
$CLI show "$trace_id" --plain >"$TMP/show.txt" 2>&1
check_eq "tracecli show --plain exits 0" "$?" 0
check "the waterfall shows the root span" grep -q checkout "$TMP/show.txt"
check "the waterfall shows the child span" \
	grep -q reserve-stock "$TMP/show.txt"

# Bad input.
$CLI show 0123456789abcdef0123456789abcdef >/dev/null 2>"$TMP/unknown.err"
check_eq "show of an unknown trace id exits 1" "$?" 1
check "it says so on stderr" test -s "$TMP/unknown.err"

start=$(date +%s)
"$BIN/tracecli" --collector "ipc://$TMP/nobody-listens.sock" \
	show "$trace_id" >/dev/null 2>"$TMP/unreach.err"
rc=$?
check_eq "an unreachable collector exits 3" "$rc" 3
check "...within 10 seconds" test $(($(date +%s) - start)) -le 10
check "...with a message" test -s "$TMP/unreach.err"

finish
