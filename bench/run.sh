#!/usr/bin/env bash
# `make bench`: the figures of docs/PERFORMANCE.md, each cairn command paired
# with a peer (DuckDB, from the npm registry) on the same data in the same run.
#   BENCH_PERSONS  persons to simulate (default 200000, about 10M events)
#   BENCH_RUNS     timed runs per figure (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN=$PWD/build/cairn
PERSONS=${BENCH_PERSONS:-200000}
RUNS=${BENCH_RUNS:-3}
OUT=$PWD/bench/out
mkdir -p "$OUT"
(cd bench/peers && npm ci --no-audit --no-fund --silent)

echo "== data: $PERSONS simulated persons"
[[ -f $OUT/sim-$PERSONS.ndjson ]] || "$CAIRN" simulate --persons "$PERSONS" --seed 1 --out "$OUT/sim-$PERSONS.ndjson"
[[ -f $OUT/sim-$PERSONS.csv ]] || "$CAIRN" simulate --persons "$PERSONS" --seed 1 --out "$OUT/sim-$PERSONS.csv" --format csv
events=$(wc -l <"$OUT/sim-$PERSONS.ndjson")
echo "events: $events; NDJSON bytes: $(stat -c %s "$OUT/sim-$PERSONS.ndjson"); CSV bytes: $(stat -c %s "$OUT/sim-$PERSONS.csv")"

timed() {  # timed NAME CMD PEER_CMD: cairn vs peer, pair by pair
  echo "== $1"
  if command -v farm-bench >/dev/null; then
    farm-bench -n "$RUNS" --timeout 3000 --vs "$3" -- sh -c "$2"
  else
    for _ in $(seq 1 "$RUNS"); do
      /usr/bin/time -f "cairn %e s, peak %M KiB" sh -c "$2" >/dev/null
      /usr/bin/time -f "peer  %e s, peak %M KiB" sh -c "$3" >/dev/null
    done
  fi
}

for fmt in ndjson csv; do
  timed "import $fmt: cairn vs DuckDB" \
    "rm -rf $OUT/db-$fmt && exec $CAIRN import --db $OUT/db-$fmt $OUT/sim-$PERSONS.$fmt" \
    "node bench/peers/duckdb_import.mjs $OUT/sim-$PERSONS.$fmt $fmt $OUT/duck-$fmt.db"
done

echo "== size"
for fmt in ndjson csv; do
  "$CAIRN" info --db "$OUT/db-$fmt" --json | grep -E '"(events|persons|bytes_on_disk|bytes_per_event|core_bytes_per_event)"'
  echo "raw $fmt bytes: $(stat -c %s "$OUT/sim-$PERSONS.$fmt"); DuckDB database bytes: $(stat -c %s "$OUT/duck-$fmt.db")"
done

echo "== segment codec micro-benchmarks"
"$PWD/build/bench/storage_bench"
