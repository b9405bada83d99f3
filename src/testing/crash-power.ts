// Power mode of the crash campaign: the workload runs in this process on the simulated disk,
// and the power goes out at a random disk write, sync or NVRAM commit (power-cut.ts), or after
// the last operation. Unsynced writes are then applied, dropped or torn at random, the array is
// reopened (recovery on open) and audited. Everything is deterministic from the seed: the
// clock is simulated too, so a printed seed replays the same run.

import type { Clock } from '../io/clock';
import { SimDiskSystem } from '../io/sim-disk';
import { joinPath } from '../io/files';
import type { LsaEngine } from '../lsa/engine';
import { MemoryNvram, type NvramStore } from '../lsa/nvram';
import { createArray, openArray } from '../lsa/open-array';
import { NVRAM_FILE, SqliteNvram } from '../lsa/sqlite-nvram';
import { createVolume } from '../lsa/volumes';
import { Prng } from '../util/prng';
import { ArrayModel, CRASH_GEOMETRY, crashShape, firstVolumeBytes, type IterationOutcome } from './crash-audit';
import { runCrashOp, engineVolumes } from './crash-ops';
import { CrashWorkload } from './crash-workload';
import { PowerCut } from './power-cut';

/** Operations per iteration: from ... */
export const POWER_OPS_MIN = 20;
/** ... to. */
export const POWER_OPS_MAX = 150;
/** Iterations whose recovery on open is itself cut short by a second power loss. */
const CRASH_IN_RECOVERY_SHARE = 0.15;
/** Before any full run is seen, cut points are drawn up to this many counted I/O operations. */
const CUT_RANGE_INITIAL = 400;

function simClock(): Clock {
  let ms = Date.UTC(2024, 0, 1);
  return { nowMs: () => (ms += 1) };
}

/** One array on a simulated disk, crashed again and again (a group of iterations). */
export class PowerArray {
  private sim = new SimDiskSystem();
  private cut = new PowerCut();
  private clock = simClock();
  private memory: MemoryNvram | null;
  private engine!: LsaEngine;
  private model!: ArrayModel;
  /** The most counted operations a whole iteration took: cut points are drawn below it. */
  private cutRange = CUT_RANGE_INITIAL;

  private constructor(private dir: string, sqlite: boolean) {
    this.memory = sqlite ? null : new MemoryNvram();
  }

  /** `dir` holds nvram.sqlite when `sqlite` (the disks are simulated either way). */
  static async create(dir: string, sqlite: boolean): Promise<PowerArray> {
    const a = new PowerArray(dir, sqlite);
    a.engine = await createArray(dir, {
      geometry: CRASH_GEOMETRY, disks: a.cut.disks(a.sim), nvram: a.memory ? a.cut.nvram(a.memory) : 'sqlite', lock: false, clock: a.clock,
    });
    await createVolume(a.engine, 'vol0', firstVolumeBytes(a.engine), 'none');
    a.model = ArrayModel.of(a.engine);
    return a;
  }

  private store(cut: PowerCut): NvramStore {
    return cut.nvram(this.memory ?? new SqliteNvram(joinPath(this.dir, NVRAM_FILE), false, this.dir));
  }

  private open(cut: PowerCut): Promise<LsaEngine> {
    return openArray(this.dir, { disks: cut.disks(this.sim), nvram: this.store(cut), lock: false, clock: this.clock });
  }

  async iteration(seed: number): Promise<IterationOutcome> {
    const rng = new Prng(seed);
    const ops = rng.range(POWER_OPS_MIN, POWER_OPS_MAX);
    const cut = this.cut;
    const startOps = cut.ops;
    cut.armAt(rng.range(1, this.cutRange));
    const workload = new CrashWorkload(seed, engineVolumes(this.engine), crashShape(this.engine));
    const holder = { engine: this.engine, reopen: () => this.open(cut) };
    let unexpected: string | null = null;
    for (let i = 0; i < ops && !cut.tripped; i++) {
      const op = workload.next();
      this.model.starting(op);
      try {
        await runCrashOp(holder, op);
      } catch (err) {
        if (!cut.tripped) unexpected = `op ${i} (${op.kind}) failed without a power cut: ${(err as Error).message}`;
        break;
      }
      if (cut.tripped) break; // acknowledged, but the power went out meanwhile: not durable
      this.model.done(op);
    }
    if (!cut.tripped) this.cutRange = Math.max(this.cutRange, cut.ops - startOps);
    cut.armAt(1); // whatever still runs in the background finds the power out
    await settle();
    await holder.engine.abandon();
    this.sim.crash(rng);
    if (rng.chance(CRASH_IN_RECOVERY_SHARE)) await this.crashDuringOpen(rng);
    this.cut = new PowerCut();
    let outcome: IterationOutcome;
    try {
      this.engine = await this.open(this.cut);
      outcome = await this.model.audit(this.engine);
    } catch (err) {
      outcome = { flushedWritesChecked: 0, tracksChecked: 0, lost: 0, corrupt: 0, checkFailed: true, problems: [`reopen after the crash failed: ${(err as Error).message}`] };
      this.engine = null as unknown as LsaEngine;
    }
    if (unexpected) {
      outcome.checkFailed = true;
      outcome.problems.unshift(unexpected);
    }
    return outcome;
  }

  /** The power goes out again while recovery on open writes (superblocks, for instance). */
  private async crashDuringOpen(rng: Prng): Promise<void> {
    const cut = new PowerCut();
    cut.armAt(rng.range(1, 4));
    try {
      const engine = await this.open(cut);
      cut.armAt(1);
      await engine.abandon();
    } catch {
      // the cut hit the open: that is the point
    }
    this.sim.crash(rng);
  }

  async close(): Promise<void> {
    await this.engine?.close();
  }
}

/** Lets background work (the collector, the destager) run into the cut before the crash. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
