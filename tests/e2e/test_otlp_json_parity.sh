#!/bin/sh
# The same spans sent once as protobuf and once as OTLP JSON (issue 16):
# three real collectors get one trace of three spans over two services,
# as hand-built protobuf (OTLP/HTTP), as JSON (OTLP/HTTP) and as the same
# JSON through `tracecli import` (NNG). `tracecli show --json` and
# `tracecli export` must print the same bytes for all three.
#
# The JSON uses what the OTLP JSON mapping allows beyond what our own
# export writes: upper-case hex IDs, enum names, 64-bit integers as bare
# numbers, \u escapes (\u0000 and a surrogate pair included), unknown
# fields, empty arrays and objects. The protobuf is built byte by byte
# here (otlp_lib.sh), independent of the JSON decoder.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

TID=5b8efff798038103d269b633813fc60c
S1=eee19b7ec3c1b174
S2=0af7651916cd43dd
S3=b7ad6b7169203331
UP_TID=$(echo $TID | tr a-f A-F)
UP_S1=$(echo $S1 | tr a-f A-F)
NOW=$(date +%s%N)
T0=$((NOW - 2000000000))
T1=$((T0 + 1000000))
T2=$((T0 + 2000000))
T3=$((T0 + 9000000))
T4=$((T0 + 10000000))

# ---------------------------------------------------------------- protobuf
kv_raw() { printf '%s%s' "$(hx_ld 0a "$(hx_str "$1")")" "$(hx_ld 12 "$2")"; } # KEY ANYVALUE_HEX
any_str() { hx_ld 0a "$1"; }                            # STRING_HEX
any_int() { printf '18%s' "$(hx_varint "$1")"; }

attr_nul=$(kv_raw app.text "$(any_str "$(hx_str "a")00$(hx_str "b")")")
attr_utf8=$(kv_raw app.name "$(any_str "$(hx_str "é😀")")")
attr_int=$(kv_raw http.response.status_code "$(any_int 200)")
attr_big=$(kv_raw app.big "$(any_int 9007199254740993)")
attr_dbl=$(kv_raw app.ratio "21000000000000d03f")
attr_bool=$(kv_raw app.ok "1001")
attr_arr=$(kv_raw app.list "$(hx_ld 2a "$(hx_ld 0a "$(any_str "$(hx_str x)")")$(hx_ld 0a "$(any_int 1)")")")
attr_bytes=$(kv_raw app.bytes "$(hx_ld 3a 00ff)")
event=$(hx_ld 5a "09$(hx_le64 $T1)$(hx_ld 12 "$(hx_str retry)")$(hx_ld 1a "$(kv_raw attempt "$(any_int 2)")")")
status=$(hx_ld 7a "$(hx_ld 12 "$(hx_str boom)")1802")
span1="$(hx_ld 0a $TID)$(hx_ld 12 $S1)$(hx_ld 2a "$(hx_str "GET /x")")3002"
span1="${span1}39$(hx_le64 $T0)41$(hx_le64 $T4)"
span1="$span1$(hx_ld 4a "$attr_nul")$(hx_ld 4a "$attr_utf8")$(hx_ld 4a "$attr_int")"
span1="$span1$(hx_ld 4a "$attr_big")$(hx_ld 4a "$attr_dbl")$(hx_ld 4a "$attr_bool")"
span1="$span1$(hx_ld 4a "$attr_arr")$(hx_ld 4a "$attr_bytes")$event$status"
link=$(hx_ld 6a "$(hx_ld 0a $TID)$(hx_ld 12 $S1)$(hx_ld 1a "$(hx_str k=v)")")
span2="$(hx_ld 0a $TID)$(hx_ld 12 $S2)$(hx_ld 1a "$(hx_str k=v)")$(hx_ld 22 $S1)"
span2="$span2$(hx_ld 2a "$(hx_str "SELECT orders")")3003"
span2="${span2}39$(hx_le64 $T1)41$(hx_le64 $T3)${link}7a00850101010000"
span3="$(hx_ld 0a $TID)$(hx_ld 12 $S3)$(hx_ld 22 $S2)$(hx_ld 2a "$(hx_str audit)")"
span3="${span3}300139$(hx_le64 $T2)41$(hx_le64 $T3)"
res_a=$(hx_ld 0a "$(kv_raw service.name "$(any_str "$(hx_str parity-a)")")")
res_b=$(hx_ld 0a "$(kv_raw service.name "$(any_str "$(hx_str parity-b)")")")
scope=$(hx_ld 0a "$(hx_ld 0a "$(hx_str lib)")$(hx_ld 12 "$(hx_str 1.2)")")
rs_a=$(hx_ld 0a "$(hx_ld 0a "$res_a")$(hx_ld 12 "$scope$(hx_ld 12 "$span1")$(hx_ld 12 "$span2")")")
rs_b=$(hx_ld 0a "$(hx_ld 0a "$res_b")$(hx_ld 12 "$(hx_ld 12 "$span3")")")
to_bin "$rs_a$rs_b" "$TMP/req.pb"

