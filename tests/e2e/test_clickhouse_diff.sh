#!/bin/sh
# The differential test: the same seeded spans (every attribute type,
# events, links, errors, several resources and scopes) imported into a
# RocksDB collector and a ClickHouse collector (one real clickhouse-server
# on a free loopback port) must give identical tracecli --json answers:
# services, operations of every service, show of every trace, search with
# every filter and both orders, slow (spans and percentiles: both read the
# same log-linear histogram over the same whole minutes), deps. Also: tracecli's plain output against
# ClickHouse, and the spans in ClickHouse's tables. tail (unfiltered,
# --errors, --service with --attr), started on both before the spans
# arrive, prints the same traces (sorted: the two backends cut flushes
# differently) and each once.
. tests/e2e/lib.sh
. tests/e2e/clickhouse_lib.sh
CLI="$BIN/tracecli"

if ! ch_available; then
	skip "clickhouse-server not installed (make deps)"
	finish
fi
ch_start_single || { fail "clickhouse-server starts"; finish; }
pass "clickhouse-server answers on 127.0.0.1:$CH_HTTP_1"

start_collector rdb || { fail "rocksdb collector starts"; finish; }
RDB_INGEST=$COLL_INGEST RDB_QUERY=$COLL_QUERY
start_ch_collector chc "clickhouse://$CH_URL/traces_diff?spool=$TMP/spool&flush_ms=200" ||
	{ fail "clickhouse collector starts"; finish; }
CH_INGEST=$COLL_INGEST CH_QUERY=$COLL_QUERY
pass "both collectors start"

# requests URL: the collector's count of query requests (this one too).
requests() {
	"$CLI" stats --json --collector "$1" |
		jq '.[] | select(.name == "query.requests") | .value'
}

# polled URL N: waits until N requests besides its own came to URL (a
# tail's polls: each of its tails has then answered at least N / tails - 1).
polled() {
	w0=$(requests "$1") i=0
	while [ $i -le 300 ]; do
		w=$(requests "$1") i=$((i + 1))
		[ $((w - w0 - i)) -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Three tails on each collector, before any span arrives.
TAILS="all errors attr"
tail_args() {
	case $1 in
	all) echo "" ;;
	errors) echo "--errors" ;;
	attr) echo "--service cart --attr http.method=GET" ;;
	esac
}
for t in $TAILS; do
	for b in rdb ch; do
		[ $b = rdb ] && u=$RDB_QUERY || u=$CH_QUERY
		# shellcheck disable=SC2046
		"$CLI" tail $(tail_args $t) --no-color --collector "$u" \
			>"$TMP/tail-$t-$b" 2>&1 &
		track $!
		eval "TAIL_${t}_$b=\$!"
	done
done
check "the tails poll on rocksdb" polled "$RDB_QUERY" 6
check "the tails poll on clickhouse" polled "$CH_QUERY" 6

NOW=$(date +%s)
# 40 traces in the last minute and 30 ten minutes before: searches then
# read more than the first one-minute slice (ch_query_search.c).
python3 tests/e2e/clickhouse_fixture.py 42 40 "$NOW" >"$TMP/spans.json"
python3 tests/e2e/clickhouse_fixture.py 43 30 "$((NOW - 600))" >"$TMP/older.json"
# Services seen only 25 minutes ago (old-*), plus two of their traces in
# the last seconds, imported last (late, old timestamps): newest first
# must look below a quiet gap without losing what lies above it.
rename_old() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["resourceSpans"]:
    for a in r["resource"]["attributes"]:
        if a["key"] == "service.name":
            a["value"]["stringValue"] = "old-" + a["value"]["stringValue"]
json.dump(d, sys.stdout)'
}
python3 tests/e2e/clickhouse_fixture.py 44 25 "$((NOW - 1500))" | rename_old >"$TMP/quiet.json"
python3 tests/e2e/clickhouse_fixture.py 45 2 "$NOW" | rename_old >"$TMP/trickle.json"
IMPORTS="spans older quiet trickle"
for u in "$RDB_INGEST" "$CH_INGEST"; do
	for f in $IMPORTS; do
		"$CLI" import "$TMP/$f.json" --ingest "$u" >"$TMP/import.out" 2>&1
		check "import $f into $u: all spans accepted" grep -q ", 0 rejected" "$TMP/import.out"
	done
done

# same DESC ARGS...: tracecli ARGS --json gives the same output and exit
# status from both collectors (and the answer is not empty).
same() {
	desc=$1; shift
	"$CLI" "$@" --json --collector "$RDB_QUERY" >"$TMP/a.json" 2>&1
	ra=$?
	"$CLI" "$@" --json --collector "$CH_QUERY" >"$TMP/b.json" 2>&1
	rb=$?
	if [ "$ra" = "$rb" ] && cmp -s "$TMP/a.json" "$TMP/b.json"; then
		pass "$desc (exit $ra)"
	else
		fail "$desc: rocksdb exit $ra, clickhouse exit $rb"
		diff "$TMP/a.json" "$TMP/b.json" | head -20
	fi
}

