#!/bin/sh
# The Zipkin v2 receiver against a real tracecollector: hand-written
# Zipkin JSON sent with curl (plain, gzip, chunked), read back with
# `tracecli show --json` field by field per docs/ZIPKIN.md (64- and
# 128-bit trace IDs, kinds, fractional microseconds, tags, the status
# tags, endpoints, annotations, shared and debug spans); then every kind
# of bad input (not JSON, wrong types, IDs of the wrong length, gzip
# bombs, bodies over the limit, wrong method, path and Content-Type),
# each a clear 4xx with the process alive and nothing accepted lost; and
# the refusals counted in `tracecli stats`.
. tests/e2e/lib.sh

for tool in curl jq gzip xxd python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

LIMIT=1048576
start_collector zipkin --zipkin 127.0.0.1:0 --max-message-bytes "$LIMIT" ||
	{ fail "collector starts with --zipkin 127.0.0.1:0"; finish; }
ZK=$(sed -n 's/^zipkin=//p' "$TMP/zipkin.ready")
check "ready file names the Zipkin port" \
	sh -c "echo '$ZK' | grep -Eq '^127\.0\.0\.1:[1-9][0-9]*$'"
URL="http://$ZK/api/v2/spans"
CLI="$BIN/tracecli --collector $COLL_QUERY"

# post FILE [curl args...]: POST FILE as JSON; prints the status, leaves
# the body in $TMP/resp.body.
post() {
	f=$1; shift
	curl -s --max-time 10 -o "$TMP/resp.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$f" "$@" \
		"$URL"
}

# field TRACE SPAN JQ: one field of a stored span.
field() {
	$CLI show "$1" --json 2>/dev/null |
		jq -c -r --arg s "$2" ".spans[] | select(.span_id == \$s) | $3"
}

# refused NAME STATUS TEXT FILE [curl args...]: FILE is answered STATUS
# with TEXT in the reason.
refused() {
	name=$1 want=$2 text=$3; shift 3
	check_eq "$name: $want" "$(post "$@")" "$want"
	check "$name: the reason says '$text'" grep -qF -- "$text" "$TMP/resp.body"
}

# ---------------------------------------------------------------- mapping
T1=463ac35c9f6413ad48485a3953bb6124
T64=48485a3953bb6124
NOW=$(($(date +%s) - 5))000000
cat >"$TMP/spans.json" <<EOF
[{"traceId":"$T1","id":"a2fb4a1d1a96d312","name":"get /api","kind":"SERVER",
  "timestamp":$NOW.25,"duration":1500.75,
  "localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1","port":8080},
  "remoteEndpoint":{"serviceName":"browser","ipv6":"::1","port":55000},
  "tags":{"http.method":"GET","otel.status_code":"ERROR","error":"boom",
   "retries":5,"list":"a,b","empty":"","service.name":"frontend",
   "telemetry.sdk.language":"nodejs","otel.dropped_attributes_count":"3"},
  "annotations":[{"timestamp":$((NOW + 100)),"value":"started"},
   {"timestamp":$((NOW + 900)),"value":"flushed"}]},
 {"traceId":"$T1","id":"c2fb4a1d1a96d312","parentId":"a2fb4a1d1a96d312",
  "name":"render","timestamp":$((NOW + 10)),"duration":20,
  "localEndpoint":{"serviceName":"frontend"},
  "tags":{"otel.status_code":"OK"}},
 {"traceId":"$T1","id":"a2fb4a1d1a96d312","name":"get /api","kind":"SERVER",
  "shared":true,"timestamp":$((NOW + 50)),"duration":1000,
  "localEndpoint":{"serviceName":"backend"}},
 {"traceId":"$T64","id":"b2fb4a1d1a96d312","name":"publish",
  "kind":"PRODUCER","timestamp":$NOW,"duration":100,"debug":true,
  "localEndpoint":{"serviceName":"backend"},"tags":{"error":""}},
 {"traceId":"$T64","id":"d2fb4a1d1a96d312","parentId":"b2fb4a1d1a96d312",
  "kind":"CONSUMER","timestamp":$NOW,"duration":50}]
