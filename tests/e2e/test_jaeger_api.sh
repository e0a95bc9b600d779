#!/bin/sh
# The Jaeger-compatible query API (docs/JAEGER.md) against a real
# tracecollector: known spans (tests/e2e/fixtures/jaeger/seed.json: kinds,
# statuses, events, links, five resources, a 64-bit trace ID, every
# attribute type) go in over OTLP/HTTP, and every v1 and v3 endpoint's
# answer must equal its golden file in tests/e2e/fixtures/jaeger/
# (compared with jq -S). Then bad input: 400s with the envelope's errors
# or v3's error object, 404, 405, oversized and hostile query strings, a
# capped limit; and the jaeger_http.* counters.
# JAEGER_GOLDEN_UPDATE=1 rewrites the golden files (review the diff).
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

GOLD=tests/e2e/fixtures/jaeger
start_otlp_collector jaeger --retention 0 --jaeger-http 127.0.0.1:0 ||
	{ fail "collector starts with --jaeger-http 127.0.0.1:0"; finish; }
J="http://$(sed -n 's/^jaeger_http=//p' "$TMP/jaeger.ready")"
QUERY_URL=$COLL_QUERY
check "ready file names the Jaeger listener" \
	sh -c "echo '$J' | grep -Eq '^http://127\.0\.0\.1:[1-9][0-9]*$'"
check_eq "seed spans accepted" "$(post "$GOLD/seed.json" application/json)" 200

# The seed's times: 2026-01-01T00:00:00Z and the next minute.
T0_US=1767225600000000
START=$((T0_US - 1000000)) END=$((T0_US + 60000000))
T1=83a9efd15c1c98a977e0711cc93ee28b
T2=a1b2c3d4e5f60718
T3=5b8efff798038103d269b633813fc60c
V3_WIN='query.startTimeMin=2025-12-31T23:59:00Z&query.startTimeMax=2026-01-01T00:01:00Z'

# get URL: GET it; the status is in $STATUS, the body in $TMP/body.
get() {
	STATUS=$(curl -s --max-time 20 -o "$TMP/body" -D "$TMP/hdr" \
		-w '%{http_code}' "$@")
}

# golden NAME STATUS PATH: the answer to PATH has STATUS and, normalised
# with jq -S, equals $GOLD/NAME.json.
golden() {
	name=$1 want=$2 path=$3
	get "$J$path"
	if [ "${JAEGER_GOLDEN_UPDATE:-}" = 1 ]; then
		jq -S . "$TMP/body" >"$GOLD/$name.json"
	fi
	if [ "$STATUS" != "$want" ]; then
		fail "$name: status $STATUS, want $want ($(head -c 300 "$TMP/body"))"
	elif ! jq -S . "$TMP/body" >"$TMP/got.json" 2>/dev/null; then
		fail "$name: not JSON: $(head -c 300 "$TMP/body")"
	elif ! cmp -s "$TMP/got.json" "$GOLD/$name.json"; then
		fail "$name: differs from $GOLD/$name.json:"
		diff "$GOLD/$name.json" "$TMP/got.json" | head -20
	else
		pass "$name"
	fi
}

# ---------------------------------------------------------------- v1
golden services 200 /api/services
golden service_operations 200 /api/services/cart/operations
golden operations_all 200 '/api/operations?service=cart'
golden operations_server 200 '/api/operations?service=cart&spanKind=server'
golden trace_t1 200 "/api/traces/$T1"
golden trace_t2_64bit 200 "/api/traces/$T2"
golden trace_t2_64bit 200 "/api/traces/0000000000000000$T2"
# Grafana sends the hint in milliseconds: it must not hide the trace.
golden trace_t1 200 "/api/traces/$T1?start=$((T0_US / 1000 - 1000))&end=$((T0_US / 1000 + 1000))"
golden trace_t3_no_service 200 "/api/traces/$T3"
golden trace_missing 404 /api/traces/0123456789abcdef
golden search_frontend 200 "/api/traces?service=frontend&start=$START&end=$END&limit=20&lookback=1h"
golden search_cart_error 200 "/api/traces?service=cart&start=$START&end=$END&tags=%7B%22error%22%3A%22true%22%7D"
golden search_tag_pair 200 "/api/traces?service=frontend&start=$START&end=$END&tag=http.method:GET"
golden search_tags_none 200 "/api/traces?service=frontend&start=$START&end=$END&tags=%7B%22http.method%22%3A%22PUT%22%7D"
golden search_min_duration 200 "/api/traces?service=cart&start=$START&end=$END&minDuration=1s"
golden search_max_duration 200 "/api/traces?service=cart&start=$START&end=$END&maxDuration=50ms"
golden search_operation 200 "/api/traces?service=frontend&operation=publish%20order&start=$START&end=$END"
golden multi_get 200 "/api/traces?traceID=$T1&traceID=$T2&traceID=00000000000000000000000000000bad"
golden dependencies 200 "/api/dependencies?endTs=$((T0_US / 1000 + 60000))&lookback=120000"
golden dependencies_empty 200 "/api/dependencies?endTs=$((T0_US / 1000 - 60000))&lookback=1000"

