// After a crash and a reopen: check every volume against its crash model and run the
// checker. Shared by the kill and the power modes of the crash campaign.

import { checkArray } from '../lsa/check';
import type { LsaEngine } from '../lsa/engine';
import { usableBytes } from '../lsa/volumes';
import { volumeByName } from '../volume/volume';
import type { Geometry } from '../array/geometry';
import { CrashModel } from './crash-model';
import type { CrashOp, CrashWorkloadShape } from './crash-workload';

/** A small array, so that the collector runs all the time and segments are reused. */
export const CRASH_GEOMETRY: Geometry = { disks: 4, columnBytes: 16 * 1024, diskBytes: 1024 * 1024, trackBytes: 4096 };

/** The first volume: half the usable space, ending in a partial track. */
export function firstVolumeBytes(engine: LsaEngine): number {
  const tb = engine.layout.trackBytes;
  return Math.floor((usableBytes(engine) * 0.5) / tb) * tb - 512;
}

export function crashShape(engine: LsaEngine): CrashWorkloadShape {
  const usable = usableBytes(engine);
  const tb = engine.layout.trackBytes;
  return { trackBytes: tb, capacityBudgetBytes: Math.floor(usable * 0.75), newVolumeBytesMin: 8 * tb, newVolumeBytesMax: Math.floor(usable * 0.1), tracksMax: 8 };
}

export interface IterationOutcome {
  flushedWritesChecked: number;
  tracksChecked: number;
  lost: number;
  corrupt: number;
  checkFailed: boolean;
  problems: string[];
}

export function emptyOutcome(): IterationOutcome {
  return { flushedWritesChecked: 0, tracksChecked: 0, lost: 0, corrupt: 0, checkFailed: false, problems: [] };
}

export function failed(o: IterationOutcome): boolean {
  return o.lost > 0 || o.corrupt > 0 || o.checkFailed;
}

/** The models of the volumes of one array, and the volumes whose creation was under way. */
export class ArrayModel {
  readonly volumes = new Map<string, CrashModel>();
  /** Volumes whose creation started but was not acknowledged: they may or may not exist. */
  readonly creating = new Set<string>();

  constructor(readonly trackBytes: number) {}

  static of(engine: LsaEngine): ArrayModel {
    const m = new ArrayModel(engine.layout.trackBytes);
    for (const v of engine.volumesById.values()) m.volumes.set(v.row.name, new CrashModel(v.row.capacityBytes, m.trackBytes));
    return m;
  }

  /** Call before issuing `op`. */
  starting(op: CrashOp): void {
    switch (op.kind) {
      case 'write':
        this.volumes.get(op.volume)!.change(op.offset, op.data.length, op.data);
        return;
      case 'trim':
      case 'zero':
        this.volumes.get(op.volume)!.change(op.offset, op.length, null);
        return;
      case 'create-volume':
        this.volumes.set(op.volume, new CrashModel(op.capacityBytes, this.trackBytes));
        this.creating.add(op.volume);
        return;
      default:
        return;
    }
  }

  /** Call when `op` was acknowledged. */
  done(op: CrashOp): void {
    if (op.kind === 'create-volume') this.creating.delete(op.volume);
    // a flush, FUA write or clean close makes every volume durable
    if (op.kind === 'flush' || op.kind === 'reopen' || (op.kind === 'write' && op.fua)) for (const m of this.volumes.values()) m.flushed();
  }

  /** Checks the reopened array; the models then take what was read as the durable state. */
  async audit(engine: LsaEngine): Promise<IterationOutcome> {
    const out = emptyOutcome();
    for (const [name, model] of [...this.volumes]) {
      out.flushedWritesChecked += model.changesFlushed;
      model.changesFlushed = 0;
      if (!engine.volumesByName.has(name)) {
        if (this.creating.has(name)) {
          this.volumes.delete(name);
          continue;
        }
        out.checkFailed = true;
        out.problems.push(`volume ${name} was created (acknowledged) but is gone after the crash`);
        continue;
      }
      const r = await model.audit(volumeByName(engine, name));
      out.tracksChecked += r.tracksChecked;
      out.lost += r.lost;
      out.corrupt += r.corrupt;
      out.problems.push(...r.problems.map((p) => `volume ${name} ${p}`));
    }
    this.creating.clear();
    for (const name of engine.volumesByName.keys()) {
      if (!this.volumes.has(name)) {
        out.checkFailed = true;
        out.problems.push(`volume ${name} exists after the crash, but nobody created it`);
      }
    }
    const report = await checkArray(engine);
    if (!report.ok) {
      out.checkFailed = true;
      out.problems.push(...report.problems.slice(0, 5).map((p) => `check: ${p.kind}: ${p.message}`));
    }
    return out;
  }
}
