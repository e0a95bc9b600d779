#!/bin/sh
# OTLP/gRPC ingest against a real tracecollector, driven by
# tests/tools/grpc_client (nghttp2's client side) and raw sockets: accepted
# calls (plain, gzip, partial success) read back with tracecli, then every
# kind of bad input (bad framing, wrong content type, method and path,
# unknown encodings, over the size limit, gzip bombs, huge headers,
# deadlines, stream floods, reset floods, HTTP/1.1 and garbage on the
# port), each answered with its documented status, and after all of it
# the collector still serves and has lost nothing it acknowledged.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in xxd jq gzip curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

LIMIT=65536
GC="$BUILD/tools/grpc_client"
start_collector grpc --otlp-grpc 127.0.0.1:0 --max-message-bytes "$LIMIT" ||
	{ fail "collector starts with --otlp-grpc 127.0.0.1:0"; finish; }
pass "collector starts with --otlp-grpc 127.0.0.1:0"
ADDR=$(sed -n 's/^otlp_grpc=//p' "$TMP/grpc.ready")
check "ready file names the bound gRPC port" \
	sh -c "echo '$ADDR' | grep -Eq '^127\.0\.0\.1:[1-9][0-9]*$'"
CLI="$BIN/tracecli --collector $COLL_QUERY"
"$BIN/tracecollector" --db "$TMP/bad-db" --listen "ipc://$TMP/bad-in.sock" \
	--query-listen "ipc://$TMP/bad-q.sock" --otlp-http none --jaeger-http off \
	--zipkin off --otlp-grpc tls+tcp://127.0.0.1:0 >"$TMP/bad.log" 2>&1
check "an NNG-style URL for --otlp-grpc is refused, not served as h2c" \
	sh -c "test $? -ne 0 && grep -q 'want HOST:PORT' '$TMP/bad.log'"

# call ARGS...: one Export call; leaves grpc_client's line in $OUT.
call() { OUT=$("$GC" "$ADDR" call "$@" 2>&1); }

# field NAME: a key=value field of $OUT (message= is the rest of the line).
field() {
	case "$1" in
	message) printf %s "$OUT" | sed -n 's/.* message=//p' ;;
	*) printf %s "$OUT" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1 ;;
	esac
}

# expect DESC NAME=VALUE...: every field of $OUT as given.
expect() {
	desc=$1; shift
	for kv in "$@"; do
		got=$(field "${kv%%=*}")
		if [ "$got" != "${kv#*=}" ]; then
			fail "$desc: ${kv%%=*}=$got, want ${kv#*=} ($OUT)"
			return
		fi
	done
	pass "$desc"
}

# span_count TRACE_HEX: how many spans tracecli shows for the trace.
span_count() { $CLI show "$1" --json 2>/dev/null | jq '.spans | length'; }

alive() { kill -0 "$COLL_PID" 2>/dev/null; }

# ---------------------------------------------------------------- accepted
T1=$(rand_hex 16) S1=$(rand_hex 8) S2=$(rand_hex 8)
to_bin "$(hx_request grpc-svc "$(hx_span "$T1" "$S1" op-a)" \
	"$(hx_span "$T1" "$S2" op-b)")" "$TMP/ok.bin"
call "$TMP/ok.bin"
expect "Export answers OK with an empty response" http=200 grpc_status=0 \
	rejected=0
check_eq "both spans of the call are stored" "$(span_count "$T1")" 2

T2=$(rand_hex 16)
to_bin "$(hx_request grpc-gz "$(hx_span "$T2" "$(rand_hex 8)" gz-op)")" \
	"$TMP/gz.bin"
call --gzip "$TMP/gz.bin"
expect "grpc-encoding: gzip is inflated and stored" grpc_status=0
check_eq "the gzip call's span is stored" "$(span_count "$T2")" 1

T3=$(rand_hex 16)
to_bin "$(hx_request grpc-part "$(hx_span "$T3" "$(rand_hex 8)" good)" \
	"$(hx_span "$T3" "$(rand_hex 7)" bad-id)")" "$TMP/partial.bin"
