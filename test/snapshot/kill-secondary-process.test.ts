// SIGKILL of the secondary in the middle of a snapshot (while its file is being written, and
// at other moments of the relay): afterwards there is either no new snapshot or a whole one,
// never a damaged one; the previous `latest` is intact (its file decodes, its content is what
// it was); `lsa snapshot create` reports a clear error when the secondary did not confirm.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSnapshotFile } from '../../src/snapshot/snapshot-files';
import { SNAPSHOT_DIR } from '../../src/snapshot/snapshot-store';
import { exec, lsa, Pair } from '../support/pair-processes';
import { ensureTools } from '../support/system-tools';
import { tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;
/** A large volume, so the directory copy and its file (8 MiB) take a while to write. */
const VOLUME_BYTES = 1024 * MiB;
const GEOMETRY = { disks: 4, columnBytes: 256 * 1024, diskBytes: 512 * MiB, trackBytes: 4096 };

async function qemu(tool: string, args: string[]): Promise<string> {
  const r = await exec(tool, args, 120_000);
  if (r.code !== 0 || /failed|error/i.test(r.stdout + r.stderr)) throw new Error(`${tool} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Resolves when a snapshot file starts being written (a temporary appears). */
function tempFileAppears(dir: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const tick = (): void => {
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        // not there yet
      }
      if (names.some((n) => n.includes('.tmp-'))) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setImmediate(tick);
    };
    tick();
  });
}

describe('SIGKILL of the secondary during a snapshot (processes)', function () {
  this.timeout(300_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: Pair | null = null;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-img', 'qemu-io']);
    t = tmpDir('lsa-snap-kill-');
    pair = await Pair.start(t.dir, [['vol0', VOLUME_BYTES]], 'sync', GEOMETRY);
    await pair.waitDuplex();
  });

  after(async () => {
    await pair?.kill();
    t?.cleanup();
  });

  it('leaves the old latest or a whole new one, never a damaged one', async () => {
    const p = pair!;
    const snapDir = path.join(p.secondaryDir, SNAPSHOT_DIR, 'vol0');
    const exportLatest = async (file: string): Promise<Buffer> => {
      await qemu('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', p.snapshotUri('vol0', 'latest'), file]);
      const b = Buffer.alloc(8 * MiB); // only the first 8 MiB is ever written
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, b, 0, b.length, 0);
      fs.closeSync(fd);
      fs.rmSync(file);
      return b;
    };
    await qemu('qemu-io', ['-f', 'raw', ...Array.from({ length: 8 }, (_, i) => ['-c', `write -P 0x10 ${i}M 1M`]).flat(), '-c', 'flush', p.primaryUri('vol0')]);
    const primaryNow = Buffer.alloc(8 * MiB, 0x10); // the primary's first 8 MiB, as written
    const first = await lsa(['snapshot', 'create', '--volume', 'vol0', '--wait', ...p.controlArgs]);
    expect(first.code, first.stderr).to.equal(0);
    // when to kill, counted from the request: when the file starts being written; soon; later
    const moments: ('file' | number)[] = ['file', 'file', 5, 40, 150];
    const outcomes: string[] = [];
    for (let round = 0; round < moments.length; round++) {
      const oldImage = await exportLatest(path.join(t.dir, 'old.img'));
      const pattern = 0x20 + round;
      await qemu('qemu-io', ['-f', 'raw', '-c', `write -P ${pattern} ${round * MiB} 1M`, '-c', 'flush', p.primaryUri('vol0')]);
      primaryNow.fill(pattern, round * MiB, (round + 1) * MiB);
      const newImage = Buffer.from(primaryNow);
      await p.waitDuplex();

      const create = lsa(['snapshot', 'create', '--volume', 'vol0', '--wait', '--timeout', '30s', ...p.controlArgs]);
      const moment = moments[round];
      if (moment === 'file') expect(await tempFileAppears(snapDir, 20_000), 'the snapshot file was never written').to.equal(true);
      else await new Promise((r) => setTimeout(r, moment));
      await p.secondary!.stop('SIGKILL');
      await p.startSecondary();
      const r = await create;
      if (r.code !== 0) {
        expect(r.stderr, 'a clear error').to.match(/lsa snapshot create: snapshot of vol0 not taken: .*(replica link lost|secondary)/);
      }

      // the file decodes (CRCs) and the export is the old or the new content, nothing else;
      // the restarted secondary removed the unfinished temporary
      expect(fs.readdirSync(snapDir).filter((n) => n.includes('.tmp-'))).to.deep.equal([]);
      const snap = readSnapshotFile(p.secondaryDir, 'vol0', 'latest');
      expect(snap.header.name).to.equal('latest');
      const list = await lsa(['snapshot', 'list', '--dir', p.secondaryDir, '--json']);
      expect(list.code, `${list.signal ?? ""} ${list.stdout}${list.stderr}`).to.equal(0);
      const got = await exportLatest(path.join(t.dir, 'now.img'));
      if (r.code === 0 && !got.equals(newImage)) {
        const diffs: string[] = [];
        for (let m = 0; m < 8; m++) {
          const a = got.subarray(m * MiB, (m + 1) * MiB);
          diffs.push(`${m}: got ${[...new Set(a)].slice(0, 4).join('/')} want ${newImage[m * MiB]}`);
        }
        console.log('DEBUG', diffs.join(', '), r.stdout, r.stderr, p.secondary!.log.slice(-3000));
      }
      if (r.code === 0) expect(got.equals(newImage), `round ${round}: a confirmed snapshot holds the new content`).to.equal(true);
      else expect(got.equals(newImage) || got.equals(oldImage), `round ${round}: latest is neither the old nor the new content`).to.equal(true);
      outcomes.push(`${moment === 'file' ? 'during the file' : `${moment} ms`}: ${r.code === 0 ? 'confirmed' : `not confirmed, latest is the ${got.equals(newImage) ? 'new' : 'old'} one`}`);
      await p.waitDuplex();
    }
    console.log(`      ${outcomes.join('; ')}`);
  });
});
