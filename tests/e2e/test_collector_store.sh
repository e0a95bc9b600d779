#!/bin/sh
# --store selects the storage backend (collector/backend/backend.h):
# rocksdb:DIR puts the store in DIR, --db DIR is its shorthand, and a
# spec that names no usable store is a clear start-up error.
. tests/e2e/lib.sh
TOOL="$BUILD/tools/collector_tool"
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

BASE=$(($(date +%s) * 1000000000 - 600000000000))
STEP=1000000

# --store rocksdb:DIR overrides start_collector's --db: the spans land in
# DIR, and the --db directory is never created.
start_collector s1 --store "rocksdb:$TMP/s1-store" ||
	{ fail "collector with --store rocksdb:DIR started"; finish; }
check_eq "spans sent to a --store rocksdb:DIR collector are acked" \
	"$("$TOOL" send "$COLL_INGEST" 5 40 4 "$BASE" "$STEP" 2>&1)" \
	"acked=320"
check_eq "and every one reads back intact" \
	"$("$TOOL" verify-gen "$COLL_QUERY" 5 40 "$BASE" "$STEP")" \
	"ok=320 missing=0 mismatched=0"
check "the store is in DIR" test -f "$TMP/s1-store/CURRENT"
check "the --db directory was not used" test ! -e "$TMP/s1-db"
stop_pid "$COLL_PID"

# The same directory reopened through --db (the shorthand) holds them.
"$BIN/tracecollector" --db "$TMP/s1-store" --listen "ipc://$TMP/s2-in.sock" \
	--query-listen "ipc://$TMP/s2-q.sock" --otlp-http none --otlp-grpc off \
	--zipkin off --jaeger-http off --ready-file "$TMP/s2.ready" \
	>"$TMP/s2.log" 2>&1 &
S2=$!
track "$S2"
if wait_for_file "$TMP/s2.ready" "$COLL_START_SECONDS"; then
	check_eq "--db DIR reads what --store rocksdb:DIR wrote" \
		"$("$TOOL" verify-gen "ipc://$TMP/s2-q.sock" 5 40 "$BASE" "$STEP")" \
		"ok=320 missing=0 mismatched=0"
else
	fail "--db DIR reopened the store"
fi
stop_pid "$S2"

# An empty directory is refused at start, naming the flag.
"$BIN/tracecollector" --store "rocksdb:" --listen "ipc://$TMP/s3-in.sock" \
	--query-listen "ipc://$TMP/s3-q.sock" --otlp-http none --otlp-grpc off \
	--zipkin off --jaeger-http off >"$TMP/s3.log" 2>&1
check_eq "--store rocksdb: (no directory) exits 1" "$?" 1
check "...saying it needs a directory" \
	grep -q "rocksdb:DIR needs a directory" "$TMP/s3.log"
finish
