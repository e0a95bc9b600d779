#!/bin/sh
# A replicated, sharded ClickHouse cluster on this machine, for a
# cluster-backed tracecollector: one ZooKeeper and four clickhouse-server
# processes (2 shards x 2 replicas, cluster "traces"), loopback only, free
# ports, all state under DIR (the same setup the tests start,
# tests/e2e/clickhouse_lib.sh; packages from `make deps`).
#   scripts/clickhouse_cluster.sh start DIR   prints the --store spec
#   scripts/clickhouse_cluster.sh stop DIR    stops them by PID
set -u
cmd=${1:-} DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$cmd" in
start)
	[ -s "$DIR/pids" ] && { echo "$0: $DIR already has a cluster (stop it first)" >&2; exit 1; }
	TMP=$DIR
	track() { echo "$1" >>"$DIR/pids"; }
	. "$(dirname "$0")/../tests/e2e/clickhouse_lib.sh"
	ch_available && zk_available || { echo "$0: run make deps (clickhouse-server, zookeeper)" >&2; exit 1; }
	ch_start_cluster || exit 1
	echo "clickhouse://$CH_URL/traces?cluster=traces&quorum=2&spool=$DIR/spool" | tee "$DIR/store-spec"
	;;
stop)
	[ -f "$DIR/pids" ] || exit 0
	for p in $(cat "$DIR/pids"); do kill "$p" 2>/dev/null; done
	for p in $(cat "$DIR/pids"); do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 120 ]; do i=$((i + 1)); sleep 0.25; done
		kill -9 "$p" 2>/dev/null
	done
	rm -f "$DIR/pids"
	;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
