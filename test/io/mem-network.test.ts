// The simulated scheduler and the in-memory network's faults (what the conformance suite does
// not cover because TCP has no such knobs): timers in order, stalls that hold bytes and
// connects, cuts, one corrupted byte (plain: delivered changed; secured: the connection
// breaks), and one seed giving one trace.

import { expect } from 'chai';
import { MemNetwork } from '../../src/io/mem-network';
import { SimScheduler } from '../../src/io/sim-scheduler';
import type { ByteStream } from '../../src/io/transport';
import { sleep } from '../../src/io/timers';
import { Prng } from '../../src/util/prng';
import { seedFrom } from '../support/tmp';

class Probe {
  data: Buffer[] = [];
  closed: string | null = null;
  constructor(readonly s: ByteStream) {
    s.attach({ data: (d) => this.data.push(Buffer.from(d)), drain: () => undefined, close: (r) => (this.closed = r) });
  }
  get all(): Buffer {
    return Buffer.concat(this.data);
  }
}

async function link(sched: SimScheduler, net: MemNetwork, port = 1): Promise<{ c: Probe; s: Probe }> {
  let server: ByteStream | null = null;
  await sched.drive(net.listen({ host: 'b', port }, (x) => (server = x)));
  const client = await sched.drive(net.transport('a').connect({ host: 'b', port }));
  return { c: new Probe(client), s: new Probe(server!) };
}

describe('simulated scheduler and in-memory network', () => {
  it('timers run in time order, ties in the order they were set; cancel and every work', async () => {
    const sched = new SimScheduler();
    const seen: string[] = [];
    sched.after(20, () => seen.push('b20'));
    sched.after(10, () => seen.push('a10'));
    sched.after(20, () => seen.push('c20'));
    const cancel = sched.after(15, () => seen.push('never'));
    cancel();
    let ticks = 0;
    const stop = sched.every(7, () => ticks++);
    await sched.drive(sleep(sched, 30));
    stop();
    expect(seen).to.deep.equal(['a10', 'b20', 'c20']);
    expect(ticks).to.equal(4);
    expect(sched.elapsedMs).to.equal(30);
  });

  it('a ten-minute wait takes no real time', async () => {
    const sched = new SimScheduler();
    const t0 = Date.now();
    await sched.drive(sleep(sched, 600_000));
    expect(sched.elapsedMs).to.equal(600_000);
    expect(Date.now() - t0).to.be.lessThan(2000);
  });

  it('a stall holds bytes and new connects until it heals; the connections stay open', async () => {
    const sched = new SimScheduler();
    const net = new MemNetwork(sched, 1, { latencyMs: 1 });
    const { c, s } = await link(sched, net);
    net.stall(true);
    c.s.write([Buffer.from('held')]);
    const late = net.transport('a').connect({ host: 'b', port: 1 });
    let connected = false;
    void late.then(() => (connected = true));
    await sched.runFor(60_000);
    expect(s.data.length).to.equal(0);
    expect(connected).to.equal(false);
    expect(s.closed).to.equal(null);
    net.stall(false);
    await sched.drive(late);
    await sched.until('held bytes', () => s.data.length > 0);
    expect(s.all.toString()).to.equal('held');
  });

  it('a cut resets both ends; what was on its way is lost', async () => {
    const sched = new SimScheduler();
    const net = new MemNetwork(sched, 2, { latencyMs: 5 });
    const { c, s } = await link(sched, net);
    c.s.write([Buffer.from('lost')]);
    net.cut();
    await sched.until('both closed', () => c.closed !== null && s.closed !== null);
    expect(c.closed).to.match(/network cut/);
    expect(s.data.length).to.equal(0);
    expect(net.openConnections).to.equal(0);
  });

  it('one corrupted byte: delivered changed on a plain stream, a broken connection on a secured one', async () => {
    const seed = seedFrom(1502);
    const sched = new SimScheduler();
    const net = new MemNetwork(sched, seed);
    const plain = await link(sched, net);
    const data = new Prng(seed).fill(Buffer.alloc(4096));
    net.corruptNext('server');
    plain.c.s.write([data]);
    await sched.until('delivery', () => plain.s.all.length === data.length);
    let diff = 0;
    for (let i = 0; i < data.length; i++) if (plain.s.all[i] !== data[i]) diff++;
    expect(diff, `seed ${seed}`).to.equal(1);

    const raw = await link(sched, net, 2);
    const key = { identity: 'x', psk: Buffer.alloc(32, 1) };
    const sp = raw.s.s.secure({ side: 'server', ...key });
    const cp = raw.c.s.secure({ side: 'client', ...key });
    const [s, c] = await sched.drive(Promise.all([sp, cp]));
    const sProbe = new Probe(s);
    const cProbe = new Probe(c);
    net.corruptNext('server');
    cProbe.s.write([data]);
    await sched.until('the break', () => sProbe.closed !== null && cProbe.closed !== null);
    expect(sProbe.data.length).to.equal(0);
    expect(sProbe.closed).to.match(/integrity check/);
  });

  it('one seed, one trace; another seed, another trace (the jitter)', async () => {
    const run = async (seed: number): Promise<string> => {
      const sched = new SimScheduler();
      const net = new MemNetwork(sched, seed);
      const { c, s } = await link(sched, net);
      const rng = new Prng(seed);
      for (let i = 0; i < 50; i++) {
        c.s.write([rng.fill(Buffer.alloc(1 + rng.int(5000)))]);
        if (rng.chance(0.3)) await sched.runFor(rng.int(3));
      }
      await sched.until('all', () => c.s.queuedBytes === 0);
      s.s.destroy();
      await sched.runFor(10);
      return sched.traceHash;
    };
    const seed = seedFrom(1503);
    const a = await run(seed);
    const b = await run(seed);
    console.log(`      seed ${seed}: trace ${a}`);
    expect(b).to.equal(a);
    expect(await run(seed + 1)).to.not.equal(a);
  });
});
