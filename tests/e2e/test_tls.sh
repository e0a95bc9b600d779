#!/bin/sh
# TLS for the NNG transports (tls+tcp://), with certificates made here by
# openssl: a CA, a server certificate (CN and SAN 127.0.0.1 and localhost),
# a client certificate, and a second "bad" CA with a client certificate of
# its own. Two collectors on free loopback ports: one with server TLS only,
# one requiring client certificates (mutual TLS). Checks that spans from
# libtrace (examples/minimal, tests/faults/fault_producer) arrive over TLS
# and read back with `tracecli show --json` over TLS; that clients without
# a certificate, with one from the bad CA, with the wrong CA, or speaking
# plain tcp:// are refused (nothing stored, libtrace counts the drops,
# tracecli exits 3); that the collector keeps serving after each refusal;
# and that unusable TLS files stop the collector at startup.
. tests/e2e/lib.sh
. tests/e2e/tls_lib.sh

for tool in openssl python3 jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "TLS tests need $tool"
		finish
	fi
done

# ---------------------------------------------------------------- certs
make_certs || finish

# start_tls NAME [flags...]: a collector whose ingest and query sockets
# are tls+tcp:// on free loopback ports; sets COLL_PID, COLL_INGEST,
# COLL_QUERY. Retries with other ports if one was taken meanwhile.
start_tls() {
	name=$1; shift
	for attempt in 1 2 3; do
		COLL_INGEST="tls+tcp://127.0.0.1:$(free_port)"
		COLL_QUERY="tls+tcp://127.0.0.1:$(free_port)"
		"$BIN/tracecollector" --db "$TMP/$name-db" \
			--listen "$COLL_INGEST" --query-listen "$COLL_QUERY" \
			--otlp-http none --otlp-grpc off --zipkin off --jaeger-http off --ready-file "$TMP/$name.ready" \
			--tls-cert "$C/server.crt" --tls-key "$C/server.key" \
			"$@" >"$TMP/$name.log" 2>&1 &
		COLL_PID=$!
		track "$COLL_PID"
		if wait_for_file "$TMP/$name.ready" "$COLL_START_SECONDS"; then
			return 0
		fi
		stop_pid "$COLL_PID"
		grep -q "in use" "$TMP/$name.log" || break
	done
	echo "collector $name did not start:" >&2
	cat "$TMP/$name.log" >&2
	return 1
}

# minimal_run TAG [VAR=VALUE...]: runs examples/minimal --print against
# $COLL_INGEST with the given environment; sets RUN_RC and RUN_TRACE.
minimal_run() {
	tag=$1; shift
	env TRACE_ENDPOINT="$COLL_INGEST" OTEL_SERVICE_NAME="tls-$tag" \
		TRACE_EXIT_FLUSH_MS=0 "$@" "$BIN/minimal" --print \
		>"$TMP/$tag.out" 2>"$TMP/$tag.err"
	RUN_RC=$?
	RUN_TRACE=$(awk '$1 == "trace" { print $2 }' "$TMP/$tag.out")
}

# show_count TRACE [tracecli flags...]: prints the number of spans
# `tracecli show --json` returns over TLS (empty when it fails).
show_count() {
	tid=$1; shift
	"$BIN/tracecli" show "$tid" --json --collector "$COLL_QUERY" \
		--tls-ca "$C/ca.crt" "$@" 2>>"$TMP/show.err" |
		jq '.spans | length' 2>/dev/null
}

# cli_rc [flags...]: the exit status of `tracecli stats` with flags.
cli_rc() {
	"$BIN/tracecli" stats --json "$@" >/dev/null 2>>"$TMP/cli.err"
	echo $?
}

# ---------------------------------------------------------------- server TLS
if ! start_tls tls; then
	fail "collector starts with tls+tcp:// listeners"
	finish
fi
pass "collector starts with tls+tcp:// listeners"

minimal_run ok TRACE_TLS_CA_FILE="$C/ca.crt"
check_eq "libtrace over TLS: minimal exits 0 (spans acknowledged)" \
	"$RUN_RC" 0
check_eq "tracecli show --json over TLS returns both spans" \
	"$(show_count "$RUN_TRACE")" 2
