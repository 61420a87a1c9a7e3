#!/usr/bin/env bash
# `make bench`: the figures of docs/PERFORMANCE.md. Each cairn command is
# paired with a peer (DuckDB, from the npm registry) on the same data in the
# same run; runs alternate cairn, peer, cairn, peer ... and the ratio is taken
# pair by pair, so a machine that drifts during the run moves both sides.
# The funnel, paths, retention and active-user queries also run in ClickHouse (Debian's
# clickhouse-server, installed by bench/peers/install-clickhouse.sh), on a
# server this script starts on 127.0.0.1 with its own config and data in a
# temporary directory, and stops when it exits.
#   BENCH_PERSONS  persons to simulate (default 510000: about 10M events)
#   BENCH_RUNS     timed pairs per figure (default 3)
#   BENCH_THREADS  threads for every engine (default 2; ClickHouse max_threads)
#   BENCH_CH_PORT  ClickHouse's native port (default 29000; HTTP on the next one)
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN=$PWD/build/cairn
PERSONS=${BENCH_PERSONS:-510000}
RUNS=${BENCH_RUNS:-3}
THREADS=${BENCH_THREADS:-2}
CH_PORT=${BENCH_CH_PORT:-29000}
CH_HTTP_PORT=$((CH_PORT + 1))
OUT=$PWD/bench/out
mkdir -p "$OUT"
command -v node >/dev/null || { echo "bench needs node and npm (Debian: apt-get install nodejs npm)"; exit 1; }
(cd bench/peers && npm ci --no-audit --no-fund --silent)
bench/peers/install-clickhouse.sh

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# cairn_query NAME SPEC: RUNS timed whole-process runs of `cairn query SPEC`
# on the NDJSON import ($OUT/NAME.cairn.times), then one more with --timing
# whose answer and timing lines go to $OUT/NAME.json and $OUT/NAME.timing.
cairn_query() {
  local name=$1 spec=$2
  rm -f "$OUT/$name.cairn.times"
  for _ in $(seq 1 "$RUNS"); do
    run "$name.cairn" "$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" "$spec"
  done
  "$CAIRN" query --threads "$THREADS" --db "$OUT/db-ndjson" "$spec" --timing >"$OUT/$name.json" 2>"$OUT/$name.timing"
}

# same_lines NAME: the answers of cairn ($OUT/NAME.cairn.lines) and of the
# DuckDB and ClickHouse peers ($OUT/NAME.duckdb, $OUT/NAME.clickhouse, their
# "run N: S s" lines left out) as canonical lines must be identical.
same_lines() {
  local name=$1 peer
  for peer in duckdb clickhouse; do
    grep -Ev '^run [0-9]+: ' "$OUT/$name.$peer" >"$OUT/$name.$peer.lines"
    if ! cmp -s "$OUT/$name.cairn.lines" "$OUT/$name.$peer.lines"; then
      echo "$name: ANSWERS DIFFER between cairn and $peer (< cairn, > $peer; full lists in $OUT/$name.*.lines):"
      diff "$OUT/$name.cairn.lines" "$OUT/$name.$peer.lines" | head -40
      exit 1
    fi
  done
}

# figures NAME CH_LABEL: medians of cairn's whole process and of the peers'
# warm queries, their ratios, and cairn's events per second.
figures() {
  local name=$1 ch=$2 cw dw hw scan
  cw=$(cut -d' ' -f1 "$OUT/$name.cairn.times" | median)
  dw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/$name.duckdb" | median)
  hw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/$name.clickhouse" | median)
  scan=$(sed -n 's/.*plan + scan \([0-9.]*\) s.*/\1/p' "$OUT/$name.timing")
  echo "cairn whole process (open + scan) median ${cw} s; $(cat "$OUT/$name.timing")"
  echo "warm query medians: DuckDB ${dw} s, $ch ${hw} s; over cairn's whole process: DuckDB $(ratio "$dw" "$cw"), $ch $(ratio "$hw" "$cw")"
  awk -v n="$events" -v w="$cw" -v s="$scan" -v t="$THREADS" -v name="$name" 'BEGIN {
    printf "cairn %s: %.0f events/s whole process, %.0f events/s plan + scan, on %d threads\n", name, n / w, n / s, t }'
}

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

echo "== ClickHouse $(clickhouse-client --version | sed 's/.*version //; s/\.$//'): load the NDJSON (max_threads=$THREADS)"
for port in "$CH_PORT" "$CH_HTTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is taken; set BENCH_CH_PORT to a free pair of ports"
    exit 1
  fi
