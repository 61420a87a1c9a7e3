// Peer for the attribution benchmark: bench/attribution.json's linear model
// in DuckDB SQL over the table duckdb_import.mjs loads. Conversions are
// purchase and deal_won events (value: revenue); touchpoints are the
// person's events with a channel before the conversion (time, then arrival
// order), within 90 days, after their previous conversion; each touch gets
// 1/n of the conversion; a conversion without touches goes to "(none)".
// Persons are stitched as cairn stitches them. Works on a database loaded
// from NDJSON (properties as a struct) or from CSV (properties as columns).
// usage: node duckdb_attribution.mjs DBFILE [RUNS] [THREADS]
// Prints one line per timed run (warm), then "VALUE<TAB>CONVERSIONS<TAB>REVENUE"
// per channel, sorted, numbers rounded to 6 decimals (attribution_lines.mjs
// prints cairn's answer the same way).
import { connect, stitched, timed } from './duckdb_common.mjs';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const con = await connect(dbfile, threads);
// Loaded from NDJSON, properties are a struct; from CSV, columns.
const nested = (await con.runAndReadAll(`SELECT count(*) AS n FROM information_schema.columns
  WHERE table_name = 'events' AND column_name = 'properties'`)).getRowObjects()[0].n > 0;
const channel = nested ? 'e.properties.channel' : 'e.channel';
const sql = `
WITH ${stitched(`, ${channel} AS channel, e.revenue`)},
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
const rows = await timed(con, sql, runs);
const lines = rows.filter((r) => Number(r.conversions) > 0)
  .map((r) => `${r.value}\t${Number(r.conversions).toFixed(6)}\t${Number(r.revenue).toFixed(6)}`);
console.log(lines.sort().join('\n'));
