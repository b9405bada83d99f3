// Crash tests on the simulated disk: power loss at random points (unsynced writes applied,
// dropped or torn at 512-byte boundaries), and a sweep that fails the k-th I/O operation.
// After each: every flushed write reads back, every other track holds old or new content,
// and the checker is clean. Replay with LSA_SEED=<seed> npm test -- crash.

import { expect } from 'chai';
import { checkArray } from '../../src/lsa/check';
import { Prng } from '../../src/util/prng';
import { randomOp, type Op, type WorkloadShape } from '../../src/testing/workload';
import { CrashModel } from '../support/crash-model';
import { crashRig, makeRig, vol0, SMALL, type Rig } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';
import { volumeByName } from '../../src/volume/volume';
import { createVolume, usableBytes } from '../../src/lsa/volumes';

const GEOMETRY = { ...SMALL, columnBytes: 16 * 1024, diskBytes: 4 * 1024 * 1024 };
const CAPACITY = 256 * 1024 + 512;

/** Runs one op against volume and model; returns false if the engine refused it (I/O error). */
async function step(rig: Rig, model: CrashModel, op: Op, volume = 'vol0'): Promise<boolean> {
  const v = volumeByName(rig.engine, volume);
  try {
    switch (op.kind) {
      case 'write':
        model.change(op.offset, op.data.length, op.data);
        await v.write(op.offset, op.data, { fua: op.fua });
        if (op.fua) model.flushed();
        return true;
      case 'trim':
        model.change(op.offset, op.length, null);
        await v.trim(op.offset, op.length);
        return true;
      case 'zero':
        model.change(op.offset, op.length, null);
        await v.writeZeroes(op.offset, op.length, { noHole: op.noHole });
        return true;
      case 'flush':
        await v.flush();
        model.flushed();
        return true;
      case 'read':
        await v.read(op.offset, op.length);
        return true;
      default:
        return true;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'LSA_IO' || code === 'LSA_CLOSED') return false;
    throw err;
  }
}

async function crashAndVerify(rig: Rig, model: CrashModel, rng: Prng, info: string, volume = 'vol0'): Promise<void> {
  await crashRig(rig, rng);
  const { problem } = await model.verify(volumeByName(rig.engine, volume));
  if (problem) expect.fail(`${info}: ${problem}`);
  const report = await checkArray(rig.engine);
  expect(report.problems, `${info}: check after crash`).to.deep.equal([]);
}

describe('crash: simulated power loss', function () {
  this.timeout(600_000);

  it('random crash points: 40 seeds x 8 crashes', async () => {
    const base = seedFrom(1000);
    let points = 0;
    for (let s = 0; s < 40; s++) {
      const seed = base + s;
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', GEOMETRY, CAPACITY, s % 4 === 0 ? 'sqlite' : 'memory');
        const model = new CrashModel(CAPACITY, GEOMETRY.trackBytes);
        const shape: WorkloadShape = { sizeBytes: CAPACITY, trackBytes: GEOMETRY.trackBytes, tracksMax: 6 };
        for (let crash = 0; crash < 8; crash++) {
          const ops = rng.range(1, 60);
          for (let i = 0; i < ops; i++) await step(rig, model, randomOp(rng, shape));
          await crashAndVerify(rig, model, rng, `seed ${seed} crash ${crash}`);
          points++;
        }
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    }
    console.log(`      ${points} crash points, seeds ${base}..${base + 39} (replay: LSA_SEED=${base} npm test -- crash)`);
    expect(points).to.equal(320);
  });

  it('random crash points with the collector running: 20 seeds x 8 crashes on a nearly full tiny array', async () => {
    const base = seedFrom(3000);
    const tiny = { disks: 4, columnBytes: 16 * 1024, diskBytes: 1024 * 1024, trackBytes: 4096 };
    let points = 0;
    let collected = 0;
    for (let s = 0; s < 20; s++) {
      const seed = base + s;
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', tiny, 4096, 'memory');
        // the volume: 80% of what the array can hold
        
        const capacity = Math.floor((usableBytes(rig.engine) * 0.8) / 4096) * 4096;
        await createVolume(rig.engine, 'big', capacity, 'none');
        const model = new CrashModel(capacity, 4096);
        const shape: WorkloadShape = { sizeBytes: capacity, trackBytes: 4096, tracksMax: 8, hotBytes: capacity / 8 };
        for (let crash = 0; crash < 8; crash++) {
          const ops = rng.range(20, 150);
          for (let i = 0; i < ops; i++) await step(rig, model, randomOp(rng, shape), 'big');
          collected += rig.engine.stats.segmentsCollected;
          await crashAndVerify(rig, model, rng, `seed ${seed} crash ${crash} (collector running)`, 'big');
          points++;
        }
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    }
    console.log(`      ${points} crash points, ${collected} segment collections seen, seeds ${base}..${base + 19}`);
    expect(collected).to.be.greaterThan(100);
  });

  it('fault sweep: the k-th I/O operation fails with EIO (once, and from then on), then power loss', async () => {
    const seed = seedFrom(77);
    const shape: WorkloadShape = { sizeBytes: CAPACITY, trackBytes: GEOMETRY.trackBytes, tracksMax: 8 };
    const workload = (rng: Prng): Op[] => Array.from({ length: 120 }, () => randomOp(rng, shape));
    // count the I/O operations a clean run makes
    const t0 = tmpDir();
    let total: number;
    try {
      const rig = await makeRig(t0.dir, 'sim', GEOMETRY, CAPACITY);
      const model = new CrashModel(CAPACITY, GEOMETRY.trackBytes);
      const start = rig.disks!.opCount;
      for (const op of workload(new Prng(seed))) await step(rig, model, op);
      await vol0(rig).flush();
      total = rig.disks!.opCount - start;
    } finally {
      t0.cleanup();
    }
    const points = Math.min(total, 200);
    let failedRuns = 0;
    for (let k = 1; k <= points; k++) {
      const persistent = k % 2 === 0;
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', GEOMETRY, CAPACITY);
        const model = new CrashModel(CAPACITY, GEOMETRY.trackBytes);
        rig.disks!.failAt(k, persistent);
        for (const op of workload(new Prng(seed))) {
          if (!(await step(rig, model, op))) {
            failedRuns++;
            break;
          }
        }
        await crashAndVerify(rig, model, new Prng(seed * 1000 + k), `seed ${seed} fault at I/O ${k}${persistent ? ' (persistent)' : ''}`);
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    }
    console.log(`      ${points} fault points over ${total} I/O operations, ${failedRuns} runs stopped by the fault (seed ${seed})`);
    expect(points).to.be.greaterThan(50);
    expect(failedRuns).to.be.greaterThan(points / 2);
  });
});
