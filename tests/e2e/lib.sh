# Shared helpers for the end-to-end tests (sourced by tests/e2e/test_*.sh).
# Each test gets a private temp dir; every process it starts is recorded by
# PID and stopped on exit. Results end with one line:
#   RESULT passed=N failed=N skipped=N
BUILD=${BUILD:-build}
BIN="$BUILD/bin"
T_PASSED=0 T_FAILED=0 T_SKIPPED=0
T_PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trace-e2e.XXXXXX")
COLL_START_SECONDS=10

# VALGRIND="valgrind --error-exitcode=97 ..." (make valgrind sets it): run
# tracecollector and tracecli under it, through wrappers in $TMP/vg-bin that
# exec the real programs (so PIDs stay those of the programs).
if [ -n "${VALGRIND:-}" ]; then
	mkdir -p "$TMP/vg-bin"
	for p in "$BIN"/*; do
		n=$(basename "$p")
		case "$n" in
		tracecollector | tracecli)
			printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$VALGRIND" \
				"$(realpath "$p")" >"$TMP/vg-bin/$n"
			chmod +x "$TMP/vg-bin/$n" ;;
		*) ln -s "$(realpath "$p")" "$TMP/vg-bin/$n" ;;
		esac
	done
	BIN="$TMP/vg-bin"
	COLL_START_SECONDS=120
fi

cleanup() {
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $T_PIDS; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { T_PASSED=$((T_PASSED + 1)); echo "ok - $1"; }
fail() { T_FAILED=$((T_FAILED + 1)); echo "not ok - $1"; }
skip() { T_SKIPPED=$((T_SKIPPED + 1)); echo "skip - $1"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
	desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# check_eq DESC ACTUAL EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

finish() {
	echo "RESULT passed=$T_PASSED failed=$T_FAILED skipped=$T_SKIPPED"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# track PID: stop it at exit.
track() { T_PIDS="$T_PIDS $1"; }

# wait_for_file PATH SECONDS: wait until PATH exists.
wait_for_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ "$i" -gt $(($2 * 20)) ] && return 1
		sleep 0.05
	done
}

# start_collector NAME [flags...]: starts tracecollector with its own store
# and ipc sockets under $TMP; sets COLL_PID, COLL_INGEST, COLL_QUERY, COLL_DB.
start_collector() {
	name=$1; shift
	COLL_DB="$TMP/$name-db"
	COLL_INGEST="ipc://$TMP/$name-ingest.sock"
	COLL_QUERY="ipc://$TMP/$name-query.sock"
	"$BIN/tracecollector" --db "$COLL_DB" --listen "$COLL_INGEST" \
		--query-listen "$COLL_QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
		--ready-file "$TMP/$name.ready" "$@" >"$TMP/$name.log" 2>&1 &
	COLL_PID=$!
	track "$COLL_PID"
	if ! wait_for_file "$TMP/$name.ready" "$COLL_START_SECONDS"; then
		echo "collector $name did not start:" >&2
		cat "$TMP/$name.log" >&2
		return 1
	fi
}

# is_sanitized FILE...: true when the first existing FILE links a sanitizer
# runtime (its memory figures then include the sanitizer's own).
is_sanitized() {
	for f in "$@"; do
		[ -x "$f" ] || continue
		ldd "$f" 2>/dev/null | grep -Eq 'lib(a|t|ub)san'
		return $?
	done
	return 1
}

# stop_pid PID [SIGNAL]: stop one tracked process and wait for it.
stop_pid() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
