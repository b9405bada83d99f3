// Interop with libnbd's tools: nbdinfo (size, flags, --map with holes, --list) and nbdcopy
// (which uses several connections at once, since the server offers multi-conn).

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureTools } from '../support/system-tools';
import { makeArray, run, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';
import { Prng } from '../../src/util/prng';

const MiB = 1024 * 1024;

interface MapEntry {
  offset: number;
  length: number;
  type: number;
  description: string;
}

describe('nbd interop: nbdinfo and nbdcopy', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  let server: ServerProcess;
  let readOnly: ServerProcess | null = null;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['nbdinfo', 'nbdcopy', 'qemu-io']);
    t = tmpDir('lsa-nbd-libnbd-');
    await makeArray(path.join(t.dir, 'array'), [['vol0', 32 * MiB], ['copy', 40 * MiB + 4096]]);
    server = await ServerProcess.start(['--dir', path.join(t.dir, 'array')]);
  });

  after(async () => {
    if (readOnly) await readOnly.stop('SIGKILL').catch(() => undefined);
    if (server) expect(await server.stop('SIGINT')).to.equal(0);
    t?.cleanup();
  });

  it('nbdinfo: size, block sizes and exactly the supported flags', () => {
    const info = JSON.parse(run('nbdinfo', ['--json', server.uri('vol0')]).stdout) as { exports: Record<string, unknown>[] };
    const e = info.exports[0];
    expect(e['export-size']).to.equal(32 * MiB);
    expect(e).to.include({
      'can_flush': true, 'can_fua': true, 'can_trim': true, 'can_zero': true, 'can_multi_conn': true,
      'can_df': true, 'can_cache': false, 'can_fast_zero': false, 'is_read_only': false, 'is_rotational': false,
      'block_size_minimum': 1, 'block_size_preferred': 4096, 'block_size_maximum': 32 * MiB,
    });
    expect(e.contexts).to.deep.equal(['base:allocation']);
    // the empty export name is the first volume
    const dflt = JSON.parse(run('nbdinfo', ['--json', `nbd://127.0.0.1:${server.port}`]).stdout) as { exports: Record<string, unknown>[] };
    expect(dflt.exports[0]['export-size']).to.equal(32 * MiB);
    const list = run('nbdinfo', ['--list', `nbd://127.0.0.1:${server.port}`]).stdout;
    expect(list).to.contain('export="vol0"').and.to.contain('export="copy"');
  });

  it('nbdinfo --map: holes for unwritten and trimmed tracks, zero for write-zeroes, data elsewhere', () => {
    const uri = server.uri('vol0');
    run('qemu-io', ['-f', 'raw', uri, '-c', 'write -P 0x5a 1M 2M', '-c', 'discard 2M 512k', '-c', 'write -z 8M 64k', '-c', 'flush']);
    const map = JSON.parse(run('nbdinfo', ['--map', '--json', uri]).stdout) as MapEntry[];
    const at = (off: number): MapEntry => map.find((m) => m.offset <= off && off < m.offset + m.length)!;
    expect(at(0).type & 1, 'never written: hole').to.equal(1);
    expect(at(1 * MiB).type, 'written: data').to.equal(0);
    expect(at(2 * MiB).type, 'trimmed: hole and zero').to.equal(3);
    expect(at(2.5 * MiB).type).to.equal(0);
    expect(at(8 * MiB).type & 2, 'write -z: reads as zero').to.equal(2);
    expect(at(31 * MiB).type).to.equal(3);
    const total = map.reduce((s, m) => s + m.length, 0);
    expect(total).to.equal(32 * MiB);
  });

  it('nbdcopy into the export and back out (multi-conn) reproduces the file', () => {
    const rng = new Prng(77);
    const src = path.join(t.dir, 'src.bin');
    const out = path.join(t.dir, 'out.bin');
    const size = 40 * MiB + 4096;
    const buf = Buffer.alloc(size);
    for (let off = 0; off < size; off += 1 * MiB) {
      // a mix of data and zero runs, so both data and holes travel
      if (rng.chance(0.7)) rng.fill(buf.subarray(off, Math.min(size, off + rng.range(1, 1 * MiB))));
    }
    fs.writeFileSync(src, buf);
    run('nbdcopy', ['--flush', src, server.uri('copy')]);
    run('nbdcopy', [server.uri('copy'), out]);
    run('cmp', [src, out]);
  });

  it('a --read-only server advertises read-only and answers writes with EPERM', async () => {
    await server.stop('SIGTERM');
    readOnly = await ServerProcess.start(['--dir', path.join(t.dir, 'array'), '--read-only', '--log-format', 'json']);
    const info = JSON.parse(run('nbdinfo', ['--json', readOnly.uri('vol0')]).stdout) as { exports: Record<string, unknown>[] };
    expect(info.exports[0]).to.include({ is_read_only: true, can_trim: false, can_zero: false });
    const r = run('qemu-io', ['-f', 'raw', '-r', readOnly.uri('vol0'), '-c', 'read -P 0x5a 1M 1M'], { allowFail: true });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    // a client that ignores the read-only flag gets EPERM on the wire (checked in protocol tests);
    // here the json log format is checked
    const line = readOnly.log.split('\n').find((l) => l.includes('"msg":"listening"'));
    expect(JSON.parse(line!)).to.include({ level: 'info', component: 'lsa.nbd', readOnly: true });
    expect(await readOnly.stop('SIGTERM')).to.equal(0);
    readOnly = null;
    server = await ServerProcess.start(['--dir', path.join(t.dir, 'array')]);
  });
});
