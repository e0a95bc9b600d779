#!/bin/sh
# The collector unavailable while a libtrace-instrumented program keeps
# working: first stopped (SIGSTOP, so requests hang), then killed and
# restarted later, each for FAULT_OUTAGE_SECONDS (default 10; 30 for the
# issue's longer run by hand). The producer (tests/faults/fault_producer.c)
# makes 2,000 spans/s with a 1 KB attribute and the default 2048-span queue,
# so an outage overflows the queue many times. It must finish its loop
# (span calls never block; it prints their cost before, during and after
# the outage, which is reported, not asserted), its RSS must stay under a
# bound derived from the queue size, the spans it buffered must arrive after
# recovery and the rest be counted: ended == exported + dropped, every
# recorded span stored once, and exactly the dropped ones absent.
. tests/e2e/lib.sh
. tests/e2e/fault_lib.sh
need_tools

OUTAGE=${FAULT_OUTAGE_SECONDS:-10}
RATE=500           # traces per second, 4 spans each
QUEUE=2048
SPANBUF=2048
TRACES=$((RATE * (OUTAGE + 6)))
SPANS=$((TRACES * 4))
# The memory bound: the record pool (queue x (span buffer + 160), rounded to
# 64 bytes: docs/LIBTRACE.md), one ring (8 bytes per slot), plus 8 MiB for
# the encode buffer, NNG and the allocator, over the RSS after trace_init.
POOL_KB=$((QUEUE * ((SPANBUF + 160 + 63) / 64 * 64 + 8) / 1024))
SLACK_KB=8192

# outage CASE: runs one producer through one outage of kind CASE (stop or
# kill) and checks what it reports and what was stored.
outage() {
	c=$1
	start_collector "$c" || { fail "$c: collector starts"; return; }
	P="$TMP/$c.out"
	T0=$(($(date +%s) - 1))
	TRACE_ENDPOINT=$COLL_INGEST OTEL_SERVICE_NAME="fault-$c" \
		OTEL_BSP_MAX_QUEUE_SIZE=$QUEUE \
		TRACE_SPAN_BUFFER_BYTES=$SPANBUF \
		"$PRODUCER" -n "$TRACES" -r "$RATE" -p 1000 -o "$TMP/$c.rec" \
		-u "$c" -f 60000 >"$P" 2>"$TMP/$c.err" &
	prod=$!
	track "$prod"
	check "$c: spans are acknowledged before the outage" \
		wait_field "$P" progress exported $((RATE * 4)) 30
	rss0=$(field "$P" rss_init_kb= rss_init_kb)
	bound=$((rss0 + POOL_KB + SLACK_KB))

	kill -USR1 "$prod"
	if [ "$c" = stop ]; then
		kill -STOP "$COLL_PID"
	else
		kill -9 "$COLL_PID"
		wait "$COLL_PID" 2>/dev/null
	fi
	made0=$(field "$P" progress made)
	# Sample the producer's RSS through the outage.
	rss_max=0 n=0
	while [ "$n" -lt $((OUTAGE * 4)) ]; do
		r=$(rss_kb "$prod")
		[ "$r" -gt "$rss_max" ] && rss_max=$r
		sleep 0.25
		n=$((n + 1))
	done
	made1=$(field "$P" progress made)
	dropped1=$(field "$P" progress dropped)
	if [ "$c" = stop ]; then
		kill -CONT "$COLL_PID"
	else
		check "$c: the collector restarts" restart_collector "$c"
	fi
	kill -USR1 "$prod"
	echo "# $c: made $((made1 - made0)) spans during the outage," \
		"$dropped1 dropped by its end; RSS after init ${rss0} kB," \
		"max during the outage ${rss_max} kB, bound ${bound} kB"
	check "$c: spans were made during the outage" \
		test "$made1" -gt $((made0 + RATE))
	check "$c: the queue overflowed (drops counted during the outage)" \
		test "${dropped1:-0}" -gt 0
	check "$c: RSS during the outage stayed under the bound" \
		test "$rss_max" -le "$bound"

	wait_exit "$prod" 90
	check_eq "$c: the producer finishes (exit 0)" "$EXIT_RC" 0
	check "$c: it finished its loop" grep -q '^loop_done' "$P"
	check_eq "$c: its flush succeeded" "$(field "$P" flush= flush)" \
		success
	peak=$(field "$P" rss_peak_kb= rss_peak_kb)
	# ASan keeps freed memory in quarantine, so the peak says nothing about
	# libtrace's bound in a sanitizer build.
	if is_sanitized "$BUILD/tools/fault_producer"; then
		skip "$c: peak RSS (VmHWM) bound (sanitizer build)"
	else
		check "$c: peak RSS (VmHWM) stayed under the bound" \
			test "${peak:-0}" -le "$bound"
	fi
	final_stats "$P"
	check_eq "$c: every span made was ended" "$ended" "$SPANS"
	check_eq "$c: ended == exported + dropped" \
		$((exported + full + other)) "$ended"
	check_eq "$c: only the queue bound dropped spans" "$other" 0
	check_eq "$c: drops the producer saw == spans_dropped_queue_full" \
		"$(grep -c '^drop' "$TMP/$c.rec")" "$full"

	"$VERIFY" "$COLL_QUERY" "$TMP/$c.rec" >"$TMP/$c.verify" 2>&1
	cat "$TMP/$c.verify"
	V="$TMP/$c.verify"
	check_eq "$c: stored spans == exported" \
		"$(field "$V" recorded rows)" "$exported"
	check_eq "$c: recorded spans missing" "$(field "$V" recorded missing)" 0
	check_eq "$c: spans stored twice" "$(field "$V" recorded duplicates)" 0
	check_eq "$c: dropped spans stored anyway" \
		"$(field "$V" recorded unexpected)" 0
	check "$c: search by service is complete" search_all "fault-$c" \
		"$T0" $(($(date +%s) + 1)) "$TMP/$c.search"
	check_eq "$c: search counts exported spans once" \
		"$(jq '[.[].span_count] | add // 0' "$TMP/$c.search")" \
		"$exported"
	grep '^cost' "$P" | sed "s/^/# $c: /"
	echo "# $c figures: outage=${OUTAGE}s ended=$ended exported=$exported" \
		"dropped_queue_full=$full stored=$(field "$V" recorded rows)" \
		"lost=$(field "$V" recorded missing)" \
		"duplicates=$(field "$V" recorded duplicates)" \
		"rss_init_kb=$rss0 rss_max_kb=$rss_max rss_peak_kb=$peak" \
		"bound_kb=$bound"
	stop_pid "$COLL_PID"
}

outage stop
outage kill
finish
