// cairn's retention answer (JSON file) as the canonical lines of
// duckdb_retention.mjs: "size COHORT N" and "retained COHORT K N" for every
// non-zero count, sorted.
// usage: node retention_lines.mjs ANSWER.json
import { readFileSync } from 'node:fs';

const answer = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const lines = [];
for (const c of answer.cohorts) {
  if (c.size > 0) lines.push(`size ${c.start} ${c.size}`);
  c.retained.forEach((n, k) => { if (n > 0) lines.push(`retained ${c.start} ${k} ${n}`); });
}
console.log(lines.sort().join('\n'));