# POST /api/transform (the UI's "Upload"): OTLP JSON in, Jaeger traces
# out, nothing stored.
get -X POST -H 'Content-Type: application/json' \
	--data-binary "@$GOLD/seed.json" "$J/api/transform"
if [ "${JAEGER_GOLDEN_UPDATE:-}" = 1 ]; then
	jq -S . "$TMP/body" >"$GOLD/transform.json"
fi
check "transform: the seed as Jaeger traces ($STATUS)" \
	sh -c "[ $STATUS = 200 ] && jq -S . '$TMP/body' | cmp -s - '$GOLD/transform.json'"
# The same spans as stored, so the same services and span count as the
# stored trace (processes may be numbered in another order).
jq -c '[.data[] | select(.traceID == "'$T1'") |
	([.processes[].serviceName] | unique), (.spans | length)]' \
	"$TMP/body" >"$TMP/t1_up.json"
jq -c '[.data[0] | ([.processes[].serviceName] | unique),
	(.spans | length)]' "$GOLD/trace_t1.json" >"$TMP/t1_st.json"
check "transform draws a trace as the stored one" \
	cmp -s "$TMP/t1_up.json" "$TMP/t1_st.json"
get -X POST --data-binary '{"resourceSpans":[{' "$J/api/transform"
check "transform of a broken document: 400" \
	sh -c "[ $STATUS = 400 ] && jq -e '.errors[0].code == 400' '$TMP/body' >/dev/null"
get "$J/api/transform"
check "GET /api/transform is 405 with Allow: POST" \
	sh -c "[ $STATUS = 405 ] && grep -qi '^Allow: POST' '$TMP/hdr'"

# ---------------------------------------------------------------- v3
golden v3_services 200 /api/v3/services
golden v3_operations 200 '/api/v3/operations?service=cart'
golden v3_trace_t1 200 "/api/v3/traces/$T1"
golden v3_trace_missing 404 /api/v3/traces/0123456789abcdef
golden v3_search 200 "/api/v3/traces?query.serviceName=worker&$V3_WIN"
golden v3_search_none 404 "/api/v3/traces?query.serviceName=worker&query.operationName=nothing&$V3_WIN"
golden v3_summaries 200 "/api/v3/trace-summaries?query.serviceName=frontend&$V3_WIN&query.searchDepth=20"
golden v3_summaries 200 "/api/v3/trace-summaries?query.service_name=frontend&query.start_time_min=2025-12-31T23:59:00Z&query.start_time_max=2026-01-01T00:01:00Z&query.search_depth=20"
golden v3_summaries_attrs 200 "/api/v3/trace-summaries?query.serviceName=cart&$V3_WIN&query.attributes=%7B%22db.system%22%3A%22redis%22%7D&query.durationMin=5ms"

# ---------------------------------------------------------------- bad input
# bad NAME STATUS PATH MSG: the answer has STATUS and says MSG.
bad() {
	get "$J$3"
	if [ "$STATUS" = "$2" ] && grep -qF -- "$4" "$TMP/body" &&
		jq -e . "$TMP/body" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1: status $STATUS: $(head -c 300 "$TMP/body")"
	fi
}
bad "search without service" 400 /api/traces "parameter 'service' is required"
bad "operations without service" 400 /api/operations "parameter 'service' is required"
bad "bad spanKind" 400 '/api/operations?service=cart&spanKind=sideways' spanKind
bad "bad start" 400 '/api/traces?service=cart&start=yesterday' "'start'"
bad "negative end" 400 '/api/traces?service=cart&end=-5' "'end'"
bad "huge start" 400 '/api/traces?service=cart&start=99999999999999999999999' "'start'"
bad "bad minDuration" 400 '/api/traces?service=cart&minDuration=fast' minDuration
bad "max below min" 400 '/api/traces?service=cart&minDuration=2s&maxDuration=1s' "'maxDuration' should be greater than 'minDuration'"
bad "tags not JSON" 400 '/api/traces?service=cart&tags=%7Bnope' "'tags'"
bad "tags not strings" 400 '/api/traces?service=cart&tags=%7B%22a%22%3A1%7D' "'tags'"
bad "tag without colon" 400 '/api/traces?service=cart&tag=nocolon' "'tag'"
bad "bad limit" 400 '/api/traces?service=cart&limit=many' "'limit'"
bad "bad traceID" 400 '/api/traces?traceID=xyz' "'traceID'"
bad "bad trace ID in path" 400 /api/traces/not-hex "malformed trace ID"
bad "all-zero trace ID" 400 /api/traces/0000 "malformed trace ID"
bad "too long trace ID" 400 "/api/traces/${T1}00" "malformed trace ID"
bad "bad hint" 400 "/api/traces/$T1?start=soon" "'start'"
bad "bad endTs" 400 '/api/dependencies?endTs=now' "'endTs'"
bad "v3 bad time" 400 '/api/v3/trace-summaries?query.startTimeMin=yesterday' '"error"'
bad "v3 bad duration" 400 "/api/v3/traces?$V3_WIN&query.durationMin=5parsecs" '"httpCode":400'
bad "v3 operations without service" 400 /api/v3/operations '"httpCode":400'
bad "unknown API path" 404 /api/nothing/here "no such endpoint"
bad "unknown v3 path" 404 /api/v3/nothing '"httpCode":404'
bad "overlong value" 400 "/api/traces?service=$(head -c 5000 /dev/zero | tr '\0' a)" "too long"
bad "no UI configured" 404 /search "--ui-dir"

