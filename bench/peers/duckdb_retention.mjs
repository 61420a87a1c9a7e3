// Peer for the retention benchmark: the same matrix as bench/retention.json
// (cohorts = the ISO week of each person's first signup ever, for first
// signups in [2026-01-05, 2026-03-30); retained in week k = a login at or
// after that signup, in the k-th week after the cohort's, k < 12) in DuckDB
// SQL over the table duckdb_import.mjs loads, persons stitched as cairn
// stitches them, a person's events ordered by (time, arrival).
// usage: node duckdb_retention.mjs DBFILE [RUNS] [THREADS]
// Prints one line per timed run (warm), then the answer as canonical lines
// (retention_lines.mjs prints cairn's JSON answer in the same form):
//   size COHORT N
//   retained COHORT K N
import { connect, stitched, timed } from './duckdb_common.mjs';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const PERIODS = 12;
const con = await connect(dbfile, threads);
const sql = `
WITH ${stitched()},
first AS (
  SELECT person, ts AS fts, seq AS fseq FROM ev WHERE event = 'signup'
  QUALIFY row_number() OVER (PARTITION BY person ORDER BY ts, seq) = 1),
cohort AS (
  SELECT person, fts, fseq, CAST(date_trunc('week', fts) AS DATE) AS wk FROM first
  WHERE fts >= TIMESTAMP '2026-01-05' AND fts < TIMESTAMP '2026-03-30'),
ret AS (
  SELECT DISTINCT c.person, c.wk, (CAST(date_trunc('week', e.ts) AS DATE) - c.wk) // 7 AS k
  FROM ev e JOIN cohort c ON e.person = c.person
  WHERE e.event = 'login' AND (e.ts > c.fts OR (e.ts = c.fts AND e.seq >= c.fseq)))
SELECT 'size' AS kind, strftime(wk, '%Y-%m-%d') AS wk, -1 AS k, count(*) AS n FROM cohort GROUP BY wk
UNION ALL
SELECT 'retained', strftime(wk, '%Y-%m-%d'), k, count(*) FROM ret WHERE k < ${PERIODS} GROUP BY wk, k`;
const rows = await timed(con, sql, runs);
const lines = rows.map((r) => (r.kind === 'size' ? `size ${r.wk} ${r.n}` : `retained ${r.wk} ${r.k} ${r.n}`));
console.log(lines.sort().join('\n'));
