// Interop with qemu's NBD client: qemu-io pattern I/O at odd offsets and sizes, and an ext4
// image copied in and out with qemu-img convert (always -f raw).

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureTools } from '../support/system-tools';
import { makeArray, run, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';
import { Prng } from '../../src/util/prng';

const MiB = 1024 * 1024;

function qemuIo(uri: string, cmds: string[]): string {
  const args = ['-f', 'raw', uri];
  for (const c of cmds) args.push('-c', c);
  const r = run('qemu-io', args, { allowFail: true, timeoutMs: 60_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0 || /verification failed|failed:|error/i.test(out)) {
    throw new Error(`qemu-io ${cmds.join(' ; ')} failed (exit ${r.status}):\n${out}`);
  }
  return out;
}

describe('nbd interop: qemu', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  let server: ServerProcess;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['qemu-io', 'qemu-img', 'mkfs.ext4', 'e2fsck']);
    t = tmpDir('lsa-nbd-qemu-');
    await makeArray(path.join(t.dir, 'array'), [['vol0', 64 * MiB], ['img', 48 * MiB]]);
    server = await ServerProcess.start(['--dir', path.join(t.dir, 'array')]);
  });

  after(async () => {
    if (server) expect(await server.stop('SIGTERM')).to.equal(0);
    t?.cleanup();
  });

  it('qemu-io: pattern writes and reads, write -z, discard and map at odd offsets and sizes', () => {
    const uri = server.uri('vol0');
    qemuIo(uri, [
      'write -P 0x11 1 4095',
      'write -P 0x22 12345 100000',
      'write -f -P 0x33 1048575 3',
      'read -P 0x11 1 4095',
      'read -P 0x22 12345 100000',
      'read -P 0x33 1048575 3',
      'read -P 0 0 1',
      'read -P 0 4096 8249',
      'write -z 50000 30001',
      'read -P 0 50000 30001',
      'read -P 0x22 12345 37655',
      'read -P 0x22 80001 32344',
      'aio_write -P 0x44 2000000 65536',
      'aio_write -P 0x55 2100001 131071',
      'aio_write -P 0x66 3000003 1',
      'aio_flush',
      'read -P 0x44 2000000 65536',
      'read -P 0x55 2100001 131071',
      'read -P 0x66 3000003 1',
      'write -P 0x77 8388608 4194304',
      'discard 8392704 4194304',
      'read -P 0x77 8388608 4096',
      'read -P 0 8392704 4194304',
      'flush',
    ]);
    const map = qemuIo(uri, ['map']);
    expect(map).to.match(/allocated|not allocated/);
    // a second connection sees everything the first wrote
    qemuIo(uri, ['read -P 0x11 1 4095', 'read -P 0x66 3000003 1', 'read -P 0 8392704 4194304']);
  });

  it('qemu-img convert -n of an ext4 image into the export and back out: equal, fsck clean', () => {
    const src = path.join(t.dir, 'files');
    fs.mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true });
    const rng = new Prng(1234);
    for (let i = 0; i < 40; i++) {
      const dir = i % 3 === 0 ? src : i % 3 === 1 ? path.join(src, 'sub') : path.join(src, 'sub', 'deeper');
      fs.writeFileSync(path.join(dir, `f${i}.bin`), rng.fill(Buffer.alloc(rng.range(1, 300_000))));
    }
    const img = path.join(t.dir, 'fs.img');
    const out = path.join(t.dir, 'out.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 48 * MiB);
    run('mkfs.ext4', ['-q', '-F', '-d', src, img]);
    run('qemu-img', ['convert', '-n', '-W', '-m', '8', '-f', 'raw', '-O', 'raw', img, server.uri('img')]);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', server.uri('img'), out]);
    run('cmp', [img, out]);
    run('e2fsck', ['-fn', out]);
  });
});
