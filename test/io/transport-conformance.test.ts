// One suite, two transports (STYLE.md practice 12): real TCP on loopback (with real TLS-PSK)
// and the in-memory network on the simulated scheduler. What the replication link relies on:
// bytes in order, flow control, orderly and abrupt closes, refused and given-up connects, a
// second connection to one listener, bytes kept until someone attaches, and the TLS-PSK
// upgrade (same key: a shared channel binding; another key or a plain peer: refused).

import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { MemNetwork } from '../../src/io/mem-network';
import { SimScheduler } from '../../src/io/sim-scheduler';
import { tcpTransport } from '../../src/io/tcp-transport';
import type { Address, ByteStream, Listener, Transport } from '../../src/io/transport';
import { Prng } from '../../src/util/prng';
import { seedFrom } from '../support/tmp';

interface Rig {
  name: string;
  server: Transport;
  client: Transport;
  host: string;
  /** Lets the network work until `cond` holds. */
  until(what: string, cond: () => boolean): Promise<void>;
  /** Awaits `p` while the network works. */
  run<T>(p: Promise<T>): Promise<T>;
  /** An address that leads to `to` through something that can change one byte on the way
   * toward `to` once corrupt() is called. */
  tampered(to: Address): Promise<{ to: Address; corrupt(): void; close(): Promise<void> }>;
}

