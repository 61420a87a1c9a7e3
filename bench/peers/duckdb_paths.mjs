// Peer for the paths benchmark: the same 5-step forward path as
// bench/paths.json (from each person's first signup in [2026-01-01,
// 2026-07-01), labels = event names, consecutive repeats collapsed, nothing
// folded) in DuckDB SQL with window functions over the table
// duckdb_import.mjs loads. Persons are stitched as cairn stitches them (an
// anonymous id takes the user id it appeared with); a person's events are
// ordered by (time, arrival), arrival being the row id (the file's order).
// The path is the anchor and the events after it; an event is a new element
// when its name differs from the event just before it (lag), so the anchor's
// run absorbs the signups right after it. Step k is the k-th element after
// the anchor; a person is dropped at step k when no element k+1 follows
// (a 6th element keeps a person at step 5 from counting as dropped).
// usage: node duckdb_paths.mjs DBFILE [RUNS] [THREADS]
// Prints one line per timed run (warm), then the answer as canonical lines:
//   persons N
//   node STEP<TAB>LABEL<TAB>PERSONS<TAB>DROPPED
//   link STEP<TAB>SOURCE_LABEL<TAB>TARGET_LABEL<TAB>PERSONS   (STEP: the source's)
// paths_lines.mjs prints cairn's JSON answer in the same form.
import { connect, stitched, timed } from './duckdb_common.mjs';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const STEPS = 5;
const con = await connect(dbfile, threads);
const sql = `
WITH ${stitched()},
anchor AS (
  SELECT person, ts AS ats, seq AS aseq FROM ev
  WHERE event = 'signup' AND ts >= TIMESTAMP '2026-01-01' AND ts < TIMESTAMP '2026-07-01'
  QUALIFY row_number() OVER (PARTITION BY person ORDER BY ts, seq) = 1),
after AS (
  SELECT e.person, e.ts, e.seq, e.event,
         lag(e.event) OVER (PARTITION BY e.person ORDER BY e.ts, e.seq) AS prev
  FROM ev e JOIN anchor a ON e.person = a.person
  WHERE e.ts > a.ats OR (e.ts = a.ats AND e.seq >= a.aseq)),
elems AS (
  SELECT person, event, row_number() OVER (PARTITION BY person ORDER BY ts, seq) - 1 AS step
  FROM after WHERE prev IS NULL OR event <> prev),
path AS (
  SELECT person, step, event, lead(event) OVER (PARTITION BY person ORDER BY step) AS next
  FROM elems WHERE step <= ${STEPS + 1})
SELECT 'node' AS kind, step, event AS a, NULL AS b, count(*) AS persons,
       count(*) FILTER (WHERE next IS NULL) AS dropped
FROM path WHERE step <= ${STEPS} GROUP BY step, event
UNION ALL
SELECT 'link', step, event, next, count(*), NULL
FROM path WHERE step < ${STEPS} AND next IS NOT NULL GROUP BY step, event, next`;
const rows = await timed(con, sql, runs);
const lines = [];
let persons = 0n;
for (const r of rows) {
  if (r.kind === 'node') {
    lines.push(`node ${r.step}\t${r.a}\t${r.persons}\t${r.dropped}`);
    if (r.step === 0n) persons += r.persons;
  } else {
    lines.push(`link ${r.step}\t${r.a}\t${r.b}\t${r.persons}`);
  }
}
lines.push(`persons ${persons}`);
console.log(lines.sort().join('\n'));
