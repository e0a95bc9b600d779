#!/bin/sh
# The README's install path, followed as a user would, into a temp prefix:
# `make install PREFIX=...`, then the README's example (extracted from
# README.md) built with nothing but pkg-config, linked shared and fully
# static, run against a real collector: its spans must be stored. With the
# collector gone the example still exits 0 (tracing never decides the exit
# status).
. tests/e2e/lib.sh

PREFIX="$TMP/prefix"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"

make --no-print-directory BUILD="$BUILD" PREFIX="$PREFIX" install \
	>"$TMP/install.log" 2>&1
check_eq "make install PREFIX=<temp dir> succeeds" "$?" 0
check_eq "libtrace.pc names that prefix" \
	"$(pkg-config --variable=prefix libtrace 2>&1)" "$PREFIX"
check "pkg-config's flags point into the prefix" \
	sh -c "pkg-config --cflags --libs libtrace | grep -q -- '-I$PREFIX/include'"
check "the static flags list NNG and the mbedTLS it is built with" \
	sh -c "pkg-config --static --libs libtrace |
		grep -q -- '-lnng -lmbedtls -lmbedx509 -lmbedcrypto'"

# The README's "Instrumenting a C function" block, as a user copies it.
sed -n '/^## Instrumenting a C function/,/^```$/p' README.md |
	sed '1,/^```c$/d;$d' >"$TMP/app.c"
check "the README's example is extracted" grep -q 'main(void)' "$TMP/app.c"

# A sanitized build's library needs the sanitizer's runtime at link time;
# a fully static link cannot have it.
CCFLAGS=""
if is_sanitized "$BIN/tracecollector"; then
	if ldd "$BIN/tracecollector" | grep -q libtsan; then
		CCFLAGS="-fsanitize=thread"
	else
		CCFLAGS="-fsanitize=address,undefined"
	fi
fi

# shellcheck disable=SC2046,SC2086
cc $CCFLAGS -o "$TMP/app" "$TMP/app.c" \
	$(pkg-config --cflags --libs libtrace) >"$TMP/cc-shared.log" 2>&1
check_eq "the example builds shared with pkg-config --cflags --libs" "$?" 0
if [ -z "$CCFLAGS" ]; then
	# shellcheck disable=SC2046
	cc -static -o "$TMP/app-static" "$TMP/app.c" \
		$(pkg-config --static --cflags --libs libtrace) \
		>"$TMP/cc-static.log" 2>&1
	check_eq "the example builds static with pkg-config --static" "$?" 0
	check "... and needs no shared library" \
		sh -c "! ldd '$TMP/app-static' 2>/dev/null | grep -q '=>'"
fi

start_collector inst || { fail "collector starts"; finish; }
CLI="$BIN/tracecli --collector $COLL_QUERY"

# stored SERVICE: the span count of the one trace of SERVICE, if any.
stored() {
	tid=$($CLI search --service "$1" --json 2>/dev/null |
		jq -r '.[0].trace_id // empty' 2>/dev/null)
	[ -n "$tid" ] && $CLI show "$tid" --json 2>/dev/null |
		jq '.spans | length'
}

env TRACE_ENDPOINT="$COLL_INGEST" OTEL_SERVICE_NAME=install-shared \
	LD_LIBRARY_PATH="$PREFIX/lib" "$TMP/app" >"$TMP/run-shared.log" 2>&1
check_eq "the shared example runs (exit 0)" "$?" 0
check_eq "... and its 3 spans are stored" "$(stored install-shared)" 3

if [ -x "$TMP/app-static" ]; then
	env TRACE_ENDPOINT="$COLL_INGEST" OTEL_SERVICE_NAME=install-static \
		"$TMP/app-static" >"$TMP/run-static.log" 2>&1
	check_eq "the static example runs (exit 0)" "$?" 0
	check_eq "... and its 3 spans are stored" "$(stored install-static)" 3
else
	skip "static link (not possible with a sanitized library)"
fi

stop_pid "$COLL_PID"
env TRACE_ENDPOINT="$COLL_INGEST" OTEL_SERVICE_NAME=install-down \
	LD_LIBRARY_PATH="$PREFIX/lib" "$TMP/app" >"$TMP/run-down.log" 2>&1
check_eq "with the collector gone the example still exits 0" "$?" 0

finish