"$BIN/tracecli" export "$RUN_TRACE" --collector "$COLL_QUERY" \
	--tls-ca "$C/ca.crt" >"$TMP/export.json" 2>>"$TMP/cli.err"
check_eq "tracecli export over TLS exits 0" "$?" 0
check_eq "tracecli import --ingest over TLS accepts both spans" \
	"$("$BIN/tracecli" import "$TMP/export.json" --json \
		--ingest "$COLL_INGEST" --tls-ca "$C/ca.crt" 2>>"$TMP/cli.err" |
		jq -c '[.spans, .accepted]')" "[2,2]"
check_eq "server name localhost also verifies" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/ca.crt" \
		--tls-server-name localhost)" 0
check_eq "tracecli reads TRACE_TLS_CA_FILE" \
	"$(TRACE_TLS_CA_FILE="$C/ca.crt" cli_rc --collector "$COLL_QUERY")" 0

check_eq "tracecli with the wrong CA exits 3" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/badca.crt")" 3
check_eq "tracecli with a wrong server name exits 3" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/ca.crt" \
		--tls-server-name other.example)" 3
check_eq "tracecli with a missing CA file is a usage error (2)" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/nope.crt")" 2
check "its message names the missing file" \
	grep -q "nope.crt: No such file" "$TMP/cli.err"
plain_query=$(echo "$COLL_QUERY" | sed 's|^tls+tcp://|tcp://|')
check_eq "plain tcp:// tracecli to a TLS listener exits 3" \
	"$(cli_rc --collector "$plain_query")" 3

minimal_run wrongca TRACE_TLS_CA_FILE="$C/badca.crt"
check "libtrace with the wrong CA: minimal reports undelivered spans" \
	[ "$RUN_RC" -ne 0 ]
check_eq "... and its trace is not stored" "$(show_count "$RUN_TRACE")" ""
plain_ingest=$(echo "$COLL_INGEST" | sed 's|^tls+tcp://|tcp://|')
COLL_INGEST_SAVED=$COLL_INGEST
COLL_INGEST=$plain_ingest
minimal_run plain
COLL_INGEST=$COLL_INGEST_SAVED
check "plain tcp:// libtrace to a TLS listener: spans undelivered" \
	[ "$RUN_RC" -ne 0 ]
check_eq "... and not stored" "$(show_count "$RUN_TRACE")" ""

# Unusable TLS files in libtrace: logged, counted as dropped, no crash.
env TRACE_ENDPOINT="$COLL_INGEST" TRACE_TLS_CA_FILE="$C/nope.crt" \
	"$BUILD/tools/fault_producer" -n 5 -r 200 -k 2 -f 2000 \
	>"$TMP/badfile.out" 2>&1
check_eq "libtrace with a missing CA file runs to the end" "$?" 0
check "... and counts every span as dropped (rejected)" \
	grep -q "^final .*spans_ended=10 spans_exported=0 .*spans_dropped_rejected=10 " \
	"$TMP/badfile.out"

minimal_run again TRACE_TLS_CA_FILE="$C/ca.crt"
check_eq "after the refusals the collector still serves TLS clients" \
	"$RUN_RC/$(show_count "$RUN_TRACE")" "0/2"
stop_pid "$COLL_PID"

# ---------------------------------------------------------------- mutual TLS
if ! start_tls mtls --tls-ca "$C/ca.crt" --tls-verify-clients; then
	fail "collector starts with --tls-verify-clients"
	finish
fi
pass "collector starts with --tls-verify-clients"
CERT="--tls-cert $C/client.crt --tls-key $C/client.key"

minimal_run mok TRACE_TLS_CA_FILE="$C/ca.crt" \
	TRACE_TLS_CERT_FILE="$C/client.crt" TRACE_TLS_KEY_FILE="$C/client.key"
check_eq "mTLS: libtrace with a client certificate is acknowledged" \
	"$RUN_RC" 0
# shellcheck disable=SC2086
check_eq "mTLS: tracecli with a client certificate reads both spans" \
	"$(show_count "$RUN_TRACE" $CERT)" 2