/** A TCP relay that flips one bit of the next chunk toward the target once armed. */
async function flippingRelay(target: Address): Promise<{ to: Address; corrupt(): void; close(): Promise<void> }> {
  let armed = false;
  const sockets: net.Socket[] = [];
  const server = net.createServer((a) => {
    const b = net.connect(target.port, target.host);
    sockets.push(a, b);
    a.on('data', (d: Buffer) => {
      if (armed && d.length > 8) {
        armed = false;
        d = Buffer.from(d);
        d[d.length - 1] ^= 0x10;
      }
      b.write(d);
    });
    b.on('data', (d: Buffer) => a.write(d));
    for (const [x, y] of [[a, b], [b, a]]) {
      x.on('close', () => y.destroy());
      x.on('error', () => y.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    to: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    corrupt: () => (armed = true),
    close: async () => {
      for (const x of sockets) x.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function tcpRig(): Rig {
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`tcp: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return { name: 'tcp', server: tcpTransport, client: tcpTransport, host: '127.0.0.1', until, run: (p) => p, tampered: flippingRelay };
}

function memRig(seed: number): Rig {
  const sched = new SimScheduler();
  const net = new MemNetwork(sched, seed);
  return {
    name: 'mem', server: net.transport('server'), client: net.transport('client'), host: 'server',
    until: (what, cond) => sched.until(what, cond, 600_000),
    run: (p) => sched.drive(p, 600_000),
    tampered: async (to) => ({ to, corrupt: () => net.corruptNext('server'), close: async () => undefined }),
  };
}

/** A stream with its events recorded. */
class Probe {
  chunks: Buffer[] = [];
  bytes = 0;
  drains = 0;
  closed: string | null = null;

  constructor(readonly s: ByteStream) {
    s.attach({ data: (d) => { this.chunks.push(Buffer.from(d)); this.bytes += d.length; }, drain: () => this.drains++, close: (r) => (this.closed = r) });
  }

  get all(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function accepting(rig: Rig): Promise<{ listener: Listener; accepted: ByteStream[]; to: Address }> {
  const accepted: ByteStream[] = [];
  const listener = await rig.run(rig.server.listen({ host: rig.host, port: 0 }, (s) => accepted.push(s)));
  return { listener, accepted, to: listener.address };
}

/** A connected pair: the client's stream and the server's, both probed. */
async function pairOf(rig: Rig): Promise<{ c: Probe; s: Probe; listener: Listener; accepted: ByteStream[]; to: Address }> {
  const a = await accepting(rig);
  const client = await rig.run(rig.client.connect(a.to));
  await rig.until('accept', () => a.accepted.length === 1);
  return { c: new Probe(client), s: new Probe(a.accepted[0]), ...a };
}

const PSK = { identity: 'conformance', psk: Buffer.alloc(32, 7) };

async function securedPair(rig: Rig, serverKey: Buffer, clientKey: Buffer): Promise<{ server: Promise<ByteStream>; client: Promise<ByteStream>; listener: Listener }> {
  const a = await accepting(rig);
  const raw = await rig.run(rig.client.connect(a.to));
  await rig.until('accept', () => a.accepted.length === 1);
  const server = a.accepted[0].secure({ side: 'server', identity: PSK.identity, psk: serverKey });
  const client = raw.secure({ side: 'client', identity: PSK.identity, psk: clientKey });
  server.catch(() => undefined);
  client.catch(() => undefined);
  return { server, client, listener: a.listener };
}

for (const make of [tcpRig, () => memRig(seedFrom(1501))]) {
  const probeRig = make();
  describe(`transport conformance: ${probeRig.name}`, function () {
    this.timeout(60_000);
    let rig: Rig;
    beforeEach(() => {
      rig = make();
    });

    it('bytes arrive in order, several buffers of one write as one stream, both ways', async () => {
      const { c, s, listener } = await pairOf(rig);
      expect(c.s.peer).to.be.a('string').and.not.equal('');
      expect(s.s.peer).to.be.a('string').and.not.equal('');
      expect(c.s.security).to.equal('plain');
      c.s.write([Buffer.from('abc'), Buffer.from('def')]);
      c.s.write([Buffer.from('ghi')]);
      await rig.until('9 bytes', () => s.bytes === 9);
      expect(s.all.toString()).to.equal('abcdefghi');
      s.s.write([Buffer.from('back')]);
      await rig.until('4 bytes back', () => c.bytes === 4);
      expect(c.all.toString()).to.equal('back');
      c.s.destroy();
      await listener.close();
    });

    it('8 MiB arrive whole; the queue empties and drain is told', async () => {
      const { c, s, listener } = await pairOf(rig);
      const data = new Prng(5).fill(Buffer.alloc(8 * 1024 * 1024));
      for (let at = 0; at < data.length; at += 1024 * 1024) c.s.write([data.subarray(at, at + 1024 * 1024)]);
      expect(c.s.queuedBytes).to.be.greaterThan(0);
      await rig.until('8 MiB', () => s.bytes === data.length);
      await rig.until('an empty queue', () => c.s.queuedBytes === 0);
      expect(s.all.equals(data)).to.equal(true);
      expect(c.drains).to.be.greaterThan(0);
      c.s.destroy();
      await listener.close();
    });

    it('a paused reader holds the sender back; resume delivers everything in order', async () => {
      const { c, s, listener } = await pairOf(rig);
      s.s.pause();
      const data = new Prng(6).fill(Buffer.alloc(32 * 1024 * 1024));
      for (let at = 0; at < data.length; at += 1024 * 1024) c.s.write([data.subarray(at, at + 1024 * 1024)]);
      // the network holds part of it at most (kernel buffers); the sender keeps the rest
      const settled = s.bytes;
      await rig.until('the sender backed up', () => c.s.queuedBytes > 0);
      expect(s.bytes).to.be.lessThan(data.length);
      expect(s.bytes - settled).to.be.lessThan(data.length);
      s.s.resume();
      await rig.until('all 32 MiB', () => s.bytes === data.length);
      expect(s.all.equals(data)).to.equal(true);
      c.s.destroy();
      await listener.close();
    });

    it('end(): the peer reads what was sent, then hears an orderly close; so does the ender', async () => {
      const { c, s, listener } = await pairOf(rig);
      const data = new Prng(7).fill(Buffer.alloc(1024 * 1024));
      c.s.write([data]);
      c.s.end();
      await rig.until('the server heard the close', () => s.closed !== null);
      expect(s.bytes).to.equal(data.length);
      expect(s.closed).to.equal('connection closed');
      await rig.until('the client heard its close', () => c.closed !== null);
      await listener.close();
    });

    it('destroy(): both ends hear a close', async () => {
      const { c, s, listener } = await pairOf(rig);
      s.s.destroy();
      await rig.until('both closed', () => c.closed !== null && s.closed !== null);
      await listener.close();
    });

    it('a connect to a port nobody listens on is refused', async () => {
      const { listener, to } = await accepting(rig);
      await listener.close();
      const err = await rig.run(rig.client.connect(to).then(() => null, (e: Error) => e));
      expect(err).to.be.instanceOf(Error);
      expect((err as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
    });

    it('a connect given up (abort) rejects', async () => {
      const { listener, to } = await accepting(rig);
      const abort = new AbortController();
      const p = rig.client.connect(to, abort.signal);
      abort.abort();
      const err = await rig.run(p.then((s) => (s.destroy(), null), (e: Error) => e));
      expect(err).to.be.instanceOf(Error);
      await listener.close();
    });

    it('one listener takes a second connection while the first is open; each keeps its own bytes', async () => {
      const a = await accepting(rig);
      const one = new Probe(await rig.run(rig.client.connect(a.to)));
      const two = new Probe(await rig.run(rig.client.connect(a.to)));
      await rig.until('two accepted', () => a.accepted.length === 2);
      const s = a.accepted.map((x) => new Probe(x));
      one.s.write([Buffer.from('one')]);
      two.s.write([Buffer.from('two')]);
      await rig.until('both arrived', () => s[0].bytes === 3 && s[1].bytes === 3);
      expect(s.map((x) => x.all.toString()).sort()).to.deep.equal(['one', 'two']);
      one.s.destroy();
      await rig.until('the first closed', () => s.some((x) => x.closed !== null));
      two.s.write([Buffer.from('still')]);
      await rig.until('the second still works', () => s.some((x) => x.closed === null && x.bytes === 8));
      two.s.destroy();
      await a.listener.close();
    });

    it('bytes that arrive before anyone attaches are kept for them', async () => {
      const a = await accepting(rig);
      const client = new Probe(await rig.run(rig.client.connect(a.to)));
      client.s.write([Buffer.from('early')]);
      await rig.until('accept', () => a.accepted.length === 1);
      // let the bytes arrive with nobody listening
      if (rig.name === 'tcp') await new Promise((r) => setTimeout(r, 50));
      else await rig.until('some events', () => true);
      const s = new Probe(a.accepted[0]);
      await rig.until('5 bytes', () => s.bytes === 5);
      expect(s.all.toString()).to.equal('early');
      client.s.destroy();
      await a.listener.close();
    });

    it('TLS-PSK with one key: both ends secured, one channel binding, bytes flow; another session has another binding', async () => {
      const bindings: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { server, client, listener } = await securedPair(rig, PSK.psk, PSK.psk);
        const s = await rig.run(server);
        const c = await rig.run(client);
        expect(s.security).to.equal('tls-psk');
        expect(c.security).to.equal('tls-psk');
        expect(c.channelBinding().length).to.equal(32);
        expect(c.channelBinding().equals(s.channelBinding())).to.equal(true);
        bindings.push(c.channelBinding().toString('hex'));
        const sp = new Probe(s);
        const cp = new Probe(c);
        const data = randomBytes(300_000);
        cp.s.write([data]);
        await rig.until('300 kB through TLS', () => sp.bytes === data.length);
        expect(sp.all.equals(data)).to.equal(true);
        sp.s.write([Buffer.from('ok')]);
        await rig.until('answer', () => cp.bytes === 2);
        cp.s.destroy();
        await listener.close();
      }
      expect(bindings[0]).to.not.equal(bindings[1]);
    });

    it('TLS-PSK with two keys: both ends refuse, saying the keys differ', async () => {
      const { server, client, listener } = await securedPair(rig, PSK.psk, Buffer.alloc(32, 8));
      const errs = await rig.run(Promise.all([server.then(() => null, (e: Error) => e), client.then(() => null, (e: Error) => e)]));
      for (const e of errs) expect(e?.message).to.match(/different keys/);
      await listener.close();
    });

    it('TLS-PSK: a byte changed on the way breaks the stream at both ends; no changed byte reaches the reader', async () => {
      const a = await accepting(rig);
      const relay = await rig.tampered(a.to);
      const raw = await rig.run(rig.client.connect(relay.to));
      await rig.until('accept', () => a.accepted.length === 1);
      const [s, c] = await rig.run(Promise.all([a.accepted[0].secure({ side: 'server', ...PSK }), raw.secure({ side: 'client', ...PSK })]));
      const sp = new Probe(s);
      const cp = new Probe(c);
      const sent: Buffer[] = [];
      const send = (): void => {
        const chunk = randomBytes(2000);
        sent.push(chunk);
        cp.s.write([chunk]);
      };
      send();
      await rig.until('the first chunk', () => sp.bytes === 2000);
      relay.corrupt();
      // keep sending (a changed length field is only found once more bytes come)
      for (let i = 0; i < 200 && (sp.closed === null || cp.closed === null); i++) {
        send();
        await rig.until('a little later', () => true).catch(() => undefined);
        if (rig.name === 'tcp') await new Promise((r) => setTimeout(r, 5));
      }
      await rig.until('both ends closed', () => sp.closed !== null && cp.closed !== null);
      expect(sp.closed).to.match(/integrity check|TLS/);
      const got = sp.all;
      expect(got.equals(Buffer.concat(sent).subarray(0, got.length)), 'what arrived is what was sent').to.equal(true);
      await relay.close();
      await a.listener.close();
    });

    it('TLS-PSK against a peer that sends plain bytes: refused', async () => {
      const a = await accepting(rig);
      const raw = await rig.run(rig.client.connect(a.to));
      await rig.until('accept', () => a.accepted.length === 1);
      const server = a.accepted[0].secure({ side: 'server', ...PSK });
      const err = server.then(() => null, (e: Error) => e);
      raw.attach({ data: () => undefined, drain: () => undefined, close: () => undefined });
      raw.write([Buffer.from('LSRC this is not a TLS client hello, not at all')]);
      expect(await rig.run(err)).to.be.instanceOf(Error);
      raw.destroy();
      await a.listener.close();
    });
  });
}
