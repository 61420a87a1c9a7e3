// ClickHouse peer for the retention benchmark: the same matrix as
// bench/retention.json (cohorts = the ISO week of each person's first signup
// ever, for first signups in [2026-01-05, 2026-03-30); retained in week k =
// a login at or after that signup in the k-th week after the cohort's,
// k < 12) with ClickHouse's retention() aggregate over cairn_bench.events,
// the table clickhouse_import.sh loads (persons stitched, ts in
// milliseconds, seq = arrival). Per person: the first signup by (ts, seq);
// retention(that signup, week 0 login, ..., week 11 login) over all their
// events (in 18.16 a row that meets the first condition is not tested
// against the others, so the first must be the start row itself, not a
// constant); the arrays are summed per cohort with sumForEach.
// usage: node clickhouse_retention.mjs HTTP_PORT [RUNS] [THREADS]
// Prints one line per timed run (warm), then the canonical lines of
// duckdb_retention.mjs and retention_lines.mjs.
import { timed } from './clickhouse_common.mjs';

const [port, runs = '3', threads = '2'] = process.argv.slice(2);
const FROM = Date.parse('2026-01-05T00:00:00Z');
const TO = Date.parse('2026-03-30T00:00:00Z');
const PERIODS = 12;
const conds = [];
for (let k = 0; k < PERIODS; k++) conds.push(`login AND lw = fw + ${7 * k}`);
const sql = `
SELECT toString(cw) AS cohort, sumForEach(r) AS counts
FROM (
  SELECT person, any(fw) AS cw,
         retention(start, ${conds.join(', ')}) AS r
  FROM (
    SELECT person, event, ts, seq, ts = f.1 AND seq = f.2 AS start,
           event = 'login' AND (ts > f.1 OR (ts = f.1 AND seq >= f.2)) AS login,
           toMonday(toDateTime(intDiv(ts, 1000), 'UTC')) AS lw, fw
    FROM cairn_bench.events
    ANY INNER JOIN (
      SELECT person, min((ts, seq)) AS f, toMonday(toDateTime(intDiv(f.1, 1000), 'UTC')) AS fw
      FROM cairn_bench.events WHERE event = 'signup' GROUP BY person
      HAVING f.1 >= ${FROM} AND f.1 < ${TO}) USING person)
  GROUP BY person)
GROUP BY cw
FORMAT TabSeparated`;

const { answer, times } = await timed(port, threads, sql, runs);
console.log(times.join('\n'));
const lines = [];
for (const row of answer.split('\n')) {
  if (row === '') continue;
  const [cohort, counts] = row.split('\t');
  const r = JSON.parse(counts);
  if (r[0] > 0) lines.push(`size ${cohort} ${r[0]}`);
  for (let k = 0; k < PERIODS; k++) if (r[k + 1] > 0) lines.push(`retained ${cohort} ${k} ${r[k + 1]}`);
}
console.log(lines.sort().join('\n'));
