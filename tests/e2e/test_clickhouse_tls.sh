#!/bin/sh
# TLS to ClickHouse: a throwaway CA and server certificate (openssl, in
# the temp dir), one clickhouse-server with https_port on 127.0.0.1, and
# a collector with --store clickhouses://...?ca=FILE that ingests spans
# over https and answers tracecli from them. Verification is never off:
# a CA that did not sign the server's certificate, no CA (the system's
# do not know ours), and a plain-HTTP port are each refused at start
# with a clear error; ca= without TLS is a usage error.
. tests/e2e/lib.sh
. tests/e2e/clickhouse_lib.sh
CLI="$BIN/tracecli"
TOOL="$BUILD/tools/collector_tool"

if ! ch_available || ! command -v openssl >/dev/null; then
	skip "clickhouse-server or openssl not installed (make deps)"
	finish
fi

# mkca NAME: a self-signed CA in $TMP/NAME.pem (key NAME.key).
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$TMP/$1.key" -out "$TMP/$1.pem" 2>>"$TMP/openssl.log"
}
mkca ca && mkca otherca &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$TMP/server.key" -out "$TMP/server.csr" 2>>"$TMP/openssl.log" &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/san.ext" &&
	openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.pem" \
		-CAkey "$TMP/ca.key" -CAcreateserial -days 2 \
		-extfile "$TMP/san.ext" -out "$TMP/server.pem" 2>>"$TMP/openssl.log"
check "a throwaway CA and server certificate" test -s "$TMP/server.pem"
chmod 644 "$TMP/server.key"

HTTPS=$(ch_free_port)
CH_EXTRA_CONFIG="  <https_port>$HTTPS</https_port>
  <openSSL><server>
    <certificateFile>$TMP/server.pem</certificateFile>
    <privateKeyFile>$TMP/server.key</privateKeyFile>
    <verificationMode>none</verificationMode>
    <loadDefaultCAFile>false</loadDefaultCAFile>
    <cacheSessions>true</cacheSessions>
    <disableProtocols>sslv2,sslv3</disableProtocols>
    <preferServerCiphers>true</preferServerCiphers>
  </server></openSSL>"
ch_start_single || { fail "clickhouse-server starts"; finish; }
i=0
until [ "$(curl -sS --cacert "$TMP/ca.pem" "https://127.0.0.1:$HTTPS/?query=SELECT%201" 2>/dev/null)" = 1 ]; do
	i=$((i + 1))
	[ $i -gt 120 ] && break
	sleep 0.25
done
check_eq "clickhouse-server answers https on 127.0.0.1:$HTTPS (curl, our CA)" \
	"$(curl -sS --cacert "$TMP/ca.pem" "https://127.0.0.1:$HTTPS/?query=SELECT%201" 2>&1)" 1

DB=traces_tls
start_ch_collector c1 "clickhouses://127.0.0.1:$HTTPS/$DB?ca=$TMP/ca.pem&spool=$TMP/spool&flush_ms=200" ||
	{ fail "collector starts over TLS"; finish; }
pass "collector starts with clickhouses:// and ca=FILE"
"$TOOL" send "$COLL_INGEST" 1 20 >"$TMP/send" 2>&1
check "20 traces acknowledged" grep -q "acked=160" "$TMP/send"
"$CLI" search --service svc-1 --json --collector "$COLL_QUERY" >"$TMP/out" 2>&1
check "search answers from ClickHouse over TLS" grep -q '"root_service"' "$TMP/out"
tid=$(python3 -c "import json; print(json.load(open('$TMP/out'))[0]['trace_id'])" 2>/dev/null)
"$CLI" show "$tid" --json --collector "$COLL_QUERY" >"$TMP/out" 2>&1
check_eq "show returns the 8 spans of a trace" \
	"$(python3 -c "import json; print(len(json.load(open('$TMP/out'))['spans']))" 2>/dev/null)" 8
# The collector knows only the https port: what is in came over TLS.
check_eq "ClickHouse holds the 160 spans (read over plain HTTP)" \
	"$(ch_q "$CH_HTTP_1" "SELECT count() FROM $DB.spans_local")" 160
stop_pid "$COLL_PID"

# refused SPEC WHAT PATTERN: the collector exits non-zero at start and
# its error says PATTERN.
refused() {
	timeout 60 "$BIN/tracecollector" --store "$1" \
		--listen "ipc://$TMP/r-in.sock" --query-listen "ipc://$TMP/r-q.sock" \
		--otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
		--log-level info >"$TMP/refused.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "$3" "$TMP/refused.log"; then
		pass "$2: refused ($(grep -o "$3.*" "$TMP/refused.log" | head -c 90))"
	else
		fail "$2: exit $rc, $(head -c 300 "$TMP/refused.log")"
	fi
}
refused "clickhouse://127.0.0.1:$HTTPS/$DB?tls=1&ca=$TMP/otherca.pem&spool=$TMP/spool2" \
	"a CA that did not sign the server's certificate" "not trusted"
refused "clickhouses://127.0.0.1:$HTTPS/$DB?spool=$TMP/spool2" \
	"no CA (verification stays on)" "not trusted"
refused "clickhouses://127.0.0.1:$CH_HTTP_1/$DB?ca=$TMP/ca.pem&spool=$TMP/spool2" \
	"TLS to the plain HTTP port" "TLS handshake failed"
refused "clickhouse://127.0.0.1:$HTTPS/$DB?ca=$TMP/ca.pem&spool=$TMP/spool2" \
	"ca= without TLS" "without TLS"
refused "clickhouses://127.0.0.1:$HTTPS/$DB?ca=$TMP/nosuch.pem&spool=$TMP/spool2" \
	"a CA file that does not exist" "cannot read"
check "nothing was spooled by the refused starts" sh -c "! ls '$TMP/spool2'/*.open '$TMP/spool2'/*.seg 2>/dev/null | grep -q ."
finish
