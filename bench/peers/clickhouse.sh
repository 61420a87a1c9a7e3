#!/usr/bin/env bash
# Runs a private ClickHouse server for `make bench`: its own config, data,
# tmp and log directories under DIR, listening on 127.0.0.1 only, on ports
# that leave a packaged server (8123/9000) alone.
#   clickhouse.sh start DIR TCP_PORT HTTP_PORT THREADS   start, wait until it answers
#   clickhouse.sh stop DIR                               stop it (SIGTERM, then SIGKILL)
# The server's pid is in DIR/pid. Queries get max_threads=THREADS by default.
set -euo pipefail
cmd=$1 dir=$2

case $cmd in
start)
  tcp=$3 http=$4 threads=$5
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas"
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/server.err.log</errorlog>
    <size>100M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$tcp</tcp_port>
  <http_port>$http</http_port>
  <max_connections>64</max_connections>
  <max_concurrent_queries>16</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
XML
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_threads>$threads</max_threads>
      <max_memory_usage>16000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
XML
  (cd "$dir" && exec clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout" 2>&1) &
  echo $! >"$dir/pid"
  for _ in $(seq 1 300); do
    if clickhouse-client --host 127.0.0.1 --port "$tcp" -q 'SELECT 1' >/dev/null 2>&1; then
      exit 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "clickhouse-server exited:"; tail -20 "$dir/log/stdout" "$dir/log/server.err.log" 2>/dev/null; exit 1; }
    sleep 0.2
  done
  echo "clickhouse-server did not answer on 127.0.0.1:$tcp within 60 s"
  exit 1
  ;;
stop)
  [[ -f $dir/pid ]] || exit 0
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$dir/pid"
  ;;
*)
  echo "usage: clickhouse.sh start DIR TCP_PORT HTTP_PORT THREADS | stop DIR"
  exit 2
  ;;
esac
