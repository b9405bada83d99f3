// Listeners stay on this machine unless the operator says otherwise: --nbd, --control and
// --replica-listen on a non-loopback address are refused (exit 64, naming --allow-remote)
// before anything listens; with --allow-remote the server starts and says in one warn line
// what it exposes. lsa up never leaves loopback. (Before: 0.0.0.0 was taken silently, and NBD
// has no credential at all.)

import { expect } from 'chai';
import * as path from 'node:path';
import { isLocalListener } from '../../src/cli/listen-policy';
import { freePorts, lsa } from '../support/pair-processes';
import { makeArray, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

const GEOMETRY = { disks: 4, columnBytes: 256 * 1024, diskBytes: 16 * 1024 * 1024, trackBytes: 4096 };

describe('security: listening addresses', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  let dir = '';

  before(async () => {
    t = tmpDir();
    dir = path.join(t.dir, 'a');
    await makeArray(dir, [['vol0', 4 * 1024 * 1024]], GEOMETRY);
  });

  after(() => t.cleanup());

  it('--nbd, --control and --replica-listen beyond loopback are refused before anything listens', async () => {
    const [p1, p2] = await freePorts(2);
    const cases: [string[], RegExp][] = [
      [['--nbd', `0.0.0.0:${p1}`], /--nbd 0\.0\.0\.0:\d+ is not a loopback address: .*every volume, read and write.*--allow-remote/],
      [['--nbd', `[::]:${p1}`], /--nbd \[::\]:\d+ is not a loopback address/],
      [['--nbd', `127.0.0.1:${p1}`, '--control', `0.0.0.0:${p2}`], /--control 0\.0\.0\.0:\d+ is not a loopback address: .*control API/],
      [['--nbd', `127.0.0.1:${p1}`, '--replica-listen', `0.0.0.0:${p2}`], /--replica-listen 0\.0\.0\.0:\d+ is not a loopback address: .*replication link/],
    ];
    for (const [args, message] of cases) {
      // a server that took the address would serve until killed: the time limit fails the test
      const r = await lsa(['serve', '--dir', dir, ...args], 30_000);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(64);
      expect(r.stderr).to.match(message);
    }
    const up = await lsa(['up', '--dir', path.join(t.dir, 'up'), '--nbd', `0.0.0.0:${p1}`], 30_000);
    expect(up.code, up.stderr).to.equal(64);
    expect(up.stderr).to.match(/--nbd 0\.0\.0\.0:\d+ is not a loopback address.*lsa serve --allow-remote/);
  });

  it('with --allow-remote: serves, and one warn line names what is exposed', async () => {
    const s = await ServerProcess.start(['--dir', dir, '--nbd', '0.0.0.0:0', '--allow-remote']);
    try {
      const warns = s.log.split('\n').filter((l) => / warn /.test(l) && /--allow-remote/.test(l));
      expect(warns.length, s.log).to.equal(1);
      expect(warns[0]).to.match(/--nbd 0\.0\.0\.0:0 exposes every volume, read and write, with no credential/);
    } finally {
      expect(await s.stop('SIGTERM')).to.equal(0);
    }
  });

  it('loopback names and unix: sockets are local', () => {
    for (const a of ['127.0.0.1:10809', '127.8.9.10:1', 'localhost:10809', '[::1]:10809', '10809', 'unix:/run/lsa/nbd.sock', '[::ffff:127.0.0.1]:5']) {
      expect(isLocalListener(a), a).to.equal(true);
    }
    for (const a of ['0.0.0.0:10809', '[::]:10809', '192.168.1.2:10809', 'example.com:10809', '[fe80::1]:10809', '128.0.0.1:1']) {
      expect(isLocalListener(a), a).to.equal(false);
    }
  });
});
