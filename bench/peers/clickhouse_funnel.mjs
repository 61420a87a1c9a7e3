// ClickHouse peer for the funnel benchmark: the same 4-step ordered funnel as
// bench/funnel.json (page_view -> signup -> trial_started -> purchase, 7-day
// window, entries in [2026-01-01, 2026-07-01)) over cairn_bench.events, the
// table clickhouse_import.sh loads (persons stitched, ts in milliseconds,
// seq = arrival), in two formulations, both timed:
//
// windowFunnel: ClickHouse's own funnel function. In 18.16 its timestamp must
//   be DateTime (whole seconds) or UInt32, and it keeps entry times in an
//   Int32 (-1: none), so milliseconds since 1970 do not fit. Each event is given in
//   milliseconds relative to the start of a chunk of CHUNK ms of the range;
//   a chunk holds the entries inside it and every step event up to WINDOW
//   after its end (CHUNK + WINDOW < 2^31), so an event near a chunk's start
//   is in two chunks (ARRAY JOIN). Every chain starts at an entry of exactly
//   one chunk and ends within WINDOW of it, so a person's step is the largest
//   over their chunks. windowFunnel(WINDOW) keeps, per step, the latest
//   entry time that reached it, and extends it with `ts <= entry + WINDOW`:
//   cairn's ordered funnel (the attempt that gets furthest; a step at exactly
//   entry + window counts). One difference remains: windowFunnel sorts a
//   person's events by time alone (a stable sort of the order in which the
//   threads' blocks and merged states delivered them, which is not arrival
//   order), so two steps of a person in the same millisecond may be taken in
//   either order. The script counts such ties ("tied step events"); with none
//   the two agree exactly.
//
// arrays: the same recurrence written with array functions, exact with ties:
//   each person's step events sorted by (ts, seq); v0 = the entry times;
//   step k's event takes the latest value of step k-1 before it (events of
//   step k-1 are nondecreasing in that value, so the latest is found by
//   position: arrayCumSum counts them, indexing picks it) when within WINDOW.
//
// usage: node clickhouse_funnel.mjs HTTP_PORT [RUNS] [THREADS]
// Prints the persons per step of each formulation, the tie count, the counts
// of windowFunnel over whole seconds, then one line per timed run (warm: run
// 0 is not timed).
import { query, timed } from './clickhouse_common.mjs';

const [port, runs = '3', threads = '2'] = process.argv.slice(2);
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2026-07-01T00:00:00Z');
const WINDOW = 7 * 86400 * 1000;
const CHUNK = 1_500_000_000;  // 17.4 days; CHUNK + WINDOW = 2,104,800,000 < 2^31
const STEPS = `'page_view', 'signup', 'trial_started', 'purchase'`;
// Only events from the range's start to WINDOW after its end can be in a chain.
const EVENTS = `SELECT person, ts, seq, event FROM cairn_bench.events
  WHERE event IN (${STEPS}) AND ts >= ${FROM} AND ts <= ${TO + WINDOW}`;

const windowFunnel = `
SELECT countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4)
FROM (
  SELECT person, max(chunk_level) AS level
  FROM (
    SELECT person, chunk,
      windowFunnel(${WINDOW})(toUInt32(ts - ${FROM} - chunk * ${CHUNK}),
        event = 'page_view' AND ts < ${TO} AND chunk = own, event = 'signup',
        event = 'trial_started', event = 'purchase') AS chunk_level
    FROM (SELECT person, ts, event, toUInt8(intDiv(ts - ${FROM}, ${CHUNK})) AS own FROM (${EVENTS}))
    ARRAY JOIN if(own > 0 AND ts - ${FROM} - own * ${CHUNK} <= ${WINDOW}, [own - 1, own], [own]) AS chunk
    GROUP BY person, chunk)
  GROUP BY person)`;

const arrays = `
SELECT countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4)
FROM (
  SELECT
    arraySort(groupArray((ts, seq, step))) AS evs,
    arrayMap(x -> x.1, evs) AS t,
    arrayMap(x -> x.3, evs) AS s,
    arrayMap((ti, si) -> if(si = 0 AND ti < ${TO}, ti, 0), t, s) AS v0,
    arrayFilter(v -> v > 0, v0) AS d0,
    arrayMap((ti, si, c) -> if(si = 1 AND c > 0 AND ti <= d0[c] + ${WINDOW}, d0[c], 0),
             t, s, arrayCumSum(arrayMap(v -> v > 0, v0))) AS v1,
    arrayFilter(v -> v > 0, v1) AS d1,
    arrayMap((ti, si, c) -> if(si = 2 AND c > 0 AND ti <= d1[c] + ${WINDOW}, d1[c], 0),
             t, s, arrayCumSum(arrayMap(v -> v > 0, v1))) AS v2,
    arrayFilter(v -> v > 0, v2) AS d2,
    arrayExists((ti, si, c) -> si = 3 AND c > 0 AND ti <= d2[c] + ${WINDOW},
                t, s, arrayCumSum(arrayMap(v -> v > 0, v2))) AS r3,
    (length(d0) > 0) + (length(d1) > 0) + (length(d2) > 0) + r3 AS level
  FROM (SELECT person, ts, seq, transform(event, [${STEPS}], [0, 1, 2, 3], 9) AS step FROM (${EVENTS}))
  GROUP BY person)`;

// For comparison only (untimed, not checked): windowFunnel as usually
// written, over whole seconds (DateTime), which rounds both the window and
// the order of events within a second.
const seconds = `
SELECT countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4)
FROM (
  SELECT person, windowFunnel(${WINDOW / 1000})(toDateTime(intDiv(ts, 1000)),
    event = 'page_view' AND ts < ${TO}, event = 'signup', event = 'trial_started', event = 'purchase') AS level
  FROM (${EVENTS})
  GROUP BY person)`;

// pairs of a person's step events of different steps in the same millisecond
const ties = `SELECT count() FROM (
  SELECT person, ts FROM (${EVENTS}) GROUP BY person, ts HAVING uniqExact(event) > 1)`;

async function run(name, sql) {
  const { answer, times } = await timed(port, threads, sql, runs, name);
  return { counts: answer.trim().split('\t').join(' '), times };
}

const wf = await run('windowFunnel', windowFunnel);
const ar = await run('arrays', arrays);
console.log(`persons per step (windowFunnel): ${wf.counts}`);
console.log(`persons per step (arrays): ${ar.counts}`);
console.log(`tied step events: ${(await query(port, threads, ties)).trim()}`);
console.log(`persons per step (windowFunnel over seconds, not exact): ${(await query(port, threads, seconds)).trim().split('\t').join(' ')}`);
console.log([...wf.times, ...ar.times].join('\n'));
