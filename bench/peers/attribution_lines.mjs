// Compares cairn's attribution answer (one model) with a peer's lines
// ("VALUE<TAB>CONVERSIONS<TAB>REVENUE", after its "run N:" timing lines):
// the same values, and credits equal to a relative 1e-9 (the two engines add
// up floating-point credits in different orders). Exits 1 on a difference.
// usage: node attribution_lines.mjs ANSWER.json MODEL PEER_OUTPUT
import { readFileSync } from 'node:fs';

const [file, model, peerFile] = process.argv.slice(2);
const answer = JSON.parse(readFileSync(file, 'utf8'));
const ours = new Map(answer.models[model].rows.filter((r) => r.conversions > 0).map((r) => [r.value, [r.conversions, r.revenue]]));
const theirs = new Map(readFileSync(peerFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('run '))
  .map((l) => l.split('\t')).map(([v, c, r]) => [v, [Number(c), Number(r)]]));
const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) + 1e-6;
let bad = 0;
for (const v of new Set([...ours.keys(), ...theirs.keys()])) {
  const a = ours.get(v), b = theirs.get(v);
  if (!a || !b || !close(a[0], b[0]) || !close(a[1], b[1])) {
    console.log(`${v}: cairn ${a ? a.join(' ') : '-'} | peer ${b ? b.join(' ') : '-'}`);
    bad++;
  }
}
if (bad) process.exit(1);
console.log(`${model}: ${ours.size} values, conversions and revenue equal`);
