# Helpers for the fault tests (tests/e2e/test_fault_*.sh), sourced after
# tests/e2e/lib.sh. The producer is tests/faults/fault_producer.c, the
# checker tests/tools/fault_verify.c.
PRODUCER="$BUILD/tools/fault_producer"
VERIFY="$BUILD/tools/fault_verify"
F_MOUNTS=""
# Loop devices to detach and cgroup v1 blkio directories to remove at exit
# (test_fault_slow_disk.sh); their throttles are lifted first, since a
# process waiting on throttled I/O cannot exit.
F_LOOPS=""
F_CGROUPS=""

# Stopped processes keep a SIGTERM pending: continue every tracked process
# first, then let lib.sh's cleanup stop them; unmount what the test mounted
# before lib.sh removes $TMP.
fault_cleanup() {
	for cg in $F_CGROUPS; do
		for f in "$cg"/blkio.throttle.*_device; do
			[ -f "$f" ] || continue
			while read -r dev _; do
				echo "$dev 0" >"$f"
			done <"$f" 2>/dev/null
		done
	done
	for pid in $T_PIDS; do
		kill -CONT "$pid" 2>/dev/null
	done
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $T_PIDS; do
		wait "$pid" 2>/dev/null
	done
	for m in $F_MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	for l in $F_LOOPS; do
		losetup -d "$l" 2>/dev/null
	done
	for cg in $F_CGROUPS; do
		rmdir "$cg" 2>/dev/null
	done
	cleanup
}
trap fault_cleanup EXIT

# need_tools: skips the whole test when the helper programs are missing.
need_tools() {
	if [ ! -x "$PRODUCER" ] || [ ! -x "$VERIFY" ]; then
		skip "fault_producer/fault_verify not built"
		finish
	fi
}

# restart_collector NAME [flags...]: starts tracecollector again on the
# store and sockets start_collector NAME used; sets COLL_PID.
restart_collector() {
	name=$1; shift
	rm -f "$TMP/$name.ready"
	"$BIN/tracecollector" --db "$COLL_DB" --listen "$COLL_INGEST" \
		--query-listen "$COLL_QUERY" --otlp-http none --otlp-grpc off --zipkin off --jaeger-http off \
		--ready-file "$TMP/$name.ready" "$@" >>"$TMP/$name.log" 2>&1 &
	COLL_PID=$!
	track "$COLL_PID"
	wait_for_file "$TMP/$name.ready" "$COLL_START_SECONDS"
}

# field FILE TAG KEY: the value of KEY=... on the last line of FILE that
# starts with TAG (empty when none).
field() {
	grep "^$2" "$1" 2>/dev/null | tail -n 1 | tr ' ' '\n' |
		sed -n "s/^$3=//p"
}

# final_stats FILE: sets ended, exported, full (dropped: queue full) and
# other (every other drop) from the producer's final trace_stats() line.
final_stats() {
	ended=$(field "$1" final spans_ended)
	exported=$(field "$1" final spans_exported)
	full=$(field "$1" final spans_dropped_queue_full)
	other=$(($(field "$1" final spans_dropped_no_memory) + \
		$(field "$1" final spans_dropped_rejected) + \
		$(field "$1" final spans_dropped_shutdown)))
}

# wait_field FILE TAG KEY MIN SECONDS: waits until field >= MIN.
wait_field() {
	i=0
	while :; do
		v=$(field "$1" "$2" "$3")
		[ -n "$v" ] && [ "$v" -ge "$4" ] && return 0
		i=$((i + 1))
		[ "$i" -gt $(($5 * 20)) ] && return 1
		sleep 0.05
	done
}

# wait_exit PID SECONDS: waits for PID to exit (bounded); sets EXIT_RC.
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt $(($2 * 20)) ]; then
			EXIT_RC=124
			return 1
		fi
		sleep 0.05
	done
	wait "$1" 2>/dev/null
	EXIT_RC=$?
}

# rss_kb PID: VmRSS of PID in kB (0 when gone).
rss_kb() {
	v=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' \
		"/proc/$1/status" 2>/dev/null)
	echo "${v:-0}"
}

# coll_stat NAME: one counter of `tracecli stats` (0 when absent).
coll_stat() {
	v=$("$BIN/tracecli" --collector "$COLL_QUERY" stats 2>/dev/null |
		awk -v k="$1" '$1 == k { print $2; exit }')
	echo "${v:-0}"
}

# search_all SERVICE FROM_S TO_S OUT: every trace of SERVICE that started
# between the unix seconds FROM_S and TO_S, by `tracecli search --json` in
# one-second windows (a search answers at most 1000 traces), as one JSON
# array without repeats. Returns 1 when a window was full (incomplete).
search_all() {
	sa_s=$2 sa_full=0
	: >"$4.parts"
	while [ "$sa_s" -le "$3" ]; do
		"$BIN/tracecli" --collector "$COLL_QUERY" search \
			--service "$1" --from "$sa_s" --to $((sa_s + 1)) \
			--limit 1000 --json >"$4.part" 2>/dev/null
		[ -s "$4.part" ] || echo '[]' >"$4.part"
		[ "$(jq length "$4.part")" -ge 1000 ] && sa_full=1
		cat "$4.part" >>"$4.parts"
		sa_s=$((sa_s + 1))
	done
	jq -s 'add | unique_by(.trace_id)' "$4.parts" >"$4"
	[ "$sa_full" -eq 0 ]
}
