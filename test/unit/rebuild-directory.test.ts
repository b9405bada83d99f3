// Rebuilding the directory from the records (lsa recover --rebuild-directory): after losing
// nvram.sqlite of a written array (real files, the collector has run and reused segments) every
// volume comes back byte for byte, trims included; after a simulated power loss the rebuilt
// array holds old or new content per track; a damaged nvram.sqlite is refused at open with a
// message naming the command and is moved aside, never overwritten. Replay: LSA_SEED=<seed>.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkArray } from '../../src/lsa/check';
import { MemoryNvram } from '../../src/lsa/nvram';
import { createArray, openArray } from '../../src/lsa/open-array';
import { rebuildDirectory } from '../../src/lsa/rebuild-directory';
import { createVolume, usableBytes } from '../../src/lsa/volumes';
import type { LsaEngine } from '../../src/lsa/engine';
import { randomOp, type WorkloadShape } from '../../src/testing/workload';
import { Prng } from '../../src/util/prng';
import { volumeByName } from '../../src/volume/volume';
import { runCli } from '../../src/cli/main';
import { CrashModel } from '../support/crash-model';
import { applyOp, expectVolumeEquals, makeRig, crashRig } from '../support/harness';
import { VolumeModel } from '../support/model';
import { seedFrom, tmpDir } from '../support/tmp';

const TINY = { disks: 4, columnBytes: 16 * 1024, diskBytes: 1024 * 1024, trackBytes: 4096 };

interface Written {
  engine: LsaEngine;
  models: Map<string, VolumeModel>;
}

/** Two volumes filled with random writes, trims, zeroes and overwrites on a tiny array, so the
 * collector runs and segments are reused; everything flushed at the end. */
async function writeArray(dir: string, seed: number, ops: number): Promise<Written> {
  const rng = new Prng(seed);
  const engine = await createArray(dir, { geometry: TINY });
  const total = Math.floor((usableBytes(engine) * 0.8) / 4096) * 4096;
  const sizes = new Map([['vol0', Math.floor(total * 0.7 / 4096) * 4096 - 512], ['vol1', Math.floor(total * 0.3 / 4096) * 4096]]);
  const models = new Map<string, VolumeModel>();
  for (const [name, size] of sizes) {
    await createVolume(engine, name, size, 'none');
    models.set(name, new VolumeModel(size));
  }
  for (let i = 0; i < ops; i++) {
    const name = rng.chance(0.7) ? 'vol0' : 'vol1';
    const size = sizes.get(name)!;
    const shape: WorkloadShape = { sizeBytes: size, trackBytes: 4096, tracksMax: 8, hotBytes: size / 6 };
    await applyOp(volumeByName(engine, name), models.get(name)!, randomOp(rng, shape), `seed ${seed} op ${i}`);
  }
  await engine.flush();
  return { engine, models };
}

async function expectAllEqual(engine: LsaEngine, models: Map<string, VolumeModel>, info: string): Promise<void> {
  expect([...engine.volumesByName.keys()].sort()).to.deep.equal([...models.keys()].sort());
  for (const [name, model] of models) await expectVolumeEquals(volumeByName(engine, name), model, `${info} volume ${name}`);
  const report = await checkArray(engine);
  expect(report.problems, `${info}: check`).to.deep.equal([]);
}

function damage(file: string, kind: 'truncate' | 'header' | 'pages', rng: Prng): void {
  const bytes = fs.readFileSync(file);
  if (kind === 'truncate') fs.truncateSync(file, Math.floor(bytes.length / 2));
  else if (kind === 'header') fs.writeSync(fs.openSync(file, 'r+'), rng.fill(Buffer.alloc(100)), 0, 100, 0);
  else {
    // whole pages of garbage in the middle of the file: b-tree pages of the tables
    const pageBytes = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    const pages = Math.floor(bytes.length / pageBytes);
    const fd = fs.openSync(file, 'r+');
    for (let p = 1; p < Math.min(pages, 6); p++) fs.writeSync(fd, rng.fill(Buffer.alloc(pageBytes)), 0, pageBytes, p * pageBytes);
    fs.closeSync(fd);
  }
}

