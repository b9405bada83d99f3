// 300 slow control connections (slowloris: headers that trickle in and never end) while an NBD
// client keeps working against the same process: the client is served, the server holds at
// most CONTROL_CONNECTIONS_MAX of them and closes every one within its headers deadline, its
// memory stays put, and the control API answers again afterwards. (Before: no connection
// limit and Node's default 60 s headers timeout, checked every 30 s.)

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CONTROL_CONNECTIONS_MAX, CONTROL_HEADERS_TIMEOUT_MS } from '../../src/control/http-api';
import { NbdTestClient } from '../support/nbd-client';
import { controlToken, rawRequest } from '../support/control-http';
import { freePorts } from '../support/pair-processes';
import { makeArray, ServerProcess } from '../support/serve-process';
import { seedFrom, tmpDir } from '../support/tmp';
import { Prng } from '../../src/util/prng';

const SLOW_CONNECTIONS = 300;
/** How often each slow client sends one more header line. */
const TRICKLE_MS = 500;
/** Generous: the deadline is CONTROL_HEADERS_TIMEOUT_MS, checked every second. */
const CLOSED_WITHIN_MS = 20_000;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Slow {
  socket: net.Socket;
  openedMs: number;
  closedMs: number | null;
  timer: NodeJS.Timeout | null;
}

function slowClient(port: number): Slow {
  const s: Slow = { socket: net.connect(port, '127.0.0.1'), openedMs: Date.now(), closedMs: null, timer: null };
  s.socket.on('error', () => undefined);
  s.socket.on('connect', () => {
    s.socket.write(`GET /status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    let n = 0;
    s.timer = setInterval(() => s.socket.write(`X-Slow-${n++}: x\r\n`), TRICKLE_MS);
  });
  s.socket.on('close', () => {
    s.closedMs = Date.now();
    if (s.timer) clearInterval(s.timer);
  });
  return s;
}

describe('security: slow control clients', function () {
  this.timeout(180_000);
  let t: ReturnType<typeof tmpDir>;
  let server: ServerProcess | null = null;
  const slow: Slow[] = [];

  before(() => {
    t = tmpDir();
  });

  after(async () => {
    for (const s of slow) {
      if (s.timer) clearInterval(s.timer);
      s.socket.destroy();
    }
    await server?.stop('SIGKILL').catch(() => undefined);
    t.cleanup();
  });

  it(`${SLOW_CONNECTIONS} slowloris connections: NBD still served, at most ${CONTROL_CONNECTIONS_MAX} held, all closed by the headers deadline, memory bounded`, async () => {
    const seed = seedFrom(0x510);
    const rng = new Prng(seed);
    const dir = path.join(t.dir, 'p');
    await makeArray(dir, [['vol0', 16 * 1024 * 1024]], { disks: 4, columnBytes: 256 * 1024, diskBytes: 32 * 1024 * 1024, trackBytes: 4096 });
    const [control] = await freePorts(1);
    server = await ServerProcess.start(['--dir', dir, '--control', `127.0.0.1:${control}`, '--log-level', 'debug']);
    await server.waitFor(/control API listening/, 20_000);
    const pid = server.child.pid!;
    const nbd = await NbdTestClient.open(server.port, { exportName: 'vol0' });
    const rssBefore = rssBytes(pid);

    for (let i = 0; i < SLOW_CONNECTIONS; i++) slow.push(slowClient(control));
    // NBD keeps working while they hang on
    let rounds = 0;
    while (slow.some((s) => s.closedMs === null) && rounds < 200) {
      const data = rng.fill(Buffer.alloc(256 * 1024));
      const off = rng.int(64) * 256 * 1024;
      expect((await nbd.write(off, data)).errno, `seed ${seed}: write during the attack`).to.equal(0);
      expect((await nbd.read(off, data.length)).data!.equals(data), `seed ${seed}: read back during the attack`).to.equal(true);
      rounds++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const deadline = Date.now() + CLOSED_WITHIN_MS * 2;
    while (slow.some((s) => s.closedMs === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const open = slow.filter((s) => s.closedMs === null).length;
    expect(open, 'slow connections the server never closed').to.equal(0);
    const lifetimes = slow.map((s) => s.closedMs! - s.openedMs).sort((a, b) => a - b);
    // the ones past the limit are closed at once; the held ones when their headers are late
    expect(lifetimes[SLOW_CONNECTIONS - CONTROL_CONNECTIONS_MAX - 1], 'closed at once: over the connection limit').to.be.below(CONTROL_HEADERS_TIMEOUT_MS);
    expect(lifetimes[SLOW_CONNECTIONS - 1], 'the longest a slow client was held').to.be.below(CLOSED_WITHIN_MS);
    expect(rounds, 'NBD I/O rounds during the attack').to.be.greaterThan(0);
    const rssDuring = rssBytes(pid);
    expect(rssDuring - rssBefore, `RSS ${rssBefore} -> ${rssDuring}`).to.be.below(128 * 1024 * 1024);

    console.log(`      ${rounds} NBD write+read rounds during the attack; slow clients held ${lifetimes[0]}..${lifetimes[SLOW_CONNECTIONS - 1]} ms; RSS +${((rssDuring - rssBefore) / 1048576).toFixed(1)} MiB (seed ${seed}, replay: LSA_SEED=${seed})`);
    const ok = await rawRequest(control, { method: 'GET', path: '/status', headers: { authorization: `Bearer ${controlToken(dir)}` } });
    expect(ok.status, ok.text).to.equal(200);
    await nbd.disconnect();
    expect(await server.stop('SIGTERM')).to.equal(0);
    server = null;
  });
});
