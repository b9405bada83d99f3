// A snapshot seen as a read-only block device: the volume's bytes as of the barrier, read
// through the snapshot's directory copy (for export and for the secondary's NBD exports).

import { InvalidArgumentError, ReadOnlyError } from '../errors';
import { readRange } from '../volume/read-range';
import type { HostIo } from '../lsa/engine-ports';
import { isTrimLike, RECORD_FLAG_ZERO } from '../lsa/record-format';
import type { BlockDevice, Extent } from '../volume/volume';
import type { Snapshot } from './snapshot-store';

export class SnapshotVolume implements BlockDevice {
  constructor(readonly engine: HostIo, readonly snapshot: Snapshot) {}

  get name(): string {
    return `${this.snapshot.header.volume}@${this.snapshot.header.name}`;
  }

  get sizeBytes(): number {
    return this.snapshot.header.capacityBytes;
  }

  get trackBytes(): number {
    return this.engine.layout.trackBytes;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.sizeBytes) {
      throw new InvalidArgumentError(`read: bytes ${offset}..${offset + length - 1} are outside snapshot ${this.name} (${this.sizeBytes} bytes)`);
    }
    const out = Buffer.alloc(length);
    if (length > 0) await readRange(this.engine, this.snapshot.header.volumeId, offset, out, this.snapshot.dir);
    return out;
  }

  async write(): Promise<never> {
    throw new ReadOnlyError(`snapshot ${this.name} is read-only`);
  }

  async trim(): Promise<never> {
    throw new ReadOnlyError(`snapshot ${this.name} is read-only`);
  }

  async writeZeroes(): Promise<never> {
    throw new ReadOnlyError(`snapshot ${this.name} is read-only`);
  }

  /** Nothing to make durable: a snapshot never changes. */
  async flush(): Promise<void> {}

  blockStatus(offset: number, length: number): Extent[] {
    const tb = this.trackBytes;
    const dir = this.snapshot.dir;
    const out: Extent[] = [];
    for (let pos = offset; pos < offset + length;) {
      const t = Math.floor(pos / tb);
      const seg = dir.segmentOf(t);
      const flags = dir.flagsOf(t);
      const hole = seg === 0 || (isTrimLike(flags) && (flags & RECORD_FLAG_ZERO) === 0);
      const zero = seg === 0 || isTrimLike(flags);
      const next = Math.min(offset + length, (t + 1) * tb);
      const last = out[out.length - 1];
      if (last && last.hole === hole && last.zero === zero) last.length += next - pos;
      else out.push({ offset: pos, length: next - pos, hole, zero });
      pos = next;
    }
    return out;
  }
}
