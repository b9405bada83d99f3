// An in-memory network on the simulated scheduler (sim-scheduler.ts): streams between named
// hosts with a latency, a little seeded jitter and a bandwidth, and the faults a real link
// has: stall (a partition: bytes and connects wait until it heals, the connections stay
// open), cut (every connection reset), a corrupted byte, refused connects, and any number of
// connections to one listener. TLS-PSK is modelled, not run: both ends must call secure()
// with the same key, and once secured a changed byte breaks the connection (as a failed
// record MAC does) instead of reaching the reader. Every delivery goes into the trace.

import { crc32 } from 'node:zlib';
import { Prng } from '../util/prng';
import type { SimScheduler } from './sim-scheduler';
import { CHANNEL_BINDING_BYTES, formatAddress, type Address, type ByteStream, type Listener, type StreamHandlers, type StreamSecurity, type TlsPsk, type Transport } from './transport';

export interface MemNetworkOptions {
  /** One-way delay of every delivery. */
  latencyMs?: number;
  /** Up to this much more, drawn per delivery (order within a stream is kept). */
  jitterMs?: number;
  /** What one direction of one stream carries per millisecond. */
  bytesPerMs?: number;
}

/** The first port listen() hands out for port 0. */
const EPHEMERAL_PORT_FIRST = 40000;

type Side = 'client' | 'server';
type Item = { kind: 'data'; chunk: Buffer } | { kind: 'fin' };

/** Bytes of one direction of a connection on their way. */
class Direction {
  busyUntilMs = 0;
  lastArrivalMs = 0;
  /** Items that arrived during a stall, in order. */
  held: Item[] = [];
}

class MemConnection {
  readonly ends: Record<Side, MemEnd>;
  readonly toward: Record<Side, Direction> = { client: new Direction(), server: new Direction() };
  broken = false;
  secured = false;
  binding: Buffer = Buffer.alloc(0);
  tlsPending = new Map<Side, { tls: TlsPsk; resolve: (s: ByteStream) => void; reject: (e: Error) => void }>();

  constructor(readonly net: MemNetwork, readonly id: number, clientPeer: string, serverPeer: string) {
    this.ends = { client: new MemEnd(this, 'client', clientPeer), server: new MemEnd(this, 'server', serverPeer) };
  }

  /** Resets both ends (at once), dropping what is on its way. */
  reset(reasons: Record<Side, string>, delayMs: Record<Side, number>): void {
    if (this.broken) return;
    this.broken = true;
    this.net.forget(this);
    for (const side of ['client', 'server'] as const) {
      this.toward[side].held = [];
      const end = this.ends[side];
      this.net.sched.schedule(delayMs[side], `net c${this.id} reset ${side}`, () => end.closeNow(reasons[side]));
      const p = this.tlsPending.get(side);
      if (p) p.reject(new Error(`connection closed during the TLS handshake: ${reasons[side]}`));
    }
    this.tlsPending.clear();
  }
}

class MemEnd implements ByteStream {
  private h: StreamHandlers | null = null;
  /** Arrived and not yet given to the handlers (paused, or nobody attached). */
  private inbox: Buffer[] = [];
  private paused = false;
  private finReceived = false;
  private finSent = false;
  closed = false;
  private closeReason = '';
  private closeTold = false;
  /** Bytes this end wrote that the other end's reader has not taken yet. */
  outBytes = 0;
  security: StreamSecurity = 'plain';

  constructor(readonly conn: MemConnection, readonly side: Side, readonly peer: string) {}

  private get other(): MemEnd {
    return this.conn.ends[this.side === 'client' ? 'server' : 'client'];
  }

  attach(h: StreamHandlers): void {
    this.h = h;
    this.deliver();
  }

