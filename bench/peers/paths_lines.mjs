// Prints cairn's answer to a forward `paths` query (JSON, FILE or standard
// input) as the canonical lines duckdb_paths.mjs prints, so the two can be
// compared byte for byte:
//   persons N
//   node STEP<TAB>LABEL<TAB>PERSONS<TAB>DROPPED
//   link STEP<TAB>SOURCE_LABEL<TAB>TARGET_LABEL<TAB>PERSONS   (STEP: the source's)
// usage: node paths_lines.mjs [FILE]
import { readFileSync } from 'node:fs';

const answer = JSON.parse(readFileSync(process.argv[2] ?? 0, 'utf8'));
const byId = new Map(answer.nodes.map((n) => [n.id, n]));
const lines = [`persons ${answer.persons}`];
for (const n of answer.nodes) lines.push(`node ${n.step}\t${n.label}\t${n.persons}\t${n.dropped}`);
for (const l of answer.links) {
  const s = byId.get(l.source), t = byId.get(l.target);
  lines.push(`link ${s.step}\t${s.label}\t${t.label}\t${l.persons}`);
}
console.log(lines.sort().join('\n'));
