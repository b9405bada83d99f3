// The secondary's port against a stranger: the primary proves itself before the secondary
// reveals anything, the TLS key is not the raw replication key, frames over 4 KiB before
// authentication close the connection, the ninth concurrent handshake is refused, the
// handshake deadline is absolute (counted from accept, not from the last byte; driven by the
// simulated clock), and a --replica-tls mismatch is named at both ends.

import { expect } from 'chai';
import * as path from 'node:path';
import { SimDiskSystem } from '../../src/io/sim-disk';
import { SimScheduler } from '../../src/io/sim-scheduler';
import { MemNetwork } from '../../src/io/mem-network';
import { tcpTransport } from '../../src/io/tcp-transport';
import { sleep, type Timers } from '../../src/io/timers';
import type { Transport } from '../../src/io/transport';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray } from '../../src/lsa/open-array';
import { createVolume } from '../../src/lsa/volumes';
import { linkKeys, TLS_PSK_IDENTITY } from '../../src/replication/auth';
import { HANDSHAKES_MAX, HANDSHAKE_TIMEOUT_MS } from '../../src/replication/handshake-gate';
import { encodeFrame } from '../../src/replication/frame';
import { MSG, PROTOCOL_VERSION_JSON, encodeJson } from '../../src/replication/messages';
import { PrimaryReplicator } from '../../src/replication/primary';
import { SecondaryServer } from '../../src/replication/secondary';
import { silentLogger, type Logger } from '../../src/util/log';
import { RawPeer } from '../support/raw-link';
import { tmpDir } from '../support/tmp';

const KEY = Buffer.alloc(32, 0x5a);
const NONCE = 'ab'.repeat(32);

function recordingLog(lines: string[]): Logger {
  const keep = (m: string, f?: Record<string, unknown>): void => {
    lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  };
  const log: Logger = { ...silentLogger, info: keep, warn: keep, error: keep, child: () => log };
  return log;
}

