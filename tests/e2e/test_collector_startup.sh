#!/bin/sh
# A collector that cannot start leaves nothing behind: when an address it
# must listen on is taken, it exits 1 naming the flag and the address, and
# creates no store directory (issue 16).
. tests/e2e/lib.sh

# A listener that holds a loopback port until killed; prints the port.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(120)
' >"$TMP/port" &
HOLDER=$!
track "$HOLDER"
wait_for_file "$TMP/port" 10 || { fail "port holder started"; finish; }
PORT=$(cat "$TMP/port")

# refused FLAG VALUE NAME: tracecollector with FLAG VALUE must exit 1,
# name the flag in its message and create no store.
refused() {
	db="$TMP/$3-db"
	"$BIN/tracecollector" --db "$db" \
		--listen "ipc://$TMP/$3-ingest.sock" \
		--query-listen "ipc://$TMP/$3-query.sock" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
		"$1" "$2" >"$TMP/$3.log" 2>&1
	rc=$?
	check_eq "$1 in use: exit status" "$rc" 1
	check "$1 in use: the message names the flag and address" \
		grep -q -- "$1 $2: cannot listen" "$TMP/$3.log"
	check "$1 in use: no store created" test ! -e "$db"
}

refused --listen "tcp://127.0.0.1:$PORT" ingest
refused --query-listen "tcp://127.0.0.1:$PORT" query
refused --otlp-http "127.0.0.1:$PORT" otlp
refused --zipkin "127.0.0.1:$PORT" zipkin
refused --zipkin "https://127.0.0.1:$PORT" zipkin-tls

# A listener URL with a user part is a usage error before NNG parses it
# (NNG 1.5.2 reads past the end of "tcp://x@"), and nothing is created.
"$BIN/tracecollector" --db "$TMP/at-db" --listen 'tcp://x@' \
	>"$TMP/at.log" 2>&1
check_eq "a listener URL with '@' is a usage error" "$?" 2
check "... naming the flag" grep -q -- "--listen tcp://x@: a listener URL" \
	"$TMP/at.log"
check "... and creating no store" test ! -e "$TMP/at-db"
check_eq "--version" "$("$BIN/tracecollector" --version)" \
	"tracecollector $(sed -n 's/.*TRACE_VERSION_STRING "\(.*\)"/\1/p' \
	libtrace/include/trace/trace.h)"

# The same flags with a free port start normally (the check is not a
# blanket refusal): port 0 picks one.
start_collector ok --otlp-http 127.0.0.1:0 &&
	pass "a free address starts the collector" ||
	fail "a free address starts the collector"
check "its store exists" test -d "$TMP/ok-db"
stop_pid "$COLL_PID"
stop_pid "$HOLDER" KILL
finish
