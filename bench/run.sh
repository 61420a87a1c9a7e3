#!/usr/bin/env bash
# `make bench`: the figures of docs/PERFORMANCE.md. Each cairn command is
# paired with a peer (DuckDB, from the npm registry) on the same data in the
# same run; runs alternate cairn, peer, cairn, peer ... and the ratio is taken
# pair by pair, so a machine that drifts during the run moves both sides.
#   BENCH_PERSONS  persons to simulate (default 510000: about 10M events)
#   BENCH_RUNS     timed pairs per figure (default 3)
#   BENCH_THREADS  threads for both engines (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN=$PWD/build/cairn
PERSONS=${BENCH_PERSONS:-510000}
RUNS=${BENCH_RUNS:-3}
THREADS=${BENCH_THREADS:-2}
OUT=$PWD/bench/out
mkdir -p "$OUT"
command -v node >/dev/null || { echo "bench needs node and npm (Debian: apt-get install nodejs npm)"; exit 1; }
(cd bench/peers && npm ci --no-audit --no-fund --silent)

echo "== data: $PERSONS simulated persons (seed 1)"
for fmt in ndjson csv; do
  [[ -f $OUT/sim-$PERSONS.$fmt ]] ||
    "$CAIRN" simulate --persons "$PERSONS" --seed 1 --format "$fmt" --out "$OUT/sim-$PERSONS.$fmt"
done
events=$(wc -l <"$OUT/sim-$PERSONS.ndjson")
echo "events: $events; NDJSON bytes: $(stat -c %s "$OUT/sim-$PERSONS.ndjson"); CSV bytes: $(stat -c %s "$OUT/sim-$PERSONS.csv")"

# run LABEL CMD...: one timed run; appends "wall cpu peak_kib" to $OUT/LABEL.times
run() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.tmp" "$@" >/dev/null 2>"$OUT/$label.stderr" ||
    { echo "$label failed:"; cat "$OUT/$label.stderr"; exit 1; }
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$OUT/time.tmp" >>"$OUT/$label.times"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# pair NAME CAIRN_CMD PEER_CMD: RUNS alternating pairs, then medians and ratios.
pair() {
  local name=$1 a=$2 b=$3
  rm -f "$OUT/$name.cairn.times" "$OUT/$name.peer.times"
  for _ in $(seq 1 "$RUNS"); do
    run "$name.cairn" sh -c "$a"
    run "$name.peer" sh -c "$b"
  done
  paste "$OUT/$name.cairn.times" "$OUT/$name.peer.times" >"$OUT/$name.pairs"
  local cw cc cm pw pc pm r
  cw=$(cut -d' ' -f1 "$OUT/$name.cairn.times" | median)
  cc=$(cut -d' ' -f2 "$OUT/$name.cairn.times" | median)
  cm=$(cut -d' ' -f3 "$OUT/$name.cairn.times" | median)
  pw=$(cut -d' ' -f1 "$OUT/$name.peer.times" | median)
  pc=$(cut -d' ' -f2 "$OUT/$name.peer.times" | median)
  pm=$(cut -d' ' -f3 "$OUT/$name.peer.times" | median)
  r=$(awk '{ print $4 / $1 }' "$OUT/$name.pairs" | median)
  printf '%-14s cairn %7.2f s wall %7.2f s cpu %6.0f MiB | DuckDB %7.2f s wall %7.2f s cpu %6.0f MiB | DuckDB/cairn wall (median of pairs) %.2f\n' \
    "$name" "$cw" "$cc" "$((cm / 1024))" "$pw" "$pc" "$((pm / 1024))" "$r"
  awk -v n="$events" -v w="$cw" -v c="$cc" -v t="$THREADS" 'BEGIN {
    printf "%-14s cairn: %.0f events/s wall, %.0f events/s per core (wall x %d threads), %.0f events per cpu-second\n", "", n / w, n / w / t, t, n / c }'
}

echo "== import (cairn --threads $THREADS vs DuckDB threads=$THREADS)"
for fmt in ndjson csv; do
  pair "import-$fmt" \
    "rm -rf $OUT/db-$fmt && exec $CAIRN import --threads $THREADS --db $OUT/db-$fmt $OUT/sim-$PERSONS.$fmt" \
    "exec node bench/peers/duckdb_import.mjs $OUT/sim-$PERSONS.$fmt $fmt $OUT/duck-$fmt.db $THREADS"
done

