// ClickHouse peer for the paths benchmark: the same 5-step forward path as
// bench/paths.json (from each person's first signup in [2026-01-01,
// 2026-07-01), labels = event names, consecutive repeats collapsed, nothing
// folded) with array functions over cairn_bench.events, the table
// clickhouse_import.sh loads (persons stitched, ts in milliseconds, seq =
// arrival). Per person: their events sorted by (ts, seq); the anchor is the
// first signup in the range (arrayFirstIndex); the path is the anchor and
// the events after it, keeping an event when its name differs from the
// event just before it (so the anchor's run absorbs the signups right after
// it), cut to 7 elements. Step k is element k+1; a node is dropped when no
// element follows it (a 7th element keeps a person at step 5 from counting
// as dropped); links go from step k to k+1 for k < 5.
// usage: node clickhouse_paths.mjs HTTP_PORT [RUNS] [THREADS]
// Prints one line per timed run (warm), then the answer as the canonical
// lines of duckdb_paths.mjs and paths_lines.mjs:
//   persons N
//   node STEP<TAB>LABEL<TAB>PERSONS<TAB>DROPPED
//   link STEP<TAB>SOURCE_LABEL<TAB>TARGET_LABEL<TAB>PERSONS   (STEP: the source's)
import { timed } from './clickhouse_common.mjs';

const [port, runs = '3', threads = '2'] = process.argv.slice(2);
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2026-07-01T00:00:00Z');
const STEPS = 5;
const sql = `
SELECT r.1 AS kind, r.2 AS step, r.3 AS source, r.4 AS target, count() AS persons, sum(r.5) AS dropped
FROM (
  SELECT
    arraySort(groupArray((ts, seq, event))) AS evs,
    arrayFirstIndex(x -> x.3 = 'signup' AND x.1 >= ${FROM} AND x.1 < ${TO}, evs) AS anchor,
    arrayMap(x -> x.3, arraySlice(evs, anchor)) AS after,
    arraySlice(arrayFilter((x, i) -> i = 1 OR x != after[i - 1], after, arrayEnumerate(after)), 1, ${STEPS + 2}) AS path,
    arrayConcat(
      arrayMap(k -> ('node', k - 1, path[k], '', k = length(path)), arrayEnumerate(arraySlice(path, 1, ${STEPS + 1}))),
      arrayMap(k -> ('link', k - 1, path[k], path[k + 1], 0), arrayEnumerate(arraySlice(path, 2, ${STEPS})))) AS rows
  FROM cairn_bench.events
  GROUP BY person
  HAVING anchor > 0)
ARRAY JOIN rows AS r
GROUP BY kind, step, source, target
FORMAT TabSeparated`;

const { answer, times } = await timed(port, threads, sql, runs);
console.log(times.join('\n'));
const lines = [];
let persons = 0;
for (const row of answer.split('\n')) {
  if (row === '') continue;
  const [kind, step, a, b, n, dropped] = row.split('\t');
  if (kind === 'node') {
    lines.push(`node ${step}\t${a}\t${n}\t${dropped}`);
    if (step === '0') persons += Number(n);
  } else {
    lines.push(`link ${step}\t${a}\t${b}\t${n}`);
  }
}
lines.push(`persons ${persons}`);
console.log(lines.sort().join('\n'));
