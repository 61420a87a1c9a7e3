// ClickHouse peer for the active-users benchmark: DAU, WAU and MAU per UTC
// day in [2026-02-01, 2026-06-01) as bench/trend.json asks, over
// cairn_bench.events (clickhouse_import.sh; persons stitched, ts in
// milliseconds). Each person's distinct active days, each spread over the 30
// days whose trailing month holds it (ARRAY JOIN range(30)), then exact
// distinct counts per day with uniqExactIf.
// usage: node clickhouse_active.mjs HTTP_PORT [RUNS] [THREADS]
// Prints one line per timed run (warm), then "DAY DAU WAU MAU" per day, sorted.
import { timed } from './clickhouse_common.mjs';

const [port, runs = '3', threads = '2'] = process.argv.slice(2);
const READ_FROM = Date.parse('2026-01-03T00:00:00Z');
const TO = Date.parse('2026-06-01T00:00:00Z');
const sql = `
SELECT toString(dd) AS day_text, uniqExactIf(person, off = 0) AS dau, uniqExactIf(person, off < 7) AS wau, uniqExact(person) AS mau
FROM (
  SELECT DISTINCT person, toDate(toDateTime(intDiv(ts, 1000), 'UTC')) AS d
  FROM cairn_bench.events WHERE ts >= ${READ_FROM} AND ts < ${TO})
ARRAY JOIN range(30) AS off
WHERE d + off >= toDate('2026-02-01') AND d + off < toDate('2026-06-01')
GROUP BY d + off AS dd
FORMAT TabSeparated`;

const { answer, times } = await timed(port, threads, sql, runs);
console.log(times.join('\n'));
console.log(answer.split('\n').filter((r) => r !== '').map((r) => r.split('\t').join(' ')).sort().join('\n'));
