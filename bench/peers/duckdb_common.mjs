// What the DuckDB query peers share: opening the database read-only with N
// threads, the events with persons stitched as cairn stitches them (an
// anonymous id takes the user id it appeared with; `seq`, the row id, is the
// arrival order), and timed warm runs.
import { DuckDBInstance } from '@duckdb/node-api';

export async function connect(dbfile, threads) {
  const instance = await DuckDBInstance.create(dbfile, { threads: String(threads), access_mode: 'READ_ONLY' });
  return instance.connect();
}

// Two CTEs, `links` and `ev` (person, ts, seq, event, then `columns`),
// restricted by `where` (over the events table `e`) when given.
export function stitched(columns = '', where = '') {
  return `links AS (
  SELECT anonymous_id, min(user_id) AS uid FROM events
  WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL GROUP BY anonymous_id),
ev AS (
  SELECT coalesce(e.user_id, l.uid, e.anonymous_id) AS person, e.timestamp AS ts, e.rowid AS seq, e.event${columns}
  FROM events e LEFT JOIN links l ON e.anonymous_id = l.anonymous_id${where ? `\n  WHERE ${where}` : ''})`;
}

// One untimed run, then `runs` timed ones, each printed as "run N: S s" (or
// "LABEL run N: S s"); returns the last run's rows.
export async function timed(con, sql, runs, label = '') {
  let rows;
  for (let i = 0; i <= Number(runs); i++) {
    const start = process.hrtime.bigint();
    const r = await con.runAndReadAll(sql);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    rows = r.getRowObjects();
    if (i > 0) console.log(`${label ? label + ' ' : ''}run ${i}: ${secs.toFixed(3)} s`);
  }
  return rows;
}
