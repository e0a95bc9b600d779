#!/bin/sh
# make valgrind: runs the skeleton integration test (tests/e2e/test_skeleton.sh)
# with tracecollector and tracecli under valgrind memcheck (through the
# VALGRIND variable that tests/e2e/lib.sh honours), then fails on any
# memcheck error or definite leak in any of their logs.
# Usage: tests/faults/valgrind.sh BUILD_DIR
BUILD=${1:-build}
export BUILD
command -v valgrind >/dev/null 2>&1 || {
	echo "valgrind not installed (apt-get install valgrind)" >&2
	exit 1
}
LOGS="$BUILD/valgrind-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
LOGS=$(realpath "$LOGS")
# Exit code 97 keeps memcheck errors apart from tracecli's own exit codes.
VALGRIND="valgrind --error-exitcode=97 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--log-file=$LOGS/vg.%p.log"
export VALGRIND
sh tests/e2e/test_skeleton.sh
rc=$?
# Every program must have exited and reported "ERROR SUMMARY: 0 errors"
# (definite leaks count as errors).
runs=0 bad=0
for f in "$LOGS"/vg.*.log; do
	[ -f "$f" ] || continue
	runs=$((runs + 1))
	prog=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$f" |
		head -n 1)
	summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: //p' "$f" | tail -n 1)
	echo "$(basename "$prog"): ${summary:-no summary (did not exit?)}"
	case "$summary" in
	"0 errors "*) ;;
	*) bad=$((bad + 1)); cat "$f" ;;
	esac
done
echo "VALGRIND runs=$runs with_errors=$bad test_exit=$rc"
[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$runs" -gt 0 ]