EOF
check_eq "Zipkin JSON: 202" "$(post "$TMP/spans.json")" 202
check_eq "Zipkin JSON: empty body" "$(wc -c <"$TMP/resp.body" | tr -d ' ')" 0
S=a2fb4a1d1a96d312
check_eq "service from localEndpoint.serviceName" "$(field $T1 $S .service)" \
	frontend
check_eq "resource is service.name alone" "$(field $T1 $S .resource)" \
	'{"service.name":"frontend"}'
check_eq "kind SERVER" "$(field $T1 $S .kind)" server
check_eq "name" "$(field $T1 $S .name)" "get /api"
# (jq reads numbers as doubles; python3 keeps the 19 digits exact.)
check_eq "fractional microseconds kept to the nanosecond" \
	"$($CLI show $T1 --json | python3 -c 'import json, sys
print([s["start_unix_nano"] for s in json.load(sys.stdin)["spans"]
       if s["span_id"] == sys.argv[1]][0])' $S)" "${NOW}250"
check_eq "duration" "$(field $T1 $S .duration_ns)" 1500750
check_eq "otel.status_code ERROR + error tag: status error with message" \
	"$(field $T1 $S '[.status, .status_message] | join(",")')" "error,boom"
check_eq "tags as string attributes (status tags, service.name and the \
dropped count taken out), endpoints as peer/local attributes" \
	"$(field $T1 $S '.attributes | to_entries | map("\(.key)=\(.value)") | join(";")')" \
	"http.method=GET;retries=5;list=a,b;empty=;telemetry.sdk.language=nodejs;peer.service=browser;network.peer.address=::1;network.peer.port=55000;network.local.address=10.0.0.1;network.local.port=8080"
check_eq "annotations as events (name, time)" \
	"$(field $T1 $S '.events | map("\(.name)@\(.time_unix_nano)") | join(",")')" \
	"started@$((NOW + 100))000,flushed@$((NOW + 900))000"
check_eq "child: parent, INTERNAL without kind, status OK" \
	"$(field $T1 c2fb4a1d1a96d312 '[.parent_span_id, .kind, .status] | join(",")')" \
	"$S,internal,ok"
SH=$($CLI show $T1 --json | jq -r '.spans[] | select(.service == "backend") | .span_id')
check "shared server half gets its own span ID" \
	sh -c "[ -n '$SH' ] && [ '$SH' != '$S' ]"
check_eq "shared server half: child of the client half, zipkin.shared" \
	"$(field $T1 "$SH" '[.parent_span_id, .kind, .attributes["zipkin.shared"]] | map(tostring) | join(",")')" \
	"$S,server,true"
check_eq "64-bit trace ID is the low half of a 128-bit one" \
	"$(field 0000000000000000$T64 b2fb4a1d1a96d312 '[.kind, .attributes["zipkin.debug"], .status] | map(tostring) | join(",")')" \
	"producer,true,error"
check_eq "no localEndpoint: unknown_service; CONSUMER" \
	"$(field 0000000000000000$T64 d2fb4a1d1a96d312 '[.service, .kind] | join(",")')" \
	"unknown_service,consumer"

# Escapes, "\u0000" inside a string (valid JSON) and unknown members.
TE=$(head -c 16 /dev/urandom | xxd -p | tr -d '\n')
printf '[{"traceId":"%s","id":"0102030405060708","name":"caf\\u00e9",' "$TE" \
	>"$TMP/esc.json"
printf '"timestamp":%s,"duration":5,"unknown":{"x":[1]},' "$NOW" >>"$TMP/esc.json"
printf '"localEndpoint":{"serviceName":"esc"},"tags":{"z":"a\\u0000b"}}]' \
	>>"$TMP/esc.json"
check_eq "escapes and a NUL in a tag: 202" "$(post "$TMP/esc.json")" 202
check_eq "escapes decoded, unknown members ignored" \
	"$(field "$TE" 0102030405060708 .name)" café

