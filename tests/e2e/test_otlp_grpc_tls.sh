#!/bin/sh
# OTLP/gRPC over TLS (--otlp-grpc https://HOST:PORT, GnuTLS, ALPN h2)
# against a real tracecollector, with curl as the HTTP/2 client: an Export
# call over TLS is stored, and so are the traces of the OpenTelemetry JS
# gRPC exporter (tests/otel-js/send.js) trusting the test CA; a client that does not offer h2 (HTTP/1.1), one
# that speaks h2c to the TLS port, one that does not trust the server, and
# under --tls-verify-clients one without a client certificate are all
# refused, and the collector keeps serving.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in openssl curl xxd jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done
if ! curl -V | grep -q HTTP2; then
	skip "curl has no HTTP/2"
	finish
fi

C="$TMP/certs"
mkdir -p "$C"
# mkcert NAME CA: a key and a certificate for 127.0.0.1 signed by CA.
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$C/$1.key" -out "$C/$1.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" \
		-CAkey "$C/$2.key" -CAcreateserial -days 2 -out "$C/$1.crt" \
		-extfile "$C/san.ext" >/dev/null 2>&1
}
printf 'subjectAltName=IP:127.0.0.1\n' >"$C/san.ext"
if ! { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ca" \
	-keyout "$C/ca.key" -out "$C/ca.crt" >/dev/null 2>&1 &&
	mkcert server ca && mkcert client ca; }; then
	fail "openssl makes the test certificates"
	finish
fi

# framed FILE OUT: FILE as one uncompressed gRPC message.
framed() {
	n=$(stat -c %s "$1")
	{ printf '\000'; printf "$(printf '\\%03o\\%03o\\%03o\\%03o' \
		$((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) \
		$((n & 255)))"; cat "$1"; } >"$2"
}

# export ADDR [curl args...]: one Export call with $TMP/framed.bin; prints
# curl's exit status and the grpc-status trailer.
export_call() {
	addr=$1; shift
	rm -f "$TMP/h"
	curl -s --http2 --max-time 10 -D "$TMP/h" -o /dev/null \
		-H 'content-type: application/grpc' -H 'te: trailers' \
		--data-binary "@$TMP/framed.bin" "$@" \
		"https://$addr/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	printf '%s %s' "$?" "$(tr -d '\r' <"$TMP/h" 2>/dev/null |
		sed -n 's/^grpc-status: //p')"
}

start_collector tls --otlp-grpc https://127.0.0.1:0 \
	--tls-cert "$C/server.crt" --tls-key "$C/server.key" ||
	{ fail "collector starts with --otlp-grpc https://127.0.0.1:0"; finish; }
pass "collector starts with --otlp-grpc https://127.0.0.1:0"
ADDR=$(sed -n 's/^otlp_grpc=//p' "$TMP/tls.ready")
CLI="$BIN/tracecli --collector $COLL_QUERY"

T1=$(rand_hex 16)
to_bin "$(hx_request grpc-tls "$(hx_span "$T1" "$(rand_hex 8)" tls-op)")" \
	"$TMP/req.bin"
framed "$TMP/req.bin" "$TMP/framed.bin"
check_eq "an Export call over TLS (ALPN h2) is OK" \
	"$(export_call "$ADDR" --cacert "$C/ca.crt")" "0 0"
check_eq "its span is stored" \
	"$($CLI show "$T1" --json 2>/dev/null | jq '.spans | length')" 1
curl -s --http1.1 --max-time 10 --cacert "$C/ca.crt" -o /dev/null \
	"https://$ADDR/"
check "a client that does not offer ALPN h2 fails the handshake" \
	test "$?" -ne 0
out=$("$BUILD/tools/grpc_client" "$ADDR" call "$TMP/req.bin" 2>&1)
check "h2c (no TLS) on the TLS port gets no answer" sh -c \
	"echo '$out' | grep -q 'http=-1 grpc_status=-1'"
check "a client that does not trust the certificate fails" sh -c \
	"! curl -s --http2 --max-time 10 -o /dev/null https://$ADDR/"
# The OpenTelemetry JS gRPC exporter over TLS, trusting our CA.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
	sdk_install exporter-trace-otlp-grpc; then
	if (cd tests && OTEL_EXPORTER_OTLP_CERTIFICATE="$C/ca.crt" \
		node otel-js/send.js --grpc "https://$ADDR" \
		--out "$TMP/expected.json") >"$TMP/send.log" 2>&1; then
		pass "the JS gRPC exporter sends over TLS"
		sdk_verify "$TMP/expected.json"
	else
		fail "the JS gRPC exporter sends over TLS: $(tail -n 3 "$TMP/send.log")"
	fi
else
	skip "node/npm or the pinned SDK are not available"
fi
stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0

start_collector mtls --otlp-grpc https://127.0.0.1:0 \
	--tls-cert "$C/server.crt" --tls-key "$C/server.key" \
	--tls-ca "$C/ca.crt" --tls-verify-clients ||
	{ fail "collector starts with --tls-verify-clients"; finish; }
ADDR=$(sed -n 's/^otlp_grpc=//p' "$TMP/mtls.ready")
code=$(export_call "$ADDR" --cacert "$C/ca.crt")
check "without a client certificate: refused" test "${code%% *}" -ne 0
check_eq "with a client certificate signed by --tls-ca: OK" \
	"$(export_call "$ADDR" --cacert "$C/ca.crt" --cert "$C/client.crt" \
	--key "$C/client.key")" "0 0"
check "the collector is alive" kill -0 "$COLL_PID"
finish
