// A primary and a secondary engine in one process, linked over real TCP on loopback, with an
// optional proxy in between that can cut the link or corrupt and replay frames.

import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { LsaEngine } from '../../src/lsa/engine';
import { createArray, openArray } from '../../src/lsa/open-array';
import { PrimaryReplicator, type ReplicationMode } from '../../src/replication/primary';
import { SecondaryServer, type SnapshotTaker } from '../../src/replication/secondary';
import { silentLogger, type Logger } from '../../src/util/log';
import { volumeByName } from '../../src/volume/volume';

export const REP_GEOMETRY = { disks: 4, columnBytes: 64 * 1024, diskBytes: 8 * 1024 * 1024, trackBytes: 4096 };

export class Proxy {
  private server: net.Server;
  private pairs: { a: net.Socket; b: net.Socket }[] = [];
  port = 0;
  /** Mutates bytes flowing primary -> secondary when set. */
  tamper: ((chunk: Buffer) => Buffer) | null = null;
  blocked = false;

  constructor(private targetPort: number) {
    this.server = net.createServer((a) => {
      if (this.blocked) {
        a.destroy();
        return;
      }
      const b = net.connect(this.targetPort, '127.0.0.1');
      const pair = { a, b };
      this.pairs.push(pair);
      a.on('data', (d: Buffer) => b.write(this.tamper ? this.tamper(d) : d));
      b.on('data', (d: Buffer) => a.write(d));
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

export async function makeRepRig(dir: string, mode: ReplicationMode, capacityBytes: number, opts: { log?: Logger; lagMaxBytes?: number; takeSnapshot?: SnapshotTaker; volumes?: string[] } = {}): Promise<RepRig> {
  const log = opts.log ?? silentLogger;
  const key = randomBytes(32);
  const primary = await createArray(`${dir}/primary`, { geometry: REP_GEOMETRY, volume: null });
  const { createVolume } = await import('../../src/lsa/volumes.js');
  for (const name of opts.volumes ?? ['vol0']) await createVolume(primary, name, capacityBytes, 'none');
  const secondary = await createArray(`${dir}/secondary`, { geometry: REP_GEOMETRY, volume: null });
  const server = new SecondaryServer(secondary, { host: '127.0.0.1', port: 0, key, log: log.child('secondary'), takeSnapshot: opts.takeSnapshot });
  const addr = await server.listen();
  const proxy = new Proxy(addr.port);
  await proxy.listen();
  const replicator = new PrimaryReplicator(primary, { host: '127.0.0.1', port: proxy.port, key, mode, lagMaxBytes: opts.lagMaxBytes ?? 64 * 1024 * 1024, log: log.child('primary'), reconnectMs: 50 });
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
