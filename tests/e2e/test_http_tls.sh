#!/bin/sh
# TLS on the HTTP listeners (https:// for --otlp-http and --zipkin, on
# collector/net/http_server.c and GnuTLS), with certificates made by
# openssl (tests/e2e/tls_lib.sh). One collector with server TLS: OTLP/HTTP
# and Zipkin spans posted over https with curl are stored; plain HTTP to
# the port and a client that does not trust the server get no answer, and
# the collector goes on. One collector with --tls-verify-clients: a client
# certificate from --tls-ca is served; none, or one from another CA, gets
# 403 with the reason, counted as otlp_http.rejected.unauthenticated. And
# https:// without --tls-cert stops the collector at startup.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh
. tests/e2e/tls_lib.sh

for tool in openssl curl jq xxd; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "HTTP TLS tests need $tool"
		finish
	fi
done
make_certs || finish
TLS="--tls-cert $C/server.crt --tls-key $C/server.key"

# port NAME KEY: the port of listener KEY in NAME's ready file.
port() { sed -n "s/^$2=.*:\([0-9]*\)$/\1/p" "$TMP/$1.ready"; }

# https_post URL FILE CONTENT_TYPE [curl args...]: the status, or 000.
https_post() {
	u=$1 f=$2 ct=$3; shift 3
	curl -s --max-time 10 -o "$TMP/resp.body" -w '%{http_code}' \
		--cacert "$C/ca.crt" -H "Content-Type: $ct" \
		--data-binary "@$f" "$@" "$u"
}

# ---------------------------------------------------------------- server TLS
# shellcheck disable=SC2086
start_collector tls --otlp-http https://127.0.0.1:0 \
	--zipkin https://127.0.0.1:0 $TLS ||
	{ fail "collector starts with https:// listeners"; finish; }
pass "collector starts with https:// listeners"
CLI="$BIN/tracecli --collector $COLL_QUERY"
OTLP="https://127.0.0.1:$(port tls otlp_http)/v1/traces"
ZIP="https://127.0.0.1:$(port tls zipkin)/api/v2/spans"

T1=$(rand_hex 16) S1=$(rand_hex 8)
to_bin "$(hx_request tls-otlp "$(hx_span "$T1" "$S1" tls-op)")" "$TMP/pb.bin"
check_eq "OTLP/HTTP over TLS: 200" \
	"$(https_post "$OTLP" "$TMP/pb.bin" application/x-protobuf)" 200
check_eq "OTLP/HTTP over TLS: stored" \
	"$($CLI show "$T1" --json | jq -r '.spans[0].service')" tls-otlp
T2=$(rand_hex 16)
printf '[{"traceId":"%s","id":"0102030405060708","name":"z","timestamp":%s,"duration":5,"localEndpoint":{"serviceName":"tls-zipkin"}}]' \
	"$T2" "$(($(date +%s) - 2))000000" >"$TMP/z.json"
check_eq "Zipkin over TLS: 202" \
	"$(https_post "$ZIP" "$TMP/z.json" application/json)" 202
check_eq "Zipkin over TLS: stored" \
	"$($CLI show "$T2" --json | jq -r '.spans[0].service')" tls-zipkin
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/x-protobuf' --data-binary "@$TMP/pb.bin" \
	"http://127.0.0.1:$(port tls otlp_http)/v1/traces")
check_eq "plain HTTP to the TLS port: no HTTP answer" "$code" 000
curl -s --max-time 10 -o /dev/null --cacert "$C/badca.crt" \
	-H 'Content-Type: application/x-protobuf' --data-binary "@$TMP/pb.bin" \
	"$OTLP"
check_eq "a client that does not trust the server refuses it (curl 60)" \
	"$?" 60
check_eq "still serving after both" \
	"$(https_post "$OTLP" "$TMP/pb.bin" application/x-protobuf)" 200
stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0

# ---------------------------------------------------------------- mutual TLS
# shellcheck disable=SC2086
start_collector mtls --otlp-http https://127.0.0.1:0 $TLS \
	--tls-ca "$C/ca.crt" --tls-verify-clients ||
	{ fail "collector starts with --tls-verify-clients"; finish; }
CLI="$BIN/tracecli --collector $COLL_QUERY"
OTLP="https://127.0.0.1:$(port mtls otlp_http)/v1/traces"
T3=$(rand_hex 16) S3=$(rand_hex 8)
to_bin "$(hx_request mtls "$(hx_span "$T3" "$S3" mtls-op)")" "$TMP/m.bin"
check_eq "mTLS: a client certificate from --tls-ca: 200" \
	"$(https_post "$OTLP" "$TMP/m.bin" application/x-protobuf \
		--cert "$C/client.crt" --key "$C/client.key")" 200
check_eq "mTLS: stored" "$($CLI show "$T3" --json | jq -r '.spans[0].name')" \
	mtls-op
check_eq "mTLS: no client certificate: 403" \
	"$(https_post "$OTLP" "$TMP/m.bin" application/x-protobuf)" 403
check "mTLS: the 403 says why" grep -q "client certificate" "$TMP/resp.body"
check_eq "mTLS: a certificate from another CA: 403" \
	"$(https_post "$OTLP" "$TMP/m.bin" application/x-protobuf \
		--cert "$C/evil.crt" --key "$C/evil.key")" 403
check_eq "mTLS: refusals counted as otlp_http.rejected.unauthenticated" \
	"$($CLI stats --json | jq -r '.[] | select(.name == "otlp_http.rejected.unauthenticated") | .value')" 2
stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0

# ---------------------------------------------------------------- startup
"$BIN/tracecollector" --db "$TMP/bad-db" --listen "ipc://$TMP/bad-i.sock" \
	--query-listen "ipc://$TMP/bad-q.sock" --otlp-http none \
	--otlp-grpc off --jaeger-http off --zipkin https://127.0.0.1:0 \
	>"$TMP/bad.log" 2>&1
check_eq "https:// without --tls-cert: exit 1" "$?" 1
check "https:// without --tls-cert: says what is missing" \
	grep -q "needs a certificate and a key" "$TMP/bad.log"
finish
