#!/bin/sh
# The collector's layering (docs/ARCHITECTURE.md, "Rooms"): no room
# includes a room above it, and only the storage rooms see RocksDB. The
# check runs on the tree, then on a copy with one wrong include planted,
# which it must refuse (so a check that passes everything fails here).
. tests/e2e/lib.sh

sh scripts/check_layers.sh collector >"$TMP/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && cat "$TMP/out"
check_eq "every collector room includes only the rooms below it" "$rc" 0

cp -r collector "$TMP/collector"
printf '#include "net/rep_server.h"\n' >>"$TMP/collector/format/keys.c"
sh scripts/check_layers.sh "$TMP/collector" >"$TMP/bad" 2>&1
check_eq "a format/ file including net/ is refused" "$?" 1
check "the refusal names the file and the include" \
	grep -q "format/keys.c: room 'format' may not include net/rep_server.h" "$TMP/bad"

cp -r collector "$TMP/collector2"
printf '#include <rocksdb/c.h>\n' >>"$TMP/collector2/net/ingest.c"
sh scripts/check_layers.sh "$TMP/collector2" >"$TMP/bad2" 2>&1
check_eq "RocksDB above the seam is refused" "$?" 1
finish
