// A simulated disk system for tests and in-memory benchmarks. Each file keeps two sparse
// images: what reads see now (the page cache) and what survived the last sync (the medium).
// `crash()` throws away the page cache and, for each write not yet synced, applies it, drops
// it, or tears it at 512-byte sector boundaries, as a power loss could. `failAt()` makes the
// k-th operation fail with EIO, once or from then on.

import { AlreadyExistsError, IoError, NotFoundError } from '../errors';
import { Prng } from '../util/prng';
import type { DiskFile, DiskSystem } from './disk-file';

const CHUNK_BYTES = 64 * 1024;
export const SECTOR_BYTES = 512;

class SparseImage {
  chunks = new Map<number, Buffer>();

  constructor(public lengthBytes: number) {}

  clone(): SparseImage {
    const copy = new SparseImage(this.lengthBytes);
    for (const [k, v] of this.chunks) copy.chunks.set(k, Buffer.from(v));
    return copy;
  }

  read(buf: Buffer, offset: number): number {
    buf.fill(0);
    const end = Math.min(offset + buf.length, this.lengthBytes);
    for (let pos = offset; pos < end;) {
      const k = Math.floor(pos / CHUNK_BYTES);
      const inChunk = pos - k * CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - inChunk, end - pos);
      const chunk = this.chunks.get(k);
      if (chunk) chunk.copy(buf, pos - offset, inChunk, inChunk + n);
      pos += n;
    }
    return Math.max(0, end - offset);
  }

  write(data: Buffer, offset: number): void {
    for (let pos = offset; pos < offset + data.length;) {
      const k = Math.floor(pos / CHUNK_BYTES);
      const inChunk = pos - k * CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - inChunk, offset + data.length - pos);
      let chunk = this.chunks.get(k);
      if (!chunk) {
        chunk = Buffer.alloc(CHUNK_BYTES);
        this.chunks.set(k, chunk);
      }
      data.copy(chunk, inChunk, pos - offset, pos - offset + n);
      pos += n;
    }
    this.lengthBytes = Math.max(this.lengthBytes, offset + data.length);
  }

  allocatedBytes(): number {
    return this.chunks.size * CHUNK_BYTES;
  }
}

interface PendingWrite {
  offset: number;
  data: Buffer;
}

export type CrashMode = 'random' | 'apply-all' | 'drop-all';

export interface CrashReport {
  applied: number;
  dropped: number;
  torn: number;
}

class SimFile {
  cache: SparseImage;
  pending: PendingWrite[] = [];

  constructor(public medium: SparseImage) {
    this.cache = medium.clone();
  }
}

class SimDiskFile implements DiskFile {
  private closed = false;

  constructor(readonly path: string, readonly sizeBytes: number, private sys: SimDiskSystem, private file: SimFile) {}

  private checkOpen(op: string): void {
    if (this.closed || this.sys.files.get(this.path) !== this.file) {
      throw new IoError(`${op} ${this.path}: file handle is stale (closed or crashed)`, { path: this.path, op });
    }
  }

  async read(buf: Buffer, offset: number): Promise<number> {
    this.sys.countOp('read', this.path);
    this.checkOpen('read');
    return this.file.cache.read(buf, offset);
  }

  async write(buf: Buffer, offset: number): Promise<void> {
    this.sys.countOp('write', this.path);
    this.checkOpen('write');
    const data = Buffer.from(buf);
    this.file.cache.write(data, offset);
    this.file.pending.push({ offset, data });
  }

