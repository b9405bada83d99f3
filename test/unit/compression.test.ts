// Compressed volumes (deflate, lz4): the differential test (random ops against a byte-array
// model, reopens included) on data that compresses, on an array small enough that the
// collector moves compressed records; check must be clean and the bytes must come back after
// a reopen, and after the directory is rebuilt from the records alone. Then the edges: what
// is stored compressed, and records that do not expand to one track. Replay a failure with
// LSA_SEED=<seed> npm test -- compression.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Geometry } from '../../src/array/geometry';
import { checkArray } from '../../src/lsa/check';
import type { LsaEngine } from '../../src/lsa/engine';
import { openArray } from '../../src/lsa/open-array';
import { rebuildDirectory } from '../../src/lsa/rebuild-directory';
import { COMPRESSION_DEFLATE, COMPRESSION_LZ4, recordBytes } from '../../src/lsa/record-format';
import { codecOf, codecOfFlags, compressTrack, expandTrack, flagsOfCodec } from '../../src/lsa/track-codec';
import { randomOp, type Op } from '../../src/testing/workload';
import { Prng } from '../../src/util/prng';
import { fillCompressible } from '../support/compressible-data';
import { VolumeModel } from '../support/model';
import { applyOp, expectVolumeEquals, makeRig, reopenRig, vol0 } from '../support/harness';
import { seedFrom, tmpDir } from '../support/tmp';

/** 63 data segments of 3 x 32 KiB: a few MiB of writes make the collector work. */
const TINY: Geometry = { disks: 4, columnBytes: 32 * 1024, diskBytes: 2 * 1024 * 1024, trackBytes: 4096 };
const CAPACITY = 2 * 1024 * 1024 - 512;

const CODECS = [
  { mode: 'deflate', codec: COMPRESSION_DEFLATE, seed: 7101 },
  { mode: 'lz4', codec: COMPRESSION_LZ4, seed: 7102 },
];

/** Random ops whose writes carry compressible data (the plain workload's are random bytes). */
function compressibleOp(rng: Prng, shape: { sizeBytes: number; trackBytes: number; reopenChance: number; tracksMax: number }): Op {
  const op = randomOp(rng, shape);
  if (op.kind === 'write' && op.data.some((b) => b !== 0)) fillCompressible(rng, op.data);
  return op;
}

/** Tracks of the volume stored with `codec`. */
function compressedTracks(engine: LsaEngine, codec: number): number {
  const dir = engine.volumesByName.get('vol0')!.directory;
  let n = 0;
  for (let t = 0; t < dir.tracks; t++) if (dir.segmentOf(t) !== 0 && codecOfFlags(dir.flagsOf(t)) === codec) n++;
  return n;
}

async function runOps(rig: Awaited<ReturnType<typeof makeRig>>, model: VolumeModel, rng: Prng, ops: number, info: string): Promise<void> {
  let v = vol0(rig);
  const shape = { sizeBytes: model.sizeBytes, trackBytes: v.trackBytes, reopenChance: 0.003, tracksMax: 8 };
  for (let i = 0; i < ops; i++) {
    const op = compressibleOp(rng, shape);
    if (op.kind === 'reopen') {
      await reopenRig(rig);
      v = vol0(rig);
      continue;
    }
    if (op.kind !== 'read' && rng.chance(0.1)) {
      const batch: Op[] = [op];
      for (let k = rng.range(1, 5); k > 0; k--) {
        const o = compressibleOp(rng, shape);
        if (o.kind !== 'read' && o.kind !== 'reopen') batch.push(o);
      }
      await Promise.all(batch.map((o) => applyOp(v, model, o, `${info} op ${i}`)));
      continue;
    }
    await applyOp(v, model, op, `${info} op ${i}`);
  }
}

