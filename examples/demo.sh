#!/bin/sh
# demo.sh - the shop demo behind `make demo`.
#
# Starts tracecollector on a fresh store in a temp dir, the four shop
# services (gateway -> orders -> inventory + payments, over NNG ipc sockets)
# and a load driver; stops the services (their trace_shutdown flushes every
# span), then shows the result: `tracecli tui` on a terminal, otherwise
# `tracecli slow` and the text waterfalls of the slowest trace and of a
# failed one. Everything it starts is stopped by PID when it ends, Ctrl-C
# included.
#
# Usage: sh examples/demo.sh [BUILD_DIR]
# Environment:
#   DEMO_COUNT=300   requests to send         DEMO_RATE=200  requests/second
#   DEMO_DB=DIR      keep the store in DIR (it is not removed afterwards)
#   DEMO_NO_TUI=1    print text even on a terminal
BUILD=${1:-build}
BIN=$BUILD/bin
COUNT=${DEMO_COUNT:-300}
RATE=${DEMO_RATE:-200}

for b in tracecollector tracecli shop; do
	if [ ! -x "$BIN/$b" ]; then
		echo "demo: $BIN/$b is missing; run make first" >&2
		exit 1
	fi
done
if ! command -v jq >/dev/null 2>&1; then
	echo "demo: jq is missing (make deps installs it)" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/trace-demo.XXXXXX") || exit 1
DB=${DEMO_DB:-$TMP/store}
PIDS=""         # services, front first
COLL_PID=""

# Stop what is still running, by PID, one at a time from the front (the
# gateway) to the back, so that requests in flight can finish, and the
# collector last, so that the services can flush their spans.
cleanup() {
	trap '' HUP INT TERM
	for pid in $PIDS $COLL_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP" # DEMO_DB, when given, lives outside it
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "demo: $*"; }

# die MESSAGE [LOG...]: print the message and the tail of each log, exit 1.
die() {
	echo "demo: $1" >&2
	shift
	for log in "$@"; do
		echo "--- $log" >&2
		tail -n 20 "$log" >&2
	done
	exit 1
}

# wait_for PATH: until PATH exists (a ready file or an ipc socket), 10 s.
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && return 1
		sleep 0.05
	done
}

# 1. The collector, on ipc sockets private to this run.
INGEST="ipc://$TMP/ingest.sock"
QUERY="ipc://$TMP/query.sock"
# Its own session keeps the terminal's Ctrl-C away from it: it must outlive
# the services to receive their last spans; cleanup stops it last.
SETSID=$(command -v setsid)
$SETSID "$BIN/tracecollector" --db "$DB" --listen "$INGEST" \
	--query-listen "$QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
	--ready-file "$TMP/collector.ready" >"$TMP/collector.log" 2>&1 &
COLL_PID=$!
wait_for "$TMP/collector.ready" ||
	die "tracecollector did not start" "$TMP/collector.log"
say "tracecollector up (store $DB)"
export TRACE_ENDPOINT="$INGEST" TRACE_QUERY_ENDPOINT="$QUERY"

# 2. The services, one process each, leaves first.
sock() { echo "ipc://$TMP/$1.sock"; }
start() {
	role=$1
	shift
	OTEL_SERVICE_NAME=$role "$BIN/shop" "$role" --listen "$(sock "$role")" \
		"$@" >"$TMP/$role.log" 2>&1 &
	PIDS="$! $PIDS"
	eval "PID_$role=$!"
}
# ready ROLE...: wait until each one listens. A caller started before its
# callee listens would only connect at its dialer's next retry.
ready() {
	for role in "$@"; do
		wait_for "$TMP/$role.sock" ||
			die "service $role did not start" "$TMP/$role.log"
	done
}
start inventory
start payments
ready inventory payments
start orders --inventory "$(sock inventory)" --payments "$(sock payments)"
ready orders
start gateway --orders "$(sock orders)"
ready gateway
say "services up: gateway -> orders -> (inventory | payments)"

# 3. The load: every 20th order is slow, every 25th is declined, every
# 10th needs a retry of its payment.
say "sending $COUNT checkouts at $RATE/s"
"$BIN/shop" load --gateway "$(sock gateway)" --rate "$RATE" \
	--count "$COUNT" || die "the load driver failed"

# 4. Stop the services: each flushes its spans before it exits.
for role in gateway orders inventory payments; do
	eval "pid=\$PID_$role"
	kill "$pid" 2>/dev/null
	wait "$pid" || die "service $role failed (exit $?)" "$TMP/$role.log"
done
PIDS=""
say "services stopped, spans flushed"
echo

# 5. Look at the result.
CLI="$BIN/tracecli"
if [ -t 1 ] && [ -z "${DEMO_NO_TUI:-}" ]; then
	say "opening tracecli tui: Enter lists the traces (o sorts them," \
		"e.g. by duration), Enter opens one, ? shows the keys, q quits"
	sleep 1
	"$CLI" tui
	exit $?
fi

echo "\$ tracecli slow --top 5"
"$CLI" slow --top 5 || die "tracecli slow failed" "$TMP/collector.log"
slowest=$("$CLI" slow --top 1 --json | jq -r '.spans[0].trace_id')
echo
echo "\$ tracecli show $slowest --plain      # the slowest trace"
"$CLI" show "$slowest" --plain || die "tracecli show failed"
failed=$("$CLI" search --attr error.type=shop.CardDeclinedError --limit 1 \
	--json | jq -r '.[0].trace_id // empty')
if [ -n "$failed" ]; then
	echo
	echo "\$ tracecli show $failed --plain      # a failed checkout"
	"$CLI" show "$failed" --plain || die "tracecli show failed"
	echo
	echo "\$ tracecli show $failed --json | jq ...  # its exceptions"
	"$CLI" show "$failed" --json | jq -r '.spans[] | . as $s | .events[]
		| select(.name == "exception")
		| "\($s.service) \($s.name): \(.attributes["exception.type"]):"
		  + " \(.attributes["exception.message"])"'
fi
[ -n "${DEMO_DB:-}" ] && say "store kept in $DB"
exit 0
