#!/bin/sh
# Checks the collector's layering (docs/ARCHITECTURE.md, "Rooms"): each
# room includes only the rooms below it, and only the storage rooms see
# RocksDB. Prints one line per wrong include and exits 1 if there is any.
# Usage: scripts/check_layers.sh [COLLECTOR_DIR]
DIR=${1:-collector}

# ROOM: the rooms its files may include (besides itself, common/ and the
# generated protobuf headers). daemon/log.h and daemon/stats.h are leaf
# utilities every room may use; the rest of daemon/ is the top.
allowed() {
	case "$1" in
	format) echo "" ;;
	store) echo "format" ;;
	index) echo "format store" ;;
	query) echo "format store index backend" ;; # backend.h: Response helpers
	backend) echo "format store index query" ;;
	clickhouse) echo "backend format" ;;
	pipeline) echo "backend format" ;;
	net) echo "pipeline backend" ;;
	jaeger) echo "net backend" ;;
	daemon) echo "*" ;;
	*) echo "?" ;;
	esac
}

# Rooms that may include a RocksDB header: the store, and the ClickHouse
# backend's local spool.
rocksdb_ok() {
	case "$1" in store | clickhouse) return 0 ;; esac
	return 1
}

bad=0
for f in "$DIR"/*/*.[ch]; do
	room=$(basename "$(dirname "$f")")
	ok=$(allowed "$room")
	if [ "$ok" = "?" ]; then
		echo "$f: room '$room' is not in scripts/check_layers.sh"
		bad=1
		continue
	fi
	if grep -q '^#include <rocksdb/' "$f" && ! rocksdb_ok "$room"; then
		echo "$f: includes RocksDB above the storage seam"
		bad=1
	fi
	[ "$ok" = "*" ] && continue
	for inc in $(sed -n 's|^#include "\([a-z_]*/[a-z_]*\.h\)".*|\1|p' "$f"); do
		target=${inc%%/*}
		case "$target" in "$room" | opentelemetry | google) continue ;; esac
		case "$inc" in daemon/log.h | daemon/stats.h) continue ;; esac
		case " $ok " in
		*" $target "*) ;;
		*)
			echo "$f: room '$room' may not include $inc (allowed: ${ok:-none}, daemon/log.h, daemon/stats.h)"
			bad=1 ;;
		esac
	done
done
exit $bad
