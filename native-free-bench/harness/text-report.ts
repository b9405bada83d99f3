// The human-readable report of one scenario (stdout without --json).

import type { ResultRecord } from './result-record';
import type { ResultRow } from './scenario';
import { formatValue } from '../plot/svg';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A result table: one column per field that any row has, '-' where a row lacks it. */
function rowLines(rows: readonly ResultRow[]): string[] {
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (v: number | string | undefined): string => (v === undefined ? '-' : typeof v === 'number' ? formatValue(v) : v);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((row) => cell(row[k]).length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => pad(c, widths[i] + 2)).join('').trimEnd()}`;
  return [line(keys), ...rows.map((row) => line(keys.map((k) => cell(row[k]))))];
}

export function textReport(r: ResultRecord, files: { json: string; svg: string }): string {
  const lines: string[] = [];
  const what = r.measures === 'system' ? 'system: real files, real SQLite' : 'algorithm: in-memory twins of disks and NVRAM';
  lines.push(`${r.scenario}: ${r.title}`);
  lines.push(`  ${what}; ${r.mode} mode, ${r.runs} run${r.runs === 1 ? '' : 's'} after ${r.warmupRuns} warm-up, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s`);
  lines.push(`  params: ${Object.entries(r.params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  if (Object.keys(r.setup).length) lines.push(`  setup:  ${Object.entries(r.setup).map(([k, v]) => `${k}=${typeof v === 'number' ? formatValue(v) : v}`).join(' ')}`);
  lines.push(`  baseline: ${r.baseline}`);
  if (r.rows) {
    // a grid: the table says it all (every metric, with min and max, is in the results file)
    lines.push(...rowLines(r.rows));
  } else {
    const width = Math.max(...Object.keys(r.metrics).map((k) => k.length), 6);
    lines.push(`  ${pad('metric', width)}  ${pad('median', 10)}${pad('min', 10)}${pad('max', 10)}unit`);
    for (const [k, m] of Object.entries(r.metrics)) {
      lines.push(`  ${pad(k, width)}  ${pad(formatValue(m.median), 10)}${pad(formatValue(m.min), 10)}${pad(formatValue(m.max), 10)}${m.unit}`);
    }
  }
  for (const [k, d] of Object.entries(r.distributions)) {
    lines.push(`  ${k}: ${d.count} samples, p50 ${formatValue(d.p50)} p90 ${formatValue(d.p90)} p99 ${formatValue(d.p99)} max ${formatValue(d.max)}`);
  }
  lines.push(`  result: ${JSON.stringify(r.result)}`);
  const t = r.target;
  if (t.pass === null) lines.push(`  target: ${t.description}`);
  else lines.push(`  target: ${t.description}: ${t.pass ? 'PASS' : 'FAIL'}${r.mode === 'tiny' ? ' (tiny sizes: not meaningful)' : ''}`);
  for (const c of t.checks) {
    lines.push(`    ${c.pass ? 'pass' : 'FAIL'}  ${c.name} = ${formatValue(c.value)} ${c.op} ${formatValue(c.limit)}  (${c.basis})`);
  }
  lines.push(`  wrote ${files.json} and ${files.svg}`);
  return lines.join('\n') + '\n';
}
