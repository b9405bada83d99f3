// Differential test: random operation sequences against a plain byte array. Replay a failure
// with LSA_SEED=<seed> npm test -- differential.

import { expect } from 'chai';
import type { Geometry } from '../../src/array/geometry';
import { checkArray } from '../../src/lsa/check';
import { Prng } from '../../src/util/prng';
import { randomOp, type Op } from '../../src/testing/workload';
import { VolumeModel } from '../support/model';
import { applyOp, expectVolumeEquals, makeRig, reopenRig, vol0, SMALL } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

interface Case {
  name: string;
  kind: 'sim' | 'real';
  nvram: 'memory' | 'sqlite';
  geometry: Partial<Geometry>;
  capacity: number;
  ops: number;
  seed: number;
}

const CASES: Case[] = [
  { name: '5 disks, 4KiB tracks, sim', kind: 'sim', nvram: 'memory', geometry: { ...SMALL, diskBytes: 48 * 1024 * 1024 }, capacity: 2 * 1024 * 1024 + 512, ops: 10_000, seed: 1 },
  { name: '3 disks, 8KiB tracks, sim', kind: 'sim', nvram: 'memory', geometry: { disks: 3, columnBytes: 128 * 1024, diskBytes: 96 * 1024 * 1024, trackBytes: 8192 }, capacity: 3 * 1024 * 1024, ops: 10_000, seed: 2 },
  { name: '4 disks, 64KiB tracks, sim + SQLite', kind: 'sim', nvram: 'sqlite', geometry: { disks: 4, columnBytes: 512 * 1024, diskBytes: 160 * 1024 * 1024, trackBytes: 65536 }, capacity: 8 * 1024 * 1024, ops: 5_000, seed: 3 },
  { name: '5 disks, real files + SQLite', kind: 'real', nvram: 'sqlite', geometry: { ...SMALL, diskBytes: 48 * 1024 * 1024 }, capacity: 2 * 1024 * 1024, ops: 10_000, seed: 4 },
];

describe('differential: volume API against a byte-array model', function () {
  this.timeout(600_000);
  for (const c of CASES) {
    it(`${c.name}: ${c.ops} random ops`, async () => {
      const seed = seedFrom(c.seed);
      const info = `case "${c.name}" seed ${seed}`;
      console.log(`      ${info} (replay: LSA_SEED=${seed} npm test -- differential)`);
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, c.kind, c.geometry, c.capacity, c.nvram);
        const model = new VolumeModel(c.capacity);
        let v = vol0(rig);
        const shape = { sizeBytes: c.capacity, trackBytes: v.trackBytes, reopenChance: 0.002 };
        for (let i = 0; i < c.ops; i++) {
          const op = randomOp(rng, shape);
          if (op.kind === 'reopen') {
            await reopenRig(rig);
            v = vol0(rig);
            continue;
          }
          if (op.kind !== 'read' && rng.chance(0.1)) {
            // several writes in flight at once; they apply in issue order
            const batch: Op[] = [op];
            for (let k = rng.range(1, 6); k > 0; k--) {
              const o = randomOp(rng, shape);
              if (o.kind !== 'read' && o.kind !== 'reopen') batch.push(o);
            }
            await Promise.all(batch.map((o) => applyOp(v, model, o, `${info} op ${i}`)));
            continue;
          }
          await applyOp(v, model, op, `${info} op ${i}`);
        }
        await expectVolumeEquals(v, model, info);
        const report = await checkArray(rig.engine);
        expect(report.problems, info).to.deep.equal([]);
        await reopenRig(rig);
        await expectVolumeEquals(vol0(rig), model, `${info} after reopen`);
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    });
  }
});
