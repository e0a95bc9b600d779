#!/bin/sh
# Runs every unit test binary and every e2e script, one process each, prints
# PASS/FAIL per suite (the log only on failure) and ends with the line
# "N passed, N failed[, N skipped]" summing all suites.
# Usage: tests/run.sh BUILD_DIR   (TEST_FILTER=word limits the suites;
# TEST_KIND=unit or e2e runs only the cmocka programs or only the scripts)
BUILD=${1:-build}
LOGS="$BUILD/test-logs"
mkdir -p "$LOGS"
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
passed=0 failed=0 skipped=0
export BUILD

# count FILE PATTERN: the sum of the numbers in the lines matching
# PATTERN (a cmocka program may run several groups); empty when none.
count() {
	sed -n "s/$2/\1/p" "$1" | awk '{ n += $1 } END { if (NR) print n }'
}

run_suite() {
	name=$1; shift
	log="$LOGS/$name.log"
	timeout -k 10 "$SUITE_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	# cmocka: "[  PASSED  ] 3 test(s)."; e2e lib: "RESULT passed=3 failed=0 skipped=0"
	p=$(count "$log" '^\[  PASSED  \] \([0-9]*\) test.*')
	f=$(count "$log" '^\[  FAILED  \] \([0-9]*\) test.*')
	s=$(count "$log" '^\[  SKIPPED \] \([0-9]*\) test.*')
	[ -z "$p" ] && p=$(count "$log" '^RESULT passed=\([0-9]*\) .*')
	[ -z "$f" ] && f=$(count "$log" '^RESULT passed=[0-9]* failed=\([0-9]*\).*')
	[ -z "$s" ] && s=$(count "$log" '^RESULT .*skipped=\([0-9]*\).*')
	p=${p:-0} f=${f:-0} s=${s:-0}
	# A crash, sanitizer report or timeout counts as a failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -eq 0 ]; then
		echo "PASS $name ($p passed${s:+, $s skipped})" | sed 's/, 0 skipped//'
	else
		echo "FAIL $name (exit $rc, $f failed) -- log $log:"
		tail -n 60 "$log" | sed 's/^/    /'
	fi
}

selected() {
	[ -z "$TEST_FILTER" ] && return 0
	case "$1" in *"$TEST_FILTER"*) return 0 ;; esac
	return 1
}

# One binary per source: a binary left from a test since removed is not run.
TEST_KIND=${TEST_KIND:-all}
for src in tests/unit/test_*.c; do
	[ "$TEST_KIND" = e2e ] && break
	n=$(basename "$src" .c)
	selected "$n" || continue
	run_suite "$n" "$BUILD/tests/$n"
done
for t in tests/e2e/test_*.sh; do
	[ "$TEST_KIND" = unit ] && break
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	selected "$n" || continue
	run_suite "$n" sh "$t"
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
