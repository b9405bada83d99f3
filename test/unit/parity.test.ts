// Parity at work: losing any one disk loses nothing (real files), bit rot is repaired from
// parity, two damaged columns fail with a typed error and never return wrong bytes, and a
// power loss followed by a disk loss keeps every flushed write.

import { expect } from 'chai';
import * as fs from 'node:fs';
import { diskPath } from '../../src/array/disk-array';
import { checkArray } from '../../src/lsa/check';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray, openArray } from '../../src/lsa/open-array';
import { rebuildDisk } from '../../src/lsa/rebuild-disk';
import { Prng } from '../../src/util/prng';
import { randomOp } from '../../src/testing/workload';
import { volumeByName } from '../../src/volume/volume';
import { VolumeModel } from '../support/model';
import { CrashModel } from '../support/crash-model';
import { applyOp, expectVolumeEquals, makeRig } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

const GEO5 = { disks: 5, columnBytes: 64 * 1024, diskBytes: 4 * 1024 * 1024, trackBytes: 4096 };
const GEO3 = { disks: 3, columnBytes: 64 * 1024, diskBytes: 6 * 1024 * 1024, trackBytes: 4096 };

async function writeWorkload(engine: LsaEngine, model: VolumeModel, rng: Prng, ops: number, info: string): Promise<void> {
  const v = volumeByName(engine, 'vol0');
  const shape = { sizeBytes: model.sizeBytes, trackBytes: 4096, tracksMax: 8 };
  for (let i = 0; i < ops; i++) await applyOp(v, model, randomOp(rng, shape), `${info} op ${i}`);
  await v.flush();
}

/** Columns of closed segments on `disk`: data columns that hold live records, and parity. */
function closedColumns(engine: LsaEngine, disk: number): { segment: number; offset: number }[] {
  const out: { segment: number; offset: number }[] = [];
  for (const row of engine.segments.rows) {
    if (row.state !== 'closed') continue;
    const column = engine.layout.columnOnDisk(row.index, disk);
    if (column < 0 || row.liveBytes > 0) out.push({ segment: row.index, offset: engine.layout.segmentOffset(row.index) });
  }
  return out;
}

