// Runs one scenario: binds its sizes, prepares it in a fresh temporary folder, repeats it,
// cleans up, summarizes, judges its target, and writes its results file and plot.

import { performance } from 'node:perf_hooks';
import { Progress } from '../../src/cli/progress';
import { renderChart } from '../plot/chart';
import { DEFAULT_RUNS, DEFAULT_WARMUP_RUNS } from './args';
import { machineInfo } from './machine-info';
import type { ResultRecord } from './result-record';
import { RESULT_FORMAT_VERSION } from './result-record';
import { writeResults } from './results-writer';
import type { Sample, Scenario, ScenarioContext, SizeMode } from './scenario';
import { summarize } from './summarize';
import { makeTempDir, removeTempDir } from './temp-dirs';

export interface RunSettings {
  mode: SizeMode;
  runs?: number;
  warmup?: number;
  seed: number;
  workRoot: string;
  outDir: string;
  /** No progress line and no notes on stderr. */
  quiet: boolean;
}

export interface ScenarioOutcome {
  record: ResultRecord;
  files: { json: string; svg: string };
}

export async function runScenario(s: Scenario, settings: RunSettings): Promise<ScenarioOutcome> {
  const bound = s.bind(settings.mode);
  const runs = settings.runs ?? s.runs?.[settings.mode] ?? DEFAULT_RUNS[settings.mode];
  const warmup = settings.warmup ?? s.warmupRuns?.[settings.mode] ?? DEFAULT_WARMUP_RUNS[settings.mode];
  const started = performance.now();
  const progress = new Progress(s.name, settings.quiet);
  let step = 'prepare';
  const workDir = makeTempDir(settings.workRoot, `lsa-bench-${s.name}-`);
  const ctx: ScenarioContext = {
    mode: settings.mode,
    runs,
    seed: settings.seed,
    workDir,
    progress: (done, total, what) => progress.update(done, total, `${step}: ${what}`),
    note: (line) => {
      if (settings.quiet) return;
      progress.done();
      process.stderr.write(`  ${s.name}: ${line}\n`);
    },
  };
  const samples: Sample[] = [];
  let setup: Record<string, number | string> = {};
  try {
    const trial = await bound.prepare(ctx);
    setup = trial.setup ?? {};
    try {
      // run indexes continue across warm-up and measured runs, so each run gets its own seed
      for (let i = 0; i < warmup; i++) {
        step = `warm-up ${i + 1}/${warmup}`;
        await trial.run(i);
      }
      for (let i = 0; i < runs; i++) {
        step = `run ${i + 1}/${runs}`;
        samples.push(await trial.run(warmup + i));
      }
    } finally {
      await trial.dispose();
    }
  } finally {
    progress.done();
    removeTempDir(workDir);
  }
  const summary = summarize(s.metrics, samples);
  const verdict = bound.judge(summary, runs);
  const machine = machineInfo();
  const rows = bound.rows(summary);
  const metrics: ResultRecord['metrics'] = {};
  for (const m of s.metrics) metrics[m.key] = { ...summary.metrics[m.key], description: m.description };
  const record: ResultRecord = {
    formatVersion: RESULT_FORMAT_VERSION,
    scenario: s.name,
    title: s.title,
    measures: s.measures,
    mode: settings.mode,
    runs,
    warmupRuns: warmup,
    seed: settings.seed,
    params: bound.params,
    setup,
    baseline: s.baseline,
    target: { description: s.target, pass: verdict.pass, checks: verdict.checks },
    result: bound.result(summary),
    ...(rows ? { rows } : {}),
    metrics,
    distributions: summary.distributions,
    machine,
    durationMs: Math.round(performance.now() - started),
  };
  const panels = bound.plot(summary);
  const legend = panels.every((p) => p.kind === 'lines') ? 'points: median' : 'bars: median, whiskers: min..max';
  const subtitle = `${settings.mode} mode, ${runs} run${runs === 1 ? '' : 's'} after ${warmup} warm-up (${legend}) | ${machine.cpuModel} x${machine.cores}, node ${machine.node} | ${machine.date}`;
  const svg = renderChart(`${s.name}: ${s.title}`, subtitle, panels);
  const files = writeResults(settings.outDir, record, svg);
  return { record, files };
}
