#!/bin/sh
# Installs the Debian packages the project needs, only when one is missing.
# Run by `make deps` (and so by make, make test, make demo, make bench).
# `deps.sh build` (make, make demo): what building and the demo need.
PKGS="libnng-dev librocksdb-dev libprotobuf-c-dev protobuf-c-compiler
libncurses-dev pkg-config libjansson-dev libsimdjson-dev g++ zlib1g-dev libmicrohttpd-dev
libgnutls28-dev libnghttp2-dev libcurl4-openssl-dev tmux python3 curl"
# `deps.sh` (make deps, make test, make bench) adds the real peers the tests
# and benchmarks run against: the W3C suite's aiohttp, a ClickHouse cluster
# and its ZooKeeper, a browser for the Jaeger UI, db_bench.
TEST_PKGS="libcmocka-dev jq rocksdb-tools python3-aiohttp clickhouse-server
clickhouse-client zookeeper chromium"
# `deps.sh fuzz` (make fuzz) also needs clang and its libFuzzer runtime,
# `deps.sh valgrind` (make valgrind) valgrind.
case "${1:-}" in
build) ;;
fuzz) PKGS="$PKGS $TEST_PKGS clang libclang-rt-14-dev" ;;
valgrind) PKGS="$PKGS $TEST_PKGS valgrind" ;;
*) PKGS="$PKGS $TEST_PKGS" ;;
esac

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; please install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || {
	echo "deps: apt-get install failed for:$missing" >&2
	exit 1
}
