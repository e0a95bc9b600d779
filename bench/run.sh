#!/bin/sh
# Runs every benchmark: each $BUILD/bench/bench_* binary and each
# bench/bench_*.sh script. Each prints lines "BENCH <name> <value> <unit>".
# BENCH_QUICK=1 asks for the short variant (bench-quick).
BUILD=${1:-build}
export BUILD BENCH_QUICK
status=0
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	"$b" || { echo "bench: $b failed" >&2; status=1; }
done
for s in bench/bench_*.sh; do
	[ -f "$s" ] || continue
	sh "$s" || { echo "bench: $s failed" >&2; status=1; }
done
exit $status