get -X POST "$J/api/traces?service=cart"
check_eq "POST is 405" "$STATUS" 405
check "405 says Allow: GET" grep -qi '^Allow: GET' "$TMP/hdr"
get -X DELETE "$J/api/v3/services"
check "DELETE on v3 is 405 in v3's shape" \
	sh -c "[ $STATUS = 405 ] && jq -e '.error.httpCode == 405' '$TMP/body' >/dev/null"

# Many arguments, and a huge limit: capped and said so.
args=$(i=0; while [ $i -lt 300 ]; do printf 'x%d=1&' $i; i=$((i + 1)); done)
bad "too many query parameters" 400 "/api/traces?${args}service=cart" "too many query parameters"
get "$J/api/traces?service=frontend&start=$START&end=$END&limit=1000000"
check_eq "huge limit answers" "$STATUS" 200
check "capped limit in the envelope" \
	jq -e '.limit == 1000 and (.data | length) == 2' "$TMP/body" >/dev/null
check "capped limit in a Warning header" grep -qi '^Warning: 299 - "limit 1000000 capped to 1000"' "$TMP/hdr"
# A query string of 100 kB is refused whole, and the server still answers.
big=$(head -c 100000 /dev/zero | tr '\0' b)
get "$J/api/traces?service=$big"
check "100 kB query string refused ($STATUS)" sh -c "[ $STATUS -ge 400 ] && [ $STATUS -lt 500 ]"
get "$J/api/services"
check_eq "still serving after the abuse" "$STATUS" 200
# Percent-encoding a browser would never send: broken escapes, bytes
# that are not UTF-8, an encoded NUL.
get "$J/api/traces?service=%zz%%&start=1%002"
check "broken escapes get an answer ($STATUS)" \
	sh -c "[ $STATUS = 200 ] || [ $STATUS = 400 ]"
get "$J/api/traces?service=%ff%fe%00x&start=$START&end=$END"
check "a service name that is not UTF-8 finds nothing" \
	jq -e '.data == [] and .errors == null' "$TMP/body" >/dev/null
get "$J/api/services/%ff%c0/operations"
check "operations of a non-UTF-8 service: an empty list" \
	jq -e '.data == []' "$TMP/body" >/dev/null

# ---------------------------------------------------------------- TLS
# https:// with the collector's --tls-cert/--tls-key, as the other
# listeners; a plain-HTTP client gets no answer.
if command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/k.pem" \
		-out "$TMP/c.pem" >/dev/null 2>&1; then
	start_collector jtls --jaeger-http https://127.0.0.1:0 \
		--tls-cert "$TMP/c.pem" --tls-key "$TMP/k.pem" ||
		fail "collector starts with --jaeger-http https://"
	JT="$(sed -n 's/^jaeger_http=//p' "$TMP/jtls.ready")"
	get --cacert "$TMP/c.pem" "https://$JT/api/services"
	check_eq "Jaeger API over https://" "$STATUS" 200
	get "http://$JT/api/services"
	check "plain HTTP to the https:// listener gets no 200" \
		sh -c "[ '$STATUS' != 200 ]"
	stop_pid "$COLL_PID"
else
	skip "openssl cannot make a test certificate: no TLS check"
fi

# ---------------------------------------------------------------- counters
"$BIN/tracecli" --collector "$QUERY_URL" stats --json >"$TMP/stats.json" 2>/dev/null
check "jaeger_http.requests counted" \
	jq -e '[.. | objects | select(.name? == "jaeger_http.requests") | .value] | .[0] > 50' "$TMP/stats.json" >/dev/null
check "jaeger_http.rejected.invalid counted" \
	jq -e '[.. | objects | select(.name? == "jaeger_http.rejected.invalid") | .value] | .[0] >= 20' "$TMP/stats.json" >/dev/null
check "jaeger_http.bytes counted" \
	jq -e '[.. | objects | select(.name? == "jaeger_http.bytes") | .value] | .[0] > 10000' "$TMP/stats.json" >/dev/null
finish