done
CH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-clickhouse.XXXXXX")
trap 'bench/peers/clickhouse.sh stop "$CH_DIR"; rm -rf "$CH_DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench/peers/clickhouse.sh start "$CH_DIR" "$CH_PORT" "$CH_HTTP_PORT" "$THREADS"
rm -f "$OUT/clickhouse-load.times"
run clickhouse-load bench/peers/clickhouse_import.sh "$OUT/sim-$PERSONS.ndjson" "$CH_PORT"
echo "$(clickhouse-client --host 127.0.0.1 --port "$CH_PORT" -q "SELECT count() FROM cairn_bench.events") rows;" \
  "load (JSONEachRow into a Log table, stitched INSERT SELECT into the MergeTree, OPTIMIZE FINAL)" \
  "$(cut -d' ' -f1 "$OUT/clickhouse-load.times") s wall, one run (not a paired figure)"

echo "== funnel: 4-step ordered, 7-day window (bench/funnel.json) on the NDJSON import"
node bench/peers/duckdb_funnel.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/funnel.duckdb"
node bench/peers/clickhouse_funnel.mjs "$CH_HTTP_PORT" "$RUNS" "$THREADS" >"$OUT/funnel.clickhouse"
cairn_query funnel bench/funnel.json
cairn_counts=$(grep -E '^      "persons": [0-9]+' "$OUT/funnel.json" | sed 's/[^0-9]//g' | tr '\n' ' ' | sed 's/ $//')
duck_counts=$(sed -n 's/^persons per step: //p' "$OUT/funnel.duckdb")
wf_counts=$(sed -n 's/^persons per step (windowFunnel): //p' "$OUT/funnel.clickhouse")
arr_counts=$(sed -n 's/^persons per step (arrays): //p' "$OUT/funnel.clickhouse")
ties=$(sed -n 's/^tied step events: //p' "$OUT/funnel.clickhouse")
echo "persons per step: cairn $cairn_counts | DuckDB $duck_counts | ClickHouse windowFunnel $wf_counts | ClickHouse arrays $arr_counts"
echo "tied step events (a person's millisecond holding two different funnel steps, which windowFunnel may take in either order): $ties"
echo "for comparison, ClickHouse windowFunnel over whole seconds (DateTime, its usual form; not checked):" \
  "$(sed -n 's/^persons per step (windowFunnel over seconds, not exact): //p' "$OUT/funnel.clickhouse")"
[[ "$cairn_counts" == "$duck_counts" ]] || { echo "funnel counts differ between cairn and DuckDB"; exit 1; }
[[ "$cairn_counts" == "$arr_counts" ]] || { echo "funnel counts differ between cairn and ClickHouse (arrays)"; exit 1; }
[[ "$cairn_counts" == "$wf_counts" ]] ||
  { echo "funnel counts differ between cairn and ClickHouse (windowFunnel; tied step events: $ties)"; exit 1; }
