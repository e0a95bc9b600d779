# Helpers for the OTLP/HTTP e2e tests (sourced after lib.sh): hand-built
# OTLP protobuf as hex (turned into bytes with xxd -r -p), a collector with
# OTLP/HTTP on a free loopback port, and curl wrappers.

# hx_varint N: N as a protobuf varint, in hex.
hx_varint() {
	n=$1 out=""
	while [ "$n" -ge 128 ]; do
		out="$out$(printf %02x $(((n & 127) | 128)))"
		n=$((n >> 7))
	done
	printf '%s%02x' "$out" "$n"
}

# hx_le64 N: N as 8 little-endian bytes (fixed64), in hex.
hx_le64() {
	n=$1 out="" i=0
	while [ "$i" -lt 8 ]; do
		out="$out$(printf %02x $((n & 255)))"
		n=$((n >> 8)) i=$((i + 1))
	done
	printf %s "$out"
}

# hx_str S: the bytes of S in hex.
hx_str() { printf %s "$1" | xxd -p | tr -d '\n'; }

# hx_ld TAG HEX: a length-delimited field (TAG is the key byte in hex).
hx_ld() { printf '%s%s%s' "$1" "$(hx_varint $((${#2} / 2)))" "$2"; }

# hx_kv KEY VALUE: the body of a KeyValue with a string AnyValue.
hx_kv() { printf %s "$(hx_ld 0a "$(hx_str "$1")")$(hx_ld 12 "$(hx_ld 0a "$(hx_str "$2")")")"; }

# hx_span TRACE_HEX SPAN_HEX NAME [EXTRA_HEX]: a Span (kind server, started
# a second ago, 5 ms long) with one attribute.
hx_span() {
	now=$(date +%s%N)
	start=$((now - 1000000000))
	printf %s "$(hx_ld 0a "$1")$(hx_ld 12 "$2")$(hx_ld 2a "$(hx_str "$3")")"
	printf %s "3002" # kind = SERVER
	printf %s "39$(hx_le64 $start)41$(hx_le64 $((start + 5000000)))"
	printf %s "$(hx_ld 4a "$(hx_kv app.source hand-built)")${4:-}"
}

# hx_request SERVICE SPAN_HEX...: an ExportTraceServiceRequest with one
# resource (service.name = SERVICE) and one scope holding the spans.
hx_request() {
	svc=$1; shift
	spans=""
	for s in "$@"; do
		spans="$spans$(hx_ld 12 "$s")"
	done
	res=$(hx_ld 0a "$(hx_kv service.name "$svc")")
	scope=$(hx_ld 0a "$(hx_ld 0a "$(hx_str handlib)")")
	hx_ld 0a "$(hx_ld 0a "$res")$(hx_ld 12 "$scope$spans")"
}

# to_bin HEX FILE: write the bytes.
to_bin() { printf %s "$1" | xxd -r -p >"$2"; }

# rand_hex N: N random bytes in hex.
rand_hex() { head -c "$1" /dev/urandom | xxd -p | tr -d '\n'; }

# start_otlp_collector NAME [flags...]: start_collector with OTLP/HTTP on a
# free port; sets OTLP_URL (base) and OTLP_TRACES (POST target).
start_otlp_collector() {
	name=$1; shift
	start_collector "$name" --otlp-http 127.0.0.1:0 "$@" || return 1
	addr=$(sed -n 's/^otlp_http=//p' "$TMP/$name.ready")
	[ -n "$addr" ] || return 1
	OTLP_URL="http://$addr"
	OTLP_TRACES="$OTLP_URL/v1/traces"
}

# post FILE CONTENT_TYPE [curl args...]: POST FILE to OTLP_TRACES; prints the
# status code, leaves the body in $TMP/resp.body and headers in $TMP/resp.hdr.
post() {
	f=$1 ct=$2; shift 2
	curl -s --max-time 10 -o "$TMP/resp.body" -D "$TMP/resp.hdr" \
		-w '%{http_code}' -H "Content-Type: $ct" --data-binary "@$f" \
		"$@" "$OTLP_TRACES"
}

# header NAME: a response header's value from the last post.
header() {
	tr -d '\r' <"$TMP/resp.hdr" | sed -n "s/^$1: *//Ip" | tail -n 1
}

# body_hex: the last response body in hex.
body_hex() { xxd -p "$TMP/resp.body" | tr -d '\n'; }

# sdk_install PACKAGE...: makes sure the pinned OpenTelemetry JS SDK (and
# each @opentelemetry/PACKAGE) is in tests/node_modules (gitignored),
# running `npm ci` when one is missing. Returns 1 after a skip when npm
# cannot install it (offline).
sdk_install() {
	missing=""
	for p in sdk-trace-base "$@"; do
		[ -d "tests/node_modules/@opentelemetry/$p" ] || missing=1
	done
	[ -z "$missing" ] && return 0
	if ! (cd tests && timeout 120 npm ci --no-audit --no-fund \
		--loglevel=error) >"$TMP/npm.log" 2>&1; then
		sed 's/^/    /' "$TMP/npm.log" | tail -n 5
		skip "npm could not install the OpenTelemetry JS SDK (offline?)"
		return 1
	fi
}

# sdk_send WHAT ARGS...: runs tests/otel-js/send.js ARGS (the transport
# and its address), which writes what it sent to $TMP/expected.json;
# passes "WHAT exports succeed", or fails it and returns 1.
sdk_send() {
	what=$1; shift
	if (cd tests && node otel-js/send.js "$@" \
		--out "$TMP/expected.json") >"$TMP/send.log" 2>&1; then
		pass "$what exports succeed"
	else
		fail "$what exports succeed: $(tail -n 3 "$TMP/send.log")"
		return 1
	fi
}

# sdk_verify EXPECTED_JSON: what tests/otel-js/send.js sent (EXPECTED_JSON)
# must come back from tracecli ($CLI) exactly: show and export of every
# trace, checked span by span by tests/otel-js/check.js, and the services.
sdk_verify() {
	mkdir -p "$TMP/got"
	for t in $(jq -r '.traces[]' "$1"); do
		$CLI show "$t" --json >"$TMP/got/show-$t.json" 2>"$TMP/show.err"
		check_eq "tracecli show $t exits 0" "$?" 0
		$CLI export "$t" >"$TMP/got/export-$t.json" 2>"$TMP/export.err"
		check_eq "tracecli export $t exits 0" "$?" 0
	done
	node tests/otel-js/check.js "$1" "$TMP/got" >"$TMP/check.out" 2>&1
	[ -s "$TMP/check.out" ] ||
		echo "not ok - check.js produced nothing" >"$TMP/check.out"
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
}
