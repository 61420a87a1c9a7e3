#!/usr/bin/env bash
# The training run of the profile-guided build (scripts/build.sh): an
# instrumented `cairn` does what users do with it, on simulator data of its
# own (other seeds than the benchmarks' data): simulate, import NDJSON, CSV
# and gzip on two threads and in rounds, import the same file again (every
# event a duplicate), a small import into the store, the bench queries,
# info, a timeline, compact. Each profile (.gcda) is written beside the
# object it counts, in the instrumented build's directory.
# Usage: pgo-train.sh CAIRN WORKDIR
set -euo pipefail
cairn=$1
work=$2
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work"
mkdir -p "$work"
"$cairn" simulate --persons 40000 --seed 77 --out "$work/t.ndjson" >/dev/null
"$cairn" simulate --persons 40000 --seed 78 --format csv --out "$work/t.csv" >/dev/null
# Two more whose message ids would repeat those of the files they are
# imported beside: renamed, so that their events are new.
"$cairn" simulate --persons 8000 --seed 79 --out "$work/g0.ndjson" >/dev/null
sed 's/"message_id":"m-/"message_id":"g-/' "$work/g0.ndjson" | gzip -1 >"$work/g.ndjson.gz"
"$cairn" simulate --persons 300 --seed 80 --out "$work/s0.ndjson" >/dev/null
sed 's/"message_id":"m-/"message_id":"s-/' "$work/s0.ndjson" >"$work/small.ndjson"
"$cairn" import --db "$work/db" --threads 2 "$work/t.ndjson" >/dev/null
"$cairn" import --db "$work/db" --threads 2 "$work/t.ndjson" >/dev/null
"$cairn" import --db "$work/db" "$work/small.ndjson" >/dev/null
"$cairn" import --db "$work/db2" --threads 2 --round-events 300000 "$work/t.csv" "$work/g.ndjson.gz" >/dev/null
for q in funnel paths retention trend attribution; do
  "$cairn" query --db "$work/db" --threads 2 "$root/bench/$q.json" >/dev/null
done
"$cairn" info --db "$work/db" >/dev/null
person=$(head -c 4096 "$work/small.ndjson" | grep -o '"anonymous_id":"[^"]*"' | head -1 | cut -d'"' -f4)
"$cairn" person --db "$work/db" "$person" >/dev/null
"$cairn" compact --db "$work/db2" >/dev/null
rm -rf "$work"