  write(chunks: readonly Buffer[]): void {
    if (this.closed || this.finSent || this.conn.broken) return;
    const chunk = chunks.length === 1 ? Buffer.from(chunks[0]) : Buffer.concat(chunks);
    if (chunk.length === 0) return;
    this.outBytes += chunk.length;
    this.conn.net.send(this.conn, this.side === 'client' ? 'server' : 'client', { kind: 'data', chunk });
  }

  get queuedBytes(): number {
    return this.outBytes;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.net.sched.schedule(0, `net c${this.conn.id} resume ${this.side}`, () => this.deliver());
  }

  end(): void {
    if (this.closed || this.finSent) return;
    this.finSent = true;
    if (!this.conn.broken) this.conn.net.send(this.conn, this.side === 'client' ? 'server' : 'client', { kind: 'fin' });
  }

  destroy(): void {
    if (this.closed) return;
    this.conn.reset({ [this.side]: 'connection closed', [this.other.side]: 'connection reset by peer' } as Record<Side, string>, { [this.side]: 0, [this.other.side]: this.conn.net.latencyMs } as Record<Side, number>);
  }

  channelBinding(): Buffer {
    return this.security === 'tls-psk' ? this.conn.binding : Buffer.alloc(0);
  }

  secure(tls: TlsPsk): Promise<ByteStream> {
    if (this.security !== 'plain') return Promise.reject(new Error('the stream is secured already'));
    if (this.closed || this.conn.broken) return Promise.reject(new Error(`cannot start TLS: ${this.closeReason || 'connection closed'}`));
    if (this.inbox.length > 0) {
      this.destroy();
      return Promise.reject(new Error('the peer sent bytes before the TLS handshake'));
    }
    return new Promise<ByteStream>((resolve, reject) => {
      this.conn.tlsPending.set(this.side, { tls, resolve, reject });
      if (this.conn.tlsPending.size === 2) this.conn.net.handshake(this.conn);
    });
  }

  /** An item arrived from the other end. */
  arrive(item: Item): void {
    if (this.closed) return;
    if (item.kind === 'fin') this.finReceived = true;
    else if (this.finSent) return; // after end() what arrives is dropped
    else if (this.conn.tlsPending.has(this.side)) {
      // plain bytes where a TLS handshake was due
      this.conn.tlsPending.get(this.side)!.reject(new Error('TLS-PSK handshake failed (simulated): the peer does not speak the same TLS'));
      this.conn.tlsPending.delete(this.side);
      this.destroy();
      return;
    } else this.inbox.push(item.chunk);
    this.deliver();
  }

  /** Hands the inbox to the reader while it reads; an orderly close follows the last byte. */
  private deliver(): void {
    if (!this.h || this.closed) return;
    while (this.inbox.length > 0 && !this.paused && !this.closed) {
      const chunk = this.inbox.shift()!;
      this.other.outBytes -= chunk.length;
      this.h.data(chunk);
      this.other.tellDrain();
    }
    if (this.finReceived && this.inbox.length === 0 && !this.closed) {
      // the peer closed its side: close ours too (no half-open streams), then say so
      this.end();
      this.closeNow('connection closed');
    }
  }

  private tellDrain(): void {
    if (!this.closed) this.h?.drain();
  }

  /** Closed: the reader hears it once, now or when it attaches. */
  closeNow(reason: string): void {
    if (!this.closed) {
      this.closed = true;
      this.closeReason = reason;
      this.inbox = [];
    }
    if (this.h && !this.closeTold) {
      this.closeTold = true;
      this.h.close(this.closeReason);
    }
    if (this.other.closed && !this.conn.broken) {
      this.conn.broken = true;
      this.conn.net.forget(this.conn);
    }
  }
}

/** One host's view of the network: its connects come from `host`. */
class HostTransport implements Transport {
  constructor(private readonly net: MemNetwork, private readonly host: string) {}

  listen(at: Address, onStream: (s: ByteStream) => void): Promise<Listener> {
    return this.net.listen(at, onStream);
  }