describe('compression: deflate and lz4 volumes', function () {
  this.timeout(600_000);

  for (const c of CODECS) {
    it(`${c.mode}: 4000 random ops on compressible data with the collector running, reopens; check clean`, async () => {
      const seed = seedFrom(c.seed);
      const info = `${c.mode} seed ${seed}`;
      console.log(`      ${info} (replay: LSA_SEED=${seed} npm test -- compression)`);
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'sim', TINY, CAPACITY, 'memory', c.mode);
        const model = new VolumeModel(CAPACITY);
        await runOps(rig, model, rng, 4000, info);
        await expectVolumeEquals(vol0(rig), model, info);
        expect(compressedTracks(rig.engine, c.codec), `${info}: tracks stored compressed`).to.be.greaterThan(50);
        expect(rig.engine.stats.segmentsCollected, `${info}: the collector moved compressed records`).to.be.greaterThan(5);
        const report = await checkArray(rig.engine);
        expect(report.problems, info).to.deep.equal([]);
        await reopenRig(rig);
        await expectVolumeEquals(vol0(rig), model, `${info} after reopen`);
        await rig.engine.close();
      } finally {
        t.cleanup();
      }
    });

    it(`${c.mode}: real files and SQLite; nvram.sqlite lost, the directory rebuilt from the records gives every byte back`, async () => {
      const seed = seedFrom(c.seed + 100);
      const info = `${c.mode} seed ${seed}`;
      const rng = new Prng(seed);
      const t = tmpDir();
      try {
        const rig = await makeRig(t.dir, 'real', TINY, CAPACITY, 'sqlite', c.mode);
        const model = new VolumeModel(CAPACITY);
        await runOps(rig, model, rng, 1500, info);
        await rig.engine.close();
        fs.rmSync(path.join(t.dir, 'nvram.sqlite'));
        const { report } = await rebuildDirectory(t.dir);
        expect(report.damagedRecords, info).to.equal(0);
        const engine = await openArray(t.dir);
        try {
          expect(engine.volumesByName.get('vol0')!.row.compress, 'the mode survives in the superblock label').to.equal(c.mode);
          rig.engine = engine;
          await expectVolumeEquals(vol0(rig), model, `${info} after rebuild`);
          expect(compressedTracks(engine, c.codec), info).to.be.greaterThan(20);
          expect((await checkArray(engine)).problems, info).to.deep.equal([]);
        } finally {
          await engine.close();
        }
      } finally {
        t.cleanup();
      }
    });
  }

  it('a track is stored compressed only when that saves an alignment unit; the stored form expands back', () => {
    const rng = new Prng(seedFrom(7201));
    for (const { codec } of CODECS) {
      const random = rng.fill(Buffer.alloc(4096));
      expect(compressTrack(codec, random), 'incompressible').to.equal(null);
      const text = fillCompressible(rng, Buffer.alloc(4096));
      const stored = compressTrack(codec, text);
      if (stored) {
        expect(recordBytes(stored.length)).to.be.lessThan(recordBytes(4096));
        expect(expandTrack(codec, stored, 4096, {}).equals(text)).to.equal(true);
      }
      const ones = Buffer.alloc(4096, 1);
      expect(compressTrack(codec, ones)!.length, 'a repeated byte').to.be.lessThan(100);
    }
    expect(codecOf('none')).to.equal(0);
    expect(codecOf('deflate')).to.equal(COMPRESSION_DEFLATE);
    expect(codecOf('lz4')).to.equal(COMPRESSION_LZ4);
  });

  it('stored bytes that do not expand to exactly one track are LSA_CORRUPTION, on read and in check', async () => {
    const t = tmpDir();
    try {
      const rig = await makeRig(t.dir, 'sim', TINY, CAPACITY, 'memory', 'lz4');
      const v = vol0(rig);
      await v.write(0, Buffer.alloc(8192, 7));
      const bad: [number, Buffer][] = [
        [COMPRESSION_DEFLATE, Buffer.from('not deflate at all, not at all')],
        [COMPRESSION_DEFLATE, compressTrack(COMPRESSION_DEFLATE, Buffer.alloc(8192, 1))!], // two tracks' worth
        [COMPRESSION_LZ4, Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3])], // claims 2 GiB
        [COMPRESSION_LZ4, compressTrack(COMPRESSION_LZ4, Buffer.alloc(2048, 1))!], // half a track
      ];
      for (const [codec, stored] of bad) {
        expect(() => expandTrack(codec, stored, 4096, { track: 0 })).to.throw().with.property('code', 'LSA_CORRUPTION');
      }
      // a record with a good CRC and a bad stored form, pointed at by track 1 (as a bug would)
      const e = rig.engine;
      const state = e.volumesByName.get('vol0')!;
      const seq = e.nextSeq++;
      const [codec, stored] = bad[0];
      const r = e.segmentLog.appendRecord(0, flagsOfCodec(codec), state.row.id, 1, 1, stored, seq);
      e.hostWriter.unlink(state.directory.get(1), state.row.id, 1);
      state.directory.set(1, { segment: r.segment, slot: r.slot, recordBytes: r.bytes, payloadCrc: r.crc, flags: flagsOfCodec(codec), payloadBytes: stored.length, seq });
      e.segments.addLive(r.segment, r.bytes);
      await v.read(4096, 4096).then(() => expect.fail('read of a bad compressed record'), (err: { code?: string; message: string }) => {
        expect(err.code).to.equal('LSA_CORRUPTION');
        expect(err.message).to.contain('does not inflate');
      });
      expect((await v.read(0, 4096)).equals(Buffer.alloc(4096, 7)), 'the other track still reads').to.equal(true);
      const report = await checkArray(e);
      expect(report.problems.map((p) => p.kind)).to.deep.equal(['bad-payload']);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});
