// Peer for the funnel benchmark: the same 4-step ordered funnel as
// bench/funnel.json (page_view -> signup -> trial_started -> purchase, 7-day
// window, entries in [2026-01-01, 2026-07-01)) in DuckDB SQL over the table
// duckdb_import.mjs loads. Persons are stitched as cairn stitches them
// (an anonymous id takes the user id it appeared with); a person reaches
// step k when some chain of their events in (time, arrival) order matches
// steps 0..k with every step within the window after the entry.
// usage: node duckdb_funnel.mjs DBFILE [RUNS] [THREADS]
// Prints the persons per step, then one line per timed run (warm).
import { connect, stitched, timed } from './duckdb_common.mjs';

const [dbfile, runs = '3', threads = '2'] = process.argv.slice(2);
const con = await connect(dbfile, threads);
const sql = `
WITH ${stitched('', "e.event IN ('page_view', 'signup', 'trial_started', 'purchase')")},
s0 AS (
  SELECT person, ts AS t0, ts, seq FROM ev
  WHERE event = 'page_view' AND ts >= TIMESTAMP '2026-01-01' AND ts < TIMESTAMP '2026-07-01'),
s1 AS (
  SELECT DISTINCT s.person, s.t0, e.ts, e.seq FROM s0 s JOIN ev e ON e.person = s.person AND e.event = 'signup'
  AND (e.ts > s.ts OR (e.ts = s.ts AND e.seq > s.seq)) AND e.ts <= s.t0 + INTERVAL 7 DAY),
s2 AS (
  SELECT DISTINCT s.person, s.t0, e.ts, e.seq FROM s1 s JOIN ev e ON e.person = s.person AND e.event = 'trial_started'
  AND (e.ts > s.ts OR (e.ts = s.ts AND e.seq > s.seq)) AND e.ts <= s.t0 + INTERVAL 7 DAY),
s3 AS (
  SELECT DISTINCT s.person FROM s2 s JOIN ev e ON e.person = s.person AND e.event = 'purchase'
  AND (e.ts > s.ts OR (e.ts = s.ts AND e.seq > s.seq)) AND e.ts <= s.t0 + INTERVAL 7 DAY)
SELECT (SELECT count(DISTINCT person) FROM s0) AS step0, (SELECT count(DISTINCT person) FROM s1) AS step1,
       (SELECT count(DISTINCT person) FROM s2) AS step2, (SELECT count(*) FROM s3) AS step3`;
const counts = (await timed(con, sql, runs))[0];
console.log(`persons per step: ${counts.step0} ${counts.step1} ${counts.step2} ${counts.step3}`);