echo "== funnel: 4-step ordered, 7-day window (bench/funnel.json) on the NDJSON import"
node bench/peers/duckdb_funnel.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/funnel.duckdb"
rm -f "$OUT/funnel.cairn.times"
for _ in $(seq 1 "$RUNS"); do
  run funnel.cairn "$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" bench/funnel.json
done
"$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" bench/funnel.json --timing >"$OUT/funnel.json" 2>"$OUT/funnel.timing"
cairn_counts=$(grep -E '^      "persons": [0-9]+' "$OUT/funnel.json" | sed 's/[^0-9]//g' | tr '\n' ' ' | sed 's/ $//')
duck_counts=$(sed -n 's/^persons per step: //p' "$OUT/funnel.duckdb")
echo "persons per step: cairn $cairn_counts | DuckDB $duck_counts"
[[ "$cairn_counts" == "$duck_counts" ]] || { echo "funnel counts differ between cairn and DuckDB"; exit 1; }
cw=$(cut -d' ' -f1 "$OUT/funnel.cairn.times" | median)
dw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/funnel.duckdb" | median)
echo "cairn whole process (open + scan) median ${cw} s; $(cat "$OUT/funnel.timing"); DuckDB warm query median ${dw} s; DuckDB/cairn $(awk -v a="$dw" -v b="$cw" 'BEGIN { printf "%.2f", a / b }')"

echo "== paths: 5 steps forward from the first signup (bench/paths.json) on the NDJSON import"
node bench/peers/duckdb_paths.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/paths.duckdb"
rm -f "$OUT/paths.cairn.times"
for _ in $(seq 1 "$RUNS"); do
  run paths.cairn "$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" bench/paths.json
done
"$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" bench/paths.json --timing >"$OUT/paths.json" 2>"$OUT/paths.timing"
# Both answers as sorted canonical lines (persons, node STEP LABEL PERSONS DROPPED, link STEP SOURCE TARGET PERSONS).
node bench/peers/paths_lines.mjs "$OUT/paths.json" >"$OUT/paths.cairn.lines"
grep -Ev '^run [0-9]+: ' "$OUT/paths.duckdb" >"$OUT/paths.duckdb.lines"
if ! cmp -s "$OUT/paths.cairn.lines" "$OUT/paths.duckdb.lines"; then
  echo "PATHS DIFFER between cairn and DuckDB (< cairn, > DuckDB; full lists in $OUT/paths.*.lines):"
  diff "$OUT/paths.cairn.lines" "$OUT/paths.duckdb.lines" | head -40
  exit 1
fi
echo "identical in cairn and DuckDB: $(sed -n 's/^persons //p' "$OUT/paths.cairn.lines") persons," \
  "$(grep -c '^node ' "$OUT/paths.cairn.lines") nodes, $(grep -c '^link ' "$OUT/paths.cairn.lines") links"
cw=$(cut -d' ' -f1 "$OUT/paths.cairn.times" | median)
dw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/paths.duckdb" | median)
scan=$(sed -n 's/.*plan + scan \([0-9.]*\) s.*/\1/p' "$OUT/paths.timing")
echo "cairn whole process (open + scan) median ${cw} s; $(cat "$OUT/paths.timing"); DuckDB warm query median ${dw} s; DuckDB/cairn $(awk -v a="$dw" -v b="$cw" 'BEGIN { printf "%.2f", a / b }')"
awk -v n="$events" -v w="$cw" -v s="$scan" -v t="$THREADS" 'BEGIN {
  printf "cairn paths: %.0f events/s whole process, %.0f events/s plan + scan, on %d threads\n", n / w, n / s, t }'

echo "== size on disk"
for fmt in ndjson csv; do
  "$CAIRN" info --db "$OUT/db-$fmt" --json |
    grep -E '^  "(events|persons|bytes_on_disk|bytes_per_event|core_bytes_per_event)"' | tr -d '\n'
  echo
  raw=$(stat -c %s "$OUT/sim-$PERSONS.$fmt")
  store=$("$CAIRN" info --db "$OUT/db-$fmt" --json | sed -n 's/^  "bytes_on_disk": \([0-9]*\),*$/\1/p')
  echo "raw $fmt bytes: $raw; cairn store / raw: $(awk -v s="$store" -v r="$raw" 'BEGIN { printf "%.1f%%", 100 * s / r }'); DuckDB database bytes: $(stat -c %s "$OUT/duck-$fmt.db")"
done

echo "== segment codec micro-benchmarks"
"$PWD/build/bench/storage_bench"