check_eq "mTLS: tracecli without a client certificate exits 3" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/ca.crt")" 3
check_eq "mTLS: tracecli with a certificate from another CA exits 3" \
	"$(cli_rc --collector "$COLL_QUERY" --tls-ca "$C/ca.crt" \
		--tls-cert "$C/evil.crt" --tls-key "$C/evil.key")" 3

env TRACE_ENDPOINT="$COLL_INGEST" TRACE_TLS_CA_FILE="$C/ca.crt" \
	"$BUILD/tools/fault_producer" -n 5 -r 200 -k 2 -f 1500 \
	>"$TMP/nocert.out" 2>&1
check_eq "mTLS: libtrace without a client certificate runs to the end" \
	"$?" 0
check "... exports nothing and counts the spans as dropped" \
	grep -Eq "^final .*spans_ended=10 spans_exported=0 .*spans_dropped_shutdown=10 " \
	"$TMP/nocert.out"
minimal_run nocert TRACE_TLS_CA_FILE="$C/ca.crt"
# shellcheck disable=SC2086
check_eq "mTLS: a trace sent without a client certificate is not stored" \
	"$(show_count "$RUN_TRACE" $CERT)" ""
minimal_run evil TRACE_TLS_CA_FILE="$C/ca.crt" \
	TRACE_TLS_CERT_FILE="$C/evil.crt" TRACE_TLS_KEY_FILE="$C/evil.key"
# shellcheck disable=SC2086
check_eq "mTLS: a trace sent with a bad-CA certificate is not stored" \
	"$RUN_RC/$(show_count "$RUN_TRACE" $CERT)" "1/"

minimal_run mok2 TRACE_TLS_CA_FILE="$C/ca.crt" \
	TRACE_TLS_CERT_FILE="$C/client.crt" TRACE_TLS_KEY_FILE="$C/client.key"
# shellcheck disable=SC2086
check_eq "mTLS: after the refusals the collector still serves" \
	"$RUN_RC/$(show_count "$RUN_TRACE" $CERT)" "0/2"
check "mTLS: the collector is still running" kill -0 "$COLL_PID"
stop_pid "$COLL_PID"

# ---------------------------------------------------------------- startup
# start_fails DESC PATTERN [flags...]: the collector must exit non-zero at
# once with a message matching PATTERN.
start_fails() {
	desc=$1 pattern=$2; shift 2
	timeout 20 "$BIN/tracecollector" --db "$TMP/bad-db" \
		--listen "tls+tcp://127.0.0.1:$(free_port)" \
		--query-listen "tls+tcp://127.0.0.1:$(free_port)" \
		--otlp-http none --otlp-grpc off --zipkin off --jaeger-http off "$@" >"$TMP/bad.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
		grep -q "$pattern" "$TMP/bad.log"; then
		pass "$desc"
	else
		fail "$desc (exit $rc): $(cat "$TMP/bad.log")"
	fi
}
start_fails "tls+tcp:// without --tls-cert stops the collector" \
	"tls-cert"
start_fails "a missing certificate file stops the collector" \
	"nope.crt: No such file" \
	--tls-cert "$C/nope.crt" --tls-key "$C/server.key"
start_fails "a key that is not PEM stops the collector" \
	"not a PEM file" \
	--tls-cert "$C/server.crt" --tls-key "$C/server.ext"
start_fails "--tls-verify-clients without --tls-ca stops the collector" \
	"tls-ca" \
	--tls-cert "$C/server.crt" --tls-key "$C/server.key" \
	--tls-verify-clients

# A non-loopback plain tcp:// listener is warned about. 192.0.2.1
# (TEST-NET-1) is not an address of this machine, so the bind fails and
# nothing is exposed; the warning comes before it.
timeout 20 "$BIN/tracecollector" --db "$TMP/warn-db" \
	--listen "tcp://192.0.2.1:$(free_port)" \
	--query-listen "tls+tcp://127.0.0.1:$(free_port)" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
	--tls-cert "$C/server.crt" --tls-key "$C/server.key" \
	>"$TMP/warn.log" 2>&1
check "a non-loopback tcp:// listener without TLS logs a warning" \
	grep -q "192.0.2.1.* not loopback-only and has no TLS" "$TMP/warn.log"

finish
