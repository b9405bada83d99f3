// A primary and a secondary engine in one process, linked over real TCP on loopback, with an
// optional proxy in between that can cut the link or corrupt and replay frames.

import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray, openArray, type OpenOptions } from '../../src/lsa/open-array';
import type { GcPolicyName } from '../../src/lsa/gc-policy';
import { PrimaryReplicator, type ReplicationMode } from '../../src/replication/primary';
import { SecondaryServer, type SnapshotTaker } from '../../src/replication/secondary';
import { silentLogger, type Logger } from '../../src/util/log';
import { volumeByName } from '../../src/volume/volume';

export const REP_GEOMETRY = { disks: 4, columnBytes: 64 * 1024, diskBytes: 8 * 1024 * 1024, trackBytes: 4096 };
/** The primary's link timeout in these tests (the product's default is 10 s). */
export const REP_LINK_TIMEOUT_MS = 3000;

/** Cuts the primary -> secondary byte stream into whole frames (header: length at 12). */
class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private lost = false;

  /** Whole frames; once the stream stops looking like frames, raw chunks as they come. */
  push(d: Buffer): Buffer[] {
    if (this.lost) return [d];
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const out: Buffer[] = [];
    while (this.buf.length >= 20) {
      if (this.buf.readUInt32BE(0) !== 0x4c535243) {
        this.lost = true;
        out.push(this.buf);
        this.buf = Buffer.alloc(0);
        return out;
      }
      const n = 20 + this.buf.readUInt32BE(12);
      if (this.buf.length < n) break;
      out.push(this.buf.subarray(0, n));
      this.buf = this.buf.subarray(n);
    }
    return out;
  }
}

export class Proxy {
  private server: net.Server;
  private pairs: { a: net.Socket; b: net.Socket }[] = [];
  port = 0;
  /** Mutates bytes flowing primary -> secondary when set. */
  tamper: ((chunk: Buffer) => Buffer) | null = null;
  /** Rewrites whole frames flowing primary -> secondary when set (replay, drop, reorder). */
  frameTamper: ((frame: Buffer) => Buffer[]) | null = null;
  blocked = false;
  /** When set, every byte forwarded (both directions, as forwarded) is kept here. */
  recorded: Buffer[] | null = null;
  private stalledNow = false;
  /** Connections accepted so far. */
  connections = 0;

  constructor(private targetPort: number) {
    this.server = net.createServer((a) => {
      if (this.blocked) {
        a.destroy();
        return;
      }
      this.connections++;
      const b = net.connect(this.targetPort, '127.0.0.1');
      const pair = { a, b };
      this.pairs.push(pair);
      const splitter = new FrameSplitter();
      if (this.stalledNow) {
        a.pause();
        b.pause();
      }
      a.on('data', (d: Buffer) => {
        const frames = splitter.push(d);
        const ft = this.frameTamper; // it may clear itself while it runs
        const out = ft ? frames.flatMap((f) => ft(f)) : frames;
        if (out.length === 0) return;
        const joined = out.length === 1 ? out[0] : Buffer.concat(out);
        const sent = this.tamper ? this.tamper(joined) : joined;
        this.recorded?.push(Buffer.from(sent));
        b.write(sent);
      });
      b.on('data', (d: Buffer) => {
        this.recorded?.push(Buffer.from(d));
        a.write(d);
      });
      const end = (): void => {
        a.destroy();
        b.destroy();
        this.pairs = this.pairs.filter((p) => p !== pair);
      };
      a.on('close', end);
      b.on('close', end);
      a.on('error', end);
      b.on('error', end);
    });
  }

  /** Reads nothing in either direction but keeps connections open (a stuck peer): the
   * sender's socket fills up as it would against a wedged receiver. */
  get stalled(): boolean {
    return this.stalledNow;
  }

  set stalled(on: boolean) {
    this.stalledNow = on;
    for (const p of this.pairs) {
      if (on) {
        p.a.pause();
        p.b.pause();
      } else {
        p.a.resume();
        p.b.resume();
      }
    }
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    for (const p of this.pairs) {
      p.a.destroy();
      p.b.destroy();
    }
    this.pairs = [];
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface RepRig {
  primary: LsaEngine;
  secondary: LsaEngine;
  server: SecondaryServer;
  replicator: PrimaryReplicator;
  proxy: Proxy;
  key: Buffer;
}

export interface RepRigOptions {
  log?: Logger;
  lagMaxBytes?: number;
  takeSnapshot?: SnapshotTaker;
  volumes?: string[];
  tls?: boolean;
  /** Collector policy of both arrays (default: the arrays' own). */
  gcPolicy?: GcPolicyName;
  /** The secondary's pins (its snapshots: snapshotPins), as lsa serve opens a secondary. */
  secondaryPins?: OpenOptions['pins'];
}

export async function makeRepRig(dir: string, mode: ReplicationMode, capacityBytes: number, opts: RepRigOptions = {}): Promise<RepRig> {
  const log = opts.log ?? silentLogger;
  const key = randomBytes(32);
  const primary = await createArray(`${dir}/primary`, { geometry: REP_GEOMETRY, volume: null, gcPolicy: opts.gcPolicy });
  const { createVolume } = await import('../../src/lsa/volumes.js');
  for (const name of opts.volumes ?? ['vol0']) await createVolume(primary, name, capacityBytes, 'none');
  const secondary = await createArray(`${dir}/secondary`, { geometry: REP_GEOMETRY, volume: null, gcPolicy: opts.gcPolicy, pins: opts.secondaryPins });
  const server = new SecondaryServer(secondary, { host: '127.0.0.1', port: 0, key, tls: opts.tls ?? true, log: log.child('secondary'), takeSnapshot: opts.takeSnapshot });
  const addr = await server.listen();
  const proxy = new Proxy(addr.port);
  await proxy.listen();
  // a byte changed in a TLS record's length field leaves the receiver waiting for a record
  // that never completes: the link timeout (shorter here) is what ends it
  const replicator = new PrimaryReplicator(primary, { host: '127.0.0.1', port: proxy.port, key, tls: opts.tls ?? true, mode, lagMaxBytes: opts.lagMaxBytes ?? 64 * 1024 * 1024, log: log.child('primary'), reconnectMs: 50, linkTimeoutMs: REP_LINK_TIMEOUT_MS });
  replicator.start();
  return { primary, secondary, server, replicator, proxy, key };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until every pair is duplex with nothing left to apply. */
export async function waitDuplex(rig: RepRig, timeoutMs = 30_000): Promise<void> {
  await rig.primary.flush();
  await waitFor('duplex', () => rig.replicator.status().every((s) => s.state === 'duplex' && s.lagSeq === 0), timeoutMs);
}

export async function volumesEqual(rig: RepRig, name = 'vol0'): Promise<number> {
  const a = volumeByName(rig.primary, name);
  const b = volumeByName(rig.secondary, name);
  const step = 1024 * 1024;
  for (let off = 0; off < a.sizeBytes; off += step) {
    const n = Math.min(step, a.sizeBytes - off);
    const x = await a.read(off, n);
    const y = await b.read(off, n);
    if (!x.equals(y)) {
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return off + i;
    }
  }
  return -1;
}

export async function closeRepRig(rig: RepRig): Promise<void> {
  await rig.replicator.stop();
  await rig.proxy.close();
  await rig.server.close();
  await rig.primary.close().catch(() => undefined);
  await rig.secondary.close().catch(() => undefined);
}

export { openArray };
