// What the ClickHouse query peers share: one query over the HTTP interface
// of the server clickhouse.sh started, and timed warm runs.

// The answer of `sql` as TabSeparated text (FORMAT TabSeparated is added
// when the query names no format).
export async function query(port, threads, sql) {
  const body = /\bFORMAT\s+\w+\s*$/.test(sql) ? sql : `${sql}\nFORMAT TabSeparated`;
  const res = await fetch(`http://127.0.0.1:${port}/?max_threads=${threads}`, { method: 'POST', body });
  const text = await res.text();
  if (!res.ok) throw new Error(`clickhouse: ${text}`);
  return text;
}

// One untimed run, then `runs` timed ones; returns the last answer and the
// lines "run N: S s" (or "LABEL run N: S s").
export async function timed(port, threads, sql, runs, label = '') {
  let answer;
  const times = [];
  for (let i = 0; i <= Number(runs); i++) {
    const start = process.hrtime.bigint();
    answer = await query(port, threads, sql);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    if (i > 0) times.push(`${label ? label + ' ' : ''}run ${i}: ${secs.toFixed(3)} s`);
  }
  return { answer, times };
}