describe('parity: degraded reads and writes, rebuild', function () {
  this.timeout(300_000);
  for (const geometry of [GEO5, GEO3]) {
    for (const damage of ['delete', 'zero', 'truncate'] as const) {
      it(`${geometry.disks} disks: ${damage} each disk in turn; reads equal the model, writes go on, rebuild gives the same file back`, async () => {
        const seed = seedFrom(700 + geometry.disks * 10 + ['delete', 'zero', 'truncate'].indexOf(damage));
        for (let disk = 0; disk < geometry.disks; disk++) {
          const info = `${geometry.disks} disks, ${damage} disk ${disk}, seed ${seed}`;
          const t = tmpDir();
          try {
            const capacity = 1024 * 1024;
            let engine = await createArray(t.dir, { geometry, volume: { name: 'vol0', capacityBytes: capacity } });
            const model = new VolumeModel(capacity);
            const rng = new Prng(seed + disk);
            await writeWorkload(engine, model, rng, 300, info);
            await engine.close();
            const p = diskPath(t.dir, disk);
            const original = fs.readFileSync(p);
            if (damage === 'delete') fs.rmSync(p);
            else if (damage === 'zero') fs.writeFileSync(p, Buffer.alloc(original.length));
            else fs.truncateSync(p, Math.floor(original.length / 3));

            engine = await openArray(t.dir);
            expect(engine.array.degraded, info).to.equal(true);
            await expectVolumeEquals(volumeByName(engine, 'vol0'), model, `${info}: degraded read`);
            const before = await checkArray(engine);
            expect(before.problems.map((x) => x.kind), info).to.deep.equal(['disk-failed']);
            const columns = closedColumns(engine, disk);
            await rebuildDisk(engine, disk);
            expect(engine.array.degraded, info).to.equal(false);
            const rebuilt = fs.readFileSync(p);
            const cb = geometry.columnBytes;
            for (const c of columns) {
              const same = rebuilt.subarray(c.offset, c.offset + cb).equals(original.subarray(c.offset, c.offset + cb));
              expect(same, `${info}: rebuilt column of segment ${c.segment}`).to.equal(true);
            }
            // writes go on, then everything checks out
            await writeWorkload(engine, model, rng, 100, `${info} after rebuild`);
            await expectVolumeEquals(volumeByName(engine, 'vol0'), model, `${info}: after rebuild`);
            const after = await checkArray(engine);
            expect(after.problems, info).to.deep.equal([]);
            await engine.close();
          } finally {
            t.cleanup();
          }
        }
      });
    }
  }

  it('writes go on while degraded, and survive a restart and a rebuild', async () => {
    const seed = seedFrom(801);
    const t = tmpDir();
    try {
      const capacity = 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: GEO5, volume: { name: 'vol0', capacityBytes: capacity } });
      const model = new VolumeModel(capacity);
      const rng = new Prng(seed);
      await writeWorkload(engine, model, rng, 200, 'healthy');
      await engine.close();
      fs.rmSync(diskPath(t.dir, 2));
      engine = await openArray(t.dir);
      await writeWorkload(engine, model, rng, 400, 'degraded');
      await engine.close();
      engine = await openArray(t.dir);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'degraded, after restart');
      await rebuildDisk(engine, 2);
      await engine.close();
      engine = await openArray(t.dir);
      expect(engine.array.degraded).to.equal(false);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'rebuilt, after restart');
      expect((await checkArray(engine)).problems).to.deep.equal([]);
      await engine.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('parity: bit rot', function () {
  this.timeout(300_000);

  it('hundreds of flipped bytes in one column per segment: reads are right, check --repair fixes all, a second check is clean', async () => {
    const seed = seedFrom(901);
    const t = tmpDir();
    try {
      const capacity = 2 * 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: { ...GEO5, diskBytes: 8 * 1024 * 1024 }, volume: { name: 'vol0', capacityBytes: capacity } });
      const model = new VolumeModel(capacity);
      const rng = new Prng(seed);
      await writeWorkload(engine, model, rng, 600, 'bitrot');
      const closed = engine.segments.rows.filter((r) => r.state === 'closed').map((r) => r.index);
      const layout = engine.layout;
      await engine.close();
      let flipped = 0;
      for (const s of closed) {
        const column = rng.int(layout.dataColumns);
        const p = diskPath(t.dir, layout.dataDisk(s, column));
        const fd = fs.openSync(p, 'r+');
        for (let k = 0; k < 30; k++) {
          const at = layout.segmentOffset(s) + rng.int(layout.columnBytes);
          const b = Buffer.alloc(1);
          fs.readSync(fd, b, 0, 1, at);
          b[0] ^= 1 << rng.int(8);
          fs.writeSync(fd, b, 0, 1, at);
          flipped++;
        }
        fs.closeSync(fd);
      }
      expect(flipped).to.be.greaterThan(200);
      engine = await openArray(t.dir);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'reads over bit rot');
      const repaired = await checkArray(engine, { repair: true });
      expect(repaired.unrepaired, JSON.stringify(repaired.problems.filter((p) => !p.repaired).slice(0, 3))).to.equal(0);
      expect(repaired.ok).to.equal(true);
      await engine.close();
      engine = await openArray(t.dir);
      const again = await checkArray(engine);
      expect(again.problems).to.deep.equal([]);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'after repair');
      console.log(`      ${flipped} bytes flipped in ${closed.length} segments; ${engine.stats.recordsRepaired} records rebuilt from parity`);
      await engine.close();
    } finally {
      t.cleanup();
    }
  });

  it('damage in two columns of one segment: those tracks fail with a typed error naming the range, the rest reads right', async () => {
    const t = tmpDir();
    try {
      const capacity = 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: GEO5, volume: { name: 'vol0', capacityBytes: capacity } });
      const data = new Prng(5).fill(Buffer.alloc(capacity));
      const v0 = volumeByName(engine, 'vol0');
      await v0.write(0, data);
      await v0.flush();
      const layout = engine.layout;
      const s = engine.segments.rows.find((r) => r.state === 'closed')!.index;
      await engine.close();
      // the same offsets of columns 0 and 1 of segment s: parity cannot rebuild either
      for (const column of [0, 1]) {
        const fd = fs.openSync(diskPath(t.dir, layout.dataDisk(s, column)), 'r+');
        fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, layout.segmentOffset(s) + 5000);
        fs.closeSync(fd);
      }
      engine = await openArray(t.dir);
      const v = volumeByName(engine, 'vol0');
      let failed = 0;
      for (let off = 0; off < capacity; off += 4096) {
        try {
          const got = await v.read(off, 4096);
          expect(got.equals(data.subarray(off, off + 4096)), `track at ${off} read wrong bytes`).to.equal(true);
        } catch (err) {
          const e = err as { code?: string; message: string; data?: Record<string, unknown> };
          expect(['LSA_CORRUPTION', 'LSA_DATA_LOST']).to.include(e.code);
          expect(e.message).to.include('vol0');
          expect(e.data?.offset).to.equal(off);
          failed++;
        }
      }
      expect(failed).to.be.within(2, 4);
      await engine.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('parity: power loss, then a disk loss', function () {
  this.timeout(300_000);

  it('every flushed write survives a crash followed by the loss of any one disk (open segment included)', async () => {
    const base = seedFrom(1300);
    const geometry = { disks: 4, columnBytes: 16 * 1024, diskBytes: 2 * 1024 * 1024, trackBytes: 4096 };
    const capacity = 256 * 1024;
    let points = 0;
    for (let s = 0; s < 30; s++) {
      const seed = base + s;
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', geometry, capacity, s % 3 === 0 ? 'sqlite' : 'memory');
        const model = new CrashModel(capacity, 4096);
        const shape = { sizeBytes: capacity, trackBytes: 4096, tracksMax: 6 };
        for (let round = 0; round < 4; round++) {
          const v = volumeByName(rig.engine, 'vol0');
          for (let i = rng.range(5, 60); i > 0; i--) {
            const op = randomOp(rng, shape);
            if (op.kind === 'write') {
              model.change(op.offset, op.data.length, op.data);
              await v.write(op.offset, op.data, { fua: op.fua });
              if (op.fua) model.flushed();
            } else if (op.kind === 'trim' || op.kind === 'zero') {
              model.change(op.offset, op.length, null);
              await v.trim(op.offset, op.length);
            } else if (op.kind === 'flush') {
              await v.flush();
              model.flushed();
            }
          }
          await rig.engine.abandon();
          rig.disks!.crash(rng);
          const lost = rng.int(geometry.disks);
          rig.disks!.remove(diskPath(t.dir, lost));
          const engine = await openArray(t.dir, { disks: rig.disks, nvram: rig.nvram ?? 'sqlite', lock: false });
          expect(engine.array.degraded).to.equal(true);
          const { problem } = await model.verify(volumeByName(engine, 'vol0'));
          if (problem) expect.fail(`seed ${seed} round ${round}, disk ${lost} lost after the crash: ${problem}`);
          await rebuildDisk(engine, lost);
          const report = await checkArray(engine);
          expect(report.problems, `seed ${seed} round ${round}`).to.deep.equal([]);
          rig.engine = engine;
          points++;
        }
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    }
    console.log(`      ${points} crash + disk-loss points (seeds ${base}..${base + 29})`);
  });
});

