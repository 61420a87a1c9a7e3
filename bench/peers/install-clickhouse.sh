#!/usr/bin/env bash
# Installs Debian's ClickHouse (clickhouse-server and clickhouse-client, 18.16
# in Debian 12) for `make bench` only; does nothing when both are there.
# bench/run.sh starts a server of its own with its own config and data
# directory (bench/peers/clickhouse.sh): the packaged service is not used.
set -euo pipefail
if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then
  exit 0
fi
command -v apt-get >/dev/null ||
  { echo "bench needs clickhouse-server and clickhouse-client (Debian: apt-get install clickhouse-server clickhouse-client)"; exit 1; }
echo "install-clickhouse: installing clickhouse-server clickhouse-client"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends clickhouse-server clickhouse-client >/dev/null