# Resending the same spans is harmless (same IDs, same keys).
check_eq "resend: 202" "$(post "$TMP/spans.json")" 202
check_eq "resend: still 3 spans in the trace" \
	"$($CLI show $T1 --json | jq '.spans | length')" 3

# ---------------------------------------------------------------- framing
T2=$(head -c 16 /dev/urandom | xxd -p | tr -d '\n')
printf '[{"traceId":"%s","id":"0102030405060708","name":"gz","timestamp":%s,"duration":5,"localEndpoint":{"serviceName":"gz"}}]' \
	"$T2" "$NOW" >"$TMP/gz.json"
gzip -c "$TMP/gz.json" >"$TMP/gz.json.gz"
check_eq "gzip body: 202" \
	"$(post "$TMP/gz.json.gz" -H 'Content-Encoding: gzip')" 202
check_eq "gzip body: stored" "$(field "$T2" 0102030405060708 .name)" gz
T3=$(head -c 16 /dev/urandom | xxd -p | tr -d '\n')
sed "s/$T2/$T3/" "$TMP/gz.json" | gzip -c >"$TMP/ch.json.gz"
check_eq "chunked gzip body (as the OpenTelemetry exporter sends): 202" \
	"$(post "$TMP/ch.json.gz" -H 'Content-Encoding: gzip' \
		-H 'Transfer-Encoding: chunked')" 202
check_eq "chunked body: stored" "$(field "$T3" 0102030405060708 .name)" gz
printf '[]' >"$TMP/empty.json"
check_eq "empty list: 202" "$(post "$TMP/empty.json")" 202
check_eq "no Content-Type is JSON (as Zipkin's server takes it)" \
	"$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type:' \
		--data-binary "@$TMP/empty.json" "$URL")" 202

# ---------------------------------------------------------------- bad input
b() { printf '%s' "$1" >"$TMP/bad.json"; echo "$TMP/bad.json"; }
refused "not JSON" 400 "invalid JSON: " \
	"$(b '[{"traceId":')"
refused "an object, not a list" 400 "expected a JSON array of spans" \
	"$(b '{"traceId":"463ac35c9f6413ad48485a3953bb6124"}')"
refused "a list of strings" 400 "spans[0]: expected a span object" "$(b '["x"]')"
refused "trace ID of 15 digits" 400 \
	"spans[0].traceId: expected 16 or 32 hex digits, got 15" \
	"$(b '[{"traceId":"463ac35c9f6413a","id":"a2fb4a1d1a96d312"}]')"
refused "span ID of 32 digits" 400 "spans[0].id: expected 16 hex digits, got 32" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$T1\"}]")"
refused "non-hex ID" 400 "spans[1].parentId: not a hex string" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\"},{\"traceId\":\"$T1\",\"id\":\"$S\",\"parentId\":\"zz2fb4a1d1a96d31\"}]")"
refused "ID as a number" 400 "spans[0].id: expected a hex string" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":12}]")"
refused "tags of the wrong type" 400 "spans[0].tags.a: expected a string" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"tags\":{\"a\":[1]}}]")"
refused "tags as a list" 400 "spans[0].tags: expected an object of strings" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"tags\":[\"a\"]}]")"
refused "annotations not a list" 400 "spans[0].annotations: expected an array" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"annotations\":{}}]")"
refused "annotation without a value" 400 "spans[0].annotations[0].value" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"annotations\":[{\"timestamp\":1}]}]")"
refused "unknown kind" 400 "spans[0].kind: expected CLIENT, SERVER" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"kind\":\"LOCAL\"}]")"
refused "negative timestamp" 400 "spans[0].timestamp" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"timestamp\":-5}]")"
refused "timestamp as a string" 400 "spans[0].timestamp" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"timestamp\":\"5\"}]")"
refused "shared not a boolean" 400 "spans[0].shared: expected true or false" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"shared\":\"yes\"}]")"
refused "a key twice in a span" 400 'spans[0]: duplicate key "id"' \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"id\":\"$S\"}]")"
refused "a tag twice" 400 'spans[0].tags: duplicate key "a"' \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"tags\":{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}}]")"
refused "port out of range" 400 "spans[0].localEndpoint: port" \
	"$(b "[{\"traceId\":\"$T1\",\"id\":\"$S\",\"localEndpoint\":{\"port\":70000}}]")"
printf 'not gzip' >"$TMP/corrupt.gz"
refused "corrupt gzip" 400 "corrupt gzip" "$TMP/corrupt.gz" \
	-H 'Content-Encoding: gzip'
head -c 30000000 /dev/zero | gzip -c >"$TMP/bomb.gz"
refused "gzip bomb (30 MB of zeros)" 413 "after decompression" "$TMP/bomb.gz" \
	-H 'Content-Encoding: gzip'
head -c $((LIMIT + 1)) /dev/zero >"$TMP/big.json"
refused "body over --max-message-bytes" 413 "exceeds the limit" "$TMP/big.json"
refused "chunked body over the limit" 413 "exceeds the limit" "$TMP/big.json" \
	-H 'Transfer-Encoding: chunked'
check_eq "protobuf Content-Type: 415" "$(curl -s -o "$TMP/resp.body" \
	-w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
	--data-binary "@$TMP/empty.json" "$URL")" 415
