// A real kernel filesystem on the export: nbdfuse shows the export as a file, a loop device
// turns it into a block device, ext4 is made and mounted on it, files are written and synced.
// After unmounting, the export is copied out: e2fsck must find it clean and the files must
// hash as written. Needs /dev/fuse and loop devices; skipped (with the reason) without them.
// Every mount, loop device and FUSE mount is undone in after(), even when the test fails.

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureTools } from '../support/system-tools';
import { makeArray, run, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';
import { Prng } from '../../src/util/prng';

const MiB = 1024 * 1024;

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function waitForFile(p: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fs.existsSync(p)) {
    if (child.exitCode !== null) throw new Error(`nbdfuse exited with ${child.exitCode} before it was ready`);
    if (Date.now() > until) throw new Error(`${p} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('nbd interop: ext4 in the kernel over nbdfuse + loop device', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  let server: ServerProcess | null = null;
  let fuse: ChildProcess | null = null;
  const mounts: string[] = [];
  const loops: string[] = [];
  let fuseDir = '';

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['nbdfuse', 'fusermount3', 'mkfs.ext4', 'e2fsck', 'qemu-img', 'losetup', 'mount']);
    if (!fs.existsSync('/dev/fuse')) {
      console.log('      SKIPPED: /dev/fuse is absent (no FUSE in this machine or container)');
      this.skip();
    }
    const probe = run('losetup', ['-f'], { allowFail: true });
    if (probe.status !== 0) {
      console.log(`      SKIPPED: no free loop device (losetup -f: ${probe.stderr.trim()})`);
      this.skip();
    }
    t = tmpDir('lsa-nbd-kfs-');
    await makeArray(path.join(t.dir, 'array'), [['vol0', 64 * MiB]]);
    server = await ServerProcess.start(['--dir', path.join(t.dir, 'array')]);
  });

  after(async function () {
    this.timeout(60_000);
    for (const m of mounts.reverse()) run('umount', ['-l', m], { allowFail: true, timeoutMs: 20_000 });
    for (const l of loops.reverse()) run('losetup', ['-d', l], { allowFail: true, timeoutMs: 20_000 });
    if (fuse && fuse.exitCode === null) {
      run('fusermount3', ['-u', '-z', fuseDir], { allowFail: true, timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      if (fuse.exitCode === null) fuse.kill('SIGKILL');
    }
    if (server) expect(await server.stop('SIGTERM')).to.equal(0);
    t?.cleanup();
  });

  it('mkfs, mount, write and sync files, unmount; the copied-out export is clean and hashes match', async () => {
    fuseDir = path.join(t.dir, 'fuse');
    const mnt = path.join(t.dir, 'mnt');
    const pidFile = path.join(t.dir, 'nbdfuse.pid');
    fs.mkdirSync(fuseDir);
    fs.mkdirSync(mnt);
    fuse = spawn('nbdfuse', ['-P', pidFile, fuseDir, server!.uri('vol0')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let fuseErr = '';
    fuse.stderr!.on('data', (d: Buffer) => (fuseErr += d.toString()));
    await waitForFile(pidFile, 20_000, fuse).catch((e: Error) => {
      throw new Error(`${e.message}\n${fuseErr}`);
    });
    const diskFile = path.join(fuseDir, 'nbd');
    expect(fs.statSync(diskFile).size).to.equal(64 * MiB);

    const dev = run('losetup', ['-f', '--show', diskFile]).stdout.trim();
    loops.push(dev);
    run('mkfs.ext4', ['-q', '-F', dev]);
    run('mount', ['-t', 'ext4', dev, mnt]);
    mounts.push(mnt);

    const rng = new Prng(4242);
    const hashes = new Map<string, string>();
    fs.mkdirSync(path.join(mnt, 'dir'));
    for (let i = 0; i < 24; i++) {
      const rel = i % 2 ? `dir/file-${i}.bin` : `file-${i}.bin`;
      const data = rng.fill(Buffer.alloc(rng.range(1, 1536 * 1024)));
      fs.writeFileSync(path.join(mnt, rel), data);
      hashes.set(rel, sha256(data));
    }
    run('sync', []);
    fs.rmSync(path.join(mnt, 'file-0.bin')); // frees blocks: the kernel may discard them
    hashes.delete('file-0.bin');
    run('sync', []);
    run('umount', [mnt]);
    mounts.pop();
    run('losetup', ['-d', dev]);
    loops.pop();
    run('fusermount3', ['-u', fuseDir]);
    await new Promise<void>((resolve) => (fuse!.exitCode !== null ? resolve() : fuse!.once('exit', () => resolve())));

    const img = path.join(t.dir, 'copy.img');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', server!.uri('vol0'), img]);
    run('e2fsck', ['-fn', img]);

    const ro = run('losetup', ['-f', '--show', '-r', img]).stdout.trim();
    loops.push(ro);
    run('mount', ['-t', 'ext4', '-o', 'ro', ro, mnt]);
    mounts.push(mnt);
    for (const [rel, hash] of hashes) expect(sha256(fs.readFileSync(path.join(mnt, rel))), rel).to.equal(hash);
    expect(fs.existsSync(path.join(mnt, 'file-0.bin'))).to.equal(false);
    run('umount', [mnt]);
    mounts.pop();
    run('losetup', ['-d', ro]);
    loops.pop();
  });
});
