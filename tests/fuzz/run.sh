#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS (default 60) on a copy of its
# seed corpus and prints one line per target:
#   FUZZ <name> execs=<N> seconds=<S> crashes=<0|1>
# A crash (or leak, timeout, out-of-memory) leaves the input and the log
# in BUILD/artifacts/<name>/ and makes the script exit 1.
# Usage: tests/fuzz/run.sh BUILD_DIR NAME...   (make fuzz runs it)
BUILD=${1:-build/fuzz}
shift
SECONDS_EACH=${FUZZ_SECONDS:-60}
status=0

for name in "$@"; do
	bin="$BUILD/bin/fuzz_$name"
	corpus="$BUILD/corpus/$name"
	art="$BUILD/artifacts/$name"
	log="$art/fuzz.log"
	if [ ! -x "$bin" ]; then
		echo "FUZZ $name execs=0 seconds=0 crashes=1 (no binary $bin)"
		status=1
		continue
	fi
	mkdir -p "$corpus" "$art"
	# A fresh copy of the committed seeds, plus what earlier runs found.
	cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
	[ -d tests/fuzz/regress/"$name" ] &&
		cp tests/fuzz/regress/"$name"/* "$corpus"/ 2>/dev/null
	# Targets that need files (fuzz_query_request's store) make them
	# under TMPDIR; a killed run cannot clean up, so keep them here.
	rm -rf "$BUILD/tmp/$name" && mkdir -p "$BUILD/tmp/$name"
	TMPDIR="$BUILD/tmp/$name" "$bin" -max_total_time="$SECONDS_EACH" \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "$corpus" >"$log" 2>&1
	rc=$?
	rm -rf "$BUILD/tmp/$name"
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$log" | tail -n 1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
		"$log" | tail -n 1)
	crashes=0
	if [ "$rc" -ne 0 ]; then
		crashes=1
		status=1
	fi
	echo "FUZZ $name execs=${execs:-0} seconds=${secs:-$SECONDS_EACH}" \
		"crashes=$crashes"
	if [ "$crashes" -ne 0 ]; then
		echo "  fuzz_$name failed (exit $rc); log $log, inputs:" \
			"$(ls "$art" | grep -v fuzz.log | tr '\n' ' ')"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|    #[0-9] )' \
			"$log" | head -n 20 | sed 's/^/    /'
		# The input itself, so a CI log is enough to reproduce it.
		for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* \
			"$art"/oom-*; do
			[ -f "$f" ] || continue
			echo "  input $(basename "$f") as base64 (first 6000 bytes):"
			head -c 6000 "$f" | base64 -w 100 | sed 's/^/    /'
		done
	fi
done
exit $status
