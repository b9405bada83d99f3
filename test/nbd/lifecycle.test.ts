// `lsa serve` and `lsa up` as processes: --help, clean shutdown on SIGTERM/SIGINT (in-flight
// requests answered, everything acknowledged flushed), recovery after SIGKILL, and `up`
// creating ./volumes/primary with a 1 GiB vol0 on first run.

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
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
  const ups: UpProcess[] = [];

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
    for (const u of ups.splice(0)) await u.stop('SIGKILL');
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

  it('lsa up: creates ./volumes/{primary,secondary}, pairs them, says how to connect, serves vol0; a second up reopens it', async () => {
    const [nbd, control, replica, secNbd] = await freePorts(4);
    const args = ['--nbd', `127.0.0.1:${nbd}`, '--control', `127.0.0.1:${control}`, '--replica-port', String(replica), '--secondary-nbd', `127.0.0.1:${secNbd}`];
    const up = async (): Promise<UpProcess> => {
      const p = new UpProcess(spawn(process.execPath, [MAIN_JS, 'up', ...args], { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
      ups.push(p);
      await p.waitFor(new RegExp(`qemu-io -f raw nbd://127\\.0\\.0\\.1:${nbd}/vol0`), 60_000);
      return p;
    };
    const s = await up();
    expect(fs.existsSync(path.join(t.dir, 'volumes', 'primary'))).to.equal(true);
    expect(fs.existsSync(path.join(t.dir, 'volumes', 'secondary', 'replication.key'))).to.equal(true);
    expect(s.output).to.match(/are duplex/);
    const c = await NbdTestClient.open(nbd, { exportName: '' });
    expect(c.size).to.equal(1024 * MiB);
    expect((await c.write(1024 * MiB - 5, Buffer.from('tail!'), C.CMD_FLAG_FUA)).errno).to.equal(0);
    await c.disconnect();
    expect(await s.stop()).to.equal(0);
    expect(s.output).to.match(/created .*primary with volume vol0/);

    const again = await up();
    expect(again.output).to.not.match(/created /);
    const d = await NbdTestClient.open(nbd, { exportName: 'vol0' });
    expect((await d.read(1024 * MiB - 5, 5)).data!.toString()).to.equal('tail!');
    await d.disconnect();
    // the secondary has it too: read it through the secondary's read-only NBD export
    const sec = await NbdTestClient.open(secNbd, { exportName: 'vol0' });
    expect((await sec.read(1024 * MiB - 5, 5)).data!.toString()).to.equal('tail!');
    await sec.disconnect();
    expect(await again.stop()).to.equal(0);
  });
});

/** `lsa up` as a child: its stdout and stderr, and a clean stop with SIGINT. */
class UpProcess {
  output = '';

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
  }

  async waitFor(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no ${re} from lsa up; its output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  })));
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}
