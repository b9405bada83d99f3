// The workload of the crash campaign (`lsa crashtest`): a deterministic stream of operations
// from (seed, the volumes that exist at the start). The worker process that runs it and the
// parent that checks the result both generate it, so no data crosses the pipe: the worker
// only says which operation it starts and which it finished.

import { Prng } from '../util/prng';
import { randomRange, type WorkloadShape } from './workload';

export type CrashOp =
  | { kind: 'write'; volume: string; offset: number; data: Buffer; fua: boolean }
  | { kind: 'trim'; volume: string; offset: number; length: number }
  | { kind: 'zero'; volume: string; offset: number; length: number; noHole: boolean }
  | { kind: 'flush' }
  | { kind: 'gc' }
  | { kind: 'create-volume'; volume: string; capacityBytes: number }
  | { kind: 'reopen' };

export interface CrashVolume {
  name: string;
  capacityBytes: number;
}

export interface CrashWorkloadShape {
  trackBytes: number;
  /** Total capacity the volumes may reach with the ones this workload creates. */
  capacityBudgetBytes: number;
  /** Capacity of a created volume: from this ... */
  newVolumeBytesMin: number;
  /** ... to this. */
  newVolumeBytesMax: number;
  tracksMax: number;
}

/** Is this op complete only when it is durable (its "done" is a flush point)? */
export function isDurablePoint(op: CrashOp): boolean {
  return op.kind === 'flush' || op.kind === 'reopen' || (op.kind === 'write' && op.fua);
}

/** A summary of the volume list, printed by the worker so the parent knows both sides start
 * from the same state. */
export function volumesKey(volumes: CrashVolume[]): string {
  return volumes.map((v) => `${v.name}:${v.capacityBytes}`).join(',');
}

export class CrashWorkload {
  private rng: Prng;
  private volumes: CrashVolume[];

  constructor(seed: number, volumes: CrashVolume[], private shape: CrashWorkloadShape) {
    this.rng = new Prng(seed);
    this.volumes = volumes.map((v) => ({ ...v }));
  }

  private pickVolume(): CrashVolume {
    // the first volume gets most of the traffic, so the collector has work
    return this.volumes.length === 1 || this.rng.chance(0.6) ? this.volumes[0] : this.rng.pick(this.volumes.slice(1));
  }

  private rangeIn(v: CrashVolume): { offset: number; length: number } {
    const shape: WorkloadShape = { sizeBytes: v.capacityBytes, trackBytes: this.shape.trackBytes, tracksMax: this.shape.tracksMax, hotBytes: v.capacityBytes / 6 };
    return randomRange(this.rng, shape);
  }

  private newVolume(): CrashOp | null {
    const used = this.volumes.reduce((s, v) => s + Math.ceil(v.capacityBytes / this.shape.trackBytes) * this.shape.trackBytes, 0);
    const room = this.shape.capacityBudgetBytes - used;
    if (room < this.shape.newVolumeBytesMin) return null;
    const most = Math.min(room, this.shape.newVolumeBytesMax);
    const capacityBytes = Math.floor(this.rng.range(this.shape.newVolumeBytesMin, most) / 512) * 512;
    let n = this.volumes.length;
    while (this.volumes.some((v) => v.name === `vol${n}`)) n++;
    const volume = { name: `vol${n}`, capacityBytes };
    this.volumes.push(volume);
    return { kind: 'create-volume', volume: volume.name, capacityBytes };
  }

  next(): CrashOp {
    for (;;) {
      const x = this.rng.next();
      if (x < 0.5) {
        const v = this.pickVolume();
        const { offset, length } = this.rangeIn(v);
        const data = Buffer.alloc(length);
        if (!this.rng.chance(0.05)) this.rng.fill(data); // some all-zero writes: ZERO records
        return { kind: 'write', volume: v.name, offset, data, fua: this.rng.chance(0.06) };
      }
      if (x < 0.6) {
        const v = this.pickVolume();
        return { kind: 'trim', volume: v.name, ...this.rangeIn(v) };
      }
      if (x < 0.66) {
        const v = this.pickVolume();
        return { kind: 'zero', volume: v.name, ...this.rangeIn(v), noHole: this.rng.chance(0.5) };
      }
      if (x < 0.8) return { kind: 'flush' };
      if (x < 0.84) return { kind: 'gc' };
      if (x < 0.855) {
        const op = this.newVolume();
        if (op) return op;
        continue;
      }
      if (x < 0.87) return { kind: 'reopen' };
      // the rest: more writes of whole tracks, the common case of a real client
      const v = this.pickVolume();
      const tb = this.shape.trackBytes;
      const tracks = Math.floor(v.capacityBytes / tb);
      if (tracks < 1) continue;
      const n = Math.min(this.rng.range(1, this.shape.tracksMax), tracks);
      const first = this.rng.int(tracks - n + 1);
      return { kind: 'write', volume: v.name, offset: first * tb, data: this.rng.fill(Buffer.alloc(n * tb)), fua: false };
    }
  }
}
