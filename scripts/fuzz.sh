#!/usr/bin/env bash
# Builds the libFuzzer targets (input parsers, stored files, query documents)
# with clang (ASan + UBSan; a unity build, as the sanitizer build of
# scripts/test.sh) and runs each for
# FUZZ_SECONDS (default 60) from the seed corpus in tests/fuzz/corpus plus, when
# a release build exists, real segment and WAL files made by it, and some of
# the system's time zone files. Fails on any crash, leak, timeout or sanitizer
# report; the input is left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
DIR=build-fuzz
mkdir -p "$DIR"
if ! CC=clang CXX=clang++ cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_FUZZ=ON -DCAIRN_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
  >"$DIR/configure.log" 2>&1; then
  cat "$DIR/configure.log"
  exit 1
fi
if ! cmake --build "$DIR" -j "$(nproc)" >"$DIR/build.log" 2>&1; then
  tail -n 60 "$DIR/build.log"
  exit 1
fi

# Real stored files as extra seeds for the storage fuzzer (first byte: mode).
extra=$DIR/seeds-storage
rm -rf "$extra" && mkdir -p "$extra"
if [[ -x build/cairn ]]; then
  tmp=$(mktemp -d)
  printf 'user_id,anonymous_id,timestamp,event,plan\nu1,a1,2026-01-05T10:00:00Z,visit,pro\nu2,,2026-01-06T10:00:00Z,buy,x\n' >"$tmp/e.csv"
  build/cairn import --db "$tmp/db" "$tmp/e.csv" >/dev/null
  build/cairn import --db "$tmp/wal" --wal-only "$tmp/e.csv" >/dev/null
  # Two files: a record of two parts (a part-end frame between them).
  printf '{"user_id":"u2","anonymous_id":"a2","event":"visit","timestamp":"2026-01-07T10:00:00Z","properties":{"plan":"pro"}}\n' >"$tmp/e2.ndjson"
  build/cairn import --db "$tmp/wal2" --wal-only "$tmp/e.csv" "$tmp/e2.ndjson" >/dev/null
  i=0
  for f in $(find "$tmp/db" -name '*.cseg' | head -4); do
    { printf '\x00'; cat "$f"; } >"$extra/seg$i"; i=$((i + 1))
  done
  for f in $(find "$tmp/db" -name 'catalog-*' | head -1); do
    { printf '\x07\x03\x00'; cat "$f"; } >"$extra/catalog$i"; i=$((i + 1))
  done
  for f in $(find "$tmp/wal" "$tmp/wal2" -name '*wal*' -type f | head -2); do
    { printf '\x01'; cat "$f"; } >"$extra/wal$i"; i=$((i + 1))
  done
  rm -rf "$tmp"
fi
for z in Europe/Berlin America/New_York America/Sao_Paulo Asia/Tehran; do
  if [[ -f /usr/share/zoneinfo/$z ]]; then
    { printf '\x05'; cat "/usr/share/zoneinfo/$z"; } >"$extra/tz-${z//\//-}"
  fi
done

status=0
for target in fuzz_parse fuzz_storage fuzz_query; do
  corpus=$DIR/corpus-$target
  mkdir -p "$corpus"
  seeds=(tests/fuzz/corpus/$target)
  [[ $target == fuzz_storage ]] && seeds+=("$extra")
  echo "== $target: ${SECONDS_EACH}s"
  if ! (cd "$DIR" && ASAN_OPTIONS=detect_leaks=1 "./tests/fuzz/$target" -max_total_time="$SECONDS_EACH" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "corpus-$target" \
      "${seeds[@]/#/../}" 2>"$target.log"); then
    tail -n 40 "$DIR/$target.log"
    echo "$target: FAILED (the input is in $DIR/)"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$DIR/$target.log" | tr '\n' ' '
    echo
  fi
done
exit $status
