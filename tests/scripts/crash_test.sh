#!/usr/bin/env bash
# Crash test: kill -9 imports (some of them in rounds) and compactions at
# random moments, again and again. After every kill the database must open,
# and hold either all of the killed import's events or none of them; every
# import that exited 0 (acknowledged) must be complete.
# usage: crash_test.sh CAIRN [ROUNDS]
set -euo pipefail
CAIRN=$1
ROUNDS=${2:-25}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DB=$WORK/db
N=150000  # events per import: long enough for kills to land mid-way
RANDOM=42

make_file() {  # make_file ROUND: N events with message ids unique to the round
  awk -v r="$1" -v n="$N" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"message_id\":\"r%d-%d\",\"user_id\":\"u%d\",\"event\":\"e%d\",\"timestamp\":%d,\"properties\":{\"k\":\"v%d\",\"x\":%d}}\n",
        r, i, (i * 7919 + r) % 20000, i % 7, 1767607200 + r * 100000 + i, i % 13, i
  }' >"$WORK/in-$1.ndjson"
}

events_in_db() {
  "$CAIRN" info --db "$DB" --json | sed -n 's/^  "events": \([0-9]*\),*$/\1/p'
}

expected=0
landed_killed=0
dropped_killed=0
for round in $(seq 1 "$ROUNDS"); do
  make_file "$round"
  if ((round % 5 == 0)); then
    "$CAIRN" compact --db "$DB" >/dev/null 2>&1 &
  else
    # Every other import in rounds (committed by the last one): a kill
    # between rounds leaves an open WAL record and uncommitted segments.
    rounds=()
    ((round % 2 == 0)) && rounds=(--round-events 40000)
    "$CAIRN" import --db "$DB" "${rounds[@]}" "$WORK/in-$round.ndjson" >/dev/null 2>&1 &
  fi
  pid=$!
  # Sleep 0..600 ms, then kill -9.
  sleep "0.$(printf '%03d' $((RANDOM % 600)))"
  kill -9 "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" || rc=$?
  if ((expected == 0)) && [[ ! -e $DB/CURRENT ]]; then
    # Killed before the first import created the database: nothing landed.
    dropped_killed=$((dropped_killed + 1))
    continue
  fi
  if ! "$CAIRN" info --db "$DB" --verify --json >"$WORK/info.json" 2>"$WORK/info.err"; then
    echo "round $round: database does not open after kill (rc $rc):"
    cat "$WORK/info.err"
    exit 1
  fi
  got=$(events_in_db)
  if ((round % 5 == 0)); then
    if ((got != expected)); then echo "round $round: compaction changed events $expected -> $got"; exit 1; fi
    continue
  fi
  if ((rc == 0)); then
    if ((got != expected + N)); then echo "round $round: acknowledged import incomplete: $got, want $((expected + N))"; exit 1; fi
  elif ((got == expected + N)); then
    landed_killed=$((landed_killed + 1))
  elif ((got == expected)); then
    dropped_killed=$((dropped_killed + 1))
  else
    echo "round $round: half-visible import: $got events, want $expected or $((expected + N))"
    exit 1
  fi
  expected=$got
done
# Importing every file again adds nothing: each event landed exactly once.
for round in $(seq 1 "$ROUNDS"); do
  ((round % 5 == 0)) && continue
  "$CAIRN" import --db "$DB" "$WORK/in-$round.ndjson" >/dev/null
done
final=$(events_in_db)
want=0
for round in $(seq 1 "$ROUNDS"); do ((round % 5 == 0)) || want=$((want + N)); done
if ((final != want)); then echo "after re-import: $final events, want $want"; exit 1; fi
echo "crash test: $ROUNDS rounds, killed imports that landed whole: $landed_killed, dropped whole: $dropped_killed, final events $final"
