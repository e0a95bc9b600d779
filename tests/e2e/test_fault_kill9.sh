#!/bin/sh
# kill -9 of the collector in the middle of libtrace ingest, twice, each
# time followed by a restart on the same store and address. A
# libtrace-instrumented producer (tests/faults/fault_producer.c) keeps
# making traces of 4 spans at a steady rate, with a queue large enough to
# hold everything made while the collector is down. Afterwards every span
# it made is stored exactly once: those the killed collectors acknowledged
# survived the kill, libtrace resent the rest (none lost, none twice), and
# its counters agree. FAULT_TRACES and FAULT_RATE (traces per second)
# change the load.
. tests/e2e/lib.sh
. tests/e2e/fault_lib.sh
need_tools

TRACES=${FAULT_TRACES:-2500}
RATE=${FAULT_RATE:-400}
SPANS=$((TRACES * 4))

start_collector k9 || { fail "collector starts"; finish; }
pass "collector starts"

T0=$(($(date +%s) - 1))
TRACE_ENDPOINT=$COLL_INGEST OTEL_SERVICE_NAME=fault-k9 \
	OTEL_BSP_MAX_QUEUE_SIZE=16384 OTEL_BSP_SCHEDULE_DELAY=20 \
	OTEL_BSP_MAX_EXPORT_BATCH_SIZE=128 \
	"$PRODUCER" -n "$TRACES" -r "$RATE" -o "$TMP/rec.txt" -u k9 \
	>"$TMP/prod.out" 2>"$TMP/prod.err" &
PROD=$!
track "$PROD"

# Kill twice, once a quarter and once half of the spans were acknowledged
# (progress, not a timer); small batches sent every 20 ms make it likely
# that a batch is in flight at the kill.
acked_at_kill=0 accepted1=0
for round in 1 2; do
	check "round $round: the producer gets spans acknowledged" \
		wait_field "$TMP/prod.out" progress exported \
		$((SPANS * round / 4)) 60
	a=$(coll_stat ingest.spans_accepted)
	kill -9 "$COLL_PID"
	wait "$COLL_PID" 2>/dev/null
	acked=$(field "$TMP/prod.out" progress exported)
	made=$(field "$TMP/prod.out" progress made)
	echo "# kill $round: this collector had accepted >= $a spans;" \
		"the producer had $acked acknowledged and made $made"
	accepted1=$((accepted1 + a))
	[ "$round" -eq 1 ] && acked_at_kill=$acked
	check "round $round: killed before the producer finished" \
		test "$acked" -lt "$SPANS"
	# The producer keeps working while the collector is down.
	check "round $round: spans are made while the collector is down" \
		wait_field "$TMP/prod.out" progress made $((made + 600)) 30
	check "round $round: the collector restarts on the killed store" \
		restart_collector k9
done

wait_exit "$PROD" 80
check_eq "the producer finishes (exit 0)" "$EXIT_RC" 0
check "it finished its loop" grep -q '^loop_done' "$TMP/prod.out"
check_eq "its flush succeeded" "$(field "$TMP/prod.out" flush= flush)" \
	success
F="$TMP/prod.out"
ended=$(field "$F" final spans_ended)
exported=$(field "$F" final spans_exported)
retried=$(field "$F" final batches_retried)
dropped=$(($(field "$F" final spans_dropped_queue_full) + \
	$(field "$F" final spans_dropped_no_memory) + \
	$(field "$F" final spans_dropped_rejected) + \
	$(field "$F" final spans_dropped_shutdown)))
check_eq "every span made was sampled and ended" "$ended" "$SPANS"
check_eq "nothing was dropped (the queue held the outage)" "$dropped" 0
check_eq "every span was exported (acknowledged)" "$exported" "$SPANS"

# Every span, looked up by its trace, is stored exactly once.
"$VERIFY" -m "$TMP/missing.txt" "$COLL_QUERY" "$TMP/rec.txt" \
	>"$TMP/verify.out" 2>&1
cat "$TMP/verify.out"
V="$TMP/verify.out"
check_eq "recorded spans" "$(field "$V" recorded recorded)" "$SPANS"
check_eq "stored rows for those traces" "$(field "$V" recorded rows)" "$SPANS"
check_eq "spans lost (acknowledged or not)" \
	"$(field "$V" recorded missing)" 0
check_eq "spans stored twice" "$(field "$V" recorded duplicates)" 0
check_eq "spans nobody sent" "$(field "$V" recorded unexpected)" 0
check_eq "spans with a wrong name" "$(field "$V" recorded misnamed)" 0

# The indexes agree: a search by service sees every trace and span once.
check "search by service in one-second windows is complete" \
	search_all fault-k9 "$T0" $(($(date +%s) + 1)) "$TMP/search.json"
check_eq "search finds every trace once" \
	"$(jq length "$TMP/search.json")" \
	"$TRACES"
check_eq "search counts every span once" \
	"$(jq '[.[].span_count] | add' "$TMP/search.json")" "$SPANS"
accepted2=$(coll_stat ingest.spans_accepted)
echo "# figures: spans=$SPANS acked_before_first_kill=$acked_at_kill" \
	"accepted_by_killed_collectors>=$accepted1" \
	"accepted_by_last=$accepted2" \
	"batches_retried=$retried lost=$(field "$V" recorded missing)" \
	"duplicates=$(field "$V" recorded duplicates) dropped=$dropped"
grep '^cost' "$F"
finish
