#!/bin/sh
# OTLP/HTTP ingest against a real tracecollector: hand-built protobuf and
# JSON requests sent with curl, gzip and chunked bodies, every status code
# of docs/PROTOCOL.md §2 (200, partial success, 400, 405, 404, 411,
# 413, 415), malformed and hostile bodies, and after all of it the
# collector still serves and what it accepted is readable with tracecli.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in curl xxd jq gzip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

LIMIT=1048576
start_otlp_collector otlp --max-message-bytes "$LIMIT" ||
	{ fail "collector starts with --otlp-http 127.0.0.1:0"; finish; }
pass "collector starts with --otlp-http 127.0.0.1:0"
check "ready file names the bound port" \
	sh -c "echo '$OTLP_URL' | grep -Eq '^http://127\.0\.0\.1:[1-9][0-9]*$'"
CLI="$BIN/tracecli --collector $COLL_QUERY"

# stored TRACE_HEX SPAN_HEX: tracecli show finds that span.
stored() {
	$CLI show "$1" --json 2>/dev/null |
		jq -e --arg s "$2" '[.spans[] | select(.span_id == $s)] | length == 1' \
		>/dev/null 2>&1
}

# span_field TRACE_HEX SPAN_HEX JQ: one field of a stored span.
span_field() {
	$CLI show "$1" --json 2>/dev/null |
		jq -r --arg s "$2" ".spans[] | select(.span_id == \$s) | $3" 2>/dev/null
}

# ---------------------------------------------------------------- protobuf
T1=$(rand_hex 16) S1=$(rand_hex 8)
to_bin "$(hx_request hand-pb "$(hx_span "$T1" "$S1" pb-op)")" "$TMP/pb.bin"
check_eq "protobuf: 200" "$(post "$TMP/pb.bin" application/x-protobuf)" 200
check_eq "protobuf: response Content-Type" "$(header Content-Type)" \
	application/x-protobuf
check_eq "protobuf: full success has an empty ExportTraceServiceResponse" \
	"$(wc -c <"$TMP/resp.body" | tr -d ' ')" 0
check "protobuf: span is stored" stored "$T1" "$S1"
check_eq "protobuf: service from the resource" \
	"$(span_field "$T1" "$S1" .service)" hand-pb
check_eq "protobuf: kind" "$(span_field "$T1" "$S1" .kind)" server
check_eq "protobuf: attribute" \
	"$(span_field "$T1" "$S1" '.attributes["app.source"]')" hand-built

T2=$(rand_hex 16) S2=$(rand_hex 8)
to_bin "$(hx_request hand-gz "$(hx_span "$T2" "$S2" gz-op)")" "$TMP/gz.raw"
gzip -c "$TMP/gz.raw" >"$TMP/gz.bin"
check_eq "protobuf+gzip: 200" \
	"$(post "$TMP/gz.bin" application/x-protobuf -H 'Content-Encoding: gzip')" 200
check "protobuf+gzip: span is stored" stored "$T2" "$S2"

T3=$(rand_hex 16) S3=$(rand_hex 8)
to_bin "$(hx_request hand-chunked "$(hx_span "$T3" "$S3" chunked-op)")" \
	"$TMP/ch.raw"
gzip -c "$TMP/ch.raw" >"$TMP/ch.bin"
check_eq "protobuf+gzip, chunked body: 200" \
	"$(post "$TMP/ch.bin" application/x-protobuf \
		-H 'Content-Encoding: gzip' -H 'Transfer-Encoding: chunked')" 200
check "chunked body: span is stored (never a 200 for unread spans)" \
	stored "$T3" "$S3"

# "Expect: 100-continue" gets its interim response: curl would otherwise
# wait out --expect100-timeout (30 s, beyond --max-time 10) first.
T8=$(rand_hex 16) S8=$(rand_hex 8)
to_bin "$(hx_request hand-expect "$(hx_span "$T8" "$S8" expect-op)")" \
	"$TMP/expect.bin"
check_eq "Expect: 100-continue: 200" "$(post "$TMP/expect.bin" \
	application/x-protobuf -H 'Expect: 100-continue' \
	--expect100-timeout 30)" 200
check "Expect: 100-continue: span is stored" stored "$T8" "$S8"

