// The shape of a benchmark scenario. A scenario declares what it measures, its baseline and its
// target; the harness (run-scenario.ts) repeats it, summarizes the runs, judges the target,
// writes the results file and the plot. Scenarios are listed in scenarios/index.ts.
//
// Life of one scenario run:
//
//   sizes[mode] --> prepare(ctx, params) --> Trial --> run(0) .. run(runs - 1) --> dispose()
//                                                         |
//                      summary (median, min, max) <-------+--> judge, result, plot

import type { Panel } from '../plot/panel';
import type { MetricStats, DistributionStats } from './summarize';

/** `tiny` only proves a scenario runs (tests); `quick` is the default; `full` is the real size. */
export type SizeMode = 'tiny' | 'quick' | 'full';
export const SIZE_MODES: readonly SizeMode[] = ['tiny', 'quick', 'full'];

/** Sizes and settings of one scenario for one mode; reported as they are in the results. */
export type Params = Record<string, number | string | boolean>;

/** What a scenario measures, said in its output: the system on real files, real SQLite and real
 * processes, or an algorithm over the engine's in-memory twins. */
export type Measures = 'system' | 'algorithm';

export interface MetricSpec {
  key: string;
  unit: string;
  description: string;
}

export interface ScenarioContext {
  mode: SizeMode;
  runs: number;
  seed: number;
  /** A fresh folder for this scenario's files, on the filesystem the user chose; the harness
   * removes it afterwards. */
  workDir: string;
  /** Progress of the current step (drawn on a TTY only). */
  progress(done: number, total: number, what: string): void;
  /** A line of commentary on stderr (not in --json mode). */
  note(line: string): void;
}

/** One repetition's measurements: scalar metrics, and optional latency samples by series. */
export interface Sample {
  metrics: Record<string, number>;
  series?: Record<string, number[]>;
}

export interface Trial {
  /** Facts about the setup, measured once (for example how long filling a volume took). */
  setup?: Record<string, number | string>;
  run(index: number): Promise<Sample>;
  dispose(): Promise<void>;
}

export interface Summary {
  metrics: Record<string, MetricStats>;
  distributions: Record<string, DistributionStats>;
}

export interface Check {
  name: string;
  value: number;
  op: '<=' | '>=' | '<' | '>';
  limit: number;
  /** Which statistic `value` is (for example "median of 5 runs"). */
  basis: string;
  pass: boolean;
}

/** `pass: null` when the scenario has no target (informational only). */
export interface Verdict {
  pass: boolean | null;
  checks: Check[];
}

/** One row of a scenario's result table (a grid of results, such as gc's policy x workload x
 * utilization); a field missing from a row does not apply to it. */
export type ResultRow = Record<string, number | string>;

export interface ScenarioSpec<P extends Params> {
  name: string;
  title: string;
  measures: Measures;
  /** What the same run measures for comparison, in one sentence. */
  baseline: string;
  /** The target in words ("none" if there is none). */
  target: string;
  metrics: MetricSpec[];
  sizes: Record<SizeMode, P>;
  /** Repetitions and discarded warm-up runs per mode when the command line does not say
   * (default: the harness's). An algorithm over the in-memory twins is deterministic for a
   * seed and meets no JIT or page-cache effect worth a warm-up run. */
  runs?: Partial<Record<SizeMode, number>>;
  warmupRuns?: Partial<Record<SizeMode, number>>;
  prepare(ctx: ScenarioContext, params: P): Promise<Trial>;
  /** The headline fields of the results (medians, by the names users know). */
  result(summary: Summary, params: P): Record<string, number>;
  /** The full result as a table, when it is a grid too large for headline fields. */
  rows?(summary: Summary, params: P): ResultRow[];
  judge(summary: Summary, params: P, runs: number): Verdict;
  plot(summary: Summary, params: P): Panel[];
}

/** A scenario with its parameter type erased, as the registry holds it. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly measures: Measures;
  readonly baseline: string;
  readonly target: string;
  readonly metrics: readonly MetricSpec[];
  readonly runs?: Partial<Record<SizeMode, number>>;
  readonly warmupRuns?: Partial<Record<SizeMode, number>>;
  bind(mode: SizeMode): BoundScenario;
}

export interface BoundScenario {
  params: Params;
  prepare(ctx: ScenarioContext): Promise<Trial>;
  result(summary: Summary): Record<string, number>;
  rows(summary: Summary): ResultRow[] | undefined;
  judge(summary: Summary, runs: number): Verdict;
  plot(summary: Summary): Panel[];
}

export function defineScenario<P extends Params>(spec: ScenarioSpec<P>): Scenario {
  return {
    name: spec.name,
    title: spec.title,
    measures: spec.measures,
    baseline: spec.baseline,
    target: spec.target,
    metrics: spec.metrics,
    runs: spec.runs,
    warmupRuns: spec.warmupRuns,
    bind(mode: SizeMode): BoundScenario {
      const params = spec.sizes[mode];
      return {
        params,
        prepare: (ctx) => spec.prepare(ctx, params),
        result: (summary) => spec.result(summary, params),
        rows: (summary) => spec.rows?.(summary, params),
        judge: (summary, runs) => spec.judge(summary, params, runs),
        plot: (summary) => spec.plot(summary, params),
      };
    },
  };
}

export function check(name: string, value: number, op: Check['op'], limit: number, basis: string): Check {
  const pass = op === '<=' ? value <= limit : op === '<' ? value < limit : op === '>' ? value > limit : value >= limit;
  return { name, value, op, limit, basis, pass };
}

export function verdictOf(checks: Check[]): Verdict {
  return { pass: checks.length === 0 ? null : checks.every((c) => c.pass), checks };
}
