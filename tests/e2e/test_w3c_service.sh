#!/bin/sh
# w3c-service against a stdlib replay of the w3c/trace-context test suite's
# key cases (tests/e2e/w3c_harness.py). The service listens on a free
# loopback port (":0", it prints the one it got); its exporter points at an
# ipc path nobody listens on, so no collector is needed.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$BIN/w3c-service" ] || ! command -v python3 >/dev/null 2>&1; then
	skip "w3c-service or python3 missing"
	finish
fi

TRACE_ENDPOINT="ipc://$TMP/no-collector.sock" OTEL_PROPAGATORS= \
	"$BIN/w3c-service" --listen http://127.0.0.1:0/test \
	>"$TMP/svc.out" 2>"$TMP/svc.err" &
SVC_PID=$!
track "$SVC_PID"
if ! wait_for_file "$TMP/svc.out" 10; then
	fail "w3c-service did not start: $(cat "$TMP/svc.err")"
	finish
fi
URL=$(sed -n 's/^listening on //p' "$TMP/svc.out")
check "w3c-service reports its URL" [ -n "$URL" ]

python3 "$(dirname "$0")/w3c_harness.py" "$URL" >"$TMP/harness.out" 2>&1
while IFS= read -r line; do
	case "$line" in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	"skip - "*) skip "${line#skip - }" ;;
	*) echo "$line" ;;
	esac
done <"$TMP/harness.out"

check "w3c-service still running" kill -0 "$SVC_PID"
stop_pid "$SVC_PID" TERM
check_eq "w3c-service exits 0 on SIGTERM" "$?" 0
finish