call "$TMP/partial.bin"
expect "a bad span gives OK with partial_success" grpc_status=0 rejected=1
case "$OUT" in
*" partial="?*) pass "partial_success says why" ;;
*) fail "partial_success says why ($OUT)" ;;
esac
check_eq "the good span of the partial call is stored" \
	"$(span_count "$T3")" 1

# ---------------------------------------------------------------- rejected
printf 'not protobuf at all' >"$TMP/garbage.bin"
call "$TMP/garbage.bin"
expect "an undecodable message is INVALID_ARGUMENT" grpc_status=3

head -c $((LIMIT + 1)) /dev/zero >"$TMP/big.bin"
call "$TMP/big.bin"
expect "a message over --max-message-bytes is RESOURCE_EXHAUSTED" \
	grpc_status=8
head -c 20000000 /dev/zero >"$TMP/bomb.plain"
call --gzip "$TMP/bomb.plain"
expect "a gzip bomb stops at the limit: RESOURCE_EXHAUSTED" grpc_status=8
printf '\037\213\010\000garbage' >"$TMP/badgz.bin"
call --raw --encoding gzip "$TMP/badgz.bin"
expect "a bad prefix flag is INTERNAL" grpc_status=13

# Raw bodies: a prefix that announces more than follows, two messages,
# a compressed flag without grpc-encoding, a body shorter than a prefix.
{ printf '\000\000\000\001\000'; head -c 10 "$TMP/ok.bin"; } >"$TMP/trunc.bin"
call --raw "$TMP/trunc.bin"
expect "a truncated message is INTERNAL" grpc_status=13 \
	"message=request ends before the message its prefix announces"
printf '\000\000\000' >"$TMP/short.bin"
call --raw "$TMP/short.bin"
expect "a body shorter than the prefix is INTERNAL" grpc_status=13
n=$(stat -c %s "$TMP/ok.bin")
{ for i in 1 2; do printf '\000'; printf "$(printf '\\%03o\\%03o\\%03o\\%03o' \
	0 0 $((n >> 8)) $((n & 255)))"; cat "$TMP/ok.bin"; done; } >"$TMP/two.bin"
call --raw "$TMP/two.bin"
expect "two messages in a unary call are INTERNAL" grpc_status=13 \
	"message=more than one message in a unary request"
{ printf '\001'; printf "$(printf '\\%03o\\%03o\\%03o\\%03o' 0 0 \
	$((n >> 8)) $((n & 255)))"; cat "$TMP/ok.bin"; } >"$TMP/flag.bin"
call --raw "$TMP/flag.bin"
expect "a compressed flag without grpc-encoding is INTERNAL" grpc_status=13

call --content-type application/json "$TMP/ok.bin"
expect "a content type other than application/grpc is HTTP 415" http=415
call --method GET "$TMP/ok.bin"
expect "a method other than POST is HTTP 405" http=405
call --path /opentelemetry.proto.collector.logs.v1.LogsService/Export \
	"$TMP/ok.bin"
expect "another method path is UNIMPLEMENTED" http=200 grpc_status=12
call --encoding snappy "$TMP/ok.bin"
expect "an unknown grpc-encoding is UNIMPLEMENTED" grpc_status=12
call --pad 20000 "$TMP/ok.bin"
expect "headers over 16 KiB are HTTP 431" http=431
call --pad 300000 "$TMP/ok.bin"
check "a header block beyond HPACK's bounds ends the connection, not the collector" \
	alive

call --timeout 1n "$TMP/ok.bin"
expect "an expired grpc-timeout is DEADLINE_EXCEEDED" grpc_status=4
call --hold --timeout 300m "$TMP/ok.bin"
expect "a request still arriving at its deadline is DEADLINE_EXCEEDED" \
	grpc_status=4

# ---------------------------------------------------------------- floods
T4=$(rand_hex 16)
to_bin "$(hx_request grpc-flood "$(hx_span "$T4" "$(rand_hex 8)" f)")" \
	"$TMP/flood.bin"