# Partial success: one good span, one with a 3-byte trace ID.
T4=$(rand_hex 16) S4=$(rand_hex 8)
to_bin "$(hx_request hand-partial "$(hx_span "$T4" "$S4" good)" \
	"$(hx_span abcdef "$(rand_hex 8)" bad)")" "$TMP/partial.bin"
check_eq "protobuf partial: 200" \
	"$(post "$TMP/partial.bin" application/x-protobuf)" 200
check "protobuf partial: partial_success.rejected_spans = 1" \
	sh -c "xxd -p '$TMP/resp.body' | tr -d '\n' | grep -q '^0a..0801'"
check "protobuf partial: the good span is stored" stored "$T4" "$S4"

# ---------------------------------------------------------------- JSON
T5=$(rand_hex 16) S5=$(rand_hex 8) S6=$(rand_hex 8)
NOW=$(date +%s%N)
UT5=$(echo "$T5" | tr a-f A-F)
cat >"$TMP/ok.json" <<EOF
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",
 "value":{"stringValue":"hand-json"}}]},"scopeSpans":[{"scope":{"name":"lib"},
 "spans":[{"traceId":"$UT5","spanId":"$S5","name":"json-root","kind":2,
  "startTimeUnixNano":"$((NOW - 2000000000))",
  "endTimeUnixNano":$((NOW - 1000000000)),
  "attributes":[{"key":"n","value":{"intValue":"42"}},
   {"key":"d","value":{"doubleValue":"Infinity"}},
   {"key":"b","value":{"boolValue":true}}],
  "events":[{"timeUnixNano":"$((NOW - 1500000000))","name":"ev",
   "attributes":[{"key":"x","value":{"stringValue":"y"}}]}],
  "status":{"code":2,"message":"boom"},"someFutureField":{"x":1}},
  {"traceId":"$T5","spanId":"$S6","parentSpanId":"$S5","name":"json-child",
   "kind":3,"startTimeUnixNano":"$((NOW - 1900000000))",
   "endTimeUnixNano":"$((NOW - 1100000000))","flags":257,
   "droppedAttributesCount":"2"}]}]}]}
EOF
check_eq "JSON: 200" "$(post "$TMP/ok.json" application/json)" 200
check_eq "JSON: response Content-Type" "$(header Content-Type)" \
	application/json
check_eq "JSON: full success body is {}" "$(cat "$TMP/resp.body")" "{}"
check "JSON: upper-case hex trace id stored (lower-case)" stored "$T5" "$S5"
check_eq "JSON: parent from parentSpanId" \
	"$(span_field "$T5" "$S6" .parent_span_id)" "$S5"
check_eq "JSON: intValue as a string" \
	"$(span_field "$T5" "$S5" '.attributes.n')" 42
check_eq "JSON: status code as an integer" \
	"$(span_field "$T5" "$S5" .status)" error
check_eq "JSON: event kept" "$(span_field "$T5" "$S5" '.events[0].name')" ev
check_eq "JSON: kind" "$(span_field "$T5" "$S6" .kind)" client

check_eq "JSON with '; charset=utf-8': 200" \
	"$(post "$TMP/ok.json" 'application/json; charset=utf-8')" 200
gzip -c "$TMP/ok.json" >"$TMP/ok.json.gz"
check_eq "JSON+gzip: 200" "$(post "$TMP/ok.json.gz" application/json \
	-H 'Content-Encoding: gzip')" 200
check_eq "JSON chunked: 200" "$(post "$TMP/ok.json" application/json \
	-H 'Transfer-Encoding: chunked')" 200

# Partial success: good span, bad hex, wrong types, enum name, too deep.
T7=$(rand_hex 16) S7=$(rand_hex 8)
deep='{"intValue":"1"}'
i=0
while [ $i -lt 20 ]; do
	deep="{\"arrayValue\":{\"values\":[$deep]}}"
	i=$((i + 1))
