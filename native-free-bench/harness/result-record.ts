// The results file of one scenario (results/<scenario>.json), and the JSON line --json prints.
// Field names are stable: scripts and the smoke test read them.

import type { MachineInfo } from './machine-info';
import type { Check, Measures, Params, ResultRow, SizeMode } from './scenario';
import type { DistributionStats, MetricStats } from './summarize';

export const RESULT_FORMAT_VERSION = 1;

export interface ResultRecord {
  formatVersion: number;
  scenario: string;
  title: string;
  /** "system": real files, SQLite, processes; "algorithm": the engine over in-memory twins. */
  measures: Measures;
  mode: SizeMode;
  runs: number;
  /** Runs done first and discarded. */
  warmupRuns: number;
  seed: number;
  params: Params;
  setup: Record<string, number | string>;
  baseline: string;
  target: {
    description: string;
    /** null when the scenario has no target. */
    pass: boolean | null;
    checks: Check[];
  };
  /** The headline numbers (medians over the runs) under the names the scenario documents. */
  result: Record<string, number>;
  /** The whole result as a table (medians), for scenarios whose result is a grid. */
  rows?: ResultRow[];
  metrics: Record<string, MetricStats & { description: string }>;
  distributions: Record<string, DistributionStats>;
  machine: MachineInfo;
  durationMs: number;
}
