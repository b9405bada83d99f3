// Writes the headline table of the main README from native-free-bench/results/*.json, between
// the markers <!-- bench-table:start --> and <!-- bench-table:end -->. Run by
// `npm run bench:table` (and at the end of `npm run bench`); never typed by hand.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultRecord } from './harness/result-record';

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'native-free-bench', 'results');
const README = path.join(ROOT, 'README.md');
const START = '<!-- bench-table:start -->';
const END = '<!-- bench-table:end -->';

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 1000 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(3);
}

export function buildTable(records: ResultRecord[]): string {
  const lines = [
    '| scenario | measured (median) | target | pass | mode, runs |',
    '|---|---|---|---|---|',
  ];
  for (const r of records.sort((a, b) => a.scenario.localeCompare(b.scenario))) {
    const shown = Object.entries(r.result).slice(0, 4).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    const checks = r.target.checks.length > 0
      ? r.target.checks.map((c) => `${c.name} ${c.op} ${fmt(c.limit)} (got ${fmt(c.value)})`).join('; ')
      : 'none';
    const pass = r.target.pass === null ? '-' : r.target.pass ? 'yes' : '**no**';
    lines.push(`| \`${r.scenario}\` | ${shown} | ${checks} | ${pass} | ${r.mode}, ${r.runs} |`);
  }
  const m = records[0]?.machine as unknown as Record<string, unknown> | undefined;
  const machine = m ? Object.entries(m).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k} ${String(v)}`).join(', ') : 'no results yet';
  lines.push('', `Machine: ${machine}. Baselines are measured in the same run; see each results file and \`native-free-bench/README.md\`.`);
  return lines.join('\n');
}

function main(): void {
  const files = fs.existsSync(RESULTS) ? fs.readdirSync(RESULTS).filter((f) => f.endsWith('.json')) : [];
  const records = files.map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS, f), 'utf8')) as ResultRecord);
  const table = buildTable(records);
  const readme = fs.readFileSync(README, 'utf8');
  const i = readme.indexOf(START);
  const j = readme.indexOf(END);
  if (i < 0 || j < i) {
    process.stderr.write(`README.md has no ${START} ... ${END} markers\n`);
    process.exitCode = 1;
    return;
  }
  fs.writeFileSync(README, `${readme.slice(0, i + START.length)}\n${table}\n${readme.slice(j)}`);
  process.stdout.write(`README.md: headline table from ${records.length} results file(s)\n`);
}

if (require.main === module) main();