done
cat >"$TMP/partial.json" <<EOF
{"resourceSpans":[{"scopeSpans":[{"spans":[
 {"traceId":"$T7","spanId":"$S7","name":"good",
  "startTimeUnixNano":$((NOW - 1000000000)),"endTimeUnixNano":"$NOW"},
 {"traceId":"$T7","spanId":"0123456789abcde","name":"short id"},
 {"traceId":"$T7","spanId":"0123456789abcdeg","name":"non-hex id"},
 {"traceId":"$T7","spanId":"$(rand_hex 8)","name":7},
 {"traceId":"$T7","spanId":"$(rand_hex 8)","kind":"SPAN_KIND_SERVER"},
 {"traceId":"$T7","spanId":"$(rand_hex 8)","startTimeUnixNano":"soon"},
 {"traceId":"$T7","spanId":"$(rand_hex 8)","attributes":[{"key":"b",
  "value":{"boolValue":"true"}}]},
 {"traceId":"$T7","spanId":"$(rand_hex 8)","attributes":[{"key":"deep",
  "value":$deep}]},
 {"traceId":"00000000000000000000000000000000","spanId":"$(rand_hex 8)",
  "name":"zero trace id: the pipeline rejects it"}
]}]}]}
EOF
check_eq "JSON partial: 200" "$(post "$TMP/partial.json" application/json)" 200
check_eq "JSON partial: rejectedSpans (string per OTLP JSON)" \
	"$(jq -r .partialSuccess.rejectedSpans "$TMP/resp.body")" 8
check "JSON partial: errorMessage explains the first rejection" \
	sh -c "jq -r .partialSuccess.errorMessage '$TMP/resp.body' | grep -q spanId"
check "JSON partial: the good span is stored" stored "$T7" "$S7"

# ---------------------------------------------------------------- 400
printf 'this is not protobuf' >"$TMP/garbage.bin"
check_eq "400: garbage protobuf" \
	"$(post "$TMP/garbage.bin" application/x-protobuf)" 400
check "400: body is a google.rpc.Status with a message" \
	sh -c "xxd -p '$TMP/resp.body' | tr -d '\n' | grep -q '^080312'"
head -c 60 "$TMP/pb.bin" >"$TMP/truncated.bin"
check_eq "400: truncated protobuf" \
	"$(post "$TMP/truncated.bin" application/x-protobuf)" 400
# AnyValue arrays nested 100 deep (200 message levels): the pipeline's depth pre-scan refuses
# it before protobuf-c could recurse.
inner=$(hx_ld 0a "$(hx_str x)")
i=0
while [ $i -lt 100 ]; do
	inner=$(hx_ld 2a "$(hx_ld 0a "$inner")")
	i=$((i + 1))
done
deep_span="$(hx_span "$(rand_hex 16)" "$(rand_hex 8)" deep)$(hx_ld 4a \
	"$(hx_ld 0a "$(hx_str deep)")$(hx_ld 12 "$inner")")"
to_bin "$(hx_request hand-deep "$deep_span")" "$TMP/deep.bin"
check_eq "400: protobuf AnyValue nested 100 deep" \
	"$(post "$TMP/deep.bin" application/x-protobuf)" 400
printf '{"resourceSpans":[' >"$TMP/bad.json"
check_eq "400: truncated JSON" "$(post "$TMP/bad.json" application/json)" 400
check "400: JSON request gets a JSON Status" \
	sh -c "jq -e '.message | length > 0' '$TMP/resp.body' >/dev/null"
printf '[]' >"$TMP/array.json"
check_eq "400: JSON array document" \
	"$(post "$TMP/array.json" application/json)" 400
printf '{"resourceSpans":{}}' >"$TMP/wrongtype.json"
check_eq "400: resourceSpans not an array" \
	"$(post "$TMP/wrongtype.json" application/json)" 400
i=0 d='1'
while [ $i -lt 3000 ]; do d="[$d]"; i=$((i + 1)); done
printf '{"x":%s}' "$d" >"$TMP/deep.json"
check_eq "400: JSON nested 3000 deep" \
	"$(post "$TMP/deep.json" application/json)" 400
printf 'not gzip at all' >"$TMP/corrupt.gz"
check_eq "400: corrupt gzip" "$(post "$TMP/corrupt.gz" application/x-protobuf \
	-H 'Content-Encoding: gzip')" 400
