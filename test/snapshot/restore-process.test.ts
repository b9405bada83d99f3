// The snapshot commands end to end with processes: diff between snapshots and against the
// volume now (from the directories, beside the running secondary), restore of the primary
// volume through the pair (only what differs is written; the writes replicate back, so the
// secondary's volume follows), and with the secondary stopped: export (sparse, equal to the
// NBD export) and delete. Export beside a running server says how to read it over NBD.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exec, lsa, Pair } from '../support/pair-processes';
import { ensureTools } from '../support/system-tools';
import { tmpDir } from '../support/tmp';

const KiB = 1024;
const MiB = 1024 * KiB;

async function qemu(tool: string, args: string[]): Promise<void> {
  const r = await exec(tool, args, 120_000);
  if (r.code !== 0 || /failed|error/i.test(r.stdout + r.stderr)) throw new Error(`${tool} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stdout}${r.stderr}`);
}

describe('snapshot diff, restore, export, delete (processes)', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let pair: Pair | null = null;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-img', 'qemu-io']);
    t = tmpDir('lsa-snap-restore-');
    pair = await Pair.start(t.dir, [['vol0', 16 * MiB]]);
    await pair.waitDuplex();
  });

  after(async () => {
    await pair?.kill();
    t?.cleanup();
  });

  const image = async (uri: string, name: string): Promise<Buffer> => {
    const file = path.join(t.dir, name);
    await qemu('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', uri, file]);
    const b = fs.readFileSync(file);
    fs.rmSync(file);
    return b;
  };

  const createSnap = async (name: string): Promise<void> => {
    const r = await lsa(['snapshot', 'create', '--volume', 'vol0', '--name', name, '--wait', ...pair!.controlArgs]);
    expect(r.code, r.stderr).to.equal(0);
  };

  it('diff, restore through the pair, then export and delete offline', async () => {
    const p = pair!;
    await qemu('qemu-io', ['-f', 'raw', '-c', 'write -P 0x11 0 1M', '-c', 'write -P 0x11 1M 1M', '-c', 'write -P 0x11 2M 1M', '-c', 'write -P 0x11 3M 1M', '-c', 'write -P 0x22 8M 1M', '-c', 'flush', p.primaryUri('vol0')]);
    await createSnap('a');
    await qemu('qemu-io', ['-f', 'raw', '-c', 'write -P 0x33 1M 512k', '-c', 'discard 8M 1M', '-c', 'write -P 0x44 12M 256k', '-c', 'flush', p.primaryUri('vol0')]);
    await createSnap('b');
    const changed = [{ offset: 1 * MiB, length: 512 * KiB }, { offset: 8 * MiB, length: 1 * MiB }, { offset: 12 * MiB, length: 256 * KiB }];

    // diff from the directories, while the secondary runs
    const ab = await lsa(['snapshot', 'diff', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'a', '--name', 'b', '--json']);
    expect(ab.code, ab.stderr).to.equal(0);
    expect(JSON.parse(ab.stdout)).to.deep.equal(changed);
    const aNow = await lsa(['snapshot', 'diff', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'a', '--json']);
    expect(aNow.code, aNow.stderr).to.equal(0);
    expect(JSON.parse(aNow.stdout)).to.deep.equal(changed);
    const bNow = await lsa(['snapshot', 'diff', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'b']);
    expect(bNow.stdout).to.match(/vol0@b -> vol0 now: 0 range\(s\), 0B differ/);

    // export beside the running server: refused, with the NBD command to use instead
    const busy = await lsa(['snapshot', 'export', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'a', '--out', path.join(t.dir, 'x.img')]);
    expect(busy.code).to.equal(75);
    expect(busy.stderr).to.match(/held by a running server/).and.to.contain('qemu-img convert -f raw -O raw nbd://127.0.0.1:10812/vol0@a');

    // restore a: only the changed ranges are written back (or trimmed), through the pair
    const snapA = await image(p.snapshotUri('vol0', 'a'), 'a.img');
    const r = await lsa(['snapshot', 'restore', '--volume', 'vol0', '--name', 'a', ...p.controlArgs, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const res = JSON.parse(r.stdout) as { bytesWritten: number; bytesTrimmed: number; bytesUnchanged: number; seq: number };
    expect(res.bytesWritten).to.equal(512 * KiB + 1 * MiB);
    expect(res.bytesTrimmed).to.equal(256 * KiB);
    expect(res.bytesUnchanged).to.equal(16 * MiB - res.bytesWritten - res.bytesTrimmed);
    expect((await image(p.primaryUri('vol0'), 'p.img')).equals(snapA), 'the primary volume equals snapshot a').to.equal(true);
    await p.waitDuplex();
    expect((await image(`nbd://127.0.0.1:${p.secondary!.port}/vol0`, 's.img')).equals(snapA), 'the secondary volume followed').to.equal(true);
    const again = await lsa(['snapshot', 'restore', '--volume', 'vol0', '--name', 'a', ...p.controlArgs, '--json']);
    expect(JSON.parse(again.stdout).bytesUnchanged, 'a second restore finds nothing to do').to.equal(16 * MiB);
    const missing = await lsa(['snapshot', 'restore', '--volume', 'vol0', '--name', 'zzz', ...p.controlArgs]);
    expect(missing.code, 'LSA_NOT_FOUND from the secondary, rebuilt from its code').to.equal(66);
    expect(missing.stderr).to.match(/no snapshot "zzz" of volume "vol0"/);

    // offline: the secondary stopped
    expect(await p.secondary!.stop('SIGTERM')).to.equal(0);
    const noLink = await lsa(['snapshot', 'restore', '--volume', 'vol0', '--name', 'a', ...p.controlArgs]);
    expect(noLink.code).to.equal(69);
    expect(noLink.stderr).to.match(/secondary is not connected/);
    const out = path.join(t.dir, 'a-export.img');
    const ex = await lsa(['snapshot', 'export', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'a', '--out', out, '--json']);
    expect(ex.code, ex.stderr).to.equal(0);
    expect(JSON.parse(ex.stdout)).to.include({ bytes: 16 * MiB, dataBytes: 5 * MiB });
    expect(fs.readFileSync(out).equals(snapA), 'lsa snapshot export equals the NBD export').to.equal(true);
    expect(fs.statSync(out).blocks * 512, 'the export is sparse where the volume held no data').to.be.below(8 * MiB);
    const del = await lsa(['snapshot', 'delete', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'b']);
    expect(del.code, del.stderr).to.equal(0);
    const list = await lsa(['snapshot', 'list', '--dir', p.secondaryDir, '--json']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((s) => s.name)).to.deep.equal(['a']);
    const gone = await lsa(['snapshot', 'diff', '--dir', p.secondaryDir, '--volume', 'vol0', '--name', 'a', '--name', 'b']);
    expect(gone.code).to.equal(66);
    expect(gone.stderr).to.match(/no snapshot "b" of volume "vol0" .*there are: a/);
    const check = await lsa(['check', '--dir', p.secondaryDir]);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});
