#!/bin/sh
# Instructions per span of the libtrace hot path, counted by callgrind
# (stable where wall time is not; see docs/BENCHMARKS.md, libtrace).
# Usage: sh bench/callgrind_libtrace.sh [BUILD]   (after `make BUILD=... build`)
# Prints "CALLGRIND libtrace.<loop> <instructions per span>". A clock read
# counts about 28 instructions here: valgrind runs the vDSO's code as a
# plain syscall path, so compare counts, not times.
BUILD=${1:-${BUILD:-build}}
LIB="$BUILD/lib/libtrace.a"
OUT=${TMPDIR:-/tmp}/callgrind-libtrace.$$
N=2100
[ -f "$LIB" ] || { echo "callgrind_libtrace: no $LIB (make BUILD=$BUILD build)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind_libtrace: valgrind not found" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
${CC:-cc} -std=c11 -O2 -g -fno-ipa-icf -D_DEFAULT_SOURCE -pthread \
    -Ilibtrace/include -o "$OUT/driver" bench/callgrind_libtrace.c "$LIB" \
    ${NNG_LIBS:--lnng} -lpthread || exit 1
status=0
for loop in loop_clock loop_0attrs loop_2attrs loop_2attrs_runtime_keys \
    loop_8attrs_1event loop_unsampled loop_unsampled_2attrs; do
	ir=$(valgrind --tool=callgrind --callgrind-out-file="$OUT/$loop.out" \
	    --toggle-collect="$loop" "$OUT/driver" 2>&1 |
	    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
	if [ -z "$ir" ]; then
		echo "callgrind_libtrace: $loop: no count" >&2
		status=1
		continue
	fi
	echo "CALLGRIND libtrace.${loop#loop_} $(awk -v i="$ir" -v n=$N \
	    'BEGIN { printf "%.1f", i / n }') instructions/span"
done
rm -rf "$OUT"
exit $status
