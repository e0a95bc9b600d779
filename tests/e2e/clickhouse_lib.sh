# Helpers for the ClickHouse tests (sourced after lib.sh): a single
# clickhouse-server, or a 2-shard x 2-replica cluster with one ZooKeeper,
# on free loopback ports with all state under $TMP, each process a child
# of the test, tracked by PID and stopped at exit. Configuration follows
# the recipe tested in ../shared/clickhouse (ClickHouse 18.16, ZooKeeper
# 3.8): one <yandex> config per server, macros {shard} {replica}, cluster
# "traces".
CH_SERVER=${CH_SERVER:-/usr/bin/clickhouse-server}
[ -x "$CH_SERVER" ] || CH_SERVER=/usr/sbin/clickhouse-server
ZK_CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar

# ch_available: clickhouse-server (and for clusters zookeeper) installed.
ch_available() { [ -x "$CH_SERVER" ]; }
zk_available() { [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null; }

# ch_free_port: a TCP port free on 127.0.0.1 now.
ch_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ch_q PORT SQL [URL-PARAMS]: runs SQL over HTTP on PORT, prints the reply.
ch_q() {
	curl -sS -m 60 "http://127.0.0.1:$1/?${3:-}" --data-binary "$2"
}

ch_write_users() {
	cat >"$TMP/ch-users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default>
    <max_memory_usage>2000000000</max_memory_usage>
    <use_uncompressed_cache>0</use_uncompressed_cache>
    <load_balancing>in_order</load_balancing>
    <max_threads>2</max_threads>
    <background_pool_size>4</background_pool_size>
    <background_schedule_pool_size>4</background_schedule_pool_size>
    <distributed_ddl_task_timeout>60</distributed_ddl_task_timeout>
    <connect_timeout_with_failover_ms>200</connect_timeout_with_failover_ms>
    <log_queries>1</log_queries>
  </default></profiles>
  <users><default>
    <password></password>
    <networks replace="replace"><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota>
  </default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries>
    <errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows>
    <execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
}

# ch_write_config N SHARD REPLICA: config of server N (ports CH_HTTP_N,
# CH_TCP_N, CH_IS_N); cluster parts only when ZK_PORT is set.
ch_write_config() {
	n=$1 d="$TMP/ch$1"
	eval "http=\$CH_HTTP_$n tcp=\$CH_TCP_$n is=\$CH_IS_$n"
	mkdir -p "$d/data" "$d/tmp" "$d/log"
	{
		cat <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>$d/log/server.log</log>
    <errorlog>$d/log/server.err.log</errorlog><size>50M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port><tcp_port>$tcp</tcp_port>
  <interserver_http_port>$is</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>$d/data/</path><tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/data/user_files/</user_files_path>
  <format_schema_path>$d/data/format_schemas/</format_schema_path>
  <users_config>$TMP/ch-users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>8388608</uncompressed_cache_size>
  <max_table_size_to_drop>0</max_table_size_to_drop>
  <max_partition_size_to_drop>0</max_partition_size_to_drop>
  <keep_alive_timeout>10</keep_alive_timeout>
XML
		# CH_EXTRA_CONFIG: more server settings (the TLS test's https_port).
		[ -n "${CH_EXTRA_CONFIG:-}" ] && printf '%s\n' "$CH_EXTRA_CONFIG"
		if [ -n "${ZK_PORT:-}" ]; then
			cat <<XML
  <zookeeper><node index="1"><host>127.0.0.1</host><port>$ZK_PORT</port></node>
    <session_timeout_ms>6000</session_timeout_ms><operation_timeout_ms>3000</operation_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <macros><cluster>traces</cluster><shard>0$2</shard><replica>s$2r$3</replica></macros>
  <remote_servers><traces>
    <shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>$CH_TCP_1</port></replica>
      <replica><host>127.0.0.1</host><port>$CH_TCP_2</port></replica></shard>
    <shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>$CH_TCP_3</port></replica>
      <replica><host>127.0.0.1</host><port>$CH_TCP_4</port></replica></shard>
  </traces></remote_servers>
XML
		fi
		echo "</yandex>"
	} >"$d/config.xml"
}

# ch_ports N: picks free ports for server N.
ch_ports() {
	eval "CH_HTTP_$1=$(ch_free_port) CH_TCP_$1=$(ch_free_port) CH_IS_$1=$(ch_free_port)"
}

# ch_launch N: starts server N (configured) as our child; sets CH_PID_N.
ch_launch() {
	"$CH_SERVER" --config-file="$TMP/ch$1/config.xml" \
		>"$TMP/ch$1/log/stdout.log" 2>&1 </dev/null &
	eval "CH_PID_$1=$!"
	track "$!"
}

# ch_wait N: waits until server N answers (60 s: a loaded machine).
ch_wait() {
	eval "port=\$CH_HTTP_$1 pid=\$CH_PID_$1"
	i=0
	while [ "$(ch_q "$port" 'SELECT 1' 2>/dev/null)" != 1 ]; do
		i=$((i + 1))
		if [ "$i" -gt 240 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "clickhouse server $1 did not start:" >&2
			tail -20 "$TMP/ch$1/log/server.err.log" >&2
			return 1
		fi
		sleep 0.25
	done
}

# ch_start_single: one server (N=1), no ZooKeeper; CH_URL is its HTTP
# address for --store.
ch_start_single() {
	ch_write_users
	ch_ports 1
	ch_write_config 1
	ch_launch 1
	ch_wait 1 || return 1
	CH_URL="127.0.0.1:$CH_HTTP_1"
}

# zk_start: standalone ZooKeeper on a free port; sets ZK_PORT, ZK_PID.
zk_start() {
	ZK_PORT=$(ch_free_port)
	mkdir -p "$TMP/zk/data"
	cat >"$TMP/zk/zoo.cfg" <<CFG
tickTime=1000
dataDir=$TMP/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
maxClientCnxns=200
minSessionTimeout=2000
maxSessionTimeout=60000
CFG
	java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Djava.net.preferIPv4Stack=true -Dzookeeper.admin.enableServer=false \
		-Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$ZK_CP" \
		org.apache.zookeeper.server.ZooKeeperServerMain "$TMP/zk/zoo.cfg" \
		>"$TMP/zk/zk.log" 2>&1 </dev/null &
	ZK_PID=$!
	track "$ZK_PID"
	i=0
	until [ "$(python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $ZK_PORT), 1)
s.sendall(b'ruok'); print(s.recv(4).decode())" 2>/dev/null)" = imok ]; do
		i=$((i + 1))
		[ "$i" -gt 240 ] && { tail -20 "$TMP/zk/zk.log" >&2; return 1; }
		sleep 0.25
	done
}

# ch_start_cluster: ZooKeeper and servers 1-4 (shard 1: 1, 2; shard 2:
# 3, 4), cluster "traces"; CH_URL lists all four HTTP addresses.
ch_start_cluster() {
	zk_start || return 1
	ch_write_users
	for n in 1 2 3 4; do ch_ports $n; done
	for n in 1 2 3 4; do
		ch_write_config $n $(((n + 1) / 2)) $(((n - 1) % 2 + 1))
		ch_launch $n
	done
	for n in 1 2 3 4; do ch_wait $n || return 1; done
	CH_URL="127.0.0.1:$CH_HTTP_1,127.0.0.1:$CH_HTTP_2,127.0.0.1:$CH_HTTP_3,127.0.0.1:$CH_HTTP_4"
}

# ch_kill9 N / ch_restart N: kill -9 server N; start it again (same
# config, data and ports).
ch_kill9() { eval "kill -9 \$CH_PID_$1; wait \$CH_PID_$1 2>/dev/null"; }
ch_stop() { eval "kill -TERM \$CH_PID_$1; wait \$CH_PID_$1 2>/dev/null"; }
ch_restart() { ch_launch "$1"; ch_wait "$1"; }

# start_ch_collector NAME STORE-SPEC [flags...]: lib.sh's start_collector
# with --store (the last store flag wins over its --db), restartable under
# the same NAME; a cluster's first start creates the schema on every
# server, so it may take longer.
start_ch_collector() {
	name=$1 spec=$2
	shift 2
	rm -f "$TMP/$name.ready"
	start_collector "$name" --store "$spec" "$@"
}
[ "$COLL_START_SECONDS" -lt 60 ] && COLL_START_SECONDS=60

# wait_lines FILE N PID: waits until FILE has more than N lines (a
# sender's record of acknowledged spans), or PID has ended.
wait_lines() {
	while [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -le "$2" ]; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
}