describe('rebuild the directory from the records', function () {
  this.timeout(300_000);

  it('real files: nvram.sqlite deleted after writes, trims and collection; every byte comes back; check is clean', async () => {
    const seed = seedFrom(4100);
    const t = tmpDir();
    try {
      const { engine, models } = await writeArray(t.dir, seed, 1500);
      const collected = engine.stats.segmentsCollected;
      await engine.close();
      expect(collected, 'the collector ran and freed segments for reuse').to.be.greaterThan(5);
      fs.rmSync(path.join(t.dir, 'nvram.sqlite'));
      await openArray(t.dir).then(() => expect.fail('open without nvram.sqlite'), (err: Error) => expect(err.message).to.contain(`lsa recover --dir ${t.dir} --rebuild-directory`));
      const { report } = await rebuildDirectory(t.dir);
      expect(report.damagedRecords).to.equal(0);
      expect(report.movedAside).to.deep.equal([]);
      expect(report.volumes.map((v) => v.name)).to.deep.equal(['vol0', 'vol1']);
      const reopened = await openArray(t.dir);
      try {
        await expectAllEqual(reopened, models, `seed ${seed}`);
        // and it keeps working: more writes, a reopen, same bytes
        const rng = new Prng(seed + 1);
        const v = volumeByName(reopened, 'vol0');
        const shape: WorkloadShape = { sizeBytes: v.sizeBytes, trackBytes: 4096, tracksMax: 8 };
        for (let i = 0; i < 300; i++) await applyOp(v, models.get('vol0')!, randomOp(rng, shape), `seed ${seed} after rebuild op ${i}`);
        await reopened.flush();
      } finally {
        await reopened.close();
      }
      const again = await openArray(t.dir);
      try {
        await expectAllEqual(again, models, `seed ${seed} after rebuild and reopen`);
      } finally {
        await again.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('simulated power loss, then the directory is lost: old or new content per track, check clean (30 seeds)', async () => {
    const base = seedFrom(4200);
    let parityRewritten = 0;
    for (let s = 0; s < 30; s++) {
      const seed = base + s;
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', TINY, 4096, 'memory');
        const capacity = Math.floor((usableBytes(rig.engine) * 0.7) / 4096) * 4096;
        await createVolume(rig.engine, 'big', capacity, 'none');
        const model = new CrashModel(capacity, 4096);
        const shape: WorkloadShape = { sizeBytes: capacity, trackBytes: 4096, tracksMax: 8, hotBytes: capacity / 8 };
        const ops = rng.range(50, 400);
        for (let i = 0; i < ops; i++) {
          const op = randomOp(rng, shape);
          const v = volumeByName(rig.engine, 'big');
          if (op.kind === 'write') {
            model.change(op.offset, op.data.length, op.data);
            await v.write(op.offset, op.data, { fua: op.fua });
            if (op.fua) model.flushed();
          } else if (op.kind === 'trim' || op.kind === 'zero') {
            model.change(op.offset, op.length, null);
            await (op.kind === 'trim' ? v.trim(op.offset, op.length) : v.writeZeroes(op.offset, op.length));
          } else if (op.kind === 'flush') {
            await v.flush();
            model.flushed();
          }
        }
        await rig.engine.abandon();
        rig.disks!.crash(rng);
        const store = new MemoryNvram();
        const { report } = await rebuildDirectory(t.dir, { disks: rig.disks, nvram: store, lock: false });
        parityRewritten += report.parityRewritten;
        rig.engine = await openArray(t.dir, { disks: rig.disks, nvram: store, lock: false });
        const { problem } = await model.verify(volumeByName(rig.engine, 'big'));
        if (problem) expect.fail(`seed ${seed}: ${problem}`);
        const check = await checkArray(rig.engine);
        expect(check.problems, `seed ${seed}: check after rebuild`).to.deep.equal([]);
        // the rebuilt array takes more writes and survives another crash with recovery on open
        for (let i = 0; i < 60; i++) {
          const op = randomOp(rng, shape);
          if (op.kind !== 'write') continue;
          model.change(op.offset, op.data.length, op.data);
          await volumeByName(rig.engine, 'big').write(op.offset, op.data);
        }
        await rig.engine.flush();
        model.flushed();
        rig.nvram = store;
        await crashRig(rig, rng);
        const after = await model.verify(volumeByName(rig.engine, 'big'));
        if (after.problem) expect.fail(`seed ${seed} (crash after the rebuild): ${after.problem}`);
        expect((await checkArray(rig.engine)).problems).to.deep.equal([]);
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    }
    console.log(`      30 seeds from ${base}; ${parityRewritten} segments got their parity rewritten`);
    expect(parityRewritten).to.be.greaterThan(0);
  });

  for (const kind of ['truncate', 'header', 'pages'] as const) {
    it(`a damaged nvram.sqlite (${kind}) is refused at open, unchanged; recover moves it aside and rebuilds`, async () => {
      const seed = seedFrom(4300);
      const t = tmpDir();
      try {
        const { engine, models } = await writeArray(t.dir, seed, 400);
        await engine.close();
        const file = path.join(t.dir, 'nvram.sqlite');
        damage(file, kind, new Prng(seed));
        const damaged = fs.readFileSync(file);
        const err = await openArray(t.dir).then(() => null, (e: Error & { code?: string }) => e);
        expect(err, 'open of a damaged nvram.sqlite').to.not.equal(null);
        expect(err!.code).to.equal('LSA_CORRUPTION');
        expect(err!.message).to.contain(`lsa recover --dir ${t.dir} --rebuild-directory`);
        expect(fs.readFileSync(file).equals(damaged), 'the damaged file is unchanged').to.equal(true);
        const out: string[] = [];
        const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
        const code = await runCli(['recover', '--dir', t.dir, '--rebuild-directory', '--json'], sink, sink);
        expect(code, out.join('')).to.equal(0);
        const report = JSON.parse(out.join('')) as { movedAside: string[]; check: { ok: boolean } };
        expect(report.check.ok).to.equal(true);
        expect(report.movedAside[0]).to.match(/nvram\.sqlite\.damaged-/);
        expect(fs.readFileSync(report.movedAside[0]).equals(damaged), 'the damaged file was moved aside as it was').to.equal(true);
        const reopened = await openArray(t.dir);
        try {
          await expectAllEqual(reopened, models, `seed ${seed} ${kind}`);
        } finally {
          await reopened.close();
        }
      } finally {
        t.cleanup();
      }
    });
  }

  it('refuses to replace a healthy nvram.sqlite without --force', async () => {
    const t = tmpDir();
    try {
      const { engine, models } = await writeArray(t.dir, seedFrom(4400), 200);
      await engine.close();
      await rebuildDirectory(t.dir).then(() => expect.fail('rebuilt a healthy NVRAM'), (e: Error) => expect(e.message).to.contain('--force'));
      const { report } = await rebuildDirectory(t.dir, { force: true });
      expect(report.movedAside.length).to.be.greaterThan(0);
      const reopened = await openArray(t.dir);
      try {
        await expectAllEqual(reopened, models, 'forced rebuild');
      } finally {
        await reopened.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