  async sync(): Promise<void> {
    this.sys.countOp('sync', this.path);
    this.checkOpen('sync');
    for (const w of this.file.pending) this.file.medium.write(w.data, w.offset);
    this.file.pending = [];
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class SimDiskSystem implements DiskSystem {
  readonly files = new Map<string, SimFile>();
  opCount = 0;
  private failAtOp = -1;
  private failPersistent = false;
  private failFilter: ((op: string, path: string) => boolean) | null = null;

  async create(path: string, sizeBytes: number): Promise<DiskFile> {
    if (this.files.has(path)) throw new AlreadyExistsError(`${path} exists already`, { path });
    const file = new SimFile(new SparseImage(sizeBytes));
    this.files.set(path, file);
    return new SimDiskFile(path, sizeBytes, this, file);
  }

  async replace(path: string, sizeBytes: number): Promise<DiskFile> {
    this.files.delete(path);
    return this.create(path, sizeBytes);
  }

  async open(path: string): Promise<DiskFile> {
    const file = this.files.get(path);
    if (!file) throw new NotFoundError(`disk file ${path} is missing`, { path });
    return new SimDiskFile(path, file.cache.lengthBytes, this, file);
  }

  exists(path: string): boolean {
    return this.files.has(path);
  }

  lengthOf(path: string): number {
    const file = this.files.get(path);
    return file ? file.cache.lengthBytes : -1;
  }

  /** Makes operation number `k` (counted from now, 1-based) fail with EIO; with `persistent`,
   * every later operation fails too, as a dead disk would. `filter` limits which count. */
  failAt(k: number, persistent = false, filter: ((op: string, path: string) => boolean) | null = null): void {
    this.failAtOp = this.opCount + k;
    this.failPersistent = persistent;
    this.failFilter = filter;
  }

  clearFaults(): void {
    this.failAtOp = -1;
    this.failPersistent = false;
    this.failFilter = null;
  }

  countOp(op: string, path: string): void {
    if (this.failFilter && !this.failFilter(op, path)) return;
    this.opCount++;
    if (this.failAtOp > 0 && (this.opCount === this.failAtOp || (this.failPersistent && this.opCount > this.failAtOp))) {
      throw new IoError(`${op} ${path}: injected EIO at operation ${this.opCount}`, { path, op, errno: 'EIO', injected: true });
    }
  }

  /** Power loss: every open handle goes stale; unsynced writes are applied, dropped or torn. */
  crash(rng: Prng, mode: CrashMode = 'random'): CrashReport {
    const report: CrashReport = { applied: 0, dropped: 0, torn: 0 };
    for (const [path, file] of this.files) {
      for (const w of file.pending) {
        const fate = mode === 'apply-all' ? 0 : mode === 'drop-all' ? 1 : rng.int(3);
        if (fate === 0) {
          file.medium.write(w.data, w.offset);
          report.applied++;
        } else if (fate === 1) {
          report.dropped++;
        } else {
          this.tear(file.medium, w, rng);
          report.torn++;
        }
      }
      const fresh = new SimFile(file.medium);
      fresh.medium = file.medium;
      this.files.set(path, fresh);
    }
    this.clearFaults();
    return report;
  }

  /** Applies a random subset of the write's sectors (sector boundaries are absolute). */
  private tear(medium: SparseImage, w: PendingWrite, rng: Prng): void {
    const end = w.offset + w.data.length;
    for (let pos = w.offset; pos < end;) {
      const next = Math.min(end, (Math.floor(pos / SECTOR_BYTES) + 1) * SECTOR_BYTES);
      if (rng.chance(0.5)) medium.write(w.data.subarray(pos - w.offset, next - w.offset), pos);
      pos = next;
    }
  }

  remove(path: string): void {
    this.files.delete(path);
  }

  /** Cuts a file short (both images), as a truncated disk. */
  truncate(path: string, lengthBytes: number): void {
    const file = this.files.get(path);
    if (!file) return;
    const medium = new SparseImage(lengthBytes);
    const buf = Buffer.alloc(Math.min(lengthBytes, 1 << 20));
    for (let at = 0; at < lengthBytes; at += buf.length) {
      const n = Math.min(buf.length, lengthBytes - at);
      file.medium.read(buf.subarray(0, n), at);
      medium.write(buf.subarray(0, n), at);
    }
    medium.lengthBytes = lengthBytes;
    this.files.set(path, new SimFile(medium));
  }

  /** Replaces a file's content with zeros (both images), as a replaced blank disk. */
  zero(path: string): void {
    const file = this.files.get(path);
    if (!file) return;
    const medium = new SparseImage(file.medium.lengthBytes);
    this.files.set(path, new SimFile(medium));
  }

  /** Flips bytes directly on the medium and in the cache (bit rot). */
  corrupt(path: string, offset: number, bytes: Buffer): void {
    const file = this.files.get(path);
    if (!file) return;
    file.medium.write(bytes, offset);
    file.cache.write(bytes, offset);
  }

  pendingWrites(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.pending.length;
    return n;
  }

  allocatedBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.cache.allocatedBytes();
    return n;
  }
}
