// Scores every attribution model against the simulator's planted truth:
// node bench/attribution_truth.mjs CAIRN DB TRUTH.json
// Runs one attribution query (all 13 models, channels as the dimension, the
// simulator's conversions and touchpoint rule), then compares each model's
// channel shares with the truth's true_share_conversions / true_share_revenue
// (docs/SIMULATOR.md: the average marginal effect of each channel under the
// planted conversion model). Prints a Markdown table for docs/ATTRIBUTION.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [cairn, db, truthPath] = process.argv.slice(2);
if (!truthPath) {
  console.error('usage: node bench/attribution_truth.mjs CAIRN DB TRUTH.json');
  process.exit(2);
}
const truth = JSON.parse(readFileSync(truthPath, 'utf8'));
const query = {
  type: 'attribution',
  conversion: { any_of: truth.goal.events.map((event) => ({ event })), value: 'revenue' },
  // The simulator's touchpoint rule: exactly the events with a channel property.
  touchpoint: { dimension: 'channel', channel_from: 'property' },
  lookback: '365d',
  milestones: { lead: { event: 'lead_created' }, opportunity: { event: 'opportunity_created' }, won: { event: 'deal_won' } },
};
const answer = JSON.parse(execFileSync(cairn, ['query', '--db', db, '-'], { input: JSON.stringify(query), maxBuffer: 1 << 28 }));
const channels = Object.keys(truth.channels).sort();

function shares(rows, key) {
  const credit = Object.fromEntries(channels.map((c) => [c, 0]));
  for (const r of rows) if (r.value in credit) credit[r.value] += r[key];
  const total = channels.reduce((s, c) => s + credit[c], 0);
  return Object.fromEntries(channels.map((c) => [c, total > 0 ? credit[c] / total : 0]));
}

const fmt = (x) => x.toFixed(3);
console.log(`${answer.conversions} conversions, revenue ${answer.revenue.toFixed(2)}, ${answer.journeys} journeys; ` +
  `truth from ${truthPath} (seed ${truth.seed}, ${truth.persons} persons)`);
console.log('');
console.log('| model | conversions: total variation from truth | revenue: total variation | largest error (channel, share − truth) |');
console.log('|---|---|---|---|');
const results = [];
for (const [name, model] of Object.entries(answer.models)) {
  const conv = shares(model.rows, 'conversions');
  const rev = shares(model.rows, 'revenue');
  let tvConv = 0, tvRev = 0, worst = null;
  for (const c of channels) {
    const d = conv[c] - truth.channels[c].true_share_conversions;
    tvConv += Math.abs(d) / 2;
    tvRev += Math.abs(rev[c] - truth.channels[c].true_share_revenue) / 2;
    if (!worst || Math.abs(d) > Math.abs(worst[1])) worst = [c, d];
  }
  results.push([name, tvConv, tvRev, worst]);
}
results.sort((a, b) => a[1] - b[1]);
for (const [name, tvConv, tvRev, worst] of results)
  console.log(`| ${name} | ${fmt(tvConv)} | ${fmt(tvRev)} | ${worst[0]} ${worst[1] >= 0 ? '+' : ''}${fmt(worst[1])} |`);
console.log('');
console.log('| channel | planted effect | true share (conversions) | ' + results.map((r) => r[0]).join(' | ') + ' |');
console.log('|---|---|---|' + results.map(() => '---').join('|') + '|');
for (const c of channels) {
  const cells = results.map(([name]) => fmt(shares(answer.models[name].rows, 'conversions')[c]));
  console.log(`| ${c} | ${truth.channels[c].effect} | ${fmt(truth.channels[c].true_share_conversions)} | ${cells.join(' | ')} |`);
}
