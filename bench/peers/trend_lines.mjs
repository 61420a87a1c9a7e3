// cairn's answer to bench/trend.json (JSON file) as the canonical lines of
// duckdb_active.mjs and clickhouse_active.mjs: "DAY DAU WAU MAU" per day.
// usage: node trend_lines.mjs ANSWER.json
import { readFileSync } from 'node:fs';

const answer = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const series = Object.fromEntries(answer.series.map((s) => [s.name, s.values]));
console.log(answer.periods.map((day, i) => `${day} ${series.dau[i]} ${series.wau[i]} ${series.mau[i]}`).sort().join('\n'));
