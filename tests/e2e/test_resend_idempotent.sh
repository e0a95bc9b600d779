#!/bin/sh
# Writes are idempotent in every derived structure (issue 16): a span
# stored twice (the same file imported twice, the same OTLP/HTTP request
# posted twice, an acknowledged NNG batch sent again) counts once in slow's
# percentiles (the histograms), in search, in the catalog, and in the
# statistics, which count the resent spans apart.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

CLI="$BIN/tracecli"
TOOL="$BUILD/tools/collector_tool"
start_otlp_collector c1 || { fail "collector start"; finish; }
Q="--collector $COLL_QUERY"

stat() { "$TOOL" stats "$COLL_QUERY" | awk -v n="$1" '$1 == n { print $2 }'; }
# counts: the percentile rows' counts summed, and the traces found.
counts() {
	printf '%s %s' \
	    "$("$CLI" $Q slow --since 1h --json | jq '[.percentiles[].count] | add // 0')" \
	    "$("$CLI" $Q search --since 1h --limit 1000 --json | jq length)"
}

# The fixture of test_tracecli_cli (11 spans, one trace), a minute old.
sed "s/@S@/$(($(date +%s) - 60))/g" tests/e2e/fixtures/tracecli_checkout.json \
	>"$TMP/checkout.json"
"$CLI" import "$TMP/checkout.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "first import" "$?" 0
once=$(counts)
check_eq "the first import counts 11 spans in 1 trace" "$once" "11 1"
"$CLI" import "$TMP/checkout.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
"$CLI" import "$TMP/checkout.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check_eq "two more imports change no count" "$(counts)" "$once"
check_eq "the resent spans are counted apart" "$(stat store.spans_resent)" 22
check_eq "services listed once" \
	"$("$CLI" $Q services --json | jq -c 'map(select(. == "frontend")) | length')" 1

# The same OTLP/HTTP request posted twice (a new trace, JSON).
T=$(rand_hex 16)
now=$(date +%s%N)
cat >"$TMP/req.json" <<JSON
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"poster"}}]},
 "scopeSpans":[{"spans":[
  {"traceId":"$T","spanId":"00000000000000a1","name":"root","kind":2,
   "startTimeUnixNano":"$((now - 2000000000))","endTimeUnixNano":"$((now - 1000000000))"},
  {"traceId":"$T","spanId":"00000000000000a2","parentSpanId":"00000000000000a1","name":"child",
   "startTimeUnixNano":"$((now - 1900000000))","endTimeUnixNano":"$((now - 1500000000))"}]}]}]}
JSON
check_eq "first post" "$(post "$TMP/req.json" application/json)" 200
before=$(counts)
check_eq "the post adds 2 spans and 1 trace" "$before" "13 2"
check_eq "the same post again" "$(post "$TMP/req.json" application/json)" 200
check_eq "the second post changes no count" "$(counts)" "$before"
check_eq "show has each span once" \
	"$("$CLI" $Q show "$T" --json | jq '.spans | length')" 2

# An acknowledged NNG batch sent again: collector_tool sends the same
# generated traces (same seed, same times) twice.
base=$(($(date +%s%N) - 300000000000))
"$TOOL" send "$COLL_INGEST" 7 20 20 "$base" 1000000 >/dev/null 2>&1
check_eq "a batch over NNG" "$?" 0
before=$(counts)
"$TOOL" send "$COLL_INGEST" 7 20 20 "$base" 1000000 >/dev/null 2>&1
check_eq "the same batch again" "$?" 0
check_eq "the resent batch changes no count" "$(counts)" "$before"
finish
