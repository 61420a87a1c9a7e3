// Peer for the active-users benchmark: DAU, WAU and MAU per day as
// bench/trend.json asks (for each UTC day D in [2026-02-01, 2026-06-01):
// distinct persons with any event on D, in [D-6, D], in [D-29, D]) in DuckDB
// SQL over the table duckdb_import.mjs loads, persons stitched as cairn
// stitches them. Each person's active days are listed once, each joined to
// the 30 days whose trailing month holds it.
// usage: node duckdb_active.mjs DBFILE [RUNS] [THREADS]
// Prints one line per timed run (warm), then "DAY DAU WAU MAU" per day, sorted.
import { connect, stitched, timed } from './duckdb_common.mjs';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const con = await connect(dbfile, threads);
const sql = `
WITH ${stitched('', "e.timestamp >= TIMESTAMP '2026-01-03' AND e.timestamp < TIMESTAMP '2026-06-01'")},
active AS (SELECT DISTINCT person, CAST(ts AS DATE) AS d FROM ev),
cal AS (SELECT CAST(range AS DATE) AS day FROM range(TIMESTAMP '2026-02-01', TIMESTAMP '2026-06-01', INTERVAL 1 DAY))
SELECT strftime(day, '%Y-%m-%d') AS day,
       count(DISTINCT person) FILTER (WHERE d = day) AS dau,
       count(DISTINCT person) FILTER (WHERE d > day - 7) AS wau,
       count(DISTINCT person) AS mau
FROM cal JOIN active ON d BETWEEN day - 29 AND day
GROUP BY day`;
const rows = await timed(con, sql, runs);
console.log(rows.map((r) => `${r.day} ${r.dau} ${r.wau} ${r.mau}`).sort().join('\n'));
