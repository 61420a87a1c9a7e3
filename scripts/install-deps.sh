#!/usr/bin/env bash
# Installs every Debian package cairn needs to build, test and benchmark.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail
packages=(
  build-essential cmake g++ clang libclang-rt-14-dev pkg-config make git gzip time
  libsimdjson-dev libfmt-dev libcli11-dev libzstd-dev liblz4-dev libxxhash-dev libisal-dev
  libre2-dev nlohmann-json3-dev zlib1g-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  tzdata
)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# Node.js and npm run the benchmark peers (DuckDB from the npm registry;
# ClickHouse, for `make bench` only, comes from bench/peers/install-clickhouse.sh);
# a machine that already has a node keeps it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
