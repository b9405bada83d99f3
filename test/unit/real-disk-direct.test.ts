// Direct writes on real disk files: a write hinted `direct` reads back the same whether the
// file took it with O_DIRECT (page-aligned memory), or fell back to the page cache (memory the
// kernel refuses with EINVAL, a filesystem without O_DIRECT), and it is in the file after sync
// either way.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { XorSlab } from '../../src/array/xor-kernel';
import { realDisks } from '../../src/io/real-disk';
import { Prng } from '../../src/util/prng';
import { tmpDir } from '../support/tmp';

const MIB = 1024 * 1024;

async function roundTrip(dir: string, source: Buffer, offset: number): Promise<void> {
  const file = path.join(dir, 'disk.img');
  const disk = await realDisks.create(file, 4 * MIB);
  try {
    await disk.write(source, offset, { direct: true });
    await disk.write(Buffer.from('cached'), offset + source.length); // unaligned: always cached
    await disk.sync();
    const back = Buffer.alloc(source.length + 6);
    await disk.read(back, offset);
    expect(back.subarray(0, source.length).equals(source), 'the direct write reads back').to.equal(true);
    expect(back.subarray(source.length).toString()).to.equal('cached');
    // and a second direct write over the first (the file keeps whichever path it settled on)
    new Prng(2).fill(source);
    await disk.write(source, offset, { direct: true });
    await disk.read(back, offset);
    expect(back.subarray(0, source.length).equals(source), 'the overwrite reads back').to.equal(true);
  } finally {
    await disk.close();
  }
  const onDisk = fs.readFileSync(file).subarray(offset, offset + source.length);
  expect(onDisk.equals(source), 'the bytes are in the file').to.equal(true);
}

describe('real disk files: direct writes', function () {
  this.timeout(60_000);

  it('page-aligned slab memory at an aligned offset (O_DIRECT where the filesystem has it)', async () => {
    const slab = XorSlab.create(2 * MIB);
    expect(slab, 'WebAssembly memory').to.not.equal(null);
    const source = new Prng(1).fill(slab!.bytes.subarray(MIB, 2 * MIB));
    const t = tmpDir();
    try {
      await roundTrip(t.dir, source, MIB);
    } finally {
      t.cleanup();
    }
  });

  it('memory the kernel refuses for O_DIRECT (malloc\'d, not page-aligned) falls back to the cache', async () => {
    // byteOffset 0, so the file tries O_DIRECT; malloc's address is 16-byte aligned, so the
    // kernel answers EINVAL and the write goes through the cache (if the address happens to
    // be page-aligned the direct write simply succeeds)
    const source = new Prng(3).fill(Buffer.alloc(64 * 1024));
    const t = tmpDir();
    try {
      await roundTrip(t.dir, source, 64 * 1024);
    } finally {
      t.cleanup();
    }
  });

  it('tmpfs (O_DIRECT on recent kernels, the page cache on older ones)', async function () {
    if (!fs.existsSync('/dev/shm')) this.skip();
    const slab = XorSlab.create(MIB);
    const source = new Prng(4).fill(slab!.bytes.subarray(0, 256 * 1024));
    const dir = fs.mkdtempSync('/dev/shm/lsa-test-');
    try {
      await roundTrip(dir, source, 256 * 1024);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