OUT=$("$GC" "$ADDR" call --count 100 "$TMP/flood.bin")
expect "100 calls at once: 32 served, the rest REFUSED_STREAM" ok=32 \
	refused=68 other=0
OUT=$("$GC" "$ADDR" resets 3000)
expect "a reset flood ends with GOAWAY ENHANCE_YOUR_CALM" goaway=11

# ---------------------------------------------------------------- not HTTP/2
code=$(curl -s --http1.1 -o "$TMP/h1.body" -w '%{http_code}' --max-time 10 \
	-H 'Content-Type: application/grpc' --data-binary "@$TMP/ok.bin" \
	"http://$ADDR/opentelemetry.proto.collector.trace.v1.TraceService/Export")
check_eq "HTTP/1.1 on the gRPC port gets 505" "$code" 505
# raw PAYLOAD_PY: send bytes, print what comes back until the close.
raw() {
	python3 - "$ADDR" "$1" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(eval(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except OSError:
    pass
print(len(got), got[3:4].hex() if len(got) > 3 else "-")
EOF
}
out=$(raw 'b"\x00\x01\x02garbage, no preface" * 4')
check_eq "a bad connection preface is closed" "$out" "0 -"
# The preface, then a HEADERS frame header announcing 1000 bytes of which
# 3 arrive: the server sends its SETTINGS and closes when the peer does.
out=$(raw 'b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\x00\x03\xe8\x01\x04\x00\x00\x00\x01abc"')
check "a truncated frame: the server answered with SETTINGS (type 04)" \
	sh -c "echo '$out' | grep -q ' 04$'"

# ---------------------------------------------------------------- after
check "the collector is alive after all of it" alive
T5=$(rand_hex 16)
to_bin "$(hx_request grpc-after "$(hx_span "$T5" "$(rand_hex 8)" after)")" \
	"$TMP/after.bin"
call "$TMP/after.bin"
expect "a call after the bad input is accepted" grpc_status=0
check_eq "the first call's spans are all still there" "$(span_count "$T1")" 2
check_eq "the flood's accepted calls share one span (idempotent)" \
	"$(span_count "$T4")" 1
# The listener counters every listener has (daemon/stats.h listener_stats),
# with the refusals above by reason, and gRPC's finer breakdown.
stat() { $CLI stats --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
check_eq "otlp_grpc.rejected.invalid: garbage and five framing errors" \
	"$(stat otlp_grpc.rejected.invalid)" 6
check_eq "otlp_grpc.rejected.invalid.framing: the five framing errors" \
	"$(stat otlp_grpc.rejected.invalid.framing)" 5
check_eq "otlp_grpc.rejected.too_large: the big message and the bomb" \
	"$(stat otlp_grpc.rejected.too_large)" 2
check_eq "otlp_grpc.rejected.protocol: 415, 405, 431 and two UNIMPLEMENTED" \
	"$(stat otlp_grpc.rejected.protocol)" 5
check_eq "otlp_grpc.rejected.protocol.not_grpc: 415, 405, 431" \
	"$(stat otlp_grpc.rejected.protocol.not_grpc)" 3
check_eq "otlp_grpc.rejected.protocol.unimplemented: path, encoding" \
	"$(stat otlp_grpc.rejected.protocol.unimplemented)" 2
check_eq "otlp_grpc.rejected.retry_later: the two deadlines" \
	"$(stat otlp_grpc.rejected.retry_later)" 2
check_eq "otlp_grpc.rejected.retry_later.deadline: the two deadlines" \
	"$(stat otlp_grpc.rejected.retry_later.deadline)" 2
check_eq "otlp_grpc.rejected.internal: none" \
	"$(stat otlp_grpc.rejected.internal)" 0
for name in otlp_grpc.requests otlp_grpc.bytes otlp_grpc.connection_errors; do
	check "tracecli stats counts $name" test "$(stat "$name")" -gt 0
done
finish