describe('parity: rebuild is resumable', function () {
  this.timeout(120_000);

  it('a rebuild stopped half way continues where it stopped, and the disk is trusted only when complete', async () => {
    const t = tmpDir();
    try {
      const capacity = 2 * 1024 * 1024;
      let engine = await createArray(t.dir, { geometry: { ...GEO5, diskBytes: 8 * 1024 * 1024 }, volume: { name: 'vol0', capacityBytes: capacity } });
      const model = new VolumeModel(capacity);
      await writeWorkload(engine, model, new Prng(17), 400, 'resumable');
      await engine.close();
      fs.rmSync(diskPath(t.dir, 1));
      engine = await openArray(t.dir);
      // stop the rebuild after some segments, as a kill would (progress is committed every 16)
      const halfway = Math.floor(engine.layout.segments / 2);
      await rebuildDisk(engine, 1, (p) => {
        if (p.segmentsDone >= halfway) throw new Error('stopped');
      }).then(() => expect.fail('the rebuild should have stopped'), (err: Error) => expect(err.message).to.equal('stopped'));
      await engine.abandon();
      engine = await openArray(t.dir);
      expect(engine.array.health[1], 'a half-rebuilt disk is not trusted').to.equal('rebuilding');
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'reads while the rebuild is unfinished');
      const resumed = await rebuildDisk(engine, 1);
      expect(resumed.resumedAt).to.be.greaterThan(1);
      expect(engine.array.degraded).to.equal(false);
      expect((await checkArray(engine)).problems).to.deep.equal([]);
      await engine.close();
      engine = await openArray(t.dir);
      expect(engine.array.degraded).to.equal(false);
      await expectVolumeEquals(volumeByName(engine, 'vol0'), model, 'after the resumed rebuild');
      await engine.close();
    } finally {
      t.cleanup();
    }
  });
});
