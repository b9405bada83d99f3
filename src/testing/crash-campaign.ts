// The crash campaign behind `lsa crashtest`: many crashes, each followed by recovery on open,
// an audit of every track against the crash model and the checker.
//
//   kill:  a worker process on real files gets SIGKILL at a random moment (crash-kill.ts);
//   power: in this process on the simulated disk, the power goes out at a random write, sync or
//          NVRAM commit and unsynced writes are applied, dropped or torn (crash-power.ts).
//
// Iterations come in groups that share one array (so recovery also meets arrays that have
// been through earlier crashes, reused segments and collections). Every iteration's seed comes
// from (campaign seed, mode, iteration), so `--replay I` runs I's group from its start up to I.
// With both modes, the two run side by side: a kill iteration mostly waits for its worker.

import { systemClock } from '../io/clock';
import { joinPath } from '../io/files';
import { makeScratchDir, removeDir } from '../io/worker-process';
import { Prng } from '../util/prng';
import { failed, type IterationOutcome } from './crash-audit';
import { KillArray } from './crash-kill';
import { PowerArray } from './crash-power';

export type CrashMode = 'kill' | 'power';
export const CRASH_MODES: readonly CrashMode[] = ['kill', 'power'];
/** Iterations that share one array. */
export const GROUP_ITERATIONS = 8;
/** Power-mode arrays that keep their NVRAM in SQLite rather than the in-memory twin. */
const POWER_SQLITE_SHARE = 0.25;
/** Failures described in the result (all are counted). */
const FAILURES_LISTED_MAX = 20;

export interface CampaignOptions {
  modes: CrashMode[];
  /** Iterations of each mode. */
  iterations: number;
  seed: number;
  /** Folder for the arrays (a temporary one if not given); failing arrays are kept there. */
  dir?: string;
  /** Run only the group of this iteration, from its start up to it. */
  replay?: number;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface Totals {
  iterations: number;
  flushedWritesChecked: number;
  tracksChecked: number;
  lost: number;
  corrupt: number;
  checkFailures: number;
}

export interface CampaignFailure {
  mode: CrashMode;
  iteration: number;
  problems: string[];
  replay: string;
  keptDir: string | null;
}

export interface CampaignResult extends Totals {
  mode: CrashMode | 'both';
  seed: number;
  byMode: Partial<Record<CrashMode, Totals & { elapsedMs: number }>>;
  failures: CampaignFailure[];
  elapsedMs: number;
}

/** A 32-bit seed for one (campaign seed, mode, index); FNV-1a with a final mix. */
export function deriveSeed(seed: number, mode: CrashMode, index: number, salt = 0): number {
  let h = 0x811c9dc5;
  for (const x of [seed >>> 0, mode === 'kill' ? 1 : 2, index >>> 0, salt]) {
    h = Math.imul(h ^ x, 0x01000193) >>> 0;
    h ^= h >>> 13;
  }
  return Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
}

function emptyTotals(): Totals {
  return { iterations: 0, flushedWritesChecked: 0, tracksChecked: 0, lost: 0, corrupt: 0, checkFailures: 0 };
}

function add(t: Totals, o: IterationOutcome): void {
  t.iterations++;
  t.flushedWritesChecked += o.flushedWritesChecked;
  t.tracksChecked += o.tracksChecked;
  t.lost += o.lost;
  t.corrupt += o.corrupt;
  if (o.checkFailed) t.checkFailures++;
}

interface CrashArray {
  iteration(seed: number): Promise<IterationOutcome>;
  close(): Promise<void>;
}

async function makeArray(mode: CrashMode, dir: string, seed: number, group: number): Promise<CrashArray> {
  if (mode === 'kill') return KillArray.create(dir);
  return PowerArray.create(dir, new Prng(deriveSeed(seed, mode, group, 1)).chance(POWER_SQLITE_SHARE));
}

async function runMode(mode: CrashMode, opts: CampaignOptions, root: string, failures: CampaignFailure[], tick: (what: string) => void): Promise<Totals & { elapsedMs: number }> {
  const startMs = systemClock.nowMs();
  const totals = emptyTotals();
  const first = opts.replay === undefined ? 0 : opts.replay - (opts.replay % GROUP_ITERATIONS);
  const last = opts.replay === undefined ? opts.iterations - 1 : opts.replay;
  let array: CrashArray | null = null;
  let arrayDir = '';
  try {
    for (let i = first; i <= last; i++) {
      if (!array || i % GROUP_ITERATIONS === 0) {
        await array?.close();
        if (arrayDir) removeDir(arrayDir);
        const group = Math.floor(i / GROUP_ITERATIONS);
        arrayDir = joinPath(root, `${mode}-${group}-${i}`);
        array = await makeArray(mode, arrayDir, opts.seed, group);
      }
      const outcome = await array.iteration(deriveSeed(opts.seed, mode, i));
      add(totals, outcome);
      if (failed(outcome)) {
        const replay = `lsa crashtest --mode ${mode} --seed ${opts.seed} --replay ${i}`;
        if (failures.length < FAILURES_LISTED_MAX) failures.push({ mode, iteration: i, problems: outcome.problems, replay, keptDir: opts.dir ? arrayDir : null });
        // keep the failing array for inspection (if the folder is the user's); go on with a new one
        await array.close().catch(() => undefined);
        array = null;
        if (!opts.dir) removeDir(arrayDir);
        arrayDir = '';
      }
      tick(`${mode} ${i + 1}`);
    }
  } finally {
    await array?.close().catch(() => undefined);
    if (arrayDir) removeDir(arrayDir);
  }
  return { ...totals, elapsedMs: systemClock.nowMs() - startMs };
}

export async function runCrashCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const startMs = systemClock.nowMs();
  const root = makeScratchDir('lsa-crashtest-', opts.dir);
  const failures: CampaignFailure[] = [];
  const perMode = opts.replay === undefined ? opts.iterations : (opts.replay % GROUP_ITERATIONS) + 1;
  const total = perMode * opts.modes.length;
  let done = 0;
  const tick = (what: string): void => {
    done++;
    opts.onProgress?.(done, total, what);
  };
  const byMode: CampaignResult['byMode'] = {};
  try {
    const results = await Promise.all(opts.modes.map((m) => runMode(m, opts, root, failures, tick)));
    opts.modes.forEach((m, i) => (byMode[m] = results[i]));
  } finally {
    if (!opts.dir || failures.length === 0) removeDir(root);
  }
  const sum = emptyTotals();
  for (const t of Object.values(byMode)) {
    for (const k of Object.keys(sum) as (keyof Totals)[]) sum[k] += t[k];
  }
  return {
    ...sum,
    iterations: perMode,
    mode: opts.modes.length === 1 ? opts.modes[0] : 'both',
    seed: opts.seed,
    byMode,
    failures,
    elapsedMs: systemClock.nowMs() - startMs,
  };
}
