#!/bin/sh
# A real OTLP/gRPC client: the OpenTelemetry JavaScript SDK's
# @opentelemetry/exporter-trace-otlp-grpc (on @grpc/grpc-js; versions
# pinned in tests/package.json and package-lock.json) sends the two traces
# of tests/otel-js/send.js across three services, one of them with gzip.
# tracecli must give back every span with its parent, service, name, kind,
# status, attributes, events and links. Without node/npm or network the
# test skips.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

for tool in node npm jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done
sdk_install exporter-trace-otlp-grpc || finish
pass "OpenTelemetry JS SDK and its gRPC exporter are installed (pinned)"

start_collector sdk --otlp-grpc 127.0.0.1:0 || { fail "collector starts"; finish; }
ADDR=$(sed -n 's/^otlp_grpc=//p' "$TMP/sdk.ready")
pass "collector starts with OTLP/gRPC on $ADDR"
CLI="$BIN/tracecli --collector $COLL_QUERY"

sdk_send "gRPC SDK (plain and gzip)" --grpc "$ADDR" || finish
sdk_verify "$TMP/expected.json"
check "tracecli stats counts the gRPC calls" sh -c \
	"$CLI stats | grep -Eq '^otlp_grpc.requests +[1-9]'"

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0
finish