cw=$(cut -d' ' -f1 "$OUT/funnel.cairn.times" | median)
dw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/funnel.duckdb" | median)
ww=$(sed -n 's/^windowFunnel run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/funnel.clickhouse" | median)
aw=$(sed -n 's/^arrays run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/funnel.clickhouse" | median)
echo "cairn whole process (open + scan) median ${cw} s; $(cat "$OUT/funnel.timing")"
echo "warm query medians: DuckDB ${dw} s, ClickHouse windowFunnel ${ww} s, ClickHouse arrays ${aw} s;" \
  "over cairn's whole process: DuckDB $(ratio "$dw" "$cw"), ClickHouse windowFunnel $(ratio "$ww" "$cw"), ClickHouse arrays $(ratio "$aw" "$cw")"

echo "== paths: 5 steps forward from the first signup (bench/paths.json) on the NDJSON import"
node bench/peers/duckdb_paths.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/paths.duckdb"
node bench/peers/clickhouse_paths.mjs "$CH_HTTP_PORT" "$RUNS" "$THREADS" >"$OUT/paths.clickhouse"
cairn_query paths bench/paths.json
# Both answers as sorted canonical lines (persons, node STEP LABEL PERSONS DROPPED, link STEP SOURCE TARGET PERSONS).
node bench/peers/paths_lines.mjs "$OUT/paths.json" >"$OUT/paths.cairn.lines"
same_lines paths
echo "identical in cairn, DuckDB and ClickHouse: $(sed -n 's/^persons //p' "$OUT/paths.cairn.lines") persons," \
  "$(grep -c '^node ' "$OUT/paths.cairn.lines") nodes, $(grep -c '^link ' "$OUT/paths.cairn.lines") links"
figures paths ClickHouse

echo "== attribution: 10 rule-based models by channel (bench/attribution.json); peer: the linear model in DuckDB SQL"
node bench/peers/duckdb_attribution.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/attribution.duckdb"
cairn_query attribution bench/attribution.json
node bench/peers/attribution_lines.mjs "$OUT/attribution.json" linear "$OUT/attribution.duckdb" ||
  { echo "ATTRIBUTION DIFFERS between cairn and DuckDB"; exit 1; }
cw=$(cut -d' ' -f1 "$OUT/attribution.cairn.times" | median)
dw=$(sed -n 's/^run [0-9]*: \([0-9.]*\) s$/\1/p' "$OUT/attribution.duckdb" | median)
scan=$(sed -n 's/.*scan \([0-9.]*\) s, models.*/\1/p' "$OUT/attribution.timing")
echo "cairn whole process (all 10 models) median ${cw} s; $(cat "$OUT/attribution.timing"); DuckDB warm query (linear only) median ${dw} s; DuckDB/cairn $(ratio "$dw" "$cw")"
awk -v n="$events" -v w="$cw" -v s="$scan" -v t="$THREADS" 'BEGIN {
  printf "cairn rule-based attribution: %.0f events/s whole process, %.0f events/s scan, on %d threads\n", n / w, n / s, t }'
echo "data-driven models after the scan, 1M journeys (bench/attribution_bench.cc):"
"$PWD/build/bench/attribution_bench" 2>/dev/null | grep -E '^BM_'

echo "== retention: 12 weekly cohorts of first signups x 12 weeks of logins (bench/retention.json) on the NDJSON import"
node bench/peers/duckdb_retention.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/retention.duckdb"
node bench/peers/clickhouse_retention.mjs "$CH_HTTP_PORT" "$RUNS" "$THREADS" >"$OUT/retention.clickhouse"
cairn_query retention bench/retention.json
node bench/peers/retention_lines.mjs "$OUT/retention.json" >"$OUT/retention.cairn.lines"
same_lines retention
echo "identical in cairn, DuckDB and ClickHouse: $(grep -c '^size ' "$OUT/retention.cairn.lines") cohorts of" \
  "$(awk '/^size / { n += $3 } END { print n }' "$OUT/retention.cairn.lines") persons"
figures retention 'ClickHouse retention()'

echo "== active users: DAU, WAU and MAU per day for 120 days (bench/trend.json) on the NDJSON import"
node bench/peers/duckdb_active.mjs "$OUT/duck-ndjson.db" "$RUNS" "$THREADS" >"$OUT/trend.duckdb"
node bench/peers/clickhouse_active.mjs "$CH_HTTP_PORT" "$RUNS" "$THREADS" >"$OUT/trend.clickhouse"
cairn_query trend bench/trend.json
node bench/peers/trend_lines.mjs "$OUT/trend.json" >"$OUT/trend.cairn.lines"
same_lines trend
echo "identical in cairn, DuckDB and ClickHouse: $(wc -l <"$OUT/trend.cairn.lines") days of DAU, WAU and MAU"
figures trend ClickHouse

echo "== size on disk"
for fmt in ndjson csv; do
  "$CAIRN" info --db "$OUT/db-$fmt" --json |
    grep -E '^  "(events|persons|bytes_on_disk|bytes_per_event|core_bytes_per_event)"' | tr -d '\n'
  echo
  raw=$(stat -c %s "$OUT/sim-$PERSONS.$fmt")
  store=$("$CAIRN" info --db "$OUT/db-$fmt" --json | sed -n 's/^  "bytes_on_disk": \([0-9]*\),*$/\1/p')
  echo "raw $fmt bytes: $raw; cairn store / raw: $(awk -v s="$store" -v r="$raw" 'BEGIN { printf "%.1f%%", 100 * s / r }'); DuckDB database bytes: $(stat -c %s "$OUT/duck-$fmt.db")"
done
echo "ClickHouse events table (person, ts, seq, event only; no properties) bytes: $(clickhouse-client --host 127.0.0.1 --port "$CH_PORT" \
  -q "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'cairn_bench' AND table = 'events' AND active")"
bench/peers/clickhouse.sh stop "$CH_DIR"

echo "== segment codec micro-benchmarks"
"$PWD/build/bench/storage_bench"