async function simEngine(root: string, name: string, clock?: Timers): Promise<LsaEngine> {
  return createArray(path.join(root, name), { geometry: { disks: 4, columnBytes: 64 * 1024, diskBytes: 4 * 1024 * 1024, trackBytes: 4096 }, disks: new SimDiskSystem(), nvram: 'memory', lock: false, clock, volume: null });
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('security: the replication handshake against a stranger (real TCP)', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tmpDir>;
  let engine: LsaEngine;
  let server: SecondaryServer;
  let lines: string[];
  let to: { host: string; port: number };
  const peers: RawPeer[] = [];

  async function start(tls: boolean): Promise<void> {
    t = tmpDir();
    lines = [];
    engine = await simEngine(t.dir, 'secondary');
    server = new SecondaryServer(engine, { host: '127.0.0.1', port: 0, key: KEY, tls, log: recordingLog(lines) });
    to = await server.listen();
  }

  async function peer(): Promise<RawPeer> {
    const p = await RawPeer.connect(tcpTransport, to);
    peers.push(p);
    return p;
  }

  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    await server.close();
    await engine.close();
    t.cleanup();
  });

  it('the primary proves itself first: a peer without the key gets a nonce, no proof, and nothing is created', async () => {
    await start(false);
    const p = await peer();
    p.greet('off');
    await until('the LINK answer', () => p.frames.length === 1);
    expect(p.frames[0].type).to.equal(MSG.LINK);
    p.restartNumbering();
    p.send(MSG.HELLO, { protocol: PROTOCOL_VERSION_JSON, role: 'primary', nonce: NONCE, arrayId: 'x', mode: 'sync' });
    await until('CHALLENGE', () => p.frames.length === 1);
    expect(p.frames[0].type).to.equal(MSG.CHALLENGE);
    expect(Object.keys(p.json(0)), 'CHALLENGE carries a nonce and nothing else').to.deep.equal(['nonce']);
    p.send(MSG.AUTH, { proof: '00'.repeat(32) });
    await until('the close', () => p.closed !== null);
    const said = p.frames.map((f) => f.payload.toString('utf8')).join('\n');
    expect(said).to.match(/authentication failed/);
    expect(said, 'no proof of the secondary').to.not.match(/proof/);
    expect(engine.volumesByName.size, 'nothing created').to.equal(0);
    expect(lines.join('\n')).to.match(/primary refused: handshake failed.*authentication failed/);
  });

  it('with TLS a peer without the key does not get past TLS; the raw replication key is not the TLS key either', async () => {
    await start(true);
    const tries = [
      { what: 'another key', psk: Buffer.alloc(32, 1), ok: false },
      { what: 'the raw replication key', psk: KEY, ok: false },
      { what: 'the key derived from it (what a primary uses)', psk: linkKeys(KEY).psk, ok: true },
    ];
    for (const x of tries) {
      const raw = await tcpTransport.connect(to);
      const answer = new Promise<void>((resolve) => raw.attach({ data: () => resolve(), drain: () => undefined, close: () => undefined }));
      raw.write([encodeFrame(MSG.LINK, 1, encodeJson({ protocol: PROTOCOL_VERSION_JSON, role: 'primary', tls: 'psk' }))]);
      await answer;
      const secured = await raw.secure({ side: 'client', identity: TLS_PSK_IDENTITY, psk: x.psk }).then((s) => s, (e: Error) => e);
      expect(secured instanceof Error, x.what).to.equal(!x.ok);
      if (!(secured instanceof Error)) secured.destroy();
    }
    expect(lines.join('\n')).to.match(/authentication failed: TLS-PSK handshake failed/);
  });

  it('a frame over 4 KiB before authentication closes the connection as soon as its header arrives', async () => {
    await start(false);
    const first = await peer();
    first.bytes(RawPeer.header(MSG.LINK, 1, 4 * 1024 * 1024));
    await until('the close', () => first.closed !== null);
    expect(first.frames.map((f) => f.payload.toString()).join()).to.match(/before authentication is over the 4096-byte limit/);
    const second = await peer();
    second.greet('off');
    await until('LINK', () => second.frames.length === 1);
    second.restartNumbering();
    second.bytes(RawPeer.header(MSG.HELLO, 1, 4097));
    await until('the close', () => second.closed !== null);
  });

  it(`the ${HANDSHAKES_MAX + 1}th concurrent handshake is refused with a reason; once one ends a new one gets in`, async () => {
    await start(true);
    const held: RawPeer[] = [];
    for (let i = 0; i < HANDSHAKES_MAX; i++) held.push(await peer());
    const ninth = await peer();
    ninth.greet('psk');
    await until('the refusal', () => ninth.closed !== null && ninth.frames.length > 0);
    expect(ninth.frames[0].type).to.equal(MSG.ERROR);
    expect(ninth.json(0).code).to.equal('LSA_TRY_AGAIN');
    expect(String(ninth.json(0).message)).to.match(new RegExp(`${HANDSHAKES_MAX} replication handshakes are in progress`));
    for (const h of held) expect(h.closed, 'the held ones stay open').to.equal(null);
    held[0].destroy();
    // the secondary frees the slot when it sees the close
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      const again = await peer();
      again.greet('psk');
      await until('an answer', () => again.frames.length > 0 || again.closed !== null);
      answered = again.frames[0]?.type === MSG.LINK;
      if (!answered) await new Promise((r) => setTimeout(r, 20));
    }
    expect(answered, 'admitted after one ended').to.equal(true);
    expect(lines.filter((l) => /too many handshakes/.test(l)).length, 'refusals logged once, not per connection').to.be.at.most(2);
  });
});

