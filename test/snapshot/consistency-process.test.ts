// Snapshots taken with `lsa snapshot create --wait` while a separate process writes to the
// primary over NBD without pause, read back from the secondary's NBD export VOLUME@NAME with
// qemu-img: each must show exactly a prefix of the writes (lock-step plan, lockstep-plan.ts),
// at least everything acknowledged before the request; a consistency group must never show
// its second volume ahead of the first; an ext4 filesystem written through NBD and flushed
// must pass e2fsck from its snapshot. Real processes: two `lsa serve`, the writer, qemu-img.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Prng } from '../../src/util/prng';
import { BLOCK_BYTES, matchingPrefixes, planOps, readGenerations, type PlanOptions } from '../support/lockstep-plan';
import { LockstepWriter } from '../support/lockstep-process';
import { exec, lsa, Pair } from '../support/pair-processes';
import { ensureTools } from '../support/system-tools';
import { seedFrom, tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;
const BLOCKS = 1024;
const SNAPSHOTS = 5;

async function qemuImg(args: string[]): Promise<void> {
  const r = await exec('qemu-img', args, 120_000);
  if (r.code !== 0) throw new Error(`qemu-img ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr}`);
}

interface Taken {
  name: string;
  ackedBefore: number;
  seq: number;
  images: Buffer[];
}

describe('snapshots of a live primary (processes, NBD)', function () {
  this.timeout(240_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: Pair | null = null;
  let writer: LockstepWriter | null = null;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-img', 'qemu-io', 'mkfs.ext4', 'e2fsck']);
    t = tmpDir('lsa-snap-proc-');
    pair = await Pair.start(t.dir, [['vol0', BLOCKS * BLOCK_BYTES], ['ga', BLOCKS * BLOCK_BYTES], ['gb', BLOCKS * BLOCK_BYTES], ['fs', 32 * MiB]]);
    await pair.waitDuplex();
  });

  afterEach(() => {
    writer?.kill();
    writer = null;
  });

  after(async () => {
    writer?.kill();
    await pair?.kill();
    t?.cleanup();
  });

  /** Takes SNAPSHOTS snapshots of `volumes` while the writer runs; exports each over NBD. */
  async function snapshotsUnderWrites(volumes: string[], plan: PlanOptions, prefix: string): Promise<{ taken: Taken[]; total: number }> {
    const p = pair!;
    const w = (writer = LockstepWriter.start(p.primary!.port, volumes, plan));
    await w.waitAcked(30);
    const taken: Taken[] = [];
    for (let i = 0; i < SNAPSHOTS; i++) {
      const name = `${prefix}${i}`;
      const ackedBefore = w.acked;
      const args = ['snapshot', 'create', ...volumes.flatMap((v) => ['--volume', v]), '--name', name, '--wait', '--timeout', '60s', ...p.controlArgs, '--json'];
      const r = await lsa(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
      const j = JSON.parse(r.stdout) as { name: string; volumes: string[]; seq: number; entries: number; location: string; durationMs: number };
      expect(j.name).to.equal(name);
      expect(j.volumes).to.deep.equal(volumes);
      const images: Buffer[] = [];
      for (const v of volumes) {
        const file = path.join(t.dir, `${v}@${name}.img`);
        await qemuImg(['convert', '-f', 'raw', '-O', 'raw', p.snapshotUri(v, name), file]);
        images.push(fs.readFileSync(file));
        fs.rmSync(file);
      }
      taken.push({ name, ackedBefore, seq: j.seq, images });
      await w.waitAcked(w.acked + 20); // some writes between snapshots
    }
    const total = await w.stop();
    writer = null;
    return { taken, total };
  }

  /** Each snapshot is a prefix of the plan, covers what was acknowledged before it was asked
   * for, and later snapshots never show less. */
  function checkPrefixes(plan: PlanOptions, taken: Taken[], total: number, seedInfo: string): number[] {
    const ops = planOps(plan, total + 2); // at most one op was in flight when the writer stopped
    let previous = 0;
    const ks: number[] = [];
    for (const s of taken) {
      const observed = s.images.map((img, vi) => readGenerations(img, vi, plan.blocks));
      const ks0 = matchingPrefixes(ops, observed);
      expect(ks0.length, `${seedInfo}: snapshot ${s.name} (seq ${s.seq}) is not any prefix of the writes`).to.be.greaterThan(0);
      const k = ks0[ks0.length - 1];
      expect(k, `${seedInfo}: snapshot ${s.name} misses writes acknowledged before it was requested`).to.be.at.least(s.ackedBefore);
      expect(k, `${seedInfo}: snapshot ${s.name} shows fewer writes than an earlier snapshot`).to.be.at.least(previous);
      previous = ks0[0];
      ks.push(k);
    }
    return ks;
  }

  it('one volume: every snapshot (create --wait under continuous writes) is a prefix of the writes', async () => {
    const seed = seedFrom(7001);
    const plan: PlanOptions = { seed, blocks: BLOCKS, shape: 'single' };
    const { taken, total } = await snapshotsUnderWrites(['vol0'], plan, 's');
    const ks = checkPrefixes(plan, taken, total, `seed ${seed}`);
    console.log(`      ${total} writes; snapshots at prefixes ${ks.join(', ')}`);
    expect(ks[ks.length - 1]).to.be.greaterThan(ks[0]);
  });

  it('consistency group: vol1 is never ahead of vol0 (each vol1 write follows the vol0 write that names it)', async () => {
    const seed = seedFrom(7002);
    const plan: PlanOptions = { seed, blocks: BLOCKS, shape: 'group' };
    const { taken, total } = await snapshotsUnderWrites(['ga', 'gb'], plan, 'g');
    const ks = checkPrefixes(plan, taken, total, `seed ${seed}`);
    for (const s of taken) {
      const newest = s.images.map((img, vi) => Math.max(0, ...readGenerations(img, vi, BLOCKS)));
      expect(newest[1], `snapshot ${s.name}: gb shows generation ${newest[1]}, ga only ${newest[0]}`).to.be.at.most(newest[0]);
    }
    console.log(`      ${total} writes; snapshots at prefixes ${ks.join(', ')}`);
  });

  it('ext4 written through NBD, flushed, snapshotted with --wait: the export passes e2fsck -fn and equals the image', async () => {
    const p = pair!;
    const src = path.join(t.dir, 'files');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    const rng = new Prng(seedFrom(7003));
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(src, i % 2 ? 'sub' : '', `f${i}.bin`), rng.fill(Buffer.alloc(rng.range(1, 400_000))));
    const img = path.join(t.dir, 'fs.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 32 * MiB);
    const mk = await exec('mkfs.ext4', ['-q', '-F', '-d', src, img]);
    expect(mk.code, mk.stderr).to.equal(0);
    await qemuImg(['convert', '-n', '-f', 'raw', '-O', 'raw', img, p.primaryUri('fs')]);
    const flush = await exec('qemu-io', ['-f', 'raw', '-c', 'flush', p.primaryUri('fs')]);
    expect(flush.code, flush.stderr).to.equal(0);
    const r = await lsa(['snapshot', 'create', '--volume', 'fs', '--name', 'fs1', '--wait', ...p.controlArgs]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/snapshot fs1 of fs taken on the secondary at sequence \d+/);
    const out = path.join(t.dir, 'fs-out.img');
    await qemuImg(['convert', '-f', 'raw', '-O', 'raw', p.snapshotUri('fs', 'fs1'), out]);
    expect(fs.readFileSync(out).equals(fs.readFileSync(img)), 'the snapshot equals the image written').to.equal(true);
    const fsck = await exec('e2fsck', ['-fn', out]);
    expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
  });
});
