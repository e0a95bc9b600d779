#!/bin/sh
# A full disk under the collector's store. The test mounts a small tmpfs
# (root only; else a loop-mounted ext4 image; else it SKIPs), starts the
# collector on it, fills it with a file and runs a libtrace-instrumented
# producer (tests/faults/fault_producer.c, a queue that holds everything).
# The collector must answer "retry later" (RETRY_LATER or INTERNAL: nothing
# written, resend), stay up and keep answering queries; when the filler is
# deleted it must take the backlog libtrace resends, every span once.
. tests/e2e/lib.sh
. tests/e2e/fault_lib.sh
. tests/e2e/otlp_lib.sh
need_tools

MNT="$TMP/mnt"
mkdir -p "$MNT"
if mount -t tmpfs -o size=32m tmpfs "$MNT" 2>/dev/null; then
	F_MOUNTS="$MNT"
	echo "# store on a 32 MiB tmpfs"
elif command -v mkfs.ext4 >/dev/null 2>&1 &&
	truncate -s 32M "$TMP/disk.img" &&
	mkfs.ext4 -q -F "$TMP/disk.img" >/dev/null 2>&1 &&
	mount -o loop "$TMP/disk.img" "$MNT" 2>/dev/null; then
	F_MOUNTS="$MNT"
	echo "# store on a 32 MiB loop-mounted ext4 image"
else
	skip "disk full: cannot mount a small filesystem here (needs root:" \
		"mount -t tmpfs, or a loop device for ext4)"
	finish
fi

start_otlp_collector df --db "$MNT/db" --otlp-grpc 127.0.0.1:0 ||
	{ fail "collector starts"; finish; }
COLL_DB="$MNT/db"
pass "collector starts on the small filesystem"
dd if=/dev/zero of="$MNT/filler" bs=64k >/dev/null 2>&1
check "the filesystem is full" \
	test "$(df -Pk "$MNT" | awk 'NR == 2 { print $4 }')" -eq 0

TRACES=1200
TRACE_ENDPOINT=$COLL_INGEST OTEL_SERVICE_NAME=fault-df \
	OTEL_BSP_MAX_QUEUE_SIZE=16384 \
	"$PRODUCER" -n "$TRACES" -r 100 -o "$TMP/rec.txt" -u df -f 60000 \
	>"$TMP/prod.out" 2>"$TMP/prod.err" &
PROD=$!
track "$PROD"

# Wait (bounded) until the collector has refused a few requests.
refused() {
	echo $(($(coll_stat ingest.requests_rejected.retry_later) + \
		$(coll_stat ingest.requests_rejected.internal)))
}
i=0
while [ "$(refused)" -lt 3 ] && [ "$i" -lt 200 ] &&
	kill -0 "$COLL_PID" 2>/dev/null; do
	i=$((i + 1))
	sleep 0.1
done
# RocksDB 7.8.3 (Debian 12, assertions on) aborts when a WAL append hits
# ENOSPC, so the collector must refuse writes before the disk is full
# (docs/RELIABILITY.md): these checks catch a regression.
check "the collector answers retry later / internal while full" \
	test "$(refused)" -ge 3
alive=yes
kill -0 "$COLL_PID" 2>/dev/null || alive=no
check_eq "the collector is still running while the disk is full" \
	"$alive" yes
cli_stats() {
	"$BIN/tracecli" --collector "$COLL_QUERY" stats >/dev/null 2>&1
}
check "it answers queries while the disk is full" cli_stats
# OTLP/HTTP meets the same pushback as a 503 with Retry-After.
OTLP_TID=$(rand_hex 16)
to_bin "$(hx_request fault-df-http "$(hx_span "$OTLP_TID" "$(rand_hex 8)" \
	full-disk)")" "$TMP/otlp.bin"
check_eq "OTLP/HTTP while full: 503" \
	"$(post "$TMP/otlp.bin" application/x-protobuf)" 503
check "OTLP/HTTP while full: Retry-After" test -n "$(header Retry-After)"
# OTLP/gRPC meets it as UNAVAILABLE with a google.rpc.RetryInfo delay.
GRPC_ADDR=$(sed -n 's/^otlp_grpc=//p' "$TMP/df.ready")
"$BUILD/tools/grpc_client" "$GRPC_ADDR" call "$TMP/otlp.bin" >"$TMP/grpc.out"
check "OTLP/gRPC while full: UNAVAILABLE with a RetryInfo delay" sh -c \
	"grep -q 'grpc_status=14 ' '$TMP/grpc.out' &&
	 ! grep -q 'retry_ms=-1' '$TMP/grpc.out'"
exported_full=$(field "$TMP/prod.out" progress exported)
check_eq "nothing was acknowledged while the disk was full" \
	"${exported_full:-0}" 0

rm -f "$MNT/filler"
echo "# filler removed: $(df -Pk "$MNT" | awk 'NR == 2 { print $4 }') kB free"
if [ "$alive" = no ]; then
	# Keep the rest of the test meaningful (and bounded): restart on the
	# same store, so the resend path is still checked.
	echo "# the collector died; its log ends:"
	tail -n 3 "$TMP/df.log" | sed 's/^/#   /'
	check "the collector restarts on the same store" restart_collector df
fi
wait_exit "$PROD" 80
check_eq "the producer finishes (exit 0)" "$EXIT_RC" 0
check_eq "its flush succeeded" "$(field "$TMP/prod.out" flush= flush)" \
	success
F="$TMP/prod.out"
ended=$(field "$F" final spans_ended)
exported=$(field "$F" final spans_exported)
check_eq "every span was ended" "$ended" $((TRACES * 4))
check_eq "every span was exported after space returned" "$exported" \
	$((TRACES * 4))
if [ "$alive" = yes ]; then
	check_eq "OTLP/HTTP after space returned: 200" \
		"$(post "$TMP/otlp.bin" application/x-protobuf)" 200
	check "OTLP/HTTP after space returned: the span is stored" \
		"$BIN/tracecli" --collector "$COLL_QUERY" show --json "$OTLP_TID"
	"$BUILD/tools/grpc_client" "$GRPC_ADDR" call "$TMP/otlp.bin" \
		>"$TMP/grpc.out"
	check "OTLP/gRPC after space returned: OK" \
		grep -q 'grpc_status=0 ' "$TMP/grpc.out"
fi
"$VERIFY" "$COLL_QUERY" "$TMP/rec.txt" >"$TMP/verify.out" 2>&1
cat "$TMP/verify.out"
V="$TMP/verify.out"
check_eq "stored spans" "$(field "$V" recorded rows)" $((TRACES * 4))
check_eq "spans lost" "$(field "$V" recorded missing)" 0
check_eq "spans stored twice" "$(field "$V" recorded duplicates)" 0
echo "# figures: ended=$ended exported=$exported" \
	"refused_requests=$(refused)" \
	"retried=$(field "$F" final batches_retried)" \
	"stored=$(field "$V" recorded rows)" \
	"lost=$(field "$V" recorded missing)" \
	"duplicates=$(field "$V" recorded duplicates)"
stop_pid "$COLL_PID"
finish
