// Peer for the attribution benchmark: bench/attribution.json's linear model
// in DuckDB SQL over the table duckdb_import.mjs loads. Conversions are
// purchase and deal_won events (value: revenue); touchpoints are the
// person's events with a channel before the conversion (time, then arrival
// order), within 90 days, after their previous conversion; each touch gets
// 1/n of the conversion; a conversion without touches goes to "(none)".
// Persons are stitched as cairn stitches them.
// usage: node duckdb_attribution.mjs DBFILE [RUNS] [THREADS]
// Prints one line per timed run (warm), then "VALUE<TAB>CONVERSIONS<TAB>REVENUE"
// per channel, sorted, numbers rounded to 6 decimals (attribution_lines.mjs
// prints cairn's answer the same way).
import { DuckDBInstance } from '@duckdb/node-api';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const instance = await DuckDBInstance.create(dbfile, { threads: String(threads), access_mode: 'READ_ONLY' });
const con = await instance.connect();
const sql = `
WITH links AS (
  SELECT anonymous_id, min(user_id) AS uid FROM events
  WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL GROUP BY anonymous_id),
ev AS (
  SELECT coalesce(e.user_id, l.uid, e.anonymous_id) AS person, e.timestamp AS ts, e.rowid AS seq, e.event,
         e.properties.channel AS channel, e.revenue
  FROM events e LEFT JOIN links l ON e.anonymous_id = l.anonymous_id),
conv AS (
  SELECT person, ts, seq, coalesce(revenue, 0) AS value,
         lag(ts) OVER w AS prev_ts, lag(seq) OVER w AS prev_seq
  FROM ev WHERE event IN ('purchase', 'deal_won')
  WINDOW w AS (PARTITION BY person ORDER BY ts, seq)),
touch AS (
  SELECT c.person, c.ts AS cts, c.seq AS cseq, c.value, t.channel
  FROM conv c JOIN ev t ON t.person = c.person AND t.channel IS NOT NULL
   AND (t.ts < c.ts OR (t.ts = c.ts AND t.seq < c.seq))
   AND t.ts >= c.ts - INTERVAL 90 DAY
   AND (c.prev_ts IS NULL OR t.ts > c.prev_ts OR (t.ts = c.prev_ts AND t.seq > c.prev_seq))),
counted AS (
  SELECT *, count(*) OVER (PARTITION BY person, cts, cseq) AS n FROM touch)
SELECT channel AS value, sum(1.0 / n) AS conversions, sum(value / n) AS revenue FROM counted GROUP BY channel
UNION ALL
SELECT '(none)', count(*), sum(value) FROM conv c
WHERE NOT EXISTS (SELECT 1 FROM touch t WHERE t.person = c.person AND t.cts = c.ts AND t.cseq = c.seq)`;
let rows;
for (let i = 0; i <= Number(runs); i++) {  // run 0 warms up
  const start = process.hrtime.bigint();
  const r = await con.runAndReadAll(sql);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  rows = r.getRowObjects();
  if (i > 0) console.log(`run ${i}: ${secs.toFixed(3)} s`);
}
const lines = rows.filter((r) => Number(r.conversions) > 0)
  .map((r) => `${r.value}\t${Number(r.conversions).toFixed(6)}\t${Number(r.revenue).toFixed(6)}`);
console.log(lines.sort().join('\n'));