check "protobuf Content-Type: the reason names application/json" \
	grep -q 'send Zipkin v2 JSON as application/json' "$TMP/resp.body"
refused "Content-Encoding br" 415 "Content-Encoding" "$TMP/empty.json" \
	-H 'Content-Encoding: br'
check_eq "GET: 405" "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" 405
check_eq "other path: 404" "$(curl -s -o /dev/null -w '%{http_code}' \
	--data-binary "@$TMP/empty.json" "http://$ZK/api/v1/spans")" 404
check "the collector is alive after all of it" kill -0 "$COLL_PID"

# Nothing accepted before was lost, and good input still goes in.
check_eq "earlier spans still there" \
	"$($CLI show $T1 --json | jq '.spans | length')" 3
T4=$(head -c 16 /dev/urandom | xxd -p | tr -d '\n')
sed "s/$T2/$T4/" "$TMP/gz.json" >"$TMP/after.json"
check_eq "after the bad input: 202" "$(post "$TMP/after.json")" 202
check_eq "after the bad input: stored" "$(field "$T4" 0102030405060708 .name)" gz

# ---------------------------------------------------------------- stats
stat() { $CLI stats --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
check_eq "zipkin.rejected.invalid counts the bad JSON" \
	"$(stat zipkin.rejected.invalid)" 19
check_eq "zipkin.rejected.too_large counts bomb and bodies" \
	"$(stat zipkin.rejected.too_large)" 3
check_eq "zipkin.rejected.protocol counts type, encoding, method, path" \
	"$(stat zipkin.rejected.protocol)" 4
check_eq "zipkin.requests counts every request" "$(stat zipkin.requests)" 34
check "zipkin.bytes counts the bodies" test "$(stat zipkin.bytes)" -gt "$LIMIT"

# A span without a timestamp is the pipeline's to refuse: the others of
# the request are kept, and the 202 says how many were not.
T5=$(head -c 16 /dev/urandom | xxd -p | tr -d '\n')
printf '[{"traceId":"%s","id":"0a0b0c0d0e0f0102"},{"traceId":"%s","id":"0102030405060708","name":"kept","timestamp":%s,"duration":5}]' \
	"$T5" "$T5" "$NOW" >"$TMP/notime.json"
check_eq "a span without timestamp among good ones: 202" \
	"$(post "$TMP/notime.json")" 202
check "the 202 says one span was rejected, and why" \
	grep -q "1 of 2 spans rejected: timestamps" "$TMP/resp.body"
check_eq "the good span of that request is stored" \
	"$(field "$T5" 0102030405060708 .name)" kept

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly on SIGTERM" "$?" 0
finish