describe('security: handshake deadlines and settings (simulated clock)', function () {
  this.timeout(60_000);

  async function simSecondary(root: string, tls: boolean, lines: string[]): Promise<{ sched: SimScheduler; net: MemNetwork; server: SecondaryServer; engine: LsaEngine }> {
    const sched = new SimScheduler();
    const net = new MemNetwork(sched, 7);
    const engine = await simEngine(root, 'secondary', sched);
    const server = new SecondaryServer(engine, { host: 'secondary', port: 10811, key: KEY, tls, log: recordingLog(lines), transport: net.transport('secondary'), timers: sched });
    await sched.drive(server.listen());
    return { sched, net, server, engine };
  }

  it(`the secondary closes a connection ${HANDSHAKE_TIMEOUT_MS} ms after accept however it trickles bytes`, async () => {
    const t = tmpDir();
    try {
      const lines: string[] = [];
      const { sched, net, server } = await simSecondary(t.dir, false, lines);
      const transport: Transport = net.transport('stranger');
      // one: a greeting that never ends, a byte every 700 ms
      const slow = await sched.drive(RawPeer.connect(transport, { host: 'secondary', port: 10811 }, () => sched.nowMs()));
      const openedMs = sched.nowMs();
      const link = Buffer.from(JSON.stringify({ protocol: PROTOCOL_VERSION_JSON, role: 'primary', tls: 'off', pad: 'x'.repeat(200) }));
      const bytes = encodeFrame(MSG.LINK, 1, link);
      const trickle = (async () => {
        for (let i = 0; i < bytes.length && slow.closed === null; i++) {
          slow.bytes(bytes.subarray(i, i + 1));
          await sleep(sched, 700);
        }
      })();
      await sched.until('the close', () => slow.closed !== null, 120_000);
      const heldMs = slow.closedAtMs - openedMs;
      expect(heldMs).to.be.within(HANDSHAKE_TIMEOUT_MS - 1, HANDSHAKE_TIMEOUT_MS + 5);
      await sched.drive(trickle);
      // two: through the greeting at once, then HELLO a byte at a time
      const half = await sched.drive(RawPeer.connect(transport, { host: 'secondary', port: 10811 }, () => sched.nowMs()));
      const openedMs2 = sched.nowMs();
      half.greet('off');
      await sched.until('LINK', () => half.frames.length === 1);
      half.restartNumbering();
      const hello = encodeFrame(MSG.HELLO, 1, Buffer.from(JSON.stringify({ protocol: PROTOCOL_VERSION_JSON, role: 'primary', nonce: NONCE, pad: 'y'.repeat(300) })));
      for (let i = 0; i < hello.length && half.closed === null; i++) {
        half.bytes(hello.subarray(i, i + 1));
        await sched.drive(sleep(sched, 400));
      }
      await sched.until('the close', () => half.closed !== null, 120_000);
      expect(half.closedAtMs - openedMs2).to.be.within(HANDSHAKE_TIMEOUT_MS - 1, HANDSHAKE_TIMEOUT_MS + 5);
      expect(lines.join('\n')).to.match(new RegExp(`no authenticated primary within ${HANDSHAKE_TIMEOUT_MS} ms`));
      await sched.drive(server.close());
    } finally {
      t.cleanup();
    }
  });

  it(`the primary gives up on a secondary that stalls its handshake after ${HANDSHAKE_TIMEOUT_MS} ms, and tries again`, async () => {
    const t = tmpDir();
    try {
      const sched = new SimScheduler();
      const net = new MemNetwork(sched, 8);
      // a fake secondary: answers the greeting, then says nothing
      let accepted = 0;
      await sched.drive(net.listen({ host: 'fake', port: 1 }, (s) => {
        accepted++;
        const p = new RawPeer(s, () => sched.nowMs());
        void sched.until('greeting', () => p.frames.length > 0).catch(() => undefined);
        sched.after(1, () => p.send(MSG.LINK, { protocol: PROTOCOL_VERSION_JSON, role: 'secondary', tls: 'off' }));
      }));
      const primary = await simEngine(t.dir, 'primary', sched);
      await createVolume(primary, 'vol0', 1024 * 1024, 'none');
      const lines: string[] = [];
      const rep = new PrimaryReplicator(primary, { host: 'fake', port: 1, key: KEY, tls: false, mode: 'sync', lagMaxBytes: 1 << 20, log: recordingLog(lines), transport: net.transport('primary'), timers: sched, reconnectMs: 500 });
      rep.start();
      await sched.drive(sleep(sched, HANDSHAKE_TIMEOUT_MS + 1000));
      expect(lines.join('\n')).to.match(new RegExp(`no authenticated secondary within ${HANDSHAKE_TIMEOUT_MS} ms`));
      expect(rep.status()[0].error).to.match(/no authenticated secondary/);
      expect(accepted, 'a new attempt after giving up').to.equal(2);
      await sched.drive(rep.stop());
      await sched.drive(primary.close());
    } finally {
      t.cleanup();
    }
  });

  for (const [primaryTls, secondaryTls] of [[false, true], [true, false]]) {
    it(`--replica-tls ${primaryTls ? 'on' : 'off'} on the primary, ${secondaryTls ? 'on' : 'off'} on the secondary: both ends name the knob, nothing is written`, async () => {
      const t = tmpDir();
      try {
        const sLines: string[] = [];
        const { sched, net, server, engine } = await simSecondary(t.dir, secondaryTls, sLines);
        const primary = await simEngine(t.dir, 'primary', sched);
        await createVolume(primary, 'vol0', 1024 * 1024, 'none');
        const pLines: string[] = [];
        const rep = new PrimaryReplicator(primary, { host: 'secondary', port: 10811, key: KEY, tls: primaryTls, mode: 'sync', lagMaxBytes: 1 << 20, log: recordingLog(pLines), transport: net.transport('primary'), timers: sched });
        rep.start();
        await sched.drive(sleep(sched, 3000));
        expect(rep.connected).to.equal(false);
        expect(rep.status()[0].error).to.match(/--replica-tls (on|off) and this primary with --replica-tls/);
        expect(pLines.join('\n')).to.match(/secondary refused: the two ends differ in --replica-tls/);
        expect(sLines.join('\n')).to.match(/primary refused: handshake failed.*the primary runs with --replica-tls/);
        expect(engine.volumesByName.size).to.equal(0);
        await sched.drive(rep.stop());
        await sched.drive(server.close());
      } finally {
        t.cleanup();
      }
    });
  }
});
