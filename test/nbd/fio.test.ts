// fio's NBD engine: random writes from several jobs (one connection each, many requests in
// flight), flushes every 32 writes, then every block read back and checked (crc32c).

import { expect } from 'chai';
import * as path from 'node:path';
import { ensureTools } from '../support/system-tools';
import { makeArray, run, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;

describe('nbd interop: fio', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let server: ServerProcess;

  before(async function () {
    this.timeout(900_000);
    ensureTools(this, ['fio']);
    t = tmpDir('lsa-nbd-fio-');
    await makeArray(path.join(t.dir, 'array'), [['vol0', 96 * MiB]]);
    server = await ServerProcess.start(['--dir', path.join(t.dir, 'array')]);
  });

  after(async () => {
    if (server) expect(await server.stop('SIGTERM')).to.equal(0);
    t?.cleanup();
  });

  it('random writes with --verify=crc32c from 4 jobs (4 KiB and 64 KiB blocks, iodepth 16)', () => {
    const common = ['--ioengine=nbd', `--uri=${server.uri('vol0')}`, '--rw=randwrite', '--verify=crc32c', '--do_verify=1',
      '--verify_fatal=1', '--verify_state_save=0', '--iodepth=16', '--fsync=32', '--size=16M', '--group_reporting'];
    const r = run('fio', [
      ...common,
      '--name=small', '--bs=4k', '--numjobs=2', '--offset=0', '--offset_increment=16M',
      '--name=large', '--bs=64k', '--numjobs=2', '--offset=32M', '--offset_increment=16M', '--iodepth=8',
    ], { timeoutMs: 150_000, allowFail: true });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).to.equal(0);
    expect(out).to.not.match(/verify: bad|crc32c: verify failed|err=\s*[1-9]/);
    expect(server.log).to.not.contain('request failed');
  });
});
