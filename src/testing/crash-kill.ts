// Kill mode of the crash campaign: a worker process (crash-worker.ts) runs the workload on a
// real array (sparse files, SQLite) and gets SIGKILL after a random number of its report lines
// plus a random delay, so at an arbitrary instruction. The parent then regenerates the same
// workload from the seed, replays into its crash model what the worker said it started and
// finished, reopens the array (recovery on open) and audits it.

import { joinPath } from '../io/files';
import { startWorker, type WorkerExit } from '../io/worker-process';
import { createArray, openArray } from '../lsa/open-array';
import { createVolume } from '../lsa/volumes';
import { Prng } from '../util/prng';
import { ArrayModel, CRASH_GEOMETRY, crashShape, firstVolumeBytes, type IterationOutcome } from './crash-audit';
import { engineVolumes } from './crash-ops';
import { CrashWorkload, volumesKey, type CrashVolume, type CrashWorkloadShape } from './crash-workload';

/** Operations per worker: from ... */
export const KILL_OPS_MIN = 30;
/** ... to. */
export const KILL_OPS_MAX = 160;
/** A worker that has not finished by then is killed and reported as hung. */
export const WORKER_TIMEOUT_MS = 120_000;
/** Share of iterations where the kill point lies past the worker's last line (it finishes). */
const NO_KILL_SHARE = 0.08;

/** Share of iterations killed after a random time from the start instead of a line count. */
const EARLY_KILL_SHARE = 0.1;
const EARLY_KILL_WINDOW_MS = 400;

const WORKER_SCRIPT = joinPath(__dirname, 'crash-worker.js');

interface Reported {
  volumes: string | null;
  started: number;
  done: Set<number>;
  error: string | null;
  ended: boolean;
}

function parseLines(lines: string[]): Reported {
  const r: Reported = { volumes: null, started: -1, done: new Set(), error: null, ended: false };
  for (const line of lines) {
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (tag === 'R') r.volumes = rest;
    else if (tag === 'S') r.started = Math.max(r.started, Number(rest));
    else if (tag === 'D') r.done.add(Number(rest));
    else if (tag === 'X') r.error = rest;
    else if (tag === 'E') r.ended = true;
  }
  return r;
}

/** One array on real files, used by one worker after another (a group of iterations). */
export class KillArray {
  private model!: ArrayModel;
  private volumes: CrashVolume[] = [];
  private shape!: CrashWorkloadShape;

  private constructor(private dir: string) {}

  static async create(dir: string): Promise<KillArray> {
    const a = new KillArray(dir);
    const engine = await createArray(dir, { geometry: CRASH_GEOMETRY });
    try {
      await createVolume(engine, 'vol0', firstVolumeBytes(engine), 'none');
      a.model = ArrayModel.of(engine);
      a.volumes = engineVolumes(engine);
      a.shape = crashShape(engine);
    } finally {
      await engine.close();
    }
    return a;
  }

  async iteration(seed: number): Promise<IterationOutcome> {
    const rng = new Prng(seed);
    const ops = rng.range(KILL_OPS_MIN, KILL_OPS_MAX);
    const lineCount = 2 * ops + 2;
    const killAtLine = 1 + rng.int(Math.ceil(lineCount * (1 + NO_KILL_SHARE)));
    const killDelayMs = rng.int(3);
    const lines: string[] = [];
    const worker = startWorker(WORKER_SCRIPT, ['--dir', this.dir, '--seed', String(seed), '--ops', String(ops)]);
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      worker.kill();
    }, WORKER_TIMEOUT_MS);
    let killing = false;
    if (rng.chance(EARLY_KILL_SHARE)) {
      // killed by time, possibly before it reports anything: during startup or recovery on open
      killing = true;
      setTimeout(() => worker.kill(), rng.int(EARLY_KILL_WINDOW_MS));
    }
    worker.onLine((line) => {
      lines.push(line);
      if (!killing && lines.length >= killAtLine) {
        killing = true;
        setTimeout(() => worker.kill(), killDelayMs);
      }
    });
    let exit: WorkerExit;
    try {
      exit = await worker.exited;
    } finally {
      clearTimeout(timer);
    }
    const reported = parseLines(lines);
    const harness = this.harnessProblem(reported, exit, hung, worker.stderrTail());
    if (harness) return { flushedWritesChecked: 0, tracksChecked: 0, lost: 0, corrupt: 0, checkFailed: true, problems: [harness] };
    const workload = new CrashWorkload(seed, this.volumes, this.shape);
    for (let i = 0; i <= reported.started; i++) {
      const op = workload.next();
      this.model.starting(op);
      if (reported.done.has(i)) this.model.done(op);
    }
    let outcome: IterationOutcome;
    try {
      const engine = await openArray(this.dir);
      try {
        outcome = await this.model.audit(engine);
        this.volumes = engineVolumes(engine);
      } finally {
        await engine.close();
      }
    } catch (err) {
      return { flushedWritesChecked: 0, tracksChecked: 0, lost: 0, corrupt: 0, checkFailed: true, problems: [`reopen after the kill failed: ${(err as Error).message}`] };
    }
    if (reported.error) {
      outcome.checkFailed = true;
      outcome.problems.unshift(`the worker's operation failed: ${reported.error}`);
    }
    return outcome;
  }

  /** A problem with the worker itself (it could not start, hung, or died by itself). */
  private harnessProblem(r: Reported, exit: WorkerExit, hung: boolean, stderr: string): string | null {
    if (hung) return `the worker did not finish within ${WORKER_TIMEOUT_MS} ms (hung?)`;
    if (r.volumes !== null && r.volumes !== volumesKey(this.volumes)) {
      return `the worker started from volumes ${r.volumes}, the parent expected ${volumesKey(this.volumes)}`;
    }
    const killed = exit.signal === 'SIGKILL';
    if (!killed && exit.code !== 0 && !r.error) return `the worker exited with code ${exit.code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
    return null;
  }

  async close(): Promise<void> {}
}