  connect(to: Address, abort?: AbortSignal): Promise<ByteStream> {
    return this.net.connect(this.host, to, abort);
  }
}

export class MemNetwork {
  readonly latencyMs: number;
  private readonly jitterMs: number;
  private readonly bytesPerMs: number;
  private readonly rng: Prng;
  private listeners = new Map<string, (s: ByteStream) => void>();
  private connections: MemConnection[] = [];
  private nextId = 1;
  private nextPort = EPHEMERAL_PORT_FIRST;
  private stalled = false;
  /** Connects that arrived during a stall, run when it heals. */
  private heldConnects: (() => void)[] = [];
  private corruptToward: Side | 'any' | null = null;
  private refusing = false;

  constructor(readonly sched: SimScheduler, seed: number, opts: MemNetworkOptions = {}) {
    this.rng = new Prng(seed);
    this.latencyMs = opts.latencyMs ?? 0.1;
    this.jitterMs = opts.jitterMs ?? 0.05;
    this.bytesPerMs = opts.bytesPerMs ?? 1024 * 1024;
  }

  /** The transport a process on `host` uses. */
  transport(host: string): Transport {
    return new HostTransport(this, host);
  }

  // ---- faults ----

  /** A partition: nothing gets through (bytes and connects wait) until stall(false). */
  stall(on: boolean): void {
    if (this.stalled === on) return;
    this.stalled = on;
    this.sched.trace(`net stall ${on ? 'on' : 'off'}`);
    if (on) return;
    for (const c of this.connections) {
      for (const side of ['client', 'server'] as const) {
        const d = c.toward[side];
        for (const item of d.held.splice(0)) this.schedule(c, side, item, this.sched.nowMs() + this.latencyMs);
      }
    }
    for (const go of this.heldConnects.splice(0)) go();
  }

  /** Resets every open connection (both ends hear it at once; what was on its way is lost). */
  cut(): void {
    this.sched.trace(`net cut ${this.connections.length}`);
    for (const c of [...this.connections]) c.reset({ client: 'connection reset (network cut)', server: 'connection reset (network cut)' }, { client: 0, server: 0 });
  }

  /** Changes one byte of the next chunk delivered toward `toward` (any stream). On a secured
   * stream the reader sees its connection break instead, as a failed TLS record MAC. */
  corruptNext(toward: Side | 'any' = 'any'): void {
    this.corruptToward = toward;
  }

  /** While on, connects are refused (nobody listening: a host that is down). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  get openConnections(): number {
    return this.connections.length;
  }

  // ---- listening and connecting ----

  async listen(at: Address, onStream: (s: ByteStream) => void): Promise<Listener> {
    const port = at.port === 0 ? this.nextPort++ : at.port;
    const key = formatAddress({ host: at.host, port });
    if (this.listeners.has(key)) throw Object.assign(new Error(`listen EADDRINUSE: address already in use ${key}`), { code: 'EADDRINUSE' });
    this.listeners.set(key, onStream);
    this.sched.trace(`net listen ${key}`);
    return {
      address: { host: at.host, port },
      close: async () => {
        if (this.listeners.get(key) === onStream) this.listeners.delete(key);
      },
    };
  }

  connect(from: string, to: Address, abort?: AbortSignal): Promise<ByteStream> {
    const key = formatAddress(to);
    return new Promise<ByteStream>((resolve, reject) => {
      let done = false;
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        reject(err);
      };
      abort?.addEventListener('abort', () => fail(new Error(`connecting to ${key} was given up`)), { once: true });
      const syn = (): void => {
        if (done) return;
        if (this.stalled) {
          this.heldConnects.push(syn);
          return;
        }
        const onStream = this.listeners.get(key);
        if (!onStream || this.refusing) {
          this.sched.schedule(this.latencyMs, `net refused ${from}>${key}`, () => fail(Object.assign(new Error(`connect ECONNREFUSED ${key}`), { code: 'ECONNREFUSED' })));
          return;
        }
        const id = this.nextId++;
        const c = new MemConnection(this, id, key, `${from}:${50000 + id}`);
        this.connections.push(c);
        onStream(c.ends.server);
        this.sched.schedule(this.latencyMs, `net connected c${id} ${from}>${key}`, () => {
          if (done) {
            c.ends.client.destroy();
            return;
          }
          done = true;
          resolve(c.ends.client);
        });
      };
      this.sched.schedule(this.latencyMs, `net syn ${from}>${key}`, syn);
    });
  }

  // ---- moving bytes ----

  /** Puts an item on its way toward `toward`'s end of `c`. */
  send(c: MemConnection, toward: Side, item: Item): void {
    const d = c.toward[toward];
    const now = this.sched.nowMs();
    const bytes = item.kind === 'data' ? item.chunk.length : 0;
    d.busyUntilMs = Math.max(now, d.busyUntilMs) + bytes / this.bytesPerMs;
    const jitter = this.jitterMs > 0 ? this.rng.next() * this.jitterMs : 0;
    this.schedule(c, toward, item, d.busyUntilMs + this.latencyMs + jitter);
  }

