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

# Install the pinned SDK into tests/node_modules (gitignored) if absent.
if [ ! -d tests/node_modules/@opentelemetry/sdk-trace-base ] ||
	[ ! -d tests/node_modules/@opentelemetry/exporter-trace-otlp-proto ] ||
	[ ! -d tests/node_modules/@opentelemetry/exporter-trace-otlp-http ]; then
	if ! (cd tests && timeout 120 npm ci --no-audit --no-fund \
		--loglevel=error) >"$TMP/npm.log" 2>&1; then
		sed 's/^/    /' "$TMP/npm.log" | tail -n 5
		skip "npm could not install the OpenTelemetry JS SDK (offline?)"
		finish
	fi
fi
pass "OpenTelemetry JS SDK is installed (pinned versions)"

start_otlp_collector sdk || { fail "collector starts"; finish; }
pass "collector starts with OTLP/HTTP on $OTLP_URL"
CLI="$BIN/tracecli --collector $COLL_QUERY"

if (cd tests && node otel-js/send.js --url "$OTLP_URL" \
	--out "$TMP/expected.json") >"$TMP/send.log" 2>&1; then
	pass "SDK exports succeed (protobuf, JSON, protobuf+gzip)"
else
	fail "SDK exports succeed: $(tail -n 3 "$TMP/send.log")"
	finish
fi

mkdir -p "$TMP/got"
for t in $(jq -r '.traces[]' "$TMP/expected.json"); do
	$CLI show "$t" --json >"$TMP/got/show-$t.json" 2>"$TMP/show.err"
	check_eq "tracecli show $t exits 0" "$?" 0
	$CLI export "$t" >"$TMP/got/export-$t.json" 2>"$TMP/export.err"
	check_eq "tracecli export $t exits 0" "$?" 0
done

node tests/otel-js/check.js "$TMP/expected.json" "$TMP/got" >"$TMP/check.out" 2>&1
[ -s "$TMP/check.out" ] || echo "not ok - check.js produced nothing" >"$TMP/check.out"
while IFS= read -r line; do
	case "$line" in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	*) fail "check.js: $line" ;;
	esac
done <"$TMP/check.out"

check "tracecli services lists web, api and db" sh -c \
	"$CLI services >'$TMP/svcs' 2>&1 && grep -qx web '$TMP/svcs' &&
	 grep -qx api '$TMP/svcs' && grep -qx db '$TMP/svcs'"

stop_pid "$COLL_PID" TERM
check_eq "collector stops cleanly" "$?" 0
finish
