// The collector at work: a tiny array kept near full, so collection runs all the time, under
// every policy; every read equals the model, the checker is clean, and a full array fails
// writes cleanly and recovers after a trim.

import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { collectorOf } from '../../src/lsa/collector';
import { GC_POLICIES } from '../../src/lsa/gc-policy';
import { createArray, openArray } from '../../src/lsa/open-array';
import { createVolume, usableBytes } from '../../src/lsa/volumes';
import { SimDiskSystem } from '../../src/io/sim-disk';
import { MemoryNvram } from '../../src/lsa/nvram';
import { Prng } from '../../src/util/prng';
import { randomOp, type Op } from '../../src/testing/workload';
import { volumeByName } from '../../src/volume/volume';
import { VolumeModel } from '../support/model';
import { applyOp, expectVolumeEquals } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

const TINY = { disks: 4, columnBytes: 32 * 1024, diskBytes: 2 * 1024 * 1024, trackBytes: 4096 };

describe('collector: differential under constant collection', function () {
  this.timeout(300_000);
  for (const policy of GC_POLICIES) {
    it(`${policy}: 10000 ops on a tiny array at 85% of its usable space`, async () => {
      const seed = seedFrom(500 + GC_POLICIES.indexOf(policy));
      const info = `policy ${policy} seed ${seed}`;
      const t = tmpDir();
      try {
        const disks = new SimDiskSystem();
        const nvram = new MemoryNvram();
        let engine = await createArray(t.dir, { geometry: TINY, disks, nvram, lock: false, gcPolicy: policy, volume: null });
        const capacity = Math.floor((usableBytes(engine) * 0.85) / 4096) * 4096;
        await createVolume(engine, 'vol0', capacity, 'none');
        let v = volumeByName(engine, 'vol0');
        const model = new VolumeModel(capacity);
        const rng = new Prng(seed);
        // fill every track first, so utilization is what it says
        const fill = Buffer.alloc(capacity);
        rng.fill(fill);
        await applyOp(v, model, { kind: 'write', offset: 0, data: fill, fua: false }, info);
        const shape = { sizeBytes: capacity, trackBytes: 4096, hotBytes: capacity / 10 };
        for (let i = 0; i < 10_000; i++) {
          const op: Op = randomOp(rng, shape);
          if (i % 2000 === 1999) {
            await engine.close();
            engine = await openArray(t.dir, { disks, nvram, lock: false, gcPolicy: policy });
            v = volumeByName(engine, 'vol0');
            continue;
          }
          await applyOp(v, model, op, `${info} op ${i}`);
        }
        await expectVolumeEquals(v, model, info);
        const report = await checkArray(engine);
        expect(report.problems, info).to.deep.equal([]);
        const collected = engine.stats.segmentsCollected;
        console.log(`      ${info}: ${collected} segments collected, write amplification ${((engine.stats.hostBytesWritten + engine.stats.gcBytesMoved) / engine.stats.hostBytesWritten).toFixed(2)}`);
        expect(collected).to.be.greaterThan(50);
        await engine.close();
      } finally {
        t.cleanup();
      }
    });
  }

  it('an overcommitted array that is truly full fails writes with LSA_OUT_OF_SPACE, loses nothing, and takes writes again after a trim', async () => {
    const t = tmpDir();
    try {
      const disks = new SimDiskSystem();
      const engine = await createArray(t.dir, { geometry: TINY, disks, nvram: new MemoryNvram(), lock: false, volume: null });
      const usable = usableBytes(engine);
      const capacity = Math.floor((usable * 1.5) / 4096) * 4096;
      await createVolume(engine, 'big', capacity, 'none', { overcommit: true });
      const v = volumeByName(engine, 'big');
      const model = new VolumeModel(capacity);
      const rng = new Prng(9);
      const chunk = 64 * 1024;
      let full = false;
      let at = 0;
      for (; at + chunk <= capacity; at += chunk) {
        const data = rng.fill(Buffer.alloc(chunk));
        try {
          await v.write(at, data);
          model.write(at, data);
        } catch (err) {
          expect((err as { code?: string }).code).to.equal('LSA_OUT_OF_SPACE');
          full = true;
          break;
        }
      }
      expect(full, 'the array filled up').to.equal(true);
      expect(at).to.be.greaterThan(usable * 0.9);
      await v.flush();
      await expectVolumeEquals(v, model, 'full array');
      // trim a third: writes go through again (the collector reclaims the trimmed space)
      await v.trim(0, Math.floor(at / 3 / 4096) * 4096);
      model.zero(0, Math.floor(at / 3 / 4096) * 4096);
      const trimmed = Math.floor(at / 3 / 4096) * 4096;
      for (let i = 0; (i + 1) * chunk <= trimmed * 0.8; i++) {
        const data = rng.fill(Buffer.alloc(chunk));
        await v.write(i * chunk, data);
        model.write(i * chunk, data);
      }
      await expectVolumeEquals(v, model, 'after trim');
      const report = await checkArray(engine);
      expect(report.problems).to.deep.equal([]);
      expect(collectorOf(engine)).to.not.equal(null);
      await engine.close();
    } finally {
      t.cleanup();
    }
  });

  // Many writes in flight while the collector runs near full: host writes take free segments
  // during the collector's reads, victims are 3/4 live, and sepbit spreads the moves over two
  // streams. Each of these once failed writes at 80% (engine poisoned or "array is full").
  for (const [policy, utilization, flushEach] of GC_POLICIES.flatMap((p) => [[p, 0.8, true], [p, 0.9, false]] as const)) {
    it(`${policy}: 32 writes in flight at utilization ${utilization}, ${flushEach ? 'a flush per window' : 'no flush until the end'}, volume equals the model`, async () => {
      const seed = seedFrom(540 + GC_POLICIES.indexOf(policy) + (flushEach ? 0 : 10));
      const info = `policy ${policy} seed ${seed}`;
      const t = tmpDir();
      try {
        const engine = await createArray(t.dir, { geometry: { ...TINY, diskBytes: 4 * 1024 * 1024 }, disks: new SimDiskSystem(), nvram: new MemoryNvram(), lock: false, gcPolicy: policy, volume: null });
        const capacity = Math.floor((usableBytes(engine) * utilization) / 4096) * 4096;
        await createVolume(engine, 'vol0', capacity, 'none');
        const v = volumeByName(engine, 'vol0');
        const model = new VolumeModel(capacity);
        const rng = new Prng(seed);
        const fill = rng.fill(Buffer.alloc(capacity));
        await v.write(0, fill);
        model.write(0, fill);
        const tracks = capacity / 4096;
        for (let w = 0; w < (3 * tracks) / 32; w++) {
          const writes: Promise<void>[] = [];
          for (let k = 0; k < 32; k++) {
            const off = rng.int(tracks) * 4096;
            const data = rng.fill(Buffer.alloc(4096));
            model.write(off, data); // writes in one window may hit one track: the last issued wins
            writes.push(v.write(off, data));
          }
          await Promise.all(writes);
          if (flushEach) await v.flush();
        }
        await v.flush();
        await expectVolumeEquals(v, model, info);
        expect((await checkArray(engine)).problems, info).to.deep.equal([]);
        expect(engine.stats.segmentsCollected, info).to.be.greaterThan(100);
        await engine.close();
      } finally {
        t.cleanup();
      }
    });
  }

  it('a victim whose moves run out of room half way stays closed, loses nothing, and is collected whole later', async () => {
    const t = tmpDir();
    try {
      const engine = await createArray(t.dir, { geometry: { ...TINY, columnBytes: 128 * 1024, diskBytes: 8 * 1024 * 1024 }, disks: new SimDiskSystem(), nvram: new MemoryNvram(), lock: false, volume: null });
      const capacity = 2 * 1024 * 1024;
      await createVolume(engine, 'vol0', capacity, 'none');
      const v = volumeByName(engine, 'vol0');
      const model = new VolumeModel(capacity);
      const rng = new Prng(77);
      const fill = rng.fill(Buffer.alloc(capacity));
      await v.write(0, fill);
      model.write(0, fill);
      // every 4th track rewritten: the first segments keep 3/4 of their records live
      for (let off = 0; off < capacity; off += 4 * 4096) {
        const data = rng.fill(Buffer.alloc(4096));
        await v.write(off, data);
        model.write(off, data);
      }
      await v.flush();
      const victim = engine.segments.rows.find((r) => r.state === 'closed' && r.liveBytes > 0)!.index;
      const liveBefore = engine.segments.row(victim).liveBytes;
      // room for the check before the victim's moves and for its first chunk, none after
      const realAvailable = engine.gcRecordsAvailable.bind(engine);
      let asked = 0;
      engine.gcRecordsAvailable = (bytes: number) => (++asked <= 2 ? realAvailable(bytes) : 0);
      const freed = await collectorOf(engine)!.evacuate([victim]);
      engine.gcRecordsAvailable = realAvailable;
      expect(asked, 'asked for room before each chunk').to.be.greaterThan(2);
      expect(freed).to.equal(0);
      const row = engine.segments.row(victim);
      expect(row.state).to.equal('closed');
      expect(row.liveBytes, 'the first chunk moved, the rest stayed').to.be.within(1, liveBefore - 1);
      await expectVolumeEquals(v, model, 'after the partial move');
      expect((await checkArray(engine)).problems).to.deep.equal([]);
      expect(await collectorOf(engine)!.evacuate([victim])).to.equal(1);
      await expectVolumeEquals(v, model, 'after collecting the rest');
      expect((await checkArray(engine)).problems).to.deep.equal([]);
      await engine.close();
    } finally {
      t.cleanup();
    }
  });
});