head -c 20 "$TMP/gz.bin" >"$TMP/trunc.gz"
check_eq "400: truncated gzip" "$(post "$TMP/trunc.gz" application/x-protobuf \
	-H 'Content-Encoding: gzip')" 400

# ---------------------------------------------------------------- 413
head -c $((LIMIT + 1)) /dev/zero >"$TMP/big.bin"
check_eq "413: body over --max-message-bytes" \
	"$(post "$TMP/big.bin" application/x-protobuf)" 413
check_eq "413: chunked body over the limit" \
	"$(post "$TMP/big.bin" application/x-protobuf \
		-H 'Transfer-Encoding: chunked')" 413
head -c 50000000 /dev/zero | gzip -c >"$TMP/bomb.gz"
check_eq "413: gzip bomb (50 MB of zeros in $(wc -c <"$TMP/bomb.gz" | tr -d ' ') bytes)" \
	"$(post "$TMP/bomb.gz" application/x-protobuf -H 'Content-Encoding: gzip')" 413

# ---------------------------------------------------------------- 415
check_eq "415: text/plain" "$(post "$TMP/pb.bin" text/plain)" 415
check_eq "415: application/jsonx is not JSON" \
	"$(post "$TMP/pb.bin" application/jsonx)" 415
check_eq "415: Content-Encoding br" "$(post "$TMP/pb.bin" \
	application/x-protobuf -H 'Content-Encoding: br')" 415

# ---------------------------------------------------------------- 405, 404, 411
code=$(curl -s --max-time 10 -o /dev/null -D "$TMP/resp.hdr" -w '%{http_code}' \
	"$OTLP_TRACES")
check_eq "405: GET /v1/traces" "$code" 405
check_eq "405: Allow: POST" "$(header Allow)" POST
check_eq "405: PUT /v1/traces" "$(post "$TMP/pb.bin" application/x-protobuf \
	-X PUT)" 405
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/x-protobuf' --data-binary "@$TMP/pb.bin" \
	"$OTLP_URL/v1/logs")
check_eq "404: POST /v1/logs" "$code" 404
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$OTLP_URL/")
check_eq "404: GET /" "$code" 404
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: application/x-protobuf' "$OTLP_TRACES")
check_eq "411: POST without Content-Length" "$code" 411
check_eq "411: Transfer-Encoding other than chunked" \
	"$(post "$TMP/pb.bin" application/x-protobuf \
		-H 'Transfer-Encoding: gzip, chunked')" 411

# ---------------------------------------------------------------- hostile clients
# Content-Length larger than the body: no answer is possible; the client
# gives up and the collector must not care.
curl -s --max-time 1 -o /dev/null -H 'Content-Type: application/x-protobuf' \
	-H 'Content-Length: 1000' --data-binary 'abc' "$OTLP_TRACES"
check_eq "short body: client times out (nothing stored, nothing answered)" \
	"$?" 28
check "collector process is still alive" kill -0 "$COLL_PID"

# ---------------------------------------------------------------- still serving
T9=$(rand_hex 16) S9=$(rand_hex 8)
to_bin "$(hx_request hand-after "$(hx_span "$T9" "$S9" after)")" "$TMP/after.bin"
check_eq "after all the bad input: protobuf still 200" \
	"$(post "$TMP/after.bin" application/x-protobuf)" 200
check "after all the bad input: span is stored" stored "$T9" "$S9"
check "tracecli services lists the OTLP services" \
	sh -c "$CLI services 2>/dev/null | grep -q hand-json"

# ---------------------------------------------------------------- stats
# Every refusal above shows up in tracecli stats, by reason.
stat() { $CLI stats --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
check "otlp_http.rejected.invalid counts the undecodable bodies" \
	test "$(stat otlp_http.rejected.invalid)" -ge 9
check_eq "otlp_http.rejected.too_large counts the 413s" \
	"$(stat otlp_http.rejected.too_large)" 3
check_eq "otlp_http.rejected.protocol counts 404, 405, 411, 415" \
	"$(stat otlp_http.rejected.protocol)" 9
check "otlp_http.requests and bytes are counted" \
	test "$(stat otlp_http.requests)" -ge 30 -a \
	"$(stat otlp_http.bytes)" -gt "$LIMIT"

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly on SIGTERM" "$?" 0
finish
