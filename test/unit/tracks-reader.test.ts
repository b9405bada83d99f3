// Reads of many tracks at once (src/lsa/tracks-reader.ts): records that lie one after the other
// on disk are read with one read per stretch, and every read still equals the model, with
// writes, trims and the collector moving records under the reads. Replay a failure with
// LSA_SEED=<seed> npm test -- tracks-reader.

import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { Prng } from '../../src/util/prng';
import { randomOp } from '../../src/testing/workload';
import { VolumeModel, firstDiff } from '../support/model';
import { applyOp, makeRig, reopenRig, vol0, SMALL, type Rig } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

const MIB = 1024 * 1024;

/** Counts the array's column reads while `run` runs. */
async function countReads(rig: Rig, run: () => Promise<void>): Promise<number> {
  const array = rig.engine.array;
  const original = array.readColumn.bind(array);
  let reads = 0;
  array.readColumn = (...args: Parameters<typeof original>) => {
    reads++;
    return original(...args);
  };
  try {
    await run();
  } finally {
    array.readColumn = original;
  }
  return reads;
}

async function expectRead(rig: Rig, model: VolumeModel, offset: number, length: number, info: string): Promise<void> {
  const got = await vol0(rig).read(offset, length);
  const want = model.read(offset, length);
  const d = firstDiff(got, want);
  if (d >= 0) expect.fail(`${info}: read ${offset}+${length} differs from the model at byte ${offset + d} (got ${got[d]}, want ${want[d]})`);
}

describe('reads of many tracks (stretches)', function () {
  this.timeout(300_000);

  it('a 1 MiB read of sequentially written tracks takes a few disk reads, not one per track (real files)', async () => {
    const t = tmpDir();
    try {
      const capacity = 8 * MIB;
      const rig = await makeRig(t.dir, 'real', { ...SMALL, diskBytes: 32 * MIB }, capacity, 'sqlite');
      const model = new VolumeModel(capacity);
      const data = new Prng(11).fill(Buffer.alloc(capacity));
      await vol0(rig).write(0, data);
      model.write(0, data);
      await reopenRig(rig); // every segment on disk, none in memory
      let reads = 0;
      for (let off = 0; off < capacity; off += MIB) {
        reads += await countReads(rig, () => expectRead(rig, model, off, MIB, 'sequential'));
      }
      // 256 tracks per MiB; a 64 KiB column holds 15 records of 4 KiB + header, so a MiB spans
      // about 18 columns: one read each
      const tracks = capacity / 4096;
      console.log(`      ${tracks} tracks read with ${reads} disk reads`);
      expect(reads).to.be.lessThan(tracks / 10);
      // an unaligned read spanning tracks reads the ends on their own and the middle in stretches
      await expectRead(rig, model, 4096 * 3 + 17, 3 * MIB - 999, 'unaligned');
      await expectRead(rig, model, 100, 10, 'inside one track');
      await rig.engine.close();
    } finally {
      t.cleanup();
    }
  });

  for (const compress of ['none', 'lz4']) {
    it(`random writes, trims and long reads with the collector at work (${compress}, sim disks + SQLite)`, async () => {
      const seed = seedFrom(compress === 'none' ? 71 : 72);
      const info = `seed ${seed} compress ${compress}`;
      console.log(`      ${info} (replay: LSA_SEED=${seed} npm test -- tracks-reader)`);
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const capacity = 3 * MIB;
        const rig = await makeRig(t.dir, 'sim', { ...SMALL, diskBytes: 8 * MIB }, capacity, 'sqlite', compress);
        const model = new VolumeModel(capacity);
        const shape = { sizeBytes: capacity, trackBytes: 4096, tracksMax: 64 };
        for (let i = 0; i < 3000; i++) {
          const op = randomOp(rng, shape);
          if (op.kind === 'reopen') continue;
          if (rng.chance(0.05)) await reopenRig(rig);
          if (rng.chance(0.1)) {
            // a long read with writes in flight beside it: it sees each track either before or
            // after the concurrent write of it, and the model is checked after both
            const offset = rng.int(capacity / 2);
            const length = rng.range(1, capacity - offset);
            const before = model.read(offset, length);
            const w = randomOp(rng, { ...shape, tracksMax: 4 });
            const reading = vol0(rig).read(offset, length);
            if (w.kind === 'write') await applyOp(vol0(rig), model, w, `${info} op ${i}`);
            const got = await reading;
            const after = model.read(offset, length);
            for (let b = 0; b < length;) {
              const end = Math.min(length, (Math.floor((offset + b) / 4096) + 1) * 4096 - offset);
              const part = got.subarray(b, end);
              if (!part.equals(before.subarray(b, end)) && !part.equals(after.subarray(b, end))) {
                expect.fail(`${info} op ${i}: bytes ${offset + b}..${offset + end - 1} are neither the old nor the new content`);
              }
              b = end;
            }
            continue;
          }
          await applyOp(vol0(rig), model, op, `${info} op ${i}`);
        }
        await rig.engine.flush();
        expect(rig.engine.stats.segmentsCollected, 'the collector ran').to.be.greaterThan(0);
        for (let off = 0; off < capacity; off += MIB) await expectRead(rig, model, off, MIB, `${info} final`);
        expect((await checkArray(rig.engine)).problems).to.deep.equal([]);
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    });
  }
});
