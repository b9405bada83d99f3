// `lsa serve` and `lsa up` as processes: --help, clean shutdown on SIGTERM/SIGINT (in-flight
// requests answered, everything acknowledged flushed), recovery after SIGKILL, and `up`
// creating ./volumes/primary with a 1 GiB vol0 on first run.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseListenAddress } from '../../src/cli/serve-session';
import * as C from '../../src/nbd/constants';
import { Prng } from '../../src/util/prng';
import { NbdTestClient } from '../support/nbd-client';
import { MAIN_JS, makeArray, run, ServerProcess } from '../support/serve-process';
import { tmpDir } from '../support/tmp';

const MiB = 1024 * 1024;

describe('nbd server process: serve and up', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tmpDir>;
  const servers: ServerProcess[] = [];

  const start = async (args: string[], command = 'serve', cwd?: string): Promise<ServerProcess> => {
    const s = await ServerProcess.start(args, command, cwd);
    servers.push(s);
    return s;
  };

  beforeEach(() => {
    t = tmpDir('lsa-nbd-life-');
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop('SIGKILL').catch(() => undefined);
    t.cleanup();
  });

  it('--help on serve and up', () => {
    for (const cmd of ['serve', 'up']) {
      const r = run(process.execPath, [MAIN_JS, cmd, '--help']);
      expect(r.stdout).to.contain(`usage: lsa ${cmd}`).and.to.contain('--nbd').and.to.contain('--log-format');
    }
  });

  it('--nbd: loopback unless another host is named', () => {
    expect(parseListenAddress('10809')).to.deep.equal({ host: '127.0.0.1', port: 10809 });
    expect(parseListenAddress(':7000')).to.deep.equal({ host: '127.0.0.1', port: 7000 });
    expect(parseListenAddress('127.0.0.2:0')).to.deep.equal({ host: '127.0.0.2', port: 0 });
    expect(parseListenAddress('[::1]:10812')).to.deep.equal({ host: '::1', port: 10812 });
    expect(parseListenAddress('0.0.0.0:10809')).to.deep.equal({ host: '0.0.0.0', port: 10809 });
    for (const bad of ['1.2.3.4:99999', 'a b:1', 'x:y', '[zz]:1']) expect(() => parseListenAddress(bad), bad).to.throw(/--nbd/);
  });

  it('SIGTERM: in-flight writes are answered and flushed before exit; SIGKILL: the next serve recovers', async () => {
    const dir = path.join(t.dir, 'array');
    await makeArray(dir, [['vol0', 16 * MiB]]);
    let s = await start(['--dir', dir]);
    const c = await NbdTestClient.open(s.port, { exportName: 'vol0' });
    const rng = new Prng(3);
    const blocks = Array.from({ length: 48 }, (_, i) => ({ off: i * 300_001, data: rng.fill(Buffer.alloc(rng.range(1, 200_000))) }));
    const replies = blocks.map((b) => c.write(b.off, b.data));
    const settled = Promise.allSettled(replies);
    await replies[0];
    expect(await s.stop('SIGTERM')).to.equal(0);
    const results = await settled;
    expect(s.log).to.match(/shut down: every acknowledged write is flushed/).and.to.match(/array closed/);

    s = await start(['--dir', dir]);
    const d = await NbdTestClient.open(s.port, { exportName: 'vol0' });
    let acknowledged = 0;
    for (let i = 0; i < blocks.length; i++) {
      const r = results[i];
      if (r.status !== 'fulfilled' || r.value.errno !== 0) continue;
      acknowledged++;
      const got = await d.read(blocks[i].off, blocks[i].data.length);
      expect(got.data!.equals(blocks[i].data), `acknowledged write ${i} survives a clean shutdown`).to.equal(true);
    }
    expect(acknowledged).to.be.greaterThan(0);

    // flushed data survives SIGKILL; the next start recovers
    const durable = rng.fill(Buffer.alloc(1_000_003));
    expect((await d.write(5 * MiB + 7, durable)).errno).to.equal(0);
    expect((await d.flush()).errno).to.equal(0);
    expect((await d.write(9 * MiB, Buffer.alloc(70_000, 0x99), C.CMD_FLAG_FUA)).errno).to.equal(0);
    void d.write(12 * MiB, Buffer.alloc(100_000, 0x77)).catch(() => undefined); // never flushed: may or may not survive
    expect(await s.stop('SIGKILL')).to.equal('SIGKILL');

    s = await start(['--dir', dir]);
    const e = await NbdTestClient.open(s.port, { exportName: 'vol0' });
    expect((await e.read(5 * MiB + 7, durable.length)).data!.equals(durable)).to.equal(true);
    expect((await e.read(9 * MiB, 70_000)).data!.equals(Buffer.alloc(70_000, 0x99))).to.equal(true);
    await e.disconnect();
    expect(await s.stop('SIGINT')).to.equal(0);
    const check = run(process.execPath, [MAIN_JS, 'check', '--dir', dir], { allowFail: true });
    expect(check.status, check.stdout + check.stderr).to.equal(0);
  });

  it('lsa up: creates ./volumes/primary with a 1 GiB vol0, says how to connect, serves it; a second up reopens it', async () => {
    const s = await start([], 'up', t.dir);
    expect(fs.existsSync(path.join(t.dir, 'volumes', 'primary'))).to.equal(true);
    await s.waitFor(/qemu-io -f raw nbd:\/\/127\.0\.0\.1:\d+\/vol0/, 10_000);
    const c = await NbdTestClient.open(s.port, { exportName: '' });
    expect(c.size).to.equal(1024 * MiB);
    expect((await c.write(1024 * MiB - 5, Buffer.from('tail!'), C.CMD_FLAG_FUA)).errno).to.equal(0);
    await c.disconnect();
    expect(await s.stop('SIGINT')).to.equal(0);
    expect(s.log).to.match(/created an array/);

    const again = await start([], 'up', t.dir);
    expect(again.log).to.not.match(/created an array/);
    const d = await NbdTestClient.open(again.port, { exportName: 'vol0' });
    expect((await d.read(1024 * MiB - 5, 5)).data!.toString()).to.equal('tail!');
    await d.disconnect();
    expect(await again.stop('SIGTERM')).to.equal(0);
  });
});