  private schedule(c: MemConnection, toward: Side, item: Item, atMs: number): void {
    const d = c.toward[toward];
    d.lastArrivalMs = Math.max(d.lastArrivalMs, atMs);
    const what = item.kind === 'data' ? `${item.chunk.length}B ${crc32(item.chunk).toString(16)}` : 'fin';
    this.sched.schedule(d.lastArrivalMs - this.sched.nowMs(), `net c${c.id} >${toward} ${what}`, () => this.arrive(c, toward, item));
  }

  private arrive(c: MemConnection, toward: Side, item: Item): void {
    if (c.broken) return;
    if (this.stalled) {
      c.toward[toward].held.push(item);
      return;
    }
    if (item.kind === 'data' && this.corruptToward !== null && (this.corruptToward === 'any' || this.corruptToward === toward)) {
      this.corruptToward = null;
      if (c.secured) {
        this.sched.trace(`net corrupt c${c.id} >${toward}: record MAC fails`);
        const other: Side = toward === 'client' ? 'server' : 'client';
        c.reset({ [toward]: 'TLS record failed its integrity check (simulated): bytes were changed on the way', [other]: 'connection reset by peer' } as Record<Side, string>, { [toward]: 0, [other]: this.latencyMs } as Record<Side, number>);
        return;
      }
      const at = this.rng.int(item.chunk.length);
      item.chunk[at] ^= 1 << this.rng.int(8);
      this.sched.trace(`net corrupt c${c.id} >${toward} byte ${at}`);
    }
    c.ends[toward].arrive(item);
  }

  /** Both ends asked for TLS: they agree if they hold the same key and identity. */
  handshake(c: MemConnection): void {
    this.sched.schedule(2 * this.latencyMs, `net tls c${c.id}`, () => {
      const client = c.tlsPending.get('client');
      const server = c.tlsPending.get('server');
      if (!client || !server || c.broken) return;
      c.tlsPending.clear();
      if (!client.tls.psk.equals(server.tls.psk) || client.tls.identity !== server.tls.identity) {
        const why = 'TLS-PSK handshake failed (simulated): the two ends hold different keys';
        client.reject(new Error(why));
        server.reject(new Error(why));
        c.reset({ client: why, server: why }, { client: 0, server: 0 });
        return;
      }
      c.secured = true;
      c.binding = this.rng.fill(Buffer.alloc(CHANNEL_BINDING_BYTES));
      c.ends.client.security = 'tls-psk';
      c.ends.server.security = 'tls-psk';
      server.resolve(c.ends.server);
      client.resolve(c.ends.client);
    });
  }

  /** A connection is over: faults no longer reach it. */
  forget(c: MemConnection): void {
    this.connections = this.connections.filter((x) => x !== c);
  }
}