same "services" services
for s in frontend cart payments db search nosuch; do
	same "operations $s" operations "$s"
done
for t in $(python3 -c "
import json; d = json.load(open('$TMP/spans.json'))
print(' '.join(sorted({s['traceId'] for r in d['resourceSpans'] for sc in r['scopeSpans'] for s in sc['spans']})))"); do
	"$CLI" show "$t" --json --collector "$RDB_QUERY" >"$TMP/a.json" 2>&1
	"$CLI" show "$t" --json --collector "$CH_QUERY" >"$TMP/b.json" 2>&1
	cmp -s "$TMP/a.json" "$TMP/b.json" || { echo "show $t differs:"; diff "$TMP/a.json" "$TMP/b.json" | head; echo "$t" >>"$TMP/show-diffs"; }
done
check "show: all 40 traces identical (spans, attributes, events, links, resources, scopes)" test ! -s "$TMP/show-diffs"
same "show of an unknown trace" show 0123456789abcdef0123456789abcdef

same "search, no filter" search --limit 100
same "search --limit 5" search --limit 5
same "search --longest" search --longest --limit 10
same "search --service" search --service payments --limit 100
same "search --service --operation" search --service cart --operation cart.op1 --limit 100
same "search --attr string" search --attr http.method=POST --limit 100
same "search --attr int" search --attr http.status_code=500 --limit 100
same "search --attr bool" search --attr cache.hit=true --limit 100
same "search --attr double" search --attr ratio=0.5 --limit 100
same "search --attr of the resource" search --attr host.name=host-db --limit 100
same "search two --attr" search --attr http.method=GET --attr user.id=user-3 --limit 100
# attr_index (schema v4) names candidate traces by (key, value, service,
# minute) without saying which span carried what: the two filters of a
# trace's different spans, or a resource's and another resource's span
# attribute, must not pass (ch_query_attr.c checks the spans).
same "search --attr of two spans of one trace" search --attr http.method=GET --attr http.status_code=404 --limit 100
same "search --attr resource int + span string" search --attr deployment.count=3 --attr http.method=PUT --limit 100
same "search --attr resource + span, other resource" search --attr host.name=host-cart --attr cache.hit=false --limit 100
same "search --attr --operation --min-duration" search --attr http.method=GET --service cart --operation cart.op1 --min-duration 100ms --limit 100
same "search --attr --errors --service" search --attr cache.hit=true --errors --service payments --limit 100
same "search --attr --from --to" search --attr http.status_code=200 --from $((NOW - 700)) --to $((NOW - 20)) --limit 100
same "search --attr rare value --limit 2" search --attr user.id=user-19 --limit 2
same "search --attr --limit 3 (candidate rounds)" search --attr http.status_code=500 --attr cache.hit=true --limit 3
same "search --attr with no match" search --attr user.id=nobody
same "search --attr --longest (ranked by the longest listed span)" search --attr http.method=POST --longest --limit 10
same "search --attr --errors --longest" search --attr http.method=POST --errors --longest --limit 7
same "search --service --attr --min-duration --longest" search --service cart --attr http.method=GET --min-duration 100ms --longest --limit 5
same "search --min-duration" search --min-duration 500ms --limit 100
same "search --max-duration" search --max-duration 1ms --limit 100
same "search --errors" search --errors --limit 100
same "search --errors --service --longest" search --errors --service db --longest
same "search --since (its edge falls where there are no spans)" search --since 5m --limit 100
same "search --from --to" search --from $((NOW - 40)) --to $((NOW - 20)) --limit 100
same "search --from --to across both imports" search --from $((NOW - 700)) --to $((NOW - 20)) --limit 50
same "search --service --limit 3" search --service db --limit 3
same "search --attr --limit 45 (reaches the older traces)" search --attr http.method=GET --limit 45
same "search with no match" search --service nosuch
same "search --sort spans" search --sort spans --limit 100
same "search --sort errors" search --sort errors --limit 100
same "search --sort spans --limit 5" search --sort spans --limit 5
same "search --sort errors --service --limit 3" search --sort errors --service cart --limit 3
same "search --sort spans --attr" search --sort spans --attr http.method=GET --limit 10
same "search --sort errors --errors" search --sort errors --errors --limit 10
same "search --sort spans --from --to" search --sort spans --from $((NOW - 700)) --to $((NOW - 20)) --limit 50
same "search --sort spans with no match" search --sort spans --service nosuch
# Where newest first starts reading (ch_query_search.c) must not change
# answers: a service quiet for 25 minutes (its spans below a gap), the
# same with two traces above the gap, filters only the old spans pass,
# windows ending in the past, and one starting after now.
same "search --service quiet for 25 min" search --service old-db --limit 10
same "search --service quiet, two traces above the gap" search --service old-cart --limit 10
same "search --service quiet --errors" search --service old-payments --errors --limit 4
same "search --service quiet --min-duration" search --service old-search --min-duration 300ms --limit 3
same "search --service quiet --operation" search --service old-frontend --operation frontend.op2 --limit 2
same "search --service quiet, window ending 5 min ago" search --service old-cart --from $((NOW - 3600)) --to $((NOW - 300)) --limit 5
same "search --service, window ending among the newest spans" search --service cart --from $((NOW - 3600)) --to $((NOW - 25)) --limit 30
same "search, window starting after now" search --service cart --from $((NOW + 600))
same "search --limit 150 (every import)" search --limit 150
# The plain listing asks for the count of every match ("20 of 70").
same_text() {
	desc=$1; shift
	"$CLI" "$@" --no-color --collector "$RDB_QUERY" >"$TMP/a.txt" 2>&1
	ra=$?
	"$CLI" "$@" --no-color --collector "$CH_QUERY" >"$TMP/b.txt" 2>&1
	rb=$?
	if [ "$ra" = "$rb" ] && cmp -s "$TMP/a.txt" "$TMP/b.txt"; then
		pass "$desc (exit $ra)"
	else
		fail "$desc: rocksdb exit $ra, clickhouse exit $rb"
		diff "$TMP/a.txt" "$TMP/b.txt" | head -20
	fi
}
same_text "count: search" search --limit 5
same_text "count: search --service" search --service payments --limit 3
same_text "count: search --errors" search --errors --limit 3
same_text "count: search --attr" search --attr http.method=GET --limit 3
same_text "count: search two --attr" search --attr http.method=GET --attr http.status_code=404 --limit 3
same_text "count: search --min-duration --from --to" search --min-duration 1ms --from $((NOW - 700)) --to $((NOW - 20)) --limit 3
same_text "count: search --sort spans" search --sort spans --limit 3

same "slow" slow
same "slow --top 5" slow --top 5
same "slow --service" slow --service cart
same "slow --service --operation --histogram" slow --service cart --operation cart.op2 --histogram
same "slow --since (its edge falls where there are no spans)" slow --since 5m
same "deps" deps --limit 1000

# same_tail NAME: once the RocksDB tail printed every trace its search
# finds (all arrived after it started) and the ClickHouse tail as many,
# and both polled twice more, the sorted lines are the same.
same_tail() {
	# shellcheck disable=SC2046
	want=$("$CLI" search $(tail_args "$1") --limit 1000 --json \
		--collector "$RDB_QUERY" | jq length)
	i=0
	while [ $i -le 300 ]; do
		[ "$(wc -l <"$TMP/tail-$1-rdb")" -ge "$want" ] &&
			[ "$(wc -l <"$TMP/tail-$1-ch")" -ge "$want" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	polled "$RDB_QUERY" 6 && polled "$CH_QUERY" 6
	eval "stop_pid \$TAIL_${1}_rdb; stop_pid \$TAIL_${1}_ch"
	sort "$TMP/tail-$1-rdb" >"$TMP/a.tail"
	sort "$TMP/tail-$1-ch" >"$TMP/b.tail"
	if [ "$want" -gt 0 ] && [ "$(wc -l <"$TMP/a.tail")" -eq "$want" ] &&
		cmp -s "$TMP/a.tail" "$TMP/b.tail"; then
		pass "tail $(tail_args "$1"): the same $want traces, each once"
	else
		fail "tail $(tail_args "$1"): $want expected; rocksdb $(wc -l <"$TMP/a.tail"), clickhouse $(wc -l <"$TMP/b.tail")"
		diff "$TMP/a.tail" "$TMP/b.tail" | head -20
		head -n 3 "$TMP/a.tail" "$TMP/b.tail"
	fi
}
for t in $TAILS; do
	same_tail $t
done

# Text output (stdout is no terminal) works against ClickHouse too.
"$CLI" search --service payments --collector "$CH_QUERY" >"$TMP/plain" 2>&1
check "plain search lists traces" grep -q payments "$TMP/plain"
n=$(ch_q "$CH_HTTP_1" "SELECT count() FROM traces_diff.spans_local")
e=$(python3 -c "
import json
print(sum(len(sc['spans']) for f in '$IMPORTS'.split()
          for r in json.load(open('$TMP/' + f + '.json'))['resourceSpans']
          for sc in r['scopeSpans']))")
check_eq "ClickHouse holds every span once" "$n" "$e"
check_eq "attr_index names every trace span_index holds" \
	"$(ch_q "$CH_HTTP_1" "SELECT uniqExact(trace_id) FROM traces_diff.attr_index_local")" \
	"$(ch_q "$CH_HTTP_1" "SELECT uniqExact(trace_id) FROM traces_diff.span_index_local")"
"$CLI" stats --json --collector "$CH_QUERY" >"$TMP/stats" 2>&1
check "stats show the spool and what was shipped" grep -q clickhouse.shipped_spans "$TMP/stats"
finish
