#!/bin/sh
# A real Zipkin client: the OpenTelemetry JavaScript SDK with its Zipkin
# exporter (@opentelemetry/exporter-zipkin 2.12.1, pinned in
# tests/package.json and package-lock.json; it posts chunked JSON) sends
# tests/otel-js/send.js's two traces across three services to --zipkin.
# tracecli must give back every span as docs/ZIPKIN.md maps it: parent,
# service, name, kind, status and message, attributes as strings with the
# resource's, events, and the start time to the nanosecond
# (tests/otel-js/check.js). Without node/npm or network the test skips.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in node npm jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

sdk_install exporter-zipkin || finish
pass "OpenTelemetry JS SDK and Zipkin exporter are installed (pinned)"

start_collector zsdk --zipkin 127.0.0.1:0 || { fail "collector starts"; finish; }
ZK=$(sed -n 's/^zipkin=//p' "$TMP/zsdk.ready")
pass "collector starts with Zipkin on $ZK"
CLI="$BIN/tracecli --collector $COLL_QUERY"

sdk_send "Zipkin" --zipkin "$ZK" || finish

sdk_verify "$TMP/expected.json"
stat() { $CLI stats --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
check "zipkin.requests counts the exporter's posts" \
	test "$(stat zipkin.requests)" -ge 3

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0
finish
