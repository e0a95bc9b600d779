#!/bin/sh
# A real OpenTelemetry SDK as the client: the OpenTelemetry JavaScript SDK
# (versions pinned in tests/package.json and package-lock.json) sends two
# traces across three services through its OTLP/HTTP protobuf, JSON and
# gzip-compressed protobuf exporters (tests/otel-js/send.js). tracecli must
# give back every span with its parent, service, name, kind, status,
# attributes, events and links. Without node/npm or network the test skips.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in node npm curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

sdk_install exporter-trace-otlp-proto exporter-trace-otlp-http || finish
pass "OpenTelemetry JS SDK is installed (pinned versions)"

start_otlp_collector sdk || { fail "collector starts"; finish; }
pass "collector starts with OTLP/HTTP on $OTLP_URL"
CLI="$BIN/tracecli --collector $COLL_QUERY"

sdk_send "SDK (protobuf, JSON, protobuf+gzip)" --url "$OTLP_URL" || finish

sdk_verify "$TMP/expected.json"

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0
finish
