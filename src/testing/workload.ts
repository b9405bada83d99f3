// Random block-device workloads from a seed, shared by the differential tests, the crash tests
// and `lsa crashtest`. Offsets and lengths are deliberately unaligned most of the time.

import type { Prng } from '../util/prng';
import type { Volume } from '../volume/volume';

export type Op =
  | { kind: 'write'; offset: number; data: Buffer; fua: boolean }
  | { kind: 'read'; offset: number; length: number }
  | { kind: 'trim'; offset: number; length: number }
  | { kind: 'zero'; offset: number; length: number; noHole: boolean }
  | { kind: 'flush' }
  | { kind: 'reopen' };

export interface WorkloadShape {
  sizeBytes: number;
  trackBytes: number;
  /** Longest single operation in tracks. */
  tracksMax?: number;
  reopenChance?: number;
  /** Restrict writes to this many bytes at the start of the volume (a hot spot), if set. */
  hotBytes?: number;
}

export function randomRange(rng: Prng, shape: WorkloadShape): { offset: number; length: number } {
  const tb = shape.trackBytes;
  const size = shape.hotBytes && rng.chance(0.5) ? Math.min(shape.hotBytes, shape.sizeBytes) : shape.sizeBytes;
  const tracksMax = shape.tracksMax ?? 4;
  const style = rng.int(10);
  let offset: number;
  let length: number;
  if (style < 3) {
    // whole tracks
    const tracks = Math.max(1, Math.floor(size / tb));
    const n = rng.range(1, tracksMax);
    const t = rng.int(tracks);
    offset = t * tb;
    length = Math.min(n * tb, shape.sizeBytes - offset);
  } else if (style < 5) {
    // small, sector-ish
    length = rng.range(1, 1024);
    offset = rng.int(Math.max(1, size - length + 1));
  } else {
    length = rng.range(1, tracksMax * tb);
    offset = rng.int(Math.max(1, size - length + 1));
  }
  if (offset + length > shape.sizeBytes) length = shape.sizeBytes - offset;
  return { offset, length: Math.max(1, length) };
}

export function randomOp(rng: Prng, shape: WorkloadShape): Op {
  const r = rng.next();
  const reopen = shape.reopenChance ?? 0;
  if (r < reopen) return { kind: 'reopen' };
  const x = rng.next();
  if (x < 0.5) {
    const { offset, length } = randomRange(rng, shape);
    const data = Buffer.alloc(length);
    if (!rng.chance(0.05)) rng.fill(data); // 5% zero-filled writes
    return { kind: 'write', offset, data, fua: rng.chance(0.05) };
  }
  if (x < 0.72) return { kind: 'read', ...randomRange(rng, shape) };
  if (x < 0.8) return { kind: 'trim', ...randomRange(rng, shape) };
  if (x < 0.86) return { kind: 'zero', ...randomRange(rng, shape), noHole: rng.chance(0.5) };
  return { kind: 'flush' };
}

/** Does a write, trim, zero or flush on `v` (reads and reopens are the caller's). Returns
 * false for an operation it left alone. */
export async function applyHostOp(v: Volume, op: Op): Promise<boolean> {
  if (op.kind === 'write') await v.write(op.offset, op.data, { fua: op.fua });
  else if (op.kind === 'trim') await v.trim(op.offset, op.length);
  else if (op.kind === 'zero') await v.writeZeroes(op.offset, op.length, { noHole: op.noHole });
  else if (op.kind === 'flush') await v.flush();
  else return false;
  return true;
}
