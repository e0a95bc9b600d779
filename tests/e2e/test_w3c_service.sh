#!/bin/sh
# w3c-service against the official W3C Trace Context test suite
# (../shared/w3c-trace-context/test, SPEC_LEVEL=2 STRICT_LEVEL=2: all 41
# must pass, none skipped; it needs python3-aiohttp from make deps) and a
# stdlib replay of its key cases plus our own (tests/e2e/w3c_harness.py).
# The service listens on a free loopback port (":0", it prints the one it
# got); its exporter points at an ipc path nobody listens on, so no
# collector is needed.
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

# The official suite: one line per test ("name ... ok"), then "Ran N".
SUITE=../shared/w3c-trace-context/test
PY=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import aiohttp' >/dev/null 2>&1; then
		PY=$p
		break
	fi
done
if [ ! -f "$SUITE/test.py" ]; then
	fail "the official suite is at $SUITE"
elif [ -z "$PY" ]; then
	fail "python3 with aiohttp (Debian python3-aiohttp, make deps)"
else
	HP=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	(cd "$SUITE" && PYTHONDONTWRITEBYTECODE=1 HARNESS_HOST=127.0.0.1 \
		HARNESS_PORT=$HP SPEC_LEVEL=2 STRICT_LEVEL=2 \
		timeout 120 "$PY" test.py "$URL") >"$TMP/suite.out" 2>&1
	check_eq "official suite exits 0" "$?" 0
	sed -n 's/^\(test_[a-z0-9_]*\) .*/\1/p' "$TMP/suite.out" >"$TMP/names"
	sed -n 's/.* \.\.\. \(.*\)$/\1/p' "$TMP/suite.out" >"$TMP/verdicts"
	paste -d' ' "$TMP/names" "$TMP/verdicts" | while read -r name verdict; do
		if [ "$verdict" = ok ]; then
			echo "ok - W3C suite $name"
		else
			echo "not ok - W3C suite $name: $verdict"
		fi
	done >"$TMP/suite.tap"
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) pass "${line#ok - }" ;;
		*) fail "${line#not ok - }" ;;
		esac
	done <"$TMP/suite.tap"
	check "official suite: Ran 41 tests" grep -qx 'Ran 41 tests in .*' "$TMP/suite.out"
	check "official suite: OK, nothing skipped" grep -qx 'OK' "$TMP/suite.out"
	check_eq "official suite: 41 tests passed" \
		"$(grep -c '^ok - ' "$TMP/suite.tap")" 41
fi

check "w3c-service still running" kill -0 "$SVC_PID"
stop_pid "$SVC_PID" TERM
check_eq "w3c-service exits 0 on SIGTERM" "$?" 0
finish
