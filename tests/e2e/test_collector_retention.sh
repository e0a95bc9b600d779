#!/bin/sh
# A tiny --retention: spans disappear from every query once they are older
# than it, and the disk space comes back, while the collector keeps
# ingesting.
. tests/e2e/lib.sh
TOOL="$BUILD/tools/collector_tool"
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

start_collector ret --retention 10s || { fail "collector starts"; finish; }
stat() { "$TOOL" stats "$COLL_QUERY" | awk -v n="$1" '$1 == n { print $2 }'; }

# Start times 20 s ahead: they expire 30 s from now, whatever the speed of
# this machine until then.
BASE=$(($(date +%s) * 1000000000 + 20000000000))
"$TOOL" send "$COLL_INGEST" 5 3000 10 "$BASE" 1000 >"$TMP/send.out"
check_eq "spans acknowledged" "$(cat "$TMP/send.out")" "acked=24000"
out=$("$TOOL" verify-gen "$COLL_QUERY" 5 3000 "$BASE" 1000)
check_eq "all present before they expire" "$out" \
	"ok=24000 missing=0 mismatched=0"
before=$(stat store.disk_size)

# Poll (no timing assertion): wait until the retention thread expired them.
i=0
while "$TOOL" search "$COLL_QUERY" limit=1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -gt 240 ] && break
	sleep 0.5
done
check "expired traces leave search" sh -c \
	"! '$TOOL' search '$COLL_QUERY' limit=1 >/dev/null"
out=$("$TOOL" verify-gen "$COLL_QUERY" 5 3000 "$BASE" 1000)
check_eq "expired spans are gone from get-trace" "$out" \
	"ok=0 missing=24000 mismatched=0"
i=0
while [ "$(stat store.disk_size)" -gt $((before / 2)) ]; do
	i=$((i + 1))
	[ "$i" -gt 240 ] && break
	sleep 0.5
done
after=$(stat store.disk_size)
check "disk space reclaimed ($before -> $after bytes)" \
	test "$after" -le $((before / 2))

# Ingest goes on.
"$TOOL" send "$COLL_INGEST" 6 10 5 >"$TMP/send2.out"
check_eq "still ingesting" "$(cat "$TMP/send2.out")" "acked=80"
finish
