#!/bin/sh
# The Jaeger API port under abuse must not take the collector down with
# it: while idle connections fill the listener past its connection limit
# and a crowd of clients sends malformed, oversized and expensive
# requests, spans still go in over NNG and tracecli still reads them; once
# the abuse stops, the Jaeger API answers again. Counts, not clocks: every
# check waits for an outcome, none for a time.
. tests/e2e/lib.sh

TOOL="$BUILD/tools/collector_tool"
for tool in curl python3 xargs; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

start_collector abuse --retention 0 --jaeger-http 127.0.0.1:0 ||
	{ fail "collector starts"; finish; }
J="$(sed -n 's/^jaeger_http=//p' "$TMP/abuse.ready")"
PORT=${J##*:}
CLI="$BIN/tracecli --collector $COLL_QUERY"

# Idle connections, more than the listener takes (64): a slowloris that
# holds each socket open with half a request line, until told to stop.
cat >"$TMP/hold.py" <<'EOF'
import os, socket, sys
port, n, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []
for _ in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /api/services HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    except OSError:
        pass
open(stop + ".holding", "w").write(str(len(held)))
while not os.path.exists(stop):
    try:
        os.read(os.open(stop + ".fifo", os.O_RDONLY), 1)
    except OSError:
        break
EOF
mkfifo "$TMP/stop.fifo"
python3 "$TMP/hold.py" "$PORT" 100 "$TMP/stop" &
HOLD_PID=$!
track "$HOLD_PID"
wait_for_file "$TMP/stop.holding" 60 ||
	fail "the slowloris client connected"

# A crowd of bad and costly requests, 16 at a time, in the background.
big=$(head -c 20000 /dev/zero | tr '\0' x)
{
	i=0
	while [ $i -lt 150 ]; do
		echo "/api/traces?service=x&start=garbage"
		echo "/api/traces?service=$big"
		echo "/api/dependencies?endTs=99999999999999&lookback=99999999999999"
		echo "/api/traces/zz?start=1"
		echo "/api/v3/trace-summaries?query.attributes=%7B"
		i=$((i + 1))
	done
} >"$TMP/urls"
xargs -P 16 -I{} curl -s -o /dev/null --max-time 30 "http://$J{}" \
	<"$TMP/urls" &
CROWD_PID=$!
track "$CROWD_PID"

# Meanwhile ingest and tracecli carry on.
check_eq "NNG ingest acknowledged during the abuse" \
	"$("$TOOL" send "$COLL_INGEST" 5 40 10 2>&1)" "acked=320"
check "tracecli finds the new spans during the abuse" \
	sh -c "$CLI search --limit 50 --since 1000h --json | jq -e 'length == 40' >/dev/null"
check "tracecli services during the abuse" \
	sh -c "$CLI services | grep -q svc-"

wait "$CROWD_PID"
touch "$TMP/stop"
echo x >"$TMP/stop.fifo" &
wait "$HOLD_PID"
check_eq "the Jaeger API answers after the abuse" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://$J/api/services")" 200
check "and lists what was ingested" \
	sh -c "curl -s --max-time 30 'http://$J/api/services' | jq -e '.total == 5' >/dev/null"
check "the collector is still running" kill -0 "$COLL_PID"
finish
