#!/bin/sh
# Every kind of bad input gets an error reply (never OK), is counted, and
# the collector keeps serving.
. tests/e2e/lib.sh
TOOL="$BUILD/tools/collector_tool"
[ -x "$TOOL" ] || { skip "collector_tool not built"; finish; }

start_collector bad --max-message-bytes 12m || { fail "collector starts"; finish; }

# code: 1 PARTIAL (the bad span rejected, the others kept), 2 INVALID,
# 5 TOO_LARGE.
expect() {
	kind=$1 want=$2
	out=$("$TOOL" bad "$COLL_INGEST" "$kind" 2>&1)
	code=$(echo "$out" | sed -n 's/^code=\([0-9a-z]*\).*/\1/p')
	check_eq "$kind: error reply" "$code" "$want"
	"$TOOL" services "$COLL_QUERY" >/dev/null 2>&1
	check_eq "$kind: collector still serving" "$?" 0
}
expect garbage 2
expect truncated 2
expect wiretype 2
expect deep 2
expect empty 2
expect zero-id 1
expect short-id 1
expect end-before-start 1
expect ts-1970 1
expect ts-2200 1
expect many-attrs 1
expect bad-utf8 1
expect partial 1
# A 10 MB attribute value fits the 12 MiB message limit; the span is
# rejected by the 64 KiB value limit, its batch-mates kept.
expect big-attr 1
expect size=13000000 5
out=$("$TOOL" bad "$COLL_INGEST" partial)
check "a partial batch reports its rejected span count" \
	sh -c "echo '$out' | grep -q 'rejected=1'"

# Far over the limit NNG drops the connection unread; still serving.
"$TOOL" bad "$COLL_INGEST" size=30000000 >/dev/null 2>&1
"$TOOL" services "$COLL_QUERY" >/dev/null 2>&1
check_eq "a huge message does not stop the collector" "$?" 0
kill -0 "$COLL_PID"
check_eq "collector process alive" "$?" 0

stat() { "$TOOL" stats "$COLL_QUERY" | awk -v n="$1" '$1 == n { print $2 }'; }
check_eq "invalid requests counted" "$(stat ingest.requests_rejected.invalid)" 3
check_eq "too deep counted" "$(stat ingest.requests_rejected.too_deep)" 1
check_eq "empty counted" "$(stat ingest.requests_rejected.empty)" 1
check_eq "too large counted" "$(stat ingest.requests_rejected.too_large)" 1
check_eq "bad ids counted" "$(stat ingest.spans_rejected.bad_id)" 4
check_eq "bad times counted" "$(stat ingest.spans_rejected.bad_time)" 3
check_eq "over-limit spans counted" "$(stat ingest.spans_rejected.too_big)" 2
check_eq "bad UTF-8 counted" "$(stat ingest.spans_rejected.bad_utf8)" 1
# The NNG listener's own counters (every listener has a set).
check_eq "NNG refusals counted by reason" \
	"$(stat nng_ingest.rejected.invalid) $(stat nng_ingest.rejected.too_large)" "5 1"
reqs=$(stat nng_ingest.requests)
check "NNG requests and bytes counted" \
	test "${reqs:-0}" -ge 7 -a "$(stat nng_ingest.bytes)" -gt 0
finish
