// A host for the remote-copy process tests: random writes, zero writes, trims and flushes over
// NBD to the primary, many in flight, with a crash model of what was acknowledged. A write
// or flush that completed is "acknowledged"; after a completed flush it must survive anything
// (on the primary, and once the pair is duplex again, on the secondary).

import * as C from '../../src/nbd/constants';
import { CrashModel } from '../../src/testing/crash-model';
import type { Prng } from '../../src/util/prng';
import { NbdTestClient } from './nbd-client';

/** Longest single operation, in tracks. */
const OP_TRACKS_MAX = 8;
/** Read size when comparing volumes over NBD. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface BatchResult {
  /** Operations acknowledged by the server. */
  acked: number;
  /** Flushes acknowledged. */
  flushes: number;
  /** The connection broke (the primary died); the rest of the batch was not issued. */
  broken: boolean;
}

/** Reads `length` bytes from an NBD export in chunks. */
export async function readExport(client: NbdTestClient, offset: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += READ_CHUNK_BYTES) {
    const n = Math.min(READ_CHUNK_BYTES, length - at);
    const r = await client.read(offset + at, n);
    if (r.errno !== 0 || !r.data) throw new Error(`NBD read of ${offset + at}+${n} failed with errno ${r.errno}`);
    r.data.copy(out, at);
  }
  return out;
}

export class PairWriter {
  readonly model: CrashModel;
  client: NbdTestClient | null = null;
  totalAcked = 0;

  constructor(readonly sizeBytes: number, readonly trackBytes: number) {
    this.model = new CrashModel(sizeBytes, trackBytes);
  }

  async connect(port: number): Promise<void> {
    this.client = await NbdTestClient.open(port, { exportName: 'vol0' });
  }

  /** Drops the connection without a goodbye (the server is gone or going). */
  drop(): void {
    this.client?.socket.destroy();
    this.client = null;
  }

  /** The volume as the model's audit reads it (over this connection). */
  get reader(): { read(offset: number, length: number): Promise<Buffer> } {
    const c = this.client;
    if (!c) throw new Error('the writer is not connected');
    return { read: (offset, length) => readExport(c, offset, length) };
  }

  /**
   * `ops` operations in windows of `depth` concurrent ones on distinct tracks, a flush after a
   * window with probability `flushChance`, and a final flush. Stops at the first failure of the
   * connection (reported as broken); any other error fails.
   */
  async run(rng: Prng, ops: number, opts: { depth?: number; flushChance?: number; finalFlush?: boolean } = {}): Promise<BatchResult> {
    const c = this.client;
    if (!c) throw new Error('the writer is not connected');
    const depth = opts.depth ?? 16;
    const result: BatchResult = { acked: 0, flushes: 0, broken: false };
    const tracks = this.sizeBytes / this.trackBytes;
    for (let done = 0; done < ops && !result.broken;) {
      const used = new Set<number>();
      const inFlight: Promise<number>[] = [];
      for (let k = 0; k < depth && done < ops; k++, done++) {
        const count = 1 + rng.int(OP_TRACKS_MAX);
        const first = rng.int(tracks - count + 1);
        let clash = false;
        for (let t = first; t < first + count; t++) if (used.has(t)) clash = true;
        if (clash) continue;
        for (let t = first; t < first + count; t++) used.add(t);
        inFlight.push(this.issue(c, rng, first * this.trackBytes, count * this.trackBytes));
      }
      const settled = await Promise.allSettled(inFlight);
      for (const s of settled) {
        if (s.status === 'rejected') result.broken = true;
        else if (s.value !== 0) throw new Error(`the primary answered errno ${s.value} to a write`);
        else result.acked++;
      }
      if (!result.broken && rng.chance(opts.flushChance ?? 0.3)) result.broken = !(await this.flushOn(c, result));
    }
    if (!result.broken && opts.finalFlush !== false) result.broken = !(await this.flushOn(c, result));
    this.totalAcked += result.acked;
    return result;
  }

  async flush(): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('the writer is not connected');
    const r: BatchResult = { acked: 0, flushes: 0, broken: false };
    if (!(await this.flushOn(c, r))) throw new Error(`flush failed: ${c.closedWith?.message ?? 'connection lost'}`);
  }

  private async flushOn(c: NbdTestClient, result: BatchResult): Promise<boolean> {
    if (c.closedWith || c.socket.destroyed) return false;
    try {
      const r = await c.flush();
      if (r.errno !== 0) throw new Error(`the primary answered errno ${r.errno} to a flush`);
    } catch (err) {
      if (c.closedWith || c.socket.destroyed) return false;
      throw err;
    }
    this.model.flushed();
    result.flushes++;
    return true;
  }

  /** One operation; resolves with the server's errno, rejects if the connection broke. */
  private async issue(c: NbdTestClient, rng: Prng, offset: number, length: number): Promise<number> {
    const pick = rng.int(100);
    // a request sent after the reply loop ended would wait for ever
    if (c.closedWith || c.socket.destroyed) throw new Error('connection lost');
    if (pick < 8) {
      this.model.change(offset, length, null);
      return (await c.request(C.CMD_TRIM, offset, length)).errno;
    }
    if (pick < 15) {
      this.model.change(offset, length, null);
      return (await c.request(C.CMD_WRITE_ZEROES, offset, length)).errno;
    }
    const data = pick < 20 ? Buffer.alloc(length) : rng.fill(Buffer.alloc(length));
    this.model.change(offset, length, data);
    return (await c.write(offset, data)).errno;
  }
}

/** First differing byte of two buffers, or -1. */
export function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
