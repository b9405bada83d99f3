// Open/create helpers for tests: an engine over simulated or real disks, and the model check.

import { expect } from 'chai';
import type { Geometry } from '../../src/array/geometry';
import { SimDiskSystem } from '../../src/io/sim-disk';
import type { LsaEngine } from '../../src/lsa/engine';
import { MemoryNvram, type NvramStore } from '../../src/lsa/nvram';
import { createArray, openArray } from '../../src/lsa/open-array';
import { volumeOf, type Volume } from '../../src/volume/volume';
import type { Op } from '../../src/testing/workload';
import { firstDiff, type VolumeModel } from './model';

export interface Rig {
  dir: string;
  disks?: SimDiskSystem;
  nvram?: NvramStore;
  engine: LsaEngine;
}

export const SMALL: Geometry = { disks: 5, columnBytes: 64 * 1024, diskBytes: 16 * 1024 * 1024, trackBytes: 4096 };

export async function makeRig(dir: string, kind: 'sim' | 'real', geometry: Partial<Geometry>, capacityBytes: number, nvramKind: 'memory' | 'sqlite' = 'memory', compress = 'none'): Promise<Rig> {
  if (kind === 'real') {
    const engine = await createArray(dir, { geometry, volume: { name: 'vol0', capacityBytes, compress } });
    return { dir, engine };
  }
  const disks = new SimDiskSystem();
  const nvram = nvramKind === 'memory' ? new MemoryNvram() : undefined;
  const engine = await createArray(dir, { geometry, disks, nvram: nvram ?? 'sqlite', lock: false, volume: { name: 'vol0', capacityBytes, compress } });
  return { dir, disks, nvram, engine };
}

export async function reopenRig(rig: Rig): Promise<void> {
  await rig.engine.close();
  rig.engine = rig.disks
    ? await openArray(rig.dir, { disks: rig.disks, nvram: rig.nvram ?? 'sqlite', lock: false })
    : await openArray(rig.dir);
}

/** Simulated power loss: unsynced writes applied, dropped or torn; memory thrown away. */
export async function crashRig(rig: Rig, rng: import('../../src/util/prng').Prng): Promise<void> {
  await rig.engine.abandon();
  rig.disks!.crash(rng);
  rig.engine = await openArray(rig.dir, { disks: rig.disks, nvram: rig.nvram ?? 'sqlite', lock: false });
}

export function vol0(rig: Rig): Volume {
  return volumeOf(rig.engine, rig.engine.volumesByName.get('vol0')!);
}

/** Applies an op to the volume and the model; returns after the volume acknowledges it. */
export async function applyOp(v: Volume, model: VolumeModel, op: Op, seedInfo: string): Promise<void> {
  switch (op.kind) {
    case 'write':
      model.write(op.offset, op.data);
      await v.write(op.offset, op.data, { fua: op.fua });
      return;
    case 'trim':
      model.zero(op.offset, op.length);
      await v.trim(op.offset, op.length);
      return;
    case 'zero':
      model.zero(op.offset, op.length);
      await v.writeZeroes(op.offset, op.length, { noHole: op.noHole });
      return;
    case 'flush':
      await v.flush();
      return;
    case 'read': {
      const got = await v.read(op.offset, op.length);
      const want = model.read(op.offset, op.length);
      const d = firstDiff(got, want);
      if (d >= 0) expect.fail(`${seedInfo}: read ${op.offset}+${op.length} differs from the model at byte ${op.offset + d} (got ${got[d]}, want ${want[d]})`);
      return;
    }
    case 'reopen':
      return;
  }
}

export async function expectVolumeEquals(v: Volume, model: VolumeModel, seedInfo: string): Promise<void> {
  const step = 256 * 1024;
  for (let off = 0; off < model.sizeBytes; off += step) {
    const n = Math.min(step, model.sizeBytes - off);
    const got = await v.read(off, n);
    const d = firstDiff(got, model.read(off, n));
    if (d >= 0) expect.fail(`${seedInfo}: volume differs from the model at byte ${off + d}`);
  }
}