# ---------------------------------------------------------------- JSON
cat >"$TMP/req.json" <<EOF
{"resourceSpans":[
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"parity-a"}}],
   "futureField":{"x":[1,2]}},
  "scopeSpans":[{"scope":{"name":"lib","version":"1.2","attributes":[]},
   "spans":[
    {"traceId":"$UP_TID","spanId":"$UP_S1","parentSpanId":"","name":"GET /x",
     "kind":"SPAN_KIND_SERVER","startTimeUnixNano":$T0,"endTimeUnixNano":"$T4",
     "attributes":[
      {"key":"app.text","value":{"stringValue":"a\u0000b"}},
      {"key":"app.name","value":{"stringValue":"\u00e9\ud83d\ude00"}},
      {"key":"http.response.status_code","value":{"intValue":200}},
      {"key":"app.big","value":{"intValue":"9007199254740993"}},
      {"key":"app.ratio","value":{"doubleValue":0.25}},
      {"key":"app.ok","value":{"boolValue":true}},
      {"key":"app.list","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"1"}]}}},
      {"key":"app.bytes","value":{"bytesValue":"AP8="}}],
     "events":[{"timeUnixNano":$T1,"name":"retry","attributes":[{"key":"attempt","value":{"intValue":2}}]}],
     "links":[],"droppedAttributesCount":0,
     "status":{"code":"STATUS_CODE_ERROR","message":"boom"}},
    {"traceId":"$TID","spanId":"$S2","traceState":"k=v","parentSpanId":"$UP_S1",
     "name":"SELECT orders","kind":3,"startTimeUnixNano":"$T1","endTimeUnixNano":$T3,
     "links":[{"traceId":"$TID","spanId":"$S1","traceState":"k=v","attributes":[]}],
     "flags":257,"status":{},"unknown":null}]}]},
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"parity-b"}}]},
  "scopeSpans":[{"spans":[
    {"traceId":"$TID","spanId":"$S3","parentSpanId":"$S2","name":"audit",
     "kind":"SPAN_KIND_INTERNAL","startTimeUnixNano":$T2,"endTimeUnixNano":$T3,
     "attributes":[],"events":[]}]}]}]}
EOF

# ---------------------------------------------------------------- send
start_otlp_collector pb || { fail "protobuf collector starts"; finish; }
PB_QUERY=$COLL_QUERY PB_PID=$COLL_PID
check_eq "the protobuf request is stored (200)" \
	"$(post "$TMP/req.pb" application/x-protobuf)" 200
start_otlp_collector js || { fail "JSON collector starts"; finish; }
JS_QUERY=$COLL_QUERY JS_PID=$COLL_PID
check_eq "the JSON request is stored (200)" \
	"$(post "$TMP/req.json" application/json)" 200
check_eq "... with no partial success" "$(cat "$TMP/resp.body")" "{}"
start_collector imp || { fail "import collector starts"; finish; }
IMP_QUERY=$COLL_QUERY IMP_PID=$COLL_PID
"$BIN/tracecli" import "$TMP/req.json" --ingest "$COLL_INGEST" \
	>"$TMP/import.out" 2>&1
check_eq "tracecli import of the JSON exits 0" "$?" 0

# ---------------------------------------------------------------- compare
for side in pb js imp; do
	eval q=\$$(echo $side | tr a-z A-Z)_QUERY
	"$BIN/tracecli" show $TID --json --collector "$q" \
		>"$TMP/show.$side" 2>"$TMP/show.$side.err"
	"$BIN/tracecli" export $TID --collector "$q" \
		>"$TMP/export.$side" 2>"$TMP/export.$side.err"
done
check_eq "protobuf: show --json has the 3 spans" \
	"$(jq '.spans | length' "$TMP/show.pb" 2>/dev/null)" 3
# The reference side holds what was sent (so equal means right, not
# equally empty).
root='.spans[] | select(.name == "GET /x")'
check_eq "protobuf: the surrogate pair's character is stored" \
	"$(jq -r "$root | .attributes[\"app.name\"]" "$TMP/show.pb")" "é😀"
check_eq "protobuf: the services are both there" \
	"$(jq -r '[.spans[].service] | sort | unique | join(",")' \
		"$TMP/show.pb")" "parity-a,parity-b"
check "protobuf: the export holds every attribute" \
	sh -c "grep -q '\"app.bytes\"' '$TMP/export.pb' &&
		grep -q '9007199254740993' '$TMP/export.pb'"
for side in js imp; do
	check "show --json: $side gives the same bytes as protobuf" \
		cmp -s "$TMP/show.pb" "$TMP/show.$side"
	check "export: $side gives the same bytes as protobuf" \
		cmp -s "$TMP/export.pb" "$TMP/export.$side"
done
cmp -s "$TMP/show.pb" "$TMP/show.js" ||
	diff "$TMP/show.pb" "$TMP/show.js" | head -20

stop_pid "$PB_PID"
stop_pid "$JS_PID"
stop_pid "$IMP_PID"
finish
